//! Fixed-rate term deposits on the real .so: `deposit_term` and
//! `withdraw_term`, the settlement against the protocol's fees both ways,
//! the locks in the liquidity coverage and the limiter, and the maturity
//! ladder with the deposit book. Each success is checked against the
//! engine's closed forms ([`ballast::engine::term_deposit`]) computed from
//! the decoded reserve before the instruction; each failure for its exact
//! error. The attacker's view: a locked deposit cannot leave before its
//! maturity, nobody but its owner can settle it, and the settlement never
//! moves the floating depositors' exchange rate.

use anchor_lang::AnchorDeserialize;
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::engine::fx::*;
use ballast::engine::rates::SECONDS_PER_YEAR;
use ballast::engine::shares::tokens_for_shares_floor;
use ballast::engine::term::*;
use ballast::engine::term_deposit::*;
use ballast::errors::BallastError;
use ballast::events::{TermDepositWithdrawn, TermDeposited};
use ballast::state::{Reserve, TermDeposit, TermDepositBook};
use ballast_tests::*;

const DAY: i64 = 86_400;

fn term_cfg() -> TermConfig {
    TermConfig {
        tenors_secs: [7 * DAY as u32, 30 * DAY as u32, 84 * DAY as u32],
        grid_secs: DEFAULT_GRID_SECS,
        base_spread_bps: 100,
        slope_bps: 2_000,
        max_commit_bps: 2_000,
        penalty_spread_bps: 2_000,
        _padding: [0; 8],
    }
}

/// The [`Lending`] fixture with `term_cfg` on the USDC reserve.
fn setup(ctx: &mut TestContext) -> Lending {
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let ix = ix::set_term_config(&l.m.admin.pubkey(), &l.debt.keys, term_cfg());
    ctx.ok("set_term_config", &[ix], &[&l.m.admin]);
    l
}

fn now(ctx: &TestContext) -> i64 {
    ctx.clock().unix_timestamp
}

fn accrue(ctx: &mut TestContext, r: &TestReserve) {
    let ix = ix::accrue_interest(&r.keys.reserve);
    ctx.ok("accrue_interest", &[ix], &[]);
}

/// What `deposit_term` must book for `amount` at tenor `tenor` now, from
/// the reserve as it is (accrued to now): `(rate, face, maturity)`.
fn quote(r: &Reserve, tenor: u8, amount: u64, now: i64) -> (Fx, u64, i64) {
    let cfg = r.term_config;
    let m = maturity_for(now, cfg.tenors_secs[tenor as usize], cfg.grid_secs).unwrap();
    let rate = deposit_rate(
        r.borrow_rate().unwrap(),
        r.utilization().unwrap(),
        r.config.reserve_factor_bps,
        cfg.base_spread_bps,
    )
    .unwrap();
    (rate, face_floor(amount, rate, (m - now) as u64).unwrap(), m)
}

/// A depositor holding `amount` of the debt reserve's tokens.
fn depositor(ctx: &mut TestContext, l: &Lending, amount: u64) -> (Keypair, Address) {
    ctx.user_with_tokens(&l.debt, amount)
}

fn deposit_term(
    ctx: &mut TestContext,
    l: &Lending,
    who: &Keypair,
    ta: &Address,
    nonce: u64,
    tenor: u8,
    amount: u64,
) -> TermDeposited {
    let ix = ix::deposit_term(&who.pubkey(), &l.debt.keys, ta, nonce, tenor, amount, 0);
    let logs = ctx.ok_logs("deposit_term", &[ix], &[who]);
    events::<TermDeposited>(&logs).remove(0)
}

fn term_deposit(ctx: &TestContext, l: &Lending, owner: &Address, nonce: u64) -> TermDeposit {
    ctx.account::<TermDeposit>(&ix::term_deposit_address(
        &l.debt.keys.reserve,
        owner,
        nonce,
    ))
    .expect("term deposit")
}

/// A second borrower with 10,000 SOL of collateral borrows `amount` USDC.
fn big_borrow(ctx: &mut TestContext, l: &Lending, amount: u64) {
    let (b2, b2_sol) = ctx.user_with_tokens(&l.coll, l.coll.units(10_000.0));
    let o2 = ctx.open_obligation(&b2, &l.m.market, 0);
    ctx.deposit(&b2, &l.coll, &o2, &b2_sol, l.coll.units(10_000.0));
    let b2_usdc = ctx.token_account_for(&l.debt, &b2.pubkey(), 0);
    ctx.borrow(&b2, &l.debt, &o2, &b2_usdc, amount);
}

/// Sends `ix` signed by `who`, expects success: (logs, compute units).
fn send_ok(
    ctx: &mut TestContext,
    label: &str,
    ix: solana_instruction::Instruction,
    who: &Keypair,
) -> (Vec<String>, u64) {
    match ctx.chain.send(&[ix], &[who]) {
        Ok(meta) => {
            println!("[cu] {label} {}", meta.compute_units_consumed);
            (meta.logs, meta.compute_units_consumed)
        }
        Err(e) => panic!("[{label}] {:?}\n{}", e.err, e.meta.logs.join("\n")),
    }
}

fn exchange_rate(r: &Reserve) -> f64 {
    r.supply().unwrap().to_num::<f64>() / r.deposit_shares as f64
}

/// The face is the closed form `amount * e^(r tau)` rounded down (within a
/// base unit, never above), at the deposit rate: the supply rate plus half
/// the term spread, below the loan curve; `min_face` one unit above it is
/// refused. The shares are minted at the exchange rate and locked in the
/// deposit (no obligation moves), the book and the reserve's aggregates
/// hold them, the exchange rate does not move and the vault reconciles.
#[test]
fn deposit_term_books_the_closed_form_face_and_locks_the_shares() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    big_borrow(&mut ctx, &l, l.debt.units(5_000.0));
    let amount = l.debt.units(1_000.0);
    let (user, ta) = depositor(&mut ctx, &l, amount);
    accrue(&mut ctx, &l.debt);
    let t0 = now(&ctx);
    let before = ctx.reserve(&l.debt);
    let (rate, face, m) = quote(&before, 1, amount, t0);
    // the rate: supply APR + 0.5%, below the loan curve's floor
    let b = before.borrow_rate().unwrap().to_num::<f64>();
    let u = before.utilization().unwrap().to_num::<f64>();
    let expected = b * u * 0.9 + 0.005;
    assert!((rate.to_num::<f64>() - expected).abs() < 1e-12, "{rate}");
    assert!(rate < before.borrow_rate().unwrap() + fx_bps_floor(100).unwrap());
    let tau = (m - t0) as f64 / SECONDS_PER_YEAR as f64;
    let exact = amount as f64 * (rate.to_num::<f64>() * tau).exp();
    assert!(
        face as f64 <= exact && face as f64 > exact - 1.0,
        "{face} {exact}"
    );
    assert!(face > amount);

    // lamports sent to the book's and the deposit's addresses beforehand
    // (a griefer's) do not block their creation
    for a in [
        ix::term_deposit_book(&l.debt.keys.reserve),
        ix::term_deposit_address(&l.debt.keys.reserve, &user.pubkey(), 7),
    ] {
        ctx.chain.airdrop(&a, 1_000_000).expect("airdrop");
    }
    let ix = ix::deposit_term(&user.pubkey(), &l.debt.keys, &ta, 7, 1, amount, face + 1);
    let err = ctx.fails("deposit_term min_face above", &[ix], &[&user]);
    assert_ballast_err(&err, BallastError::TermDepositFaceTooLow);
    let ix = ix::deposit_term(&user.pubkey(), &l.debt.keys, &ta, 7, 1, amount, face);
    let (logs, cu) = send_ok(&mut ctx, "deposit_term", ix, &user);
    assert!(cu <= 40_000, "deposit_term {cu} CU");
    let ev = events::<TermDeposited>(&logs);
    assert_eq!(ev.len(), 1);
    let shares = ballast::engine::shares::shares_for_deposit(
        amount,
        before.supply().unwrap(),
        before.deposit_shares,
    )
    .unwrap();
    assert_eq!(
        (ev[0].amount, ev[0].face, ev[0].maturity, ev[0].shares),
        (amount, face, m, shares)
    );
    let d = term_deposit(&ctx, &l, &user.pubkey(), 7);
    assert_eq!(
        (
            d.owner,
            d.reserve,
            d.shares,
            d.principal,
            d.face,
            d.maturity
        ),
        (user.pubkey(), l.debt.keys.reserve, shares, amount, face, m)
    );
    assert_eq!(d.rate.get(), rate);
    assert_eq!(d.opened_ts, t0);
    let after = ctx.reserve(&l.debt);
    assert_eq!(after.deposit_shares, before.deposit_shares + shares);
    assert_eq!(after.available_amount, before.available_amount + amount);
    assert_eq!(
        (
            after.term_deposits.locked_shares,
            after.term_deposits.locked_face,
            after.term_deposits.next_maturity
        ),
        (shares, face, m)
    );
    let book = ctx
        .account::<TermDepositBook>(&ix::term_deposit_book(&l.debt.keys.reserve))
        .unwrap();
    assert_eq!(book.reserve, l.debt.keys.reserve);
    let b: Vec<_> = book.buckets.iter().filter(|b| b.shares > 0).collect();
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].maturity, b[0].shares, b[0].face), (m, shares, face));
    let (r0, r1) = (exchange_rate(&before), exchange_rate(&after));
    assert!(r1 >= r0 && r1 - r0 < 1e-9, "{r0} {r1}");
    assert_eq!(ctx.token_balance(&ta).unwrap(), 0);
    ctx.assert_vault_reconciles(&l.debt);

    // a second deposit of the same maturity joins the bucket
    let (u2, ta2) = depositor(&mut ctx, &l, amount);
    let ev2 = deposit_term(&mut ctx, &l, &u2, &ta2, 0, 1, amount);
    assert_eq!(ev2.maturity, m);
    let r = ctx.reserve(&l.debt);
    assert_eq!(r.term_deposits.locked_shares, shares + ev2.shares);
    assert_eq!(r.term_deposits.locked_face, face + ev2.face);
}

/// Settlement at maturity, both ways, and the fees' limits. Before the
/// maturity (one second before included) the withdrawal is refused with
/// `DepositLocked`. Then:
/// * rates rose after the deposit (utilisation up): `V > F`, the depositor
///   gets `F` and `V - F` goes to the protocol's fees;
/// * rates stayed (utilisation flat): `V < F`, the shortfall comes out of
///   the fees and the depositor gets `F`;
/// * no borrows (no fees): the depositor gets `V` and the rest is reported
///   unpaid.
///
/// In each case the supply drops by exactly `V`, so the floating
/// depositors' exchange rate does not move beyond rounding (in their
/// favour), and the deposit account is closed.
#[test]
fn withdraw_term_settles_both_ways_with_the_supply_flat() {
    for case in ["rates_rose", "covered", "uncovered"] {
        let mut ctx = TestContext::new();
        let l = setup(&mut ctx);
        if case == "covered" {
            big_borrow(&mut ctx, &l, l.debt.units(5_000.0));
        }
        let amount = l.debt.units(500.0);
        let (user, ta) = depositor(&mut ctx, &l, amount);
        let ev = deposit_term(&mut ctx, &l, &user, &ta, 1, 0, amount);
        let (face, m) = (ev.face, ev.maturity);
        if case == "rates_rose" {
            let avail = ctx.reserve(&l.debt).available_amount;
            big_borrow(&mut ctx, &l, avail * 85 / 100);
        }
        for t in [now(&ctx), m - 1] {
            ctx.set_time(t);
            let ix = ix::withdraw_term(&user.pubkey(), &l.debt.keys, &ta, 1);
            let err = ctx.fails("withdraw_term before maturity", &[ix], &[&user]);
            assert_ballast_err(&err, BallastError::DepositLocked);
        }
        ctx.set_time(m + 3_600);
        accrue(&mut ctx, &l.debt);
        let r = ctx.reserve(&l.debt);
        let value = tokens_for_shares_floor(ev.shares, r.supply().unwrap(), r.deposit_shares)
            .unwrap()
            .to_floor_u64()
            .unwrap();
        let fees = r.protocol_fees.get();
        let ix = ix::withdraw_term(&user.pubkey(), &l.debt.keys, &ta, 1);
        let (logs, cu) = send_ok(&mut ctx, "withdraw_term", ix, &user);
        assert!(cu <= 40_000, "withdraw_term {cu} CU");
        let w = events::<TermDepositWithdrawn>(&logs).remove(0);
        assert_eq!((w.value, w.face, w.shares), (value, face, ev.shares));
        let after = ctx.reserve(&l.debt);
        let paid = ctx.token_balance(&ta).unwrap();
        assert_eq!(paid, w.paid);
        match case {
            "rates_rose" => {
                assert!(value > face, "{case}: {value} {face}");
                assert_eq!((paid, w.to_protocol_fees), (face, value - face));
                assert_eq!(after.protocol_fees.get(), fees + fx_u64(value - face));
            }
            "covered" => {
                assert!(value < face, "{case}: {value} {face}");
                assert!(fees > fx_u64(face - value), "{case}: fees {fees}");
                assert_eq!((paid, w.from_protocol_fees), (face, face - value));
                assert_eq!(after.protocol_fees.get(), fees - fx_u64(face - value));
                assert_eq!(w.unpaid, 0);
            }
            _ => {
                assert!(value < face, "{case}: {value} {face}");
                let whole = fees.to_floor_u64().unwrap();
                assert_eq!(paid, value + whole);
                assert_eq!(w.unpaid, face - value - whole);
                assert!(w.unpaid > 0);
            }
        }
        assert_eq!(
            after.supply().unwrap(),
            r.supply().unwrap() - fx_u64(value),
            "{case}: the supply drops by V"
        );
        let (r0, r1) = (exchange_rate(&r), exchange_rate(&after));
        assert!(r1 >= r0 && r1 - r0 < 1e-9, "{case}: {r0} {r1}");
        assert_eq!(after.deposit_shares, r.deposit_shares - ev.shares);
        assert_eq!(after.term_deposits.locked_shares, 0);
        assert_eq!(after.term_deposits.locked_face, 0);
        assert!(ctx
            .svm
            .get_account(&ix::term_deposit_address(
                &l.debt.keys.reserve,
                &user.pubkey(),
                1
            ))
            .is_none_or(|a| a.lamports == 0));
        ctx.assert_vault_reconciles(&l.debt);
        // settled once: a second withdrawal finds no deposit
        let ix = ix::withdraw_term(&user.pubkey(), &l.debt.keys, &ta, 1);
        ctx.fails("withdraw_term twice", &[ix], &[&user]);
    }
}

/// Every failure of the two instructions, each for its exact error.
#[test]
fn term_deposit_failures() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let amount = l.debt.units(100.0);
    let (user, ta) = depositor(&mut ctx, &l, 10 * amount);
    let dep = |nonce, tenor, amount| {
        ix::deposit_term(&user.pubkey(), &l.debt.keys, &ta, nonce, tenor, amount, 0)
    };
    // zero and extreme amounts
    let err = ctx.fails("zero", &[dep(0, 0, 0)], &[&user]);
    assert_ballast_err(&err, BallastError::ZeroAmount);
    let err = ctx.fails("u64::MAX", &[dep(0, 0, u64::MAX)], &[&user]);
    assert_ballast_err(&err, BallastError::DepositCapExceeded);
    // unknown tenor, and a reserve without term configuration
    let err = ctx.fails("unknown tenor", &[dep(0, 3, amount)], &[&user]);
    assert_ballast_err(&err, BallastError::UnknownTenor);
    let (u_sol, ta_sol) = ctx.user_with_tokens(&l.coll, l.coll.units(10.0));
    let ix = ix::deposit_term(&u_sol.pubkey(), &l.coll.keys, &ta_sol, 0, 0, 1_000, 0);
    let err = ctx.fails("term disabled", &[ix], &[&u_sol]);
    assert_ballast_err(&err, BallastError::TermDisabled);
    // paused market
    ctx.set_paused(&l.m, true);
    let err = ctx.fails("deposit_term paused", &[dep(0, 0, amount)], &[&user]);
    assert_ballast_err(&err, BallastError::MarketPaused);
    ctx.set_paused(&l.m, false);
    // substituted accounts: another reserve's vault, another market's reserve
    let mut keys = l.debt.keys;
    keys.liquidity_vault = l.coll.keys.liquidity_vault;
    let ix = ix::deposit_term(&user.pubkey(), &keys, &ta, 0, 0, amount, 0);
    let err = ctx.fails("wrong vault", &[ix], &[&user]);
    assert_ballast_err(&err, BallastError::ReserveAccountMismatch);
    let other = ctx.setup_market();
    let o_debt = ctx.add_reserve_for_mint(&other, &l.debt.keys.mint, 6, 1.0, test_config([0; 32]));
    let mut keys = o_debt.keys;
    keys.market = l.m.market;
    let ix = ix::deposit_term(&user.pubkey(), &keys, &ta, 0, 0, amount, 0);
    let err = ctx.fails("reserve of another market", &[ix], &[&user]);
    assert_ballast_err(&err, BallastError::WrongMarket);
    // wrong signer: another key signing for the user's deposit address
    let thief = ctx.funded_user(10);
    let mut ix = dep(0, 0, amount);
    ix.accounts[0].pubkey = thief.pubkey();
    let err = ctx.fails("deposit_term for another's PDA", &[ix], &[&thief]);
    assert_ballast_err(&err, BallastError::TermDepositMismatch);

    // a deposit, then a second one on the same nonce
    deposit_term(&mut ctx, &l, &user, &ta, 0, 0, amount);
    ctx.fails("nonce reused", &[dep(0, 1, amount)], &[&user]);
    let m = term_deposit(&ctx, &l, &user.pubkey(), 0).maturity;

    // withdraw_term: locked, paused, wrong owner, substituted accounts
    let wd =
        |owner: &Address, keys: &ReserveKeys, ta: &Address| ix::withdraw_term(owner, keys, ta, 0);
    let err = ctx.fails("locked", &[wd(&user.pubkey(), &l.debt.keys, &ta)], &[&user]);
    assert_ballast_err(&err, BallastError::DepositLocked);
    ctx.set_time(m);
    ctx.set_paused(&l.m, true);
    let err = ctx.fails("paused", &[wd(&user.pubkey(), &l.debt.keys, &ta)], &[&user]);
    assert_ballast_err(&err, BallastError::MarketPaused);
    ctx.set_paused(&l.m, false);
    // the thief names the user's deposit and pays itself
    let thief_ta = ctx.token_account_for(&l.debt, &thief.pubkey(), 0);
    let mut ix = wd(&thief.pubkey(), &l.debt.keys, &thief_ta);
    ix.accounts[4].pubkey = ix::term_deposit_address(&l.debt.keys.reserve, &user.pubkey(), 0);
    let err = ctx.fails("another's deposit", &[ix], &[&thief]);
    assert_ballast_err(&err, BallastError::TermDepositMismatch);
    // the user's deposit against another reserve's book or reserve
    ctx.ok(
        "set_term_config coll",
        &[ix::set_term_config(
            &l.m.admin.pubkey(),
            &l.coll.keys,
            term_cfg(),
        )],
        &[&l.m.admin],
    );
    let ix = ix::deposit_term(&u_sol.pubkey(), &l.coll.keys, &ta_sol, 0, 0, 1_000_000, 0);
    ctx.ok("deposit_term coll", &[ix], &[&u_sol]);
    let mut ix = wd(&user.pubkey(), &l.debt.keys, &ta);
    ix.accounts[5].pubkey = ix::term_deposit_book(&l.coll.keys.reserve);
    let err = ctx.fails("another reserve's book", &[ix], &[&user]);
    assert_ballast_err(&err, BallastError::TermDepositMismatch);
    let mut ix = wd(&u_sol.pubkey(), &l.debt.keys, &ta);
    ix.accounts[4].pubkey = ix::term_deposit_address(&l.coll.keys.reserve, &u_sol.pubkey(), 0);
    let err = ctx.fails("another reserve's deposit", &[ix], &[&u_sol]);
    assert_ballast_err(&err, BallastError::TermDepositMismatch);
    let mut keys = l.debt.keys;
    keys.liquidity_vault = l.coll.keys.liquidity_vault;
    let err = ctx.fails("wrong vault", &[wd(&user.pubkey(), &keys, &ta)], &[&user]);
    assert_ballast_err(&err, BallastError::ReserveAccountMismatch);
    // the ladder refuses another reserve's book
    let mut ix = ix::maturity_ladder_with_deposits(&l.debt.keys);
    ix.accounts[2].pubkey = ix::term_deposit_book(&l.coll.keys.reserve);
    let err = ctx.fails("ladder with another book", &[ix], &[]);
    assert_ballast_err(&err, BallastError::TermDepositMismatch);
    // and finally the owner settles
    ctx.ok(
        "withdraw_term",
        &[wd(&user.pubkey(), &l.debt.keys, &ta)],
        &[&user],
    );
}

fn sheet(ctx: &mut TestContext, r: &TestReserve) -> BalanceSheet {
    let meta = ctx
        .chain
        .send(&[ix::balance_sheet(&r.keys)], &[])
        .expect("balance_sheet");
    BalanceSheet::try_from_slice(&meta.return_data.data).expect("documented layout")
}

/// A bank run: the same depositors, the same outflow, once with the new
/// 8,000 USDC deposit locked for 30 days (80% of the claims after the run)
/// and once on demand. The
/// liquidity coverage (liquid / stressed run of the claims that can run
/// within the window) is higher with the locks, by the locked share;
/// the locked deposit cannot leave whatever the limiter allows, and once
/// matured its settlement counts against the limiter like any outflow.
#[test]
fn bank_run_leaves_more_coverage_with_deposits_locked() {
    let mut coverage = Vec::new();
    for locked in [false, true] {
        let mut ctx = TestContext::new();
        let l = setup(&mut ctx);
        ctx.update_config(&l.m, &l.debt, |c| {
            c.liquidity = ballast::fixtures::buffered_liquidity();
            c.liquidity.outflow_window_secs = DAY as u32;
            c.liquidity.outflow_cap = l.debt.units(50_000.0);
        });
        let amount = l.debt.units(8_000.0);
        let (user, ta) = depositor(&mut ctx, &l, amount);
        let m = if locked {
            deposit_term(&mut ctx, &l, &user, &ta, 0, 1, amount).maturity
        } else {
            let ob = ctx.open_obligation(&user, &l.m.market, 0);
            ctx.deposit(&user, &l.debt, &ob, &ta, amount);
            0
        };
        big_borrow(&mut ctx, &l, l.debt.units(9_000.0));
        // the run: the on-demand supplier takes out 8,000 of its 10,000
        let ix = ix::withdraw(
            &l.supplier.pubkey(),
            &l.debt.keys,
            &l.so,
            &l.s_debt,
            l.debt.units(8_000.0),
            vec![],
        );
        ctx.ok("withdraw run", &[ix], &[&l.supplier]);
        let s = sheet(&mut ctx, &l.debt);
        coverage.push((s.liquidity_coverage_bps, s.liquid, s.liabilities));
        if locked {
            // the locks are in the reserve, priced at the exchange rate
            let r = ctx.reserve(&l.debt);
            let run = locked_claims(
                r.supply().unwrap(),
                r.term_deposits.locked_shares,
                r.deposit_shares,
            )
            .unwrap();
            let runnable = (fx_u64(s.liabilities) - run).to_floor_u64().unwrap();
            assert!(
                (s.liquidity_coverage_bps as i64 - liquidity_cov(s.liquid, runnable, 2_500) as i64)
                    .abs()
                    <= 1
            );
            // the limiter has room, the lock holds
            assert!(s.outflow_remaining > amount);
            let ix = ix::withdraw_term(&user.pubkey(), &l.debt.keys, &ta, 0);
            let err = ctx.fails("run on a locked deposit", &[ix], &[&user]);
            assert_ballast_err(&err, BallastError::DepositLocked);
            // at maturity the settlement is an outflow like any other: with
            // the liquidity back (a deposit whose inflow credit has left the
            // window) a cap below it refuses it
            ctx.set_time(m - 3 * DAY);
            let (u3, ta3) = depositor(&mut ctx, &l, l.debt.units(20_000.0));
            let o3 = ctx.open_obligation(&u3, &l.m.market, 0);
            ctx.deposit(&u3, &l.debt, &o3, &ta3, l.debt.units(20_000.0));
            ctx.set_time(m);
            ctx.update_config(&l.m, &l.debt, |c| c.liquidity.outflow_cap = 1_000);
            let ix = ix::withdraw_term(&user.pubkey(), &l.debt.keys, &ta, 0);
            let err = ctx.fails("settlement above the limiter", &[ix], &[&user]);
            assert_ballast_err(&err, BallastError::OutflowLimitExceeded);
            // past maturity the lock no longer counts: coverage as on demand
            let late = sheet(&mut ctx, &l.debt);
            assert_eq!(
                late.liquidity_coverage_bps,
                liquidity_cov(late.liquid, late.liabilities, 2_500)
            );
        }
    }
    let (on_demand, with_locks) = (coverage[0], coverage[1]);
    println!(
        "[lcr] (coverage bps, liquid, liabilities) on demand {on_demand:?}, locked {with_locks:?}"
    );
    assert_eq!(on_demand.1, with_locks.1, "same liquid after the same run");
    assert!(
        with_locks.0 > on_demand.0 * 3 / 2,
        "locks raise coverage: {with_locks:?} vs {on_demand:?}"
    );
}

fn liquidity_cov(liquid: u64, deposits: u64, stress: u16) -> u32 {
    ballast::engine::liquidity::liquidity_coverage_bps(liquid, 0, deposits, stress)
}

/// The ladder with the deposit book: the locked deposit's value sits as a
/// liability in the bucket of its maturity, the rest of the claims
/// overnight, the liabilities still summing to the supply; without the
/// book all is overnight; once matured, overnight too. Within 20,000 CU.
#[test]
fn maturity_ladder_places_term_deposits_at_maturity() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let amount = l.debt.units(3_000.0);
    let (user, ta) = depositor(&mut ctx, &l, amount);
    let ev = deposit_term(&mut ctx, &l, &user, &ta, 0, 2, amount);
    let ladder = |ctx: &mut TestContext, with_book: bool| {
        let ix = if with_book {
            ix::maturity_ladder_with_deposits(&l.debt.keys)
        } else {
            ix::maturity_ladder(&l.debt.keys)
        };
        let meta = ctx.chain.send(&[ix], &[]).expect("maturity_ladder");
        println!(
            "[cu] maturity_ladder with_book={with_book} {}",
            meta.compute_units_consumed
        );
        assert!(meta.compute_units_consumed <= 20_000);
        assert_eq!(meta.return_data.data.len(), MATURITY_LADDER_LEN);
        MaturityLadder::try_from_slice(&meta.return_data.data).unwrap()
    };
    let t0 = now(&ctx);
    let r = ctx.reserve(&l.debt);
    let supply = r.supply().unwrap().to_floor_u64().unwrap();
    let v = ladder(&mut ctx, true);
    let k = ladder_bucket(ev.maturity - t0);
    assert_eq!(k, 3, "84-day tenor: <= 90 days");
    let locked_value = tokens_for_shares_floor(ev.shares, fx_u64(supply), r.deposit_shares)
        .unwrap()
        .to_floor_u64()
        .unwrap();
    assert_eq!(v.buckets[k].liabilities, locked_value);
    assert_eq!(v.buckets[0].liabilities, supply - locked_value);
    let total: u64 = v.buckets.iter().map(|b| b.liabilities).sum();
    assert_eq!(total, supply);
    let total_gap: i64 = v.buckets.iter().map(|b| b.gap).sum();
    assert_eq!(v.buckets[4].cumulative_gap, total_gap);
    let plain = ladder(&mut ctx, false);
    assert_eq!(plain.buckets[0].liabilities, supply);
    ctx.set_time(ev.maturity + 1);
    let v = ladder(&mut ctx, true);
    assert!(v.buckets[1..].iter().all(|b| b.liabilities == 0));
}

/// The `ballast deposit-term` / `withdraw-term` commands' instructions
/// (`ballast_keeper::user::term_instructions`): a deposit from the owner's
/// associated token account, then, at maturity, the settlement into it
/// (the account created idempotently first).
#[test]
fn the_keepers_user_term_instructions_deposit_and_settle() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let user = ctx.funded_user(10);
    let amount = l.debt.units(250.0);
    let reserve = ctx.reserve(&l.debt);
    let settle =
        ballast_keeper::user::term_instructions(&user.pubkey(), &l.debt.keys, &reserve, 3, None);
    ctx.ok("create the ATA", &settle[..1], &[&user]);
    let ata = ballast_keeper::tasks::liquidation::associated_token_address(
        &user.pubkey(),
        &l.debt.keys.mint,
        &l.debt.keys.token_program,
    );
    ctx.chain.mint_to(&l.debt.keys.mint, &ata, amount).unwrap();
    let ixs = ballast_keeper::user::term_instructions(
        &user.pubkey(),
        &l.debt.keys,
        &reserve,
        3,
        Some((0, amount, 0)),
    );
    let logs = ctx.ok_logs("user deposit-term", &ixs, &[&user]);
    let ev = events::<TermDeposited>(&logs).remove(0);
    assert_eq!(ctx.token_balance(&ata).unwrap(), 0);
    let d = term_deposit(&ctx, &l, &user.pubkey(), 3);
    assert_eq!((d.shares, d.face), (ev.shares, ev.face));
    ctx.set_time(ev.maturity);
    let logs = ctx.ok_logs("user withdraw-term", &settle, &[&user]);
    let w = events::<TermDepositWithdrawn>(&logs).remove(0);
    assert_eq!(ctx.token_balance(&ata).unwrap(), w.paid);
    assert!(w.paid >= amount);
}
