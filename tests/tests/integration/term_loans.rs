//! Fixed-rate term loans on the real .so: `set_term_config`, `borrow_term`,
//! `repay_term` (early, at and after maturity), `convert_term_debt`, and
//! what the rest of the program does with a term position (health,
//! liquidation, same-reserve loops). Each success is checked against the
//! engine's closed forms ([`ballast::engine::term`]) computed from the
//! decoded reserve before the instruction; each failure for its exact
//! error. The attacker's view: the borrower never gets more than the
//! price, never repays less than book, cannot escape the penalty or block
//! liquidation with term debt, and no term instruction moves the
//! depositors' supply.

use ballast::engine::fx::*;
use ballast::engine::rates::SECONDS_PER_YEAR;
use ballast::engine::term::*;
use ballast::errors::BallastError;
use ballast::events::{TermBorrowed, TermDebtConverted, TermRepaid};
use ballast::state::{PositionKind, Reserve};
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

fn borrow_term_ix(
    ctx: &TestContext,
    l: &Lending,
    tenor: u8,
    face: u64,
    min_proceeds: u64,
) -> solana_instruction::Instruction {
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    ix::borrow_term(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        tenor,
        face,
        min_proceeds,
        health,
    )
}

/// The price `borrow_term` must pay for `face` at tenor `tenor` now, from
/// the reserve as it is (accrued to now): `(principal, maturity)`.
fn quote(r: &Reserve, tenor: u8, face: u64, now: i64) -> (u64, i64) {
    let cfg = r.term_config;
    let m = maturity_for(now, cfg.tenors_secs[tenor as usize], cfg.grid_secs).unwrap();
    let supply = r.supply().unwrap();
    let committed = r.term.face_at(m) + face;
    let rate = term_rate(r.borrow_rate().unwrap(), &cfg, committed, supply, true).unwrap();
    (price_floor(face, rate, (m - now) as u64).unwrap(), m)
}

fn accrue(ctx: &mut TestContext, r: &TestReserve) {
    let ix = ix::accrue_interest(&r.keys.reserve);
    ctx.ok("accrue_interest", &[ix], &[]);
}

/// Fresh prices after a warp (the test oracles' max age is 60 s).
fn refresh(ctx: &mut TestContext, l: &Lending, sol: f64) {
    ctx.set_price(&l.coll, sol, 0.0);
    ctx.set_price(&l.debt, 1.0, 0.0);
}

/// Borrow: the proceeds are exactly the zero-coupon price rounded down at
/// the quoted rate (a bound one unit tighter fails), the position and the
/// bucket hold the loan's terms, the supply does not move, the vault
/// reconciles; the book then earns linearly to the face by maturity.
#[test]
fn borrow_term_pays_the_price_and_accrues_linearly_to_face() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let face = l.debt.units(1_000.0);
    let t0 = now(&ctx);
    let before = ctx.reserve(&l.debt);
    let (p, m) = quote(&before, 1, face, t0);
    assert!(p < face && p > face * 99 / 100, "{p}");
    // one unit more than the price is refused
    let ix = borrow_term_ix(&ctx, &l, 1, face, p + 1);
    let err = ctx.fails("borrow_term above price", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::TermSlippageExceeded);

    let ix = borrow_term_ix(&ctx, &l, 1, face, p);
    let logs = ctx.ok_logs("borrow_term", &[ix], &[&l.borrower]);
    let ev = events::<TermBorrowed>(&logs);
    assert_eq!(ev.len(), 1);
    assert_eq!((ev[0].face, ev[0].principal, ev[0].maturity), (face, p, m));
    assert_eq!(ctx.token_balance(&l.b_debt).unwrap(), p);
    let after = ctx.reserve(&l.debt);
    assert_eq!(
        after.supply().unwrap(),
        before.supply().unwrap(),
        "supply moved"
    );
    assert_eq!(after.term.total_face, face);
    assert_eq!(after.term_book().unwrap(), fx_u64(p));
    assert_eq!(after.available_amount, before.available_amount - p);
    let o = ctx.obligation(&l.ob);
    let i = o
        .find(&l.debt.keys.reserve, PositionKind::TermDebt)
        .unwrap();
    let loan = o.positions[i].term();
    assert_eq!(
        (loan.face, loan.principal, loan.maturity, loan.open_ts),
        (face, p, m, t0)
    );
    assert_eq!(loan.penalty_bps, 2_000);
    assert!(o.has_debt() && o.has_term_debt());
    ctx.assert_vault_reconciles(&l.debt);

    // Half-way the book has earned half the interest (linear, rounded
    // down), less the protocol's 10% share; at maturity all of it.
    let half = (m - t0) / 2;
    ctx.warp_seconds(half);
    accrue(&mut ctx, &l.debt);
    let r = ctx.reserve(&l.debt);
    let earned = r.term_book().unwrap() - fx_u64(p);
    let exact = (face - p) as f64 * half as f64 / (m - t0) as f64;
    assert!(earned.to_num::<f64>() <= exact + 1e-9 && earned.to_num::<f64>() > exact - 1e-6);
    ctx.warp_seconds(m - t0 - half + 5 * DAY);
    accrue(&mut ctx, &l.debt);
    let r = ctx.reserve(&l.debt);
    assert_eq!(
        r.term_book().unwrap(),
        fx_u64(face),
        "book reaches the face"
    );
    assert_eq!(r.term.total_unearned.get(), FX_ZERO);
}

/// Early repayment when the floating rate rose (more utilisation): the
/// current price is below book, so the borrower pays the book value
/// (rounded up), never less; when the term curve fell (the admin removed
/// the spreads), the current price, above book. Neither moves the supply.
/// (At an unchanged rate the zero-coupon path `P e^{rt}` lies under the
/// linear book, so the floor binds then too.)
#[test]
fn early_repayment_never_below_book_and_supply_flat() {
    for rates_rise in [true, false] {
        let mut ctx = TestContext::new();
        let l = setup(&mut ctx);
        let face = l.debt.units(1_000.0);
        let ix = borrow_term_ix(&ctx, &l, 2, face, 0);
        ctx.ok("borrow_term", &[ix], &[&l.borrower]);
        let loan = {
            let o = ctx.obligation(&l.ob);
            o.positions[o
                .find(&l.debt.keys.reserve, PositionKind::TermDebt)
                .unwrap()]
            .term()
        };
        ctx.warp_seconds(20 * DAY);
        refresh(&mut ctx, &l, 20.0);
        if rates_rise {
            // a second borrower drives utilisation (and the rate) up
            let (b2, b2_sol) = ctx.user_with_tokens(&l.coll, l.coll.units(10_000.0));
            let o2 = ctx.open_obligation(&b2, &l.m.market, 0);
            ctx.deposit(&b2, &l.coll, &o2, &b2_sol, l.coll.units(10_000.0));
            let b2_usdc = ctx.token_account_for(&l.debt, &b2.pubkey(), 0);
            let avail = ctx.reserve(&l.debt).available_amount;
            ctx.borrow(&b2, &l.debt, &o2, &b2_usdc, avail * 9 / 10);
        } else {
            let mut flat = term_cfg();
            flat.base_spread_bps = 0;
            flat.slope_bps = 0;
            let ix = ix::set_term_config(&l.m.admin.pubkey(), &l.debt.keys, flat);
            ctx.ok("set_term_config flat", &[ix], &[&l.m.admin]);
        }
        accrue(&mut ctx, &l.debt);
        let t = now(&ctx);
        let r = ctx.reserve(&l.debt);
        let rate = term_rate(
            r.borrow_rate().unwrap(),
            &r.term_config,
            r.term.face_at(loan.maturity),
            r.supply().unwrap(),
            false,
        )
        .unwrap();
        let e = early_repayment(
            loan.face,
            loan.principal,
            loan.open_ts,
            loan.maturity,
            t,
            rate,
        )
        .unwrap();
        let book = fx_u64(face)
            - loan_unearned(face, loan.principal, loan.open_ts, loan.maturity, t).unwrap();
        assert!(fx_u64(e.amount) >= book);
        let quoted = price_ceil(face, rate, (loan.maturity - t) as u64).unwrap();
        if rates_rise {
            assert!(
                fx_u64(quoted) < book,
                "rates rose: quote {quoted} below book {book}"
            );
            assert_eq!(e.amount, book.to_ceil_u64().unwrap());
        } else {
            assert!(
                fx_u64(quoted) > book,
                "curve fell: quote {quoted} above book {book}"
            );
            assert_eq!(e.amount, quoted);
        }
        // fund the borrower and repay, one unit short of the price first
        ctx.mint_to(&l.debt.keys.mint, &l.b_debt, face).unwrap();
        let ix = ix::repay_term(
            &l.borrower.pubkey(),
            &l.debt.keys,
            &l.ob,
            &l.b_debt,
            e.amount - 1,
        );
        let err = ctx.fails("repay_term under price", &[ix], &[&l.borrower]);
        assert_ballast_err(&err, BallastError::TermSlippageExceeded);
        let bal = ctx.token_balance(&l.b_debt).unwrap();
        let ix = ix::repay_term(
            &l.borrower.pubkey(),
            &l.debt.keys,
            &l.ob,
            &l.b_debt,
            u64::MAX,
        );
        let logs = ctx.ok_logs("repay_term early", &[ix], &[&l.borrower]);
        let ev = events::<TermRepaid>(&logs);
        assert_eq!((ev[0].amount, ev[0].early), (e.amount, 1));
        assert_eq!(bal - ctx.token_balance(&l.b_debt).unwrap(), e.amount);
        let after = ctx.reserve(&l.debt);
        let (s0, s1) = (r.supply().unwrap(), after.supply().unwrap());
        assert!(
            s1 >= s0 && s1 - s0 < fx_u64(1) / 1_000_000,
            "supply {s0} -> {s1}"
        );
        assert_eq!(after.term.total_face, 0);
        assert!(!ctx.obligation(&l.ob).has_debt());
        ctx.assert_vault_reconciles(&l.debt);
    }
}

/// Past maturity the loan owes its face grown at the penalty APR: repaying
/// pays exactly that, the penalty goes to the protocol (supply flat), and
/// waiting does not make it cheaper.
#[test]
fn repayment_after_maturity_pays_the_penalty() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let face = l.debt.units(1_000.0);
    let ix = borrow_term_ix(&ctx, &l, 0, face, 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    let m = ctx
        .reserve(&l.debt)
        .term
        .buckets
        .iter()
        .find(|b| b.face > 0)
        .unwrap()
        .maturity;
    ctx.set_time(m + 10 * DAY);
    refresh(&mut ctx, &l, 20.0);
    accrue(&mut ctx, &l.debt);
    let r = ctx.reserve(&l.debt);
    let owed = owed(face, m, 2_000, now(&ctx))
        .unwrap()
        .to_ceil_u64()
        .unwrap();
    let exact = face as f64 * (0.2 * 10.0 * DAY as f64 / SECONDS_PER_YEAR as f64).exp();
    assert!(
        owed as f64 >= exact && (owed as f64) < exact + 1.0,
        "{owed} {exact}"
    );
    ctx.mint_to(&l.debt.keys.mint, &l.b_debt, face).unwrap();
    let ix = ix::repay_term(&l.borrower.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, face);
    let err = ctx.fails("repay_term at face past maturity", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::TermSlippageExceeded);
    let ix = ix::repay_term(&l.borrower.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, owed);
    let logs = ctx.ok_logs("repay_term matured", &[ix], &[&l.borrower]);
    let ev = events::<TermRepaid>(&logs);
    assert_eq!(
        (ev[0].amount, ev[0].early, ev[0].to_protocol_fees),
        (owed, 0, owed - face)
    );
    let after = ctx.reserve(&l.debt);
    assert_eq!(after.supply().unwrap(), r.supply().unwrap(), "supply moved");
    assert_eq!(
        after.protocol_fees.get() - r.protocol_fees.get(),
        fx_u64(owed - face)
    );
    ctx.assert_vault_reconciles(&l.debt);
}

/// `convert_term_debt`: refused before maturity while healthy; past
/// maturity anyone converts, the floating debt is the face plus the
/// penalty, the supply does not move, and repaying the floating debt then
/// closes the obligation's debt.
#[test]
fn conversion_past_maturity_books_face_plus_penalty() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let face = l.debt.units(500.0);
    let ix = borrow_term_ix(&ctx, &l, 0, face, 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    let health = ctx.health_accounts(&l.ob, &[]);
    let ix = ix::convert_term_debt(&l.m.market, &l.debt.keys.reserve, &l.ob, health);
    let err = ctx.fails("convert healthy before maturity", &[ix], &[]);
    assert_ballast_err(&err, BallastError::TermNotConvertible);

    let m = ctx
        .obligation(&l.ob)
        .positions
        .iter()
        .find(|p| p.kind() == PositionKind::TermDebt)
        .unwrap()
        .term_maturity();
    ctx.set_time(m + 3 * DAY);
    accrue(&mut ctx, &l.debt);
    let r = ctx.reserve(&l.debt);
    let owed = owed(face, m, 2_000, now(&ctx))
        .unwrap()
        .to_ceil_u64()
        .unwrap();
    let ix = ix::convert_term_debt(&l.m.market, &l.debt.keys.reserve, &l.ob, vec![]);
    let logs = ctx.ok_logs("convert_term_debt matured", &[ix], &[]);
    let ev = events::<TermDebtConverted>(&logs);
    assert_eq!((ev[0].face, ev[0].debt, ev[0].matured), (face, owed, 1));
    let after = ctx.reserve(&l.debt);
    assert_eq!(after.supply().unwrap(), r.supply().unwrap(), "supply moved");
    assert_eq!(after.term.total_face, 0);
    let o = ctx.obligation(&l.ob);
    assert!(!o.has_term_debt());
    let debt = ctx.debt_of(&l.ob, &l.debt);
    assert_eq!(debt.to_ceil_u64().unwrap(), owed);
    // a second conversion finds nothing
    let ix = ix::convert_term_debt(&l.m.market, &l.debt.keys.reserve, &l.ob, vec![]);
    let err = ctx.fails("convert twice", &[ix], &[]);
    assert_ballast_err(&err, BallastError::NoTermPosition);
    ctx.mint_to(&l.debt.keys.mint, &l.b_debt, owed).unwrap();
    ctx.repay(&l.borrower, &l.debt, &l.ob, &l.b_debt, u64::MAX);
    assert!(!ctx.obligation(&l.ob).has_debt());
}

/// Term debt cannot block a liquidation: `liquidate` refuses an obligation
/// with unconverted term debt (a clear error), anyone may convert it once
/// the obligation is below Maintenance, and conversion + liquidation in one
/// transaction succeeds. Health valued the term debt at face.
#[test]
fn term_debt_is_liquidated_after_conversion_in_one_transaction() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let face = l.debt.units(1_400.0);
    let ix = borrow_term_ix(&ctx, &l, 2, face, 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    // At face the Initial requirement holds at $20 (100 SOL * 20 * 0.75 =
    // 1,500 >= 1,400).
    ctx.warp_seconds(DAY);
    refresh(&mut ctx, &l, 15.0); // 100 * 15 * 0.80 = 1,200 < 1,400: below Maintenance
    let (liq, liq_usdc) = ctx.user_with_tokens(&l.debt, l.debt.units(5_000.0));
    let liq_sol = ctx.token_account_for(&l.coll, &liq.pubkey(), 0);
    let liquidate = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &liq_usdc, &liq_sol, u64::MAX);
    let err = ctx.fails(
        "liquidate with term debt",
        std::slice::from_ref(&liquidate),
        &[&liq],
    );
    assert_ballast_err(&err, BallastError::TermDebtOutstanding);
    let health = ctx.health_accounts(&l.ob, &[]);
    let convert = ix::convert_term_debt(&l.m.market, &l.debt.keys.reserve, &l.ob, health);
    let logs = ctx.ok_logs(
        "convert_term_debt + liquidate",
        &[convert, liquidate],
        &[&liq],
    );
    let ev = events::<TermDebtConverted>(&logs);
    assert_eq!(
        (ev[0].debt, ev[0].matured),
        (face, 0),
        "accelerated at face"
    );
    assert!(
        ev[0].to_protocol_fees > 0,
        "the unearned interest goes to the protocol"
    );
    assert!(
        ctx.token_balance(&liq_sol).unwrap() > 0,
        "collateral seized"
    );
    ctx.assert_vault_reconciles(&l.debt);
}

/// A borrow the Initial requirement refuses at face (its present value
/// would pass): health never overstates solvency.
#[test]
fn health_values_term_debt_at_face() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    // 100 SOL * $20 * 75% = $1,500 of borrowing power; face 1,501 has a
    // price well below 1,500 at 84 days but is refused.
    let face = l.debt.units(1_501.0);
    let (p, _) = quote(&ctx.reserve(&l.debt), 2, face, now(&ctx));
    assert!(p < l.debt.units(1_500.0));
    let ix = borrow_term_ix(&ctx, &l, 2, face, 0);
    let err = ctx.fails("borrow_term over LTV at face", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::InitialRequirementNotMet);
    let ix = borrow_term_ix(&ctx, &l, 2, l.debt.units(1_499.0), 0);
    ctx.ok("borrow_term under LTV at face", &[ix], &[&l.borrower]);
}

/// Every failure of `borrow_term`, `repay_term` and `set_term_config`.
#[test]
fn term_instruction_failures() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let face = l.debt.units(100.0);
    let cases: Vec<(&str, u8, u64, BallastError)> = vec![
        ("face 0", 1, 0, BallastError::ZeroAmount),
        ("unknown tenor", 3, face, BallastError::UnknownTenor),
        (
            "face above the commitment cap",
            1,
            l.debt.units(2_001.0),
            BallastError::TermCommitmentCapExceeded,
        ),
        (
            "face u64::MAX",
            1,
            u64::MAX,
            BallastError::TermCommitmentCapExceeded,
        ),
    ];
    for (label, tenor, f, e) in cases {
        let ix = borrow_term_ix(&ctx, &l, tenor, f, 0);
        let err = ctx.fails(label, &[ix], &[&l.borrower]);
        assert_ballast_err(&err, e);
    }
    // wrong signer: the supplier signs for the borrower's obligation
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let s_usdc = l.s_debt;
    let ix = ix::borrow_term(
        &l.supplier.pubkey(),
        &l.debt.keys,
        &l.ob,
        &s_usdc,
        1,
        face,
        0,
        health,
    );
    let err = ctx.fails("wrong owner", &[ix], &[&l.supplier]);
    assert_ballast_err(&err, BallastError::NotObligationOwner);
    // substituted vault (the collateral reserve's)
    let mut keys = l.debt.keys;
    keys.liquidity_vault = l.coll.keys.liquidity_vault;
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let ix = ix::borrow_term(
        &l.borrower.pubkey(),
        &keys,
        &l.ob,
        &l.b_debt,
        1,
        face,
        0,
        health,
    );
    let err = ctx.fails("wrong vault", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::ReserveAccountMismatch);
    // reserve of another market
    let other = ctx.setup_market();
    let o_debt = ctx.add_reserve_for_mint(&other, &l.debt.keys.mint, 6, 1.0, test_config([0; 32]));
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let mut keys = o_debt.keys;
    keys.market = l.m.market;
    let ix = ix::borrow_term(
        &l.borrower.pubkey(),
        &keys,
        &l.ob,
        &l.b_debt,
        1,
        face,
        0,
        health,
    );
    let err = ctx.fails("reserve of another market", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::WrongMarket);
    // disabled on the collateral reserve (no term config)
    let b_sol2 = ctx.token_account_for(&l.coll, &l.borrower.pubkey(), 0);
    let health = ctx.health_accounts(&l.ob, &[&l.coll]);
    let ix = ix::borrow_term(
        &l.borrower.pubkey(),
        &l.coll.keys,
        &l.ob,
        &b_sol2,
        0,
        face,
        0,
        health,
    );
    let err = ctx.fails("term disabled", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::TermDisabled);
    // stale oracle
    ctx.warp_seconds(61);
    let ix = borrow_term_ix(&ctx, &l, 1, face, 0);
    let err = ctx.fails("stale oracle", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::OracleStale);
    refresh(&mut ctx, &l, 20.0);
    // paused market
    ctx.set_paused(&l.m, true);
    let ix = borrow_term_ix(&ctx, &l, 1, face, 0);
    let err = ctx.fails("paused", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::MarketPaused);
    ctx.set_paused(&l.m, false);
    // repay_term without a loan
    let ix = ix::repay_term(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        u64::MAX,
    );
    let err = ctx.fails("repay_term without a loan", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::NoTermPosition);
    // a loan, then a second one in the same reserve
    let ix = borrow_term_ix(&ctx, &l, 1, face, 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    let ix = borrow_term_ix(&ctx, &l, 0, face, 0);
    let err = ctx.fails("second term loan", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::TermPositionExists);
    // no collateral where the obligation owes at term
    let ix = ix::deposit(&l.borrower.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, 1_000);
    let err = ctx.fails("deposit into the term reserve", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::SameReserveLoop);
    // repay_term into the wrong vault
    let mut keys = l.debt.keys;
    keys.liquidity_vault = l.coll.keys.liquidity_vault;
    let ix = ix::repay_term(&l.borrower.pubkey(), &keys, &l.ob, &l.b_debt, u64::MAX);
    let err = ctx.fails("repay_term wrong vault", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::ReserveAccountMismatch);
    // set_term_config: wrong signer, invalid, reserve of another market
    let ix = ix::set_term_config(&l.borrower.pubkey(), &l.debt.keys, term_cfg());
    let err = ctx.fails("set_term_config not admin", &[ix], &[&l.borrower]);
    assert_ballast_err(&err, BallastError::NotMarketAdmin);
    let mut bad = term_cfg();
    bad.max_commit_bps = 0;
    let ix = ix::set_term_config(&l.m.admin.pubkey(), &l.debt.keys, bad);
    let err = ctx.fails("set_term_config invalid", &[ix], &[&l.m.admin]);
    assert_ballast_err(&err, BallastError::InvalidTermConfig);
    let mut keys = o_debt.keys;
    keys.market = l.m.market;
    let ix = ix::set_term_config(&l.m.admin.pubkey(), &keys, term_cfg());
    let err = ctx.fails(
        "set_term_config other market's reserve",
        &[ix],
        &[&l.m.admin],
    );
    assert_ballast_err(&err, BallastError::WrongMarket);
    // convert: no loan in the collateral reserve
    let ix = ix::convert_term_debt(&l.m.market, &l.coll.keys.reserve, &l.ob, vec![]);
    let err = ctx.fails("convert without a loan", &[ix], &[]);
    assert_ballast_err(&err, BallastError::NoTermPosition);
}

/// The keeper's liquidation task finds an obligation whose only debt is a
/// term loan (valued as the floating debt its conversion makes) and
/// liquidates it in one transaction that converts first.
#[test]
fn keeper_liquidates_term_debt_converting_first() {
    use ballast_keeper::tasks::liquidation::{run, Liquidator};
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    let face = l.debt.units(1_400.0);
    let ix = borrow_term_ix(&ctx, &l, 2, face, 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    ctx.warp_seconds(DAY);
    refresh(&mut ctx, &l, 15.0);
    let kp = ctx.funded_user(10);
    let usdc_ta = ctx.token_account_for(&l.debt, &kp.pubkey(), l.debt.units(100_000.0));
    let sol_ta = ctx.token_account_for(&l.coll, &kp.pubkey(), 0);
    let liq = Liquidator {
        keypair: kp,
        token_accounts: std::collections::HashMap::from([
            (l.debt.keys.mint, usdc_ta),
            (l.coll.keys.mint, sol_ta),
        ]),
        obligation: None,
    };
    let out = run(&mut ctx.chain, &l.m.market, &liq, 10).unwrap();
    assert_eq!(out.candidates, 1, "{out:?}");
    assert!(out.failed.is_empty() && out.skipped.is_empty(), "{out:?}");
    assert_eq!(out.liquidated.len(), 1);
    let o = ctx.obligation(&l.ob);
    assert!(!o.has_term_debt(), "converted");
    assert!(ctx.token_balance(&sol_ta).unwrap() > 0, "collateral seized");
    ctx.assert_vault_reconciles(&l.debt);
}

/// `maturity_ladder`: cash and floating loans overnight, the term loan's
/// book value in the bucket of its time to maturity (then overnight once
/// matured), the depositors' claims overnight; the gaps add up, the view
/// writes nothing, and the assets equal the balance sheet's (to rounding).
#[test]
fn maturity_ladder_places_the_term_book_by_time_to_maturity() {
    use anchor_lang::AnchorDeserialize;
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(200.0));
    let face = l.debt.units(500.0);
    let ix = borrow_term_ix(&ctx, &l, 1, face, 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    let ladder = |ctx: &mut TestContext| {
        let before = ctx.svm.get_account(&l.debt.address()).unwrap().data;
        let meta = ctx
            .chain
            .send(&[ix::maturity_ladder(&l.debt.keys)], &[])
            .expect("maturity_ladder");
        println!("[cu] maturity_ladder {}", meta.compute_units_consumed);
        assert!(meta.compute_units_consumed <= 20_000);
        assert_eq!(ctx.svm.get_account(&l.debt.address()).unwrap().data, before);
        assert_eq!(meta.return_data.program_id, ballast::ID);
        assert_eq!(meta.return_data.data.len(), MATURITY_LADDER_LEN);
        MaturityLadder::try_from_slice(&meta.return_data.data).expect("documented layout")
    };
    let t0 = now(&ctx);
    let m = ctx
        .reserve(&l.debt)
        .term
        .buckets
        .iter()
        .find(|b| b.face > 0)
        .unwrap()
        .maturity;
    let v = ladder(&mut ctx);
    let r = ctx.reserve(&l.debt);
    let term_bucket = ladder_bucket(m - t0);
    assert!(
        term_bucket == 2 || term_bucket == 3,
        "30-day tenor on a 7-day grid"
    );
    assert_eq!(
        v.buckets[term_bucket].assets,
        r.term_book().unwrap().to_floor_u64().unwrap()
    );
    let floating = r.borrowed_floor().unwrap().to_floor_u64().unwrap();
    assert_eq!(v.buckets[0].assets, r.available_amount + floating);
    assert_eq!(
        v.buckets[0].liabilities,
        r.supply().unwrap().to_floor_u64().unwrap()
    );
    let total: i64 = v.buckets.iter().map(|b| b.gap).sum();
    assert_eq!(v.buckets[4].cumulative_gap, total);
    assert!(v.buckets[1..].iter().all(|b| b.liabilities == 0));
    // the assets are the balance's: liabilities + fees, to rounding
    let assets: u64 = v.buckets.iter().map(|b| b.assets).sum();
    let claims = r.supply().unwrap() + r.protocol_fees.get();
    assert!(
        (fx_u64(assets) - claims).abs() <= fx_u64(2),
        "{assets} vs {claims}"
    );
    // past maturity the (unconverted) loan reprices overnight at its face
    ctx.set_time(m + DAY);
    let v = ladder(&mut ctx);
    assert!(v.buckets[1..].iter().all(|b| b.assets == 0));
    assert!(v.buckets[0].assets >= r.available_amount + face);
    // a reserve of another market is refused
    let other = ctx.setup_market();
    let o_debt = ctx.add_reserve_for_mint(&other, &l.debt.keys.mint, 6, 1.0, test_config([0; 32]));
    let mut keys = o_debt.keys;
    keys.market = l.m.market;
    let err = ctx.fails(
        "maturity_ladder other market",
        &[ix::maturity_ladder(&keys)],
        &[],
    );
    assert_ballast_err(&err, BallastError::WrongMarket);
}

/// A floating borrow counts the term book in the utilisation cap (and the
/// borrow cap): with term loans at 15% of supply and the cap at 25%, a
/// floating borrow of 11% is refused. Before the fix `borrow` compared
/// only the floating debt with the cap and let it through.
#[test]
fn floating_borrow_counts_term_loans_in_utilisation() {
    let mut ctx = TestContext::new();
    let l = setup(&mut ctx);
    ctx.update_config(&l.m, &l.debt, |c| c.max_utilization_bps = 2_500);
    let ix = borrow_term_ix(&ctx, &l, 2, l.debt.units(1_500.0), 0);
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    let (b2, b2_sol) = ctx.user_with_tokens(&l.coll, l.coll.units(1_000.0));
    let o2 = ctx.open_obligation(&b2, &l.m.market, 0);
    ctx.deposit(&b2, &l.coll, &o2, &b2_sol, l.coll.units(1_000.0));
    let b2_usdc = ctx.token_account_for(&l.debt, &b2.pubkey(), 0);
    let health = ctx.health_accounts(&o2, &[&l.debt]);
    let ix = ix::borrow(
        &b2.pubkey(),
        &l.debt.keys,
        &o2,
        &b2_usdc,
        l.debt.units(1_100.0),
        health,
    );
    let err = ctx.fails(
        "floating borrow past the cap with term loans",
        &[ix],
        &[&b2],
    );
    assert_ballast_err(&err, BallastError::MaxUtilizationExceeded);
    let r = ctx.reserve(&l.debt);
    assert!(r.utilization().unwrap() < fx_bps_floor(2_500).unwrap());
    ctx.borrow(&b2, &l.debt, &o2, &b2_usdc, l.debt.units(900.0));
}
