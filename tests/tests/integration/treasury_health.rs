//! Health checks value a reserve with treasury shares deployed at the lower
//! of their book value and their value now at the strategy's exchange rate
//! (issue 13): a loss in the strategy lowers the health of every obligation
//! holding the reserve's collateral at once, before any crank marks it. The
//! strategy reserve follows the reserve's oracle in the health accounts;
//! missing, substituted or not a reserve of this program, it is refused.
//!
//! To show a test failing on a program built before the fix (`BALLAST_SO`),
//! [`send_health`] resends with the old layout ((reserve, oracle) pairs)
//! when the program answers `HealthAccountsMismatch` to the new one, so the
//! test reaches the valuation it checks.

use ballast::errors::BallastError;
use ballast::state::Reserve;
use ballast_keeper::chain::embedded::TransactionResult;
use ballast_tests::*;
use solana_instruction::{AccountMeta, Instruction};

fn expect_meta(res: TransactionResult) -> ballast_keeper::chain::embedded::TxOk {
    match res {
        Ok(m) => m,
        Err(e) => panic!("{:?}\n{}", e.err, e.meta.logs.join("\n")),
    }
}

const DAY: i64 = 86_400;

fn context() -> TestContext {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000 - 1_700_000_000 % DAY);
    ctx
}

/// The fixture: [`Treasury`] with two depositors in A's USDC (6,000 and
/// 4,000) and 5,000 of it deployed to B; A also lists SOL ($20) and ETH
/// ($100), each supplied by someone else.
struct Fixture {
    t: Treasury,
    a_sol: TestReserve,
    a_eth: TestReserve,
    d1: (Keypair, Address, Address),
    d2: (Keypair, Address, Address),
}

fn fixture(ctx: &mut TestContext) -> Fixture {
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    let d1 = ctx.depositor(&t.a.market, &t.a_usdc, u(6_000.0));
    let d2 = ctx.depositor(&t.a.market, &t.a_usdc, u(4_000.0));
    let (e, _) = ctx.rebalance(&t).expect("deploy");
    assert!(e.deployed);
    assert_eq!(e.amount, u(5_000.0));
    let a_sol = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    ctx.depositor(&t.a.market, &a_sol, a_sol.units(1_000.0));
    let a_eth = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 8, 100.0, test_config([0; 32]));
    ctx.depositor(&t.a.market, &a_eth, a_eth.units(1_000.0));
    Fixture {
        t,
        a_sol,
        a_eth,
        d1,
        d2,
    }
}

/// A loss in B: a borrower of 9,000 USDC against 1,000 SOL ($20,000) is
/// closed out after SOL falls to $1, and the rest of the debt is written
/// off against B's depositors (B's insurance vault is empty). Nothing
/// touches A. Returns A's treasury (book value, value now at B's rate).
fn strategy_loss(ctx: &mut TestContext, t: &Treasury) -> (u64, u64) {
    let (b, b_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(1_000.0));
    let b_usdc = ctx.token_account_for(&t.b_usdc, &b.pubkey(), 0);
    let bo = ctx.open_obligation(&b, &t.b.market, 0);
    ctx.deposit(&b, &t.b_sol, &bo, &b_sol, t.b_sol.units(1_000.0));
    ctx.borrow(&b, &t.b_usdc, &bo, &b_usdc, t.b_usdc.units(9_000.0));
    let (liq, l_usdc) = ctx.user_with_tokens(&t.b_usdc, t.b_usdc.units(20_000.0));
    let l_sol = ctx.token_account_for(&t.b_sol, &liq.pubkey(), 0);
    ctx.set_price(&t.b_sol, 1.0, 0.0);
    let a_before = ctx.reserve(&t.a_usdc);
    while ctx.has_collateral(&bo) {
        ctx.liquidate_ok(&liq, &bo, &t.b_usdc, &t.b_sol, &l_usdc, &l_sol, u64::MAX);
    }
    assert!(!ctx.obligation(&bo).has_debt(), "written off in B");
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(
        bytemuck::bytes_of(&a),
        bytemuck::bytes_of(&a_before),
        "A untouched: its book is the last mark"
    );
    let book = a.treasury.deployed_amount;
    let value = ctx.projected_treasury_value(t);
    assert_eq!(book, t.a_usdc.units(5_000.0));
    assert!(
        value < book / 2 + book / 10,
        "a loss of more than 40% in B: {value} of {book}"
    );
    (book, value)
}

/// A's USDC supply (depositors' claims, base units) with the treasury at
/// `deployed` instead of its book value.
fn supply_with(ctx: &TestContext, t: &Treasury, deployed: u64) -> u64 {
    let mut a = ctx.reserve(&t.a_usdc);
    a.treasury.deployed_amount = deployed;
    ballast::engine::fx::FxExt::to_floor_u64(a.supply().unwrap()).unwrap()
}

/// The tokens `o`'s A-USDC collateral redeems with the treasury valued at
/// `deployed`, base units, rounded down.
fn usdc_claim(ctx: &TestContext, t: &Treasury, o: &Address, deployed: u64) -> u64 {
    let mut a = ctx.reserve(&t.a_usdc);
    a.treasury.deployed_amount = deployed;
    let shares = ctx.deposit_shares_of(o, &t.a_usdc);
    ballast::engine::fx::FxExt::to_floor_u64(
        ballast::engine::shares::tokens_for_shares_floor(
            shares,
            a.supply().unwrap(),
            a.deposit_shares,
        )
        .unwrap(),
    )
    .unwrap()
}

/// The health accounts of `o` in the old layout ((reserve, oracle) pairs,
/// no strategy reserve): what a program built before the fix reads.
fn pairs_layout(
    ctx: &TestContext,
    o: &Address,
    borrowing: Option<&TestReserve>,
) -> Vec<AccountMeta> {
    let ob = ctx.obligation(o);
    let b = borrowing.map(|r| r.keys.reserve);
    ix::health_accounts(&ob, b.as_ref(), |r| {
        (
            ctx.chain.zero_copy::<Reserve>(r).unwrap().oracle,
            Address::default(),
        )
    })
}

/// Sends `build(health accounts of o)`; on a program that answers the new
/// layout with `HealthAccountsMismatch` (one built before the fix, loaded
/// with `BALLAST_SO`), resends with [`pairs_layout`] after a note.
#[allow(clippy::result_large_err)] // LiteSVM's own result type, passed through as is.
fn send_health(
    ctx: &mut TestContext,
    o: &Address,
    borrowing: Option<&TestReserve>,
    build: impl Fn(Vec<AccountMeta>) -> Instruction,
    signer: &Keypair,
) -> TransactionResult {
    let extra: Vec<&TestReserve> = borrowing.into_iter().collect();
    let health = ctx.health_accounts(o, &extra);
    let res = ctx.chain.send(&[build(health)], &[signer]);
    let mismatch =
        anchor_lang::error::ERROR_CODE_OFFSET + BallastError::HealthAccountsMismatch as u32;
    match &res {
        Err(e) if custom_code(&e.err) == Some(mismatch) => {
            println!("note: the program reads (reserve, oracle) pairs only (built before the fix): resending in that layout");
            let health = pairs_layout(ctx, o, borrowing);
            ctx.chain.send(&[build(health)], &[signer])
        }
        _ => res,
    }
}

/// (a) After a loss in the strategy, a borrow that A's book value of its
/// treasury would allow but the marked value does not is refused, with no
/// crank in between; a borrow within the marked value passes.
#[test]
fn a_strategy_loss_lowers_borrowing_power_before_any_mark() {
    let mut ctx = context();
    let f = fixture(&mut ctx);
    let t = &f.t;
    let (d2, o2, _) = &f.d2;
    let (book, value) = strategy_loss(&mut ctx, t);
    ctx.set_price(&f.a_sol, 20.0, 0.0);
    ctx.set_price(&t.a_usdc, 1.0, 0.0);
    // d2's 4,000 USDC: borrowing power at 75% LTV, at book and at mark.
    let at_book = usdc_claim(&ctx, t, o2, book) as f64 / 1e6 * 0.75;
    let at_mark = usdc_claim(&ctx, t, o2, value) as f64 / 1e6 * 0.75;
    assert!((at_book - 3_000.0).abs() < 0.01, "book power {at_book}");
    assert!(at_mark < 2_400.0, "marked power {at_mark}");
    println!("borrowing power: book ${at_book:.2}, marked ${at_mark:.2}");
    // $2,800 of SOL: within the book value's power, not the marked one's.
    let d2_sol = ctx.token_account_for(&f.a_sol, &d2.pubkey(), 0);
    let watch = [
        *o2,
        d2_sol,
        f.a_sol.address(),
        f.a_sol.keys.liquidity_vault,
        t.a_usdc.address(),
    ];
    let before = ctx.snapshot(&watch);
    let sol = |usd: f64| f.a_sol.units(usd / 20.0);
    let borrow =
        |amount: u64| move |h| ix::borrow(&d2.pubkey(), &f.a_sol.keys, o2, &d2_sol, amount, h);
    let res = send_health(&mut ctx, o2, Some(&f.a_sol), borrow(sol(2_800.0)), d2);
    let err = match res {
        Ok(meta) => panic!(
            "borrowed $2,800 against ${at_mark:.2} of marked borrowing power:\n{}",
            meta.logs.join("\n")
        ),
        Err(e) => e.err,
    };
    check(
        "book allows, mark refuses",
        &err,
        Expect::Ballast(BallastError::InitialRequirementNotMet),
    );
    ctx.assert_unchanged("refused borrow", &before);
    // Within the marked power (less 1%): allowed.
    let ok = ((at_mark * 0.99) / 20.0 * 1e9) as u64;
    expect_meta(send_health(&mut ctx, o2, Some(&f.a_sol), borrow(ok), d2));
    assert_eq!(ctx.token_balance(&d2_sol).unwrap(), ok);
    // Still nothing marked A: the health check wrote nothing.
    assert_eq!(ctx.reserve(&t.a_usdc).treasury.deployed_amount, book);
}

/// (b) An obligation healthy at A's book value of its treasury but not at
/// the marked value is liquidatable at once (the liquidation seizes another
/// collateral, so nothing marks A's USDC first); at book value it would be
/// refused as healthy.
#[test]
fn a_strategy_loss_makes_an_obligation_liquidatable_at_once() {
    let mut ctx = context();
    let f = fixture(&mut ctx);
    let t = &f.t;
    let (d1, o1, _) = &f.d1;
    // d1: 6,000 USDC and 50 SOL ($1,000) of collateral, 52 ETH ($5,200)
    // borrowed (within 75% of $7,000).
    let d1_sol = ctx.token_account_for(&f.a_sol, &d1.pubkey(), f.a_sol.units(50.0));
    ctx.deposit(d1, &f.a_sol, o1, &d1_sol, f.a_sol.units(50.0));
    let d1_eth = ctx.token_account_for(&f.a_eth, &d1.pubkey(), 0);
    let eth = f.a_eth.units(52.0);
    let borrow = |h| ix::borrow(&d1.pubkey(), &f.a_eth.keys, o1, &d1_eth, eth, h);
    expect_meta(send_health(&mut ctx, o1, Some(&f.a_eth), borrow, d1));
    let (book, value) = strategy_loss(&mut ctx, t);
    for (r, p) in [(&t.a_usdc, 1.0), (&f.a_sol, 20.0), (&f.a_eth, 100.0)] {
        ctx.set_price(r, p, 0.0);
    }
    // Maintenance (80%): healthy at book, not at mark.
    let maint = |usdc: u64| (usdc as f64 / 1e6 + 1_000.0) * 0.8;
    let (at_book, at_mark) = (
        maint(usdc_claim(&ctx, t, o1, book)),
        maint(usdc_claim(&ctx, t, o1, value)),
    );
    assert!(
        at_book > 5_250.0 && at_mark < 4_800.0,
        "{at_book} / {at_mark}"
    );
    println!("maintenance collateral: book ${at_book:.2}, marked ${at_mark:.2}, debt $5,200");
    // A liquidator repays ETH and takes SOL.
    let (liq, l_eth) = ctx.user_with_tokens(&f.a_eth, f.a_eth.units(100.0));
    let l_sol = ctx.token_account_for(&f.a_sol, &liq.pubkey(), 0);
    let debt_before = ctx.obligation(o1);
    let liquidate = |h| {
        ix::liquidate(
            &liq.pubkey(),
            o1,
            &f.a_eth.keys,
            &f.a_sol.keys,
            &l_eth,
            &l_sol,
            f.a_eth.units(10.0),
            h,
        )
    };
    let res = send_health(&mut ctx, o1, None, liquidate, &liq);
    let meta = match res {
        Ok(meta) => meta,
        Err(e) => panic!(
            "not liquidatable at ${at_mark:.2} of marked maintenance collateral against $5,200: {:?}\n{}",
            e.err,
            e.meta.logs.join("\n")
        ),
    };
    let l: ballast::events::Liquidated = events(&meta.logs).remove(0);
    assert!(
        l.repaid > 0 && l.repaid <= f.a_eth.units(10.0),
        "{}",
        l.repaid
    );
    assert!(l.seized > 0 && ctx.token_balance(&l_sol).unwrap() > 0);
    assert!(l.health_before.get() < ballast::engine::fx::FX_ONE);
    assert_ne!(
        bytemuck::bytes_of(&ctx.obligation(o1)),
        bytemuck::bytes_of(&debt_before)
    );
    // A's USDC was only valued: its book is still the last mark.
    assert_eq!(ctx.reserve(&t.a_usdc).treasury.deployed_amount, book);
    assert!(supply_with(&ctx, t, value) < supply_with(&ctx, t, book));
}

/// The strategy reserve is a required health account of every reserve with
/// a strategy configured: missing, substituted by another reserve (of B,
/// or A's own SOL), or not owned by this program, the borrow is refused
/// and nothing changes.
#[test]
fn the_strategy_health_account_is_required_and_checked() {
    let mut ctx = context();
    let f = fixture(&mut ctx);
    let t = &f.t;
    let (d2, o2, _) = &f.d2;
    let d2_sol = ctx.token_account_for(&f.a_sol, &d2.pubkey(), 0);
    let amount = f.a_sol.units(10.0);
    let health = ctx.health_accounts(o2, &[&f.a_sol]);
    // [A USDC, oracle, B USDC (strategy), A SOL, oracle]
    assert_eq!(health.len(), 5);
    assert_eq!(health[2].pubkey, t.b_usdc.address());
    let borrow =
        |h: Vec<AccountMeta>| ix::borrow(&d2.pubkey(), &f.a_sol.keys, o2, &d2_sol, amount, h);
    let with = |k: Address| {
        let mut h = health.clone();
        h[2] = AccountMeta::new_readonly(k, false);
        h
    };
    let mut without = health.clone();
    without.remove(2);
    let mut at_end = without.clone();
    at_end.push(health[2].clone());
    let required = Expect::Ballast(BallastError::StrategyAccountRequired);
    let cases = vec![
        ("missing", without, required),
        ("after the other reserves", at_end, required),
        ("B's SOL in its place", with(t.b_sol.address()), required),
        ("A's SOL in its place", with(f.a_sol.address()), required),
        (
            "a forged copy of B's USDC",
            with(ctx.forge_copy(&t.b_usdc.address(), ballast::ID)),
            required,
        ),
    ];
    let watch = [
        *o2,
        d2_sol,
        f.a_sol.address(),
        t.a_usdc.address(),
        t.b_usdc.address(),
    ];
    for (label, h, expect) in cases {
        let before = ctx.snapshot(&watch);
        let err = ctx.fails(label, &[borrow(h)], &[d2]);
        check(label, &err, expect);
        ctx.assert_unchanged(label, &before);
    }
    // B's USDC at its own address but owned by another program.
    let data = ctx.chain.svm.get_account(&t.b_usdc.address()).unwrap().data;
    ctx.chain
        .set_raw_account(&t.b_usdc.address(), TOKEN_PROGRAM_ID, data.clone())
        .unwrap();
    let label = "strategy reserve not owned by this program";
    let before = ctx.snapshot(&watch);
    let err = ctx.fails(label, &[borrow(health.clone())], &[d2]);
    check(
        label,
        &err,
        Expect::Ballast(BallastError::TreasuryAccountsMismatch),
    );
    ctx.assert_unchanged(label, &before);
    ctx.chain
        .set_raw_account(&t.b_usdc.address(), ballast::ID, data)
        .unwrap();
    // The accounts as built: allowed.
    ctx.ok("borrow", &[borrow(health)], &[d2]);
    assert_eq!(ctx.token_balance(&d2_sol).unwrap(), amount);
}

/// The layout follows the configuration, not what is deployed now: with
/// every share recalled the strategy reserve is still required (a rebalance
/// landing before a user's transaction never changes its accounts), and
/// is then only checked, not priced.
#[test]
fn the_layout_does_not_depend_on_deployed_shares() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let (d1, o1, _) = ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(1_000.0));
    assert_eq!(ctx.reserve(&t.a_usdc).treasury.deployed_shares, 0);
    let a_sol = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    ctx.depositor(&t.a.market, &a_sol, a_sol.units(100.0));
    let d1_sol = ctx.token_account_for(&a_sol, &d1.pubkey(), 0);
    let health = ctx.health_accounts(&o1, &[&a_sol]);
    assert_eq!(
        health.len(),
        5,
        "the strategy reserve with nothing deployed"
    );
    let borrow = |h| ix::borrow(&d1.pubkey(), &a_sol.keys, &o1, &d1_sol, a_sol.units(1.0), h);
    let mut without = health.clone();
    without.remove(2);
    let err = ctx.fails("missing, nothing deployed", &[borrow(without)], &[&d1]);
    check(
        "missing, nothing deployed",
        &err,
        Expect::Ballast(BallastError::StrategyAccountRequired),
    );
    ctx.ok("borrow", &[borrow(health)], &[&d1]);
}

/// A gain in the strategy counts only once marked (the lower of book and
/// mark): unmarked interest earned in B leaves A's collateral at its book.
#[test]
fn an_unmarked_gain_is_not_counted() {
    let mut ctx = context();
    let f = fixture(&mut ctx);
    let t = &f.t;
    // B's borrower pays interest for a year: B's rate rises, A's book not.
    let (b, b_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(1_000.0));
    let b_usdc = ctx.token_account_for(&t.b_usdc, &b.pubkey(), 0);
    let bo = ctx.open_obligation(&b, &t.b.market, 0);
    ctx.deposit(&b, &t.b_sol, &bo, &b_sol, t.b_sol.units(1_000.0));
    ctx.borrow(&b, &t.b_usdc, &bo, &b_usdc, t.b_usdc.units(9_000.0));
    ctx.warp_seconds(365 * DAY);
    for (r, p) in [
        (&t.a_usdc, 1.0),
        (&f.a_sol, 20.0),
        (&t.b_usdc, 1.0),
        (&t.b_sol, 20.0),
    ] {
        ctx.set_price(r, p, 0.0);
    }
    let book = ctx.reserve(&t.a_usdc).treasury.deployed_amount;
    let value = ctx.projected_treasury_value(t);
    assert!(value > book + t.a_usdc.units(100.0), "{value} vs {book}");
    // d2's 4,000 USDC (A's own borrowers: none, so only the treasury moves
    // A's rate): 75% of the book claim is the limit, to the dollar.
    let (d2, o2, _) = &f.d2;
    let at_book = usdc_claim(&ctx, t, o2, book);
    let d2_sol = ctx.token_account_for(&f.a_sol, &d2.pubkey(), 0);
    // Half-way between 75% of the book claim and 75% of the marked one.
    let power = |claim: u64| claim as f64 / 1e6 * 0.75;
    let (p_book, p_mark) = (power(at_book), power(usdc_claim(&ctx, t, o2, value)));
    assert!(p_mark > p_book + 10.0, "{p_book} / {p_mark}");
    let over = ((p_book + p_mark) / 2.0 / 20.0 * 1e9) as u64;
    let borrow = |h| ix::borrow(&d2.pubkey(), &f.a_sol.keys, o2, &d2_sol, over, h);
    let err = match send_health(&mut ctx, o2, Some(&f.a_sol), borrow, d2) {
        Ok(_) => panic!("an unmarked gain was counted"),
        Err(e) => e.err,
    };
    check(
        "over the book",
        &err,
        Expect::Ballast(BallastError::InitialRequirementNotMet),
    );
}

/// Withdraw and liquidate refuse the health accounts without the strategy
/// reserve too (before any valuation: a healthy obligation's liquidation
/// answers `StrategyAccountRequired`, not `ObligationHealthy`), and a
/// substituted one; nothing changes.
#[test]
fn withdraw_and_liquidate_require_the_strategy_health_account() {
    let mut ctx = context();
    let f = fixture(&mut ctx);
    let t = &f.t;
    let (d1, o1, _) = &f.d1;
    let d1_sol = ctx.token_account_for(&f.a_sol, &d1.pubkey(), f.a_sol.units(50.0));
    ctx.deposit(d1, &f.a_sol, o1, &d1_sol, f.a_sol.units(50.0));
    let d1_eth = ctx.token_account_for(&f.a_eth, &d1.pubkey(), 0);
    ctx.borrow(d1, &f.a_eth, o1, &d1_eth, f.a_eth.units(10.0));
    let health = ctx.health_accounts(o1, &[]);
    // [A USDC, oracle, B USDC, A SOL, oracle, A ETH, oracle]
    assert_eq!(health.len(), 7);
    assert_eq!(health[2].pubkey, t.b_usdc.address());
    let mut missing = health.clone();
    missing.remove(2);
    let mut substituted = health.clone();
    substituted[2] = AccountMeta::new_readonly(t.b_sol.address(), false);
    let (liq, l_eth) = ctx.user_with_tokens(&f.a_eth, f.a_eth.units(10.0));
    let l_sol = ctx.token_account_for(&f.a_sol, &liq.pubkey(), 0);
    let withdraw = |h| {
        ix::withdraw(
            &d1.pubkey(),
            &f.a_sol.keys,
            o1,
            &d1_sol,
            f.a_sol.units(1.0),
            h,
        )
    };
    let liquidate = |h| {
        ix::liquidate(
            &liq.pubkey(),
            o1,
            &f.a_eth.keys,
            &f.a_sol.keys,
            &l_eth,
            &l_sol,
            f.a_eth.units(1.0),
            h,
        )
    };
    let watch = [
        *o1,
        d1_sol,
        l_eth,
        l_sol,
        f.a_sol.address(),
        f.a_eth.address(),
        t.a_usdc.address(),
    ];
    let required = Expect::Ballast(BallastError::StrategyAccountRequired);
    for (label, ix, signer) in [
        ("withdraw, strategy missing", withdraw(missing.clone()), d1),
        (
            "withdraw, B's SOL in its place",
            withdraw(substituted.clone()),
            d1,
        ),
        ("liquidate, strategy missing", liquidate(missing), &liq),
        (
            "liquidate, B's SOL in its place",
            liquidate(substituted),
            &liq,
        ),
    ] {
        let before = ctx.snapshot(&watch);
        let err = ctx.fails(label, &[ix], &[signer]);
        check(label, &err, required);
        ctx.assert_unchanged(label, &before);
    }
    // With it: the withdraw passes and the healthy obligation's liquidation
    // is refused for what it is.
    let err = ctx.fails(
        "liquidate a healthy obligation",
        &[liquidate(health.clone())],
        &[&liq],
    );
    check(
        "liquidate a healthy obligation",
        &err,
        Expect::Ballast(BallastError::ObligationHealthy),
    );
    ctx.ok("withdraw", &[withdraw(health)], &[d1]);
    assert_eq!(ctx.token_balance(&d1_sol).unwrap(), f.a_sol.units(1.0));
}
