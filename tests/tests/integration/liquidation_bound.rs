//! The close factor cannot be bypassed (issue 12), on the real .so: a
//! liquidation of a solvent obligation strictly improves its health, one
//! liquidation at the full allowance restores it, and a restored obligation
//! is not liquidatable again.
//!
//! Before the fix, the no-worsening bonus cap (`h * BF_d / LT_c - 1`) made a
//! liquidation health-neutral whenever it bound, so the 20% close factor
//! could be applied again and again: 53 calls closed a health-0.99
//! obligation whose collateral has a 97% liquidation threshold.

use ballast::engine::health::{Health, Requirement};
use ballast::errors::BallastError;
use ballast_tests::*;

/// `after` strictly healthier than `before` (cross-multiplied; no debt
/// counts as infinitely healthy).
fn strictly_better(before: &Health, after: &Health) -> bool {
    !health_not_worse(after, before)
}

/// Health as an `f64`, for messages.
fn ratio(h: &Health) -> f64 {
    h.ratio()
        .map(|r| r.to_num::<f64>())
        .unwrap_or(f64::INFINITY)
}

/// A market with SOL (9 decimals, $20, LTV 90% / LT 97%) and USDC (6
/// decimals, $1); a supplier provides 10,000 USDC; a borrower deposits 100
/// SOL ($2,000) and borrows $1,800 (its Initial limit). Then SOL falls to
/// $18.371: Maintenance health 100 * 18.371 * 0.97 / 1,800 = 0.99,
/// collateral / debt = 1.0206, so the old cap (2.06%) was below the 5%
/// bonus. Returns (ctx, market, sol, usdc, borrower's obligation).
fn high_lt_book(tp: &Address) -> (TestContext, TestMarket, TestReserve, TestReserve, Address) {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let mut sol_cfg = test_config([0; 32]);
    sol_cfg.loan_to_value_bps = 9_000;
    sol_cfg.liquidation_threshold_bps = 9_700;
    let sol = ctx.add_reserve(&m, tp, 9, 20.0, sol_cfg);
    let usdc = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    let (s, s_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_usdc, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_800.0));
    ctx.set_price(&sol, 18.371, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    (ctx, m, sol, usdc, ob)
}

/// A liquidator holding `amount` of `debt` and an empty account of `coll`.
fn liquidator(
    ctx: &mut TestContext,
    debt: &TestReserve,
    coll: &TestReserve,
    amount: u64,
) -> (Keypair, Address, Address) {
    let (liq, l_debt) = ctx.user_with_tokens(debt, amount);
    let l_coll = ctx.token_account_for(coll, &liq.pubkey(), 0);
    (liq, l_debt, l_coll)
}

/// The case: health 0.99, close factor 20%, the cap binding. A
/// partial liquidation (10 USDC) strictly improves health; one liquidation
/// at the full allowance restores health >= 1 (the stated bound for one
/// collateral and one debt: `n - 1 = 1` liquidation), taking far less than
/// the whole debt; a second one is refused with `ObligationHealthy`. On the
/// pre-fix .so the partial liquidation left health unchanged (the first
/// assertion fails) and the full-allowance one repaid 20% and left the
/// obligation at 0.99, liquidatable 52 more times.
#[test]
fn a_liquidation_strictly_improves_health_and_one_restores_it() {
    for tp in TOKEN_PROGRAMS {
        let (mut ctx, _m, sol, usdc, ob) = high_lt_book(&tp);
        let h0 = ctx.engine_health(&ob, Requirement::Maintenance);
        assert!(
            (ratio(&h0) - 0.99).abs() < 1e-3,
            "health 0.99: {}",
            ratio(&h0)
        );
        let (liq, l_usdc, l_sol) = liquidator(&mut ctx, &usdc, &sol, usdc.units(5_000.0));
        let e = ctx.liquidate_ok(&liq, &ob, &usdc, &sol, &l_usdc, &l_sol, usdc.units(10.0));
        assert_eq!(e.repaid, usdc.units(10.0));
        assert!(e.bonus_bps > 0, "the liquidator is paid a bonus");
        let h1 = ctx.engine_health(&ob, Requirement::Maintenance);
        assert!(
            strictly_better(&h0, &h1),
            "a partial liquidation strictly improves health: {} -> {} (bonus {} bps)",
            ratio(&h0),
            ratio(&h1),
            e.bonus_bps
        );
        let gain = ratio(&h1) - ratio(&h0);
        assert!(gain > 2e-5, "a material improvement: {gain}");
        // Liquidations at the full allowance until the obligation is
        // healthy or has no debt: one (the pre-fix .so took 53).
        let debt_before = ctx.debt_of(&ob, &usdc).to_num::<f64>();
        let mut repaid = 0;
        let mut n = 0;
        loop {
            let h = ctx.engine_health(&ob, Requirement::Maintenance);
            if h.is_satisfied() || n == 100 {
                break;
            }
            let e = ctx.liquidate_ok(&liq, &ob, &usdc, &sol, &l_usdc, &l_sol, u64::MAX);
            repaid += e.repaid;
            n += 1;
        }
        let h2 = ctx.engine_health(&ob, Requirement::Maintenance);
        println!(
            "liquidations to restore: {n}, repaid {repaid} of {debt_before}, health {}",
            ratio(&h2)
        );
        assert_eq!(n, 1, "one liquidation restores health");
        assert!(h2.is_satisfied() && h2.debt > ballast::engine::fx::FX_ZERO);
        assert!(
            (repaid as f64) < debt_before * 0.9,
            "restoring takes part of the debt, not all of it: {repaid} of {debt_before}"
        );
        let ix = ctx.liquidate_ix(&liq, &ob, &usdc, &sol, &l_usdc, &l_sol, u64::MAX);
        let err = ctx.fails("liquidate a restored obligation", &[ix], &[&liq]);
        check(
            "restored",
            &err,
            Expect::Ballast(BallastError::ObligationHealthy),
        );
    }
}

/// Two collaterals, one debt: A (LT 95%) worth $1,000 and B (LT 50%) worth
/// $600 against $1,350 of USDC: health (950 + 300) / 1,350 = 0.926, solvent
/// at spot ($1,600 > $1,350). Seizing A (LT 95% >= 0.926) cannot improve
/// health with any bonus: refused with `LiquidationCannotImproveHealth`,
/// changing nothing (the pre-fix .so seized it at a zero bonus and health
/// fell). Seizing B strictly improves it, and the bound holds: with three
/// positions, at most two liquidations at the full allowance end it.
#[test]
fn a_pair_that_cannot_improve_health_is_refused_and_another_can() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let mut a_cfg = test_config([0; 32]);
        a_cfg.loan_to_value_bps = 9_000;
        a_cfg.liquidation_threshold_bps = 9_500;
        let mut b_cfg = test_config([0; 32]);
        b_cfg.loan_to_value_bps = 4_500;
        b_cfg.liquidation_threshold_bps = 5_000;
        let a = ctx.add_reserve(&m, &tp, 9, 10.0, a_cfg);
        let b = ctx.add_reserve(&m, &tp, 9, 10.0, b_cfg);
        let usdc = ctx.add_reserve(&m, &tp, 6, 1.0, test_config([0; 32]));
        let (s, s_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
        let so = ctx.open_obligation(&s, &m.market, 0);
        ctx.deposit(&s, &usdc, &so, &s_usdc, usdc.units(10_000.0));
        let user = ctx.funded_user(10);
        let ob = ctx.open_obligation(&user, &m.market, 0);
        for r in [&a, &b] {
            let ta = ctx.token_account_for(r, &user.pubkey(), r.units(100.0));
            ctx.deposit(&user, r, &ob, &ta, r.units(100.0));
        }
        let u_usdc = ctx.token_account_for(&usdc, &user.pubkey(), 0);
        ctx.borrow(&user, &usdc, &ob, &u_usdc, usdc.units(1_350.0));
        ctx.set_price(&a, 10.0, 0.0);
        ctx.set_price(&b, 6.0, 0.0);
        ctx.set_price(&usdc, 1.0, 0.0);
        let h0 = ctx.engine_health(&ob, Requirement::Maintenance);
        assert!(!h0.is_satisfied() && ratio(&h0) > 0.92, "{}", ratio(&h0));

        let (liq, l_usdc, l_a) = liquidator(&mut ctx, &usdc, &a, usdc.units(5_000.0));
        let l_b = ctx.token_account_for(&b, &liq.pubkey(), 0);
        let ix = ctx.liquidate_ix(&liq, &ob, &usdc, &a, &l_usdc, &l_a, u64::MAX);
        let mut watched = vec![ob, l_usdc, l_a];
        watched.extend([a.keys.reserve, a.keys.liquidity_vault, usdc.keys.reserve]);
        let before = ctx.snapshot(&watched);
        let err = ctx.fails("seize the high-LT collateral", &[ix], &[&liq]);
        check(
            "high-LT pair",
            &err,
            Expect::Ballast(BallastError::LiquidationCannotImproveHealth),
        );
        ctx.assert_unchanged("high-LT pair", &before);

        let mut n = 0;
        while !ctx
            .engine_health(&ob, Requirement::Maintenance)
            .is_satisfied()
        {
            let h = ctx.engine_health(&ob, Requirement::Maintenance);
            assert!(n < 2, "bound: at most 2 liquidations for 3 positions");
            ctx.liquidate_ok(&liq, &ob, &usdc, &b, &l_usdc, &l_b, u64::MAX);
            let after = ctx.engine_health(&ob, Requirement::Maintenance);
            assert!(
                strictly_better(&h, &after),
                "{} -> {}",
                ratio(&h),
                ratio(&after)
            );
            n += 1;
        }
        assert!(n >= 1);
    }
}
