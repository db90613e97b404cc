//! The liquidation that takes an obligation's last collateral writes off
//! ALL its remaining debt, in every reserve it owes, in that same
//! instruction (issue 12), on the real .so: insurance first, then the
//! depositors by the reserve's exchange rate, one `BadDebtSocialized` per
//! reserve. Before, only the debt reserve repaid was written off; the debt
//! in the other reserves waited for a separate `socialize_bad_debt`, which
//! a defaulter's one-unit re-deposit blocked (`ObligationHasCollateral`)
//! and ahead of which depositors could withdraw.

use ballast::engine::fx::FxExt;
use ballast::errors::BallastError;
use ballast::events::{BadDebtSocialized, Liquidated, LiquidatedForShares};
use ballast_tests::*;
use solana_instruction::AccountMeta;

/// SOL (9 decimals, $20), USDC (6, $1) and USDT (6, $1) reserves;
/// suppliers of 10,000 USDC and 10,000 USDT; a borrower with 100 SOL who
/// borrows 1,300 USDC and 200 USDT. 100 USDC and 50 USDT sit in the two
/// insurance vaults. Then 120 s pass and SOL falls to $12: $1,200 of
/// collateral against $1,500 of debt, insolvent.
struct Book {
    ctx: TestContext,
    m: TestMarket,
    sol: TestReserve,
    usdc: TestReserve,
    usdt: TestReserve,
    borrower: Keypair,
    ob: Address,
    liq: Keypair,
    l_usdc: Address,
    l_sol: Address,
}

fn book(tp: &Address) -> Book {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, tp, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    let usdt = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    for r in [&usdc, &usdt] {
        let (s, s_ta) = ctx.user_with_tokens(r, r.units(10_000.0));
        let so = ctx.open_obligation(&s, &m.market, 0);
        ctx.deposit(&s, r, &so, &s_ta, r.units(10_000.0));
    }
    let borrower = ctx.funded_user(10);
    let ob = ctx.open_obligation(&borrower, &m.market, 0);
    let b_sol = ctx.token_account_for(&sol, &borrower.pubkey(), sol.units(100.0));
    ctx.deposit(&borrower, &sol, &ob, &b_sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &borrower.pubkey(), 0);
    ctx.borrow(&borrower, &usdc, &ob, &b_usdc, usdc.units(1_300.0));
    let b_usdt = ctx.token_account_for(&usdt, &borrower.pubkey(), 0);
    ctx.borrow(&borrower, &usdt, &ob, &b_usdt, usdt.units(200.0));
    ctx.mint_to(
        &usdc.keys.mint,
        &usdc.keys.insurance_vault,
        usdc.units(100.0),
    )
    .unwrap();
    ctx.mint_to(
        &usdt.keys.mint,
        &usdt.keys.insurance_vault,
        usdt.units(50.0),
    )
    .unwrap();
    ctx.warp_seconds(120);
    ctx.set_price(&sol, 12.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    ctx.set_price(&usdt, 1.0, 0.0);
    // Interest accrued to now, so the supplies move by the write-offs alone.
    for r in [&usdc, &usdt] {
        let accrue = ix::accrue_interest(&r.keys.reserve);
        ctx.ok("accrue", &[accrue], &[]);
    }
    let (liq, l_usdc) = ctx.user_with_tokens(&usdc, usdc.units(5_000.0));
    let l_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    Book {
        ctx,
        m,
        sol,
        usdc,
        usdt,
        borrower,
        ob,
        liq,
        l_usdc,
        l_sol,
    }
}

/// (supply as `f64`, insurance vault, liquidity vault) of `r`.
fn books_of(ctx: &TestContext, r: &TestReserve) -> (f64, u64, u64) {
    (
        ctx.reserve(r).supply().unwrap().to_num::<f64>(),
        ctx.chain.token_balance(&r.keys.insurance_vault).unwrap(),
        ctx.chain.token_balance(&r.keys.liquidity_vault).unwrap(),
    )
}

/// Checks the write-offs of one liquidation's logs against the books
/// before (`pre`, from [`books_of`]) of `usdc` and `usdt`: one
/// `BadDebtSocialized` per reserve, each covering `debt` = the
/// obligation's debt there before the write-off (USDT's whole debt,
/// USDC's less the repay), insurance first (all 100 USDC / 50 USDT of it),
/// the rest off the supply; both vaults reconcile; the obligation owes
/// nothing.
fn check_write_offs(
    b: &Book,
    logs: &[String],
    repaid: u64,
    usdc_debt0: u64,
    usdt_debt0: u64,
    pre: [(f64, u64, u64); 2],
) {
    let w: Vec<BadDebtSocialized> = events(logs);
    assert_eq!(w.len(), 2, "one write-off per debt reserve");
    for (r, debt, cover, pre) in [
        (&b.usdc, usdc_debt0 - repaid, b.usdc.units(100.0), pre[0]),
        (&b.usdt, usdt_debt0, b.usdt.units(50.0), pre[1]),
    ] {
        let e = w
            .iter()
            .find(|e| e.reserve == r.address())
            .expect("a write-off in this reserve");
        assert_eq!(e.obligation, b.ob);
        assert_eq!(e.debt, debt, "the rest of the debt");
        assert_eq!(e.covered_by_insurance, cover, "insurance first");
        assert_eq!(e.written_off, debt - cover, "the rest to the depositors");
        let post = books_of(&b.ctx, r);
        assert_eq!(pre.1 - post.1, cover, "insurance vault paid the cover");
        let repaid_here = if r.address() == b.usdc.address() {
            repaid
        } else {
            0
        };
        assert_eq!(post.2 - pre.2, cover + repaid_here, "liquidity vault");
        let fell = pre.0 - post.0;
        assert!(
            (fell - e.written_off as f64).abs() <= 2.0,
            "supply fell {fell} vs written off {}",
            e.written_off
        );
        assert_eq!(b.ctx.debt_of(&b.ob, r).to_num::<f64>(), 0.0);
        b.ctx.assert_vault_reconciles(r);
    }
    assert!(!b.ctx.obligation(&b.ob).has_debt(), "owes nothing");
    assert!(!b.ctx.has_collateral(&b.ob));
}

/// The attacker test. One `liquidate` of the USDC debt takes all the SOL
/// and, in the same instruction, writes off the rest of the USDC debt and
/// the whole USDT debt, each insurance first. The defaulter's one-unit
/// re-deposit afterwards keeps no debt alive. On the pre-fix .so the USDT
/// debt was left behind (and a one-unit SOL deposit then blocked its
/// `socialize_bad_debt` with `ObligationHasCollateral`).
#[test]
fn the_last_collateral_takes_every_debt_with_it() {
    for tp in TOKEN_PROGRAMS {
        let mut b = book(&tp);
        let (usdc, usdt, sol, ob) = (b.usdc, b.usdt, b.sol, b.ob);
        let usdc_debt0 = b.ctx.debt_of(&ob, &usdc).to_ceil_u64().unwrap();
        let usdt_debt0 = b.ctx.debt_of(&ob, &usdt).to_ceil_u64().unwrap();
        let pre = [books_of(&b.ctx, &usdc), books_of(&b.ctx, &usdt)];
        let ix = b
            .ctx
            .liquidate_ix(&b.liq, &ob, &usdc, &sol, &b.l_usdc, &b.l_sol, u64::MAX);
        let logs = b
            .ctx
            .ok_logs("liquidate the last collateral, two debts", &[ix], &[&b.liq]);
        let l: Vec<Liquidated> = events(&logs);
        assert_eq!(l.len(), 1);
        assert_eq!(b.ctx.collateral_of(&ob, &sol), 0, "all the SOL taken");
        check_write_offs(&b, &logs, l[0].repaid, usdc_debt0, usdt_debt0, pre);
        // The defaulter re-deposits one base unit: no debt comes back, and
        // nothing is left to socialise in either reserve.
        let borrower = b.borrower.insecure_clone();
        let b_sol = b.ctx.token_account_for(&sol, &borrower.pubkey(), 1);
        b.ctx.deposit(&borrower, &sol, &ob, &b_sol, 1);
        assert!(!b.ctx.obligation(&ob).has_debt(), "still owes nothing");
    }
}

/// A paused market still liquidates (it only de-risks), write-offs
/// included: both debts go in the liquidation that takes the last SOL.
#[test]
fn a_paused_market_still_writes_off_every_debt() {
    let mut b = book(&TOKEN_PROGRAM_ID);
    b.ctx.set_paused(&b.m, true);
    let (usdc, usdt, sol, ob) = (b.usdc, b.usdt, b.sol, b.ob);
    let usdc_debt0 = b.ctx.debt_of(&ob, &usdc).to_ceil_u64().unwrap();
    let usdt_debt0 = b.ctx.debt_of(&ob, &usdt).to_ceil_u64().unwrap();
    let pre = [books_of(&b.ctx, &usdc), books_of(&b.ctx, &usdt)];
    let ix = b
        .ctx
        .liquidate_ix(&b.liq, &ob, &usdc, &sol, &b.l_usdc, &b.l_sol, u64::MAX);
    let logs = b.ctx.ok_logs("liquidate while paused", &[ix], &[&b.liq]);
    let l: Vec<Liquidated> = events(&logs);
    check_write_offs(&b, &logs, l[0].repaid, usdc_debt0, usdt_debt0, pre);
}

/// `liquidate_for_shares` writes off the same way: the liquidator takes the
/// SOL as deposit shares and both debts are gone in that instruction.
#[test]
fn liquidate_for_shares_takes_every_debt_with_it() {
    let mut b = book(&TOKEN_PROGRAM_ID);
    let (usdc, usdt, sol, ob) = (b.usdc, b.usdt, b.sol, b.ob);
    let market = b.ctx.reserve(&sol).market;
    let own = b.ctx.open_obligation(&b.liq.insecure_clone(), &market, 0);
    let usdc_debt0 = b.ctx.debt_of(&ob, &usdc).to_ceil_u64().unwrap();
    let usdt_debt0 = b.ctx.debt_of(&ob, &usdt).to_ceil_u64().unwrap();
    let pre = [books_of(&b.ctx, &usdc), books_of(&b.ctx, &usdt)];
    let accounts = b.ctx.liquidation_accounts(&ob, &usdc);
    let ix = ix::liquidate_for_shares(
        &b.liq.pubkey(),
        &ob,
        &own,
        &usdc.keys,
        &sol.keys,
        &b.l_usdc,
        u64::MAX,
        accounts,
    );
    let logs = b
        .ctx
        .ok_logs("liquidate_for_shares, two debts", &[ix], &[&b.liq]);
    let l: Vec<LiquidatedForShares> = events(&logs);
    assert_eq!(l.len(), 1);
    assert!(l[0].shares_credited > 0);
    check_write_offs(&b, &logs, l[0].repaid, usdc_debt0, usdt_debt0, pre);
}

/// Without the other debt reserve writable, or without its write-off
/// group, the liquidation that takes the last collateral is refused with
/// `WriteOffAccountsRequired` (not executed leaving the USDT debt behind);
/// a group of another reserve's accounts (USDC's liquidity vault named as
/// USDT's) with `ReserveAccountMismatch`. A liquidation that leaves
/// collateral needs neither: SOL at $18 (solvent, health below 1) with the
/// plain health accounts succeeds and writes nothing off.
#[test]
fn the_write_off_accounts_are_required_and_checked() {
    let mut b = book(&TOKEN_PROGRAM_ID);
    let (usdc, usdt, sol, ob) = (b.usdc, b.usdt, b.sol, b.ob);
    let full = b.ctx.liquidation_accounts(&ob, &usdc);
    let plain = b.ctx.health_accounts(&ob, &[]);
    let n = plain.len();
    let send = |b: &mut Book, label: &str, accounts: Vec<AccountMeta>| {
        let ix = ix::liquidate(
            &b.liq.pubkey(),
            &b.ob,
            &b.usdc.keys,
            &b.sol.keys,
            &b.l_usdc,
            &b.l_sol,
            u64::MAX,
            accounts,
        );
        let liq = b.liq.insecure_clone();
        b.ctx.fails(label, &[ix], &[&liq])
    };
    // The plain health accounts (what a pre-fix client sends; the pre-fix
    // program took the SOL and left the USDT debt behind).
    let err = send(&mut b, "plain health accounts", plain.clone());
    check(
        "plain",
        &err,
        Expect::Ballast(BallastError::WriteOffAccountsRequired),
    );
    // The USDT reserve read-only among the health accounts, group passed.
    let mut read_only = full.clone();
    for a in read_only[..n].iter_mut() {
        if a.pubkey == usdt.address() {
            a.is_writable = false;
        }
    }
    let err = send(&mut b, "USDT read-only", read_only);
    check(
        "read-only",
        &err,
        Expect::Ballast(BallastError::WriteOffAccountsRequired),
    );
    // Writable, but no group.
    let err = send(&mut b, "no group", full[..n].to_vec());
    check(
        "no group",
        &err,
        Expect::Ballast(BallastError::WriteOffAccountsRequired),
    );
    // A substituted liquidity vault in USDT's group.
    let mut swapped = full.clone();
    swapped[n + 1].pubkey = usdc.keys.liquidity_vault;
    let err = send(&mut b, "substituted vault", swapped);
    check(
        "substituted",
        &err,
        Expect::Ballast(BallastError::ReserveAccountMismatch),
    );
    // The insurance vault read-only.
    let mut ro_vault = full.clone();
    ro_vault[n].is_writable = false;
    let err = send(&mut b, "read-only insurance vault", ro_vault);
    check(
        "ro vault",
        &err,
        Expect::Ballast(BallastError::WriteOffAccountsRequired),
    );
    assert!(b.ctx.obligation(&ob).has_debt(), "nothing happened");
    // Solvent at SOL $18: the liquidation leaves collateral, no write-off,
    // and the plain health accounts do.
    b.ctx.set_price(&sol, 18.0, 0.0);
    b.ctx.set_price(&usdc, 1.0, 0.0);
    b.ctx.set_price(&usdt, 1.0, 0.0);
    let plain = b.ctx.health_accounts(&ob, &[]);
    let ix = ix::liquidate(
        &b.liq.pubkey(),
        &ob,
        &usdc.keys,
        &sol.keys,
        &b.l_usdc,
        &b.l_sol,
        u64::MAX,
        plain,
    );
    let logs = b.ctx.ok_logs("partial liquidation", &[ix], &[&b.liq]);
    assert!(events::<BadDebtSocialized>(&logs).is_empty());
    assert!(b.ctx.collateral_of(&ob, &sol) > 0);
    assert!(b.ctx.debt_of(&ob, &usdt).to_num::<f64>() > 0.0);
}
