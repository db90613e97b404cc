//! A first end-to-end pass: deposit, borrow, repay, withdraw on the real .so.

use ballast_tests::*;

#[test]
fn deposit_borrow_repay_withdraw_round_trip() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_2022_PROGRAM_ID, 6, 1.0, test_config([0; 32]));

    let (a, a_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let oa = ctx.open_obligation(&a, &m.market, 0);
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(10_000.0));

    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_000.0));
    assert_eq!(ctx.token_balance(&b_usdc).unwrap(), usdc.units(1_000.0));
    ctx.assert_vault_reconciles(&usdc);

    ctx.warp_seconds(3600);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    ctx.chain
        .mint_to(&usdc.keys.mint, &b_usdc, usdc.units(10.0))
        .unwrap();
    ctx.repay(&b, &usdc, &ob, &b_usdc, u64::MAX);
    assert!(
        ctx.token_balance(&b_usdc).unwrap() < usdc.units(10.0),
        "interest was paid"
    );
    assert!(!ctx.obligation(&ob).has_debt());
    ctx.withdraw(&b, &sol, &ob, &b_sol, u64::MAX);
    assert_eq!(ctx.token_balance(&b_sol).unwrap(), sol.units(100.0));
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, u64::MAX);
    assert!(
        ctx.token_balance(&a_usdc).unwrap() > usdc.units(10_000.0),
        "supplier earned interest"
    );
    ctx.assert_vault_reconciles(&usdc);
    ctx.assert_vault_reconciles(&sol);
}
