//! A first pass of liquidation and bad debt on the real .so.

use ballast::events::{BadDebtSocialized, Liquidated};
use ballast_tests::*;

#[test]
fn price_drop_liquidation_then_bad_debt() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_400.0));

    // SOL $20 -> $17: 100 * 17 * 0.8 = 1,360 < 1,400: liquidatable, health 0.971.
    ctx.set_price(&sol, 17.0, 0.0);
    let (liq, liq_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let liq_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    let health = ctx.health_accounts(&ob, &[]);
    let ix = ix::liquidate(
        &liq.pubkey(),
        &ob,
        &usdc.keys,
        &sol.keys,
        &liq_usdc,
        &liq_sol,
        u64::MAX,
        health,
    );
    let logs = ctx.ok_logs("liquidate", &[ix], &[&liq]);
    let e: Vec<Liquidated> = events(&logs);
    assert_eq!(e.len(), 1);
    // Close factor 20% of 1,400 USDC = 280 USDC, bonus 5%: 280 * 1.05 / 17 = 17.294... SOL.
    assert_eq!(e[0].repaid, usdc.units(280.0));
    assert_eq!(e[0].bonus_bps, 500);
    assert_eq!(
        ctx.token_balance(&liq_sol).unwrap(),
        e[0].seized - e[0].to_insurance
    );
    assert_eq!(e[0].seized, 17_294_117_647);
    ctx.assert_vault_reconciles(&sol);
    ctx.assert_vault_reconciles(&usdc);

    // SOL collapses to $5: insolvent, closed out fully; the rest is bad
    // debt, written off by the liquidation that takes the last collateral.
    ctx.set_price(&sol, 5.0, 0.0);
    let supply_before = ctx.reserve(&usdc).supply().unwrap();
    let mut written: Vec<BadDebtSocialized> = vec![];
    let mut repaid = 0;
    let mut rounds = 0;
    while ctx
        .obligation(&ob)
        .positions
        .iter()
        .any(|p| p.kind() == ballast::state::PositionKind::Collateral)
    {
        let health = ctx.health_accounts(&ob, &[]);
        let ix = ix::liquidate(
            &liq.pubkey(),
            &ob,
            &usdc.keys,
            &sol.keys,
            &liq_usdc,
            &liq_sol,
            u64::MAX,
            health,
        );
        let logs = ctx.ok_logs("liquidate", &[ix], &[&liq]);
        written.extend(events::<BadDebtSocialized>(&logs));
        repaid += events::<Liquidated>(&logs)[0].repaid;
        rounds += 1;
        assert!(rounds < 10);
    }
    assert_eq!(written.len(), 1, "written off with the last collateral");
    let e = &written[0];
    assert_eq!(
        e.covered_by_insurance, 0,
        "the USDC insurance vault is empty"
    );
    assert_eq!(e.written_off, e.debt);
    assert!(!ctx.obligation(&ob).has_debt());
    // Nothing is left for `socialize_bad_debt`.
    let err = ctx.fails(
        "socialize_bad_debt after the write-off",
        &[ix::socialize_bad_debt(&ob, &usdc.keys)],
        &[],
    );
    check(
        "nothing left",
        &err,
        Expect::Ballast(ballast::errors::BallastError::NothingToRepay),
    );
    // Depositors absorb the written-off debt (the repay came in as cash).
    let loss = supply_before - ctx.reserve(&usdc).supply().unwrap();
    assert!(
        (loss.to_num::<f64>() - e.debt as f64).abs() <= 1.0,
        "depositors absorb the written-off debt: {loss} vs {} (repaid {repaid})",
        e.debt
    );
    ctx.assert_vault_reconciles(&usdc);
}
