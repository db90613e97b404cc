//! Issue 13 ("no free griefing"): the defects found by reviewing the program
//! as an attacker, each on the real .so. The limiter's round trip is in
//! `liquidity.rs`, the treasury's in `treasury.rs`.

use ballast::engine::fx::{FxExt, FX_ZERO};
use ballast_tests::*;

/// With every share burned and value left in the reserve (interest's
/// fractional remainder after the last depositor exits), the next deposit
/// minted 1:1 and captured the residual. It now goes to the protocol's fees.
#[test]
fn a_residual_supply_goes_to_fees_not_to_the_next_depositor() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (a, a_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let oa = ctx.open_obligation(&a, &m.market, 0);
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_000.0));
    ctx.warp_seconds(7 * 86_400 + 1_234);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    ctx.chain
        .mint_to(&usdc.keys.mint, &b_usdc, usdc.units(50.0))
        .unwrap();
    ctx.repay(&b, &usdc, &ob, &b_usdc, u64::MAX);
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, u64::MAX);

    let r = ctx.reserve(&usdc);
    assert_eq!(r.deposit_shares, 0, "everyone left");
    let residual = r.supply().unwrap();
    assert!(residual > FX_ZERO, "the scenario leaves a residual");
    let fees_before = r.protocol_fees.get();

    // The next depositor gets exactly what they put in, not the residual.
    let (c, c_usdc) = ctx.user_with_tokens(&usdc, usdc.units(100.0));
    let oc = ctx.open_obligation(&c, &m.market, 0);
    ctx.deposit(&c, &usdc, &oc, &c_usdc, usdc.units(100.0));
    let r = ctx.reserve(&usdc);
    assert_eq!(r.deposit_shares, usdc.units(100.0));
    assert_eq!(
        r.supply().unwrap(),
        ballast::engine::fx::fx_u64(usdc.units(100.0))
    );
    assert_eq!(r.protocol_fees.get(), fees_before.add_(residual).unwrap());
    ctx.assert_vault_reconciles(&usdc);
}
