//! `ballast-keeper status` on the embedded chain running the .so: the
//! values in force, the push's age, the health distribution.

use ballast_keeper::status::status;
use ballast_tests::*;

#[test]
fn status_shows_the_values_in_force_and_the_health_distribution() {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, dynamic_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    ctx.push_sigma(&m, &sol, 0.5).expect("push");
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));
    for debt in [1_000.0, 1_380.0, 1_100.0, 1_440.0, 1_420.0] {
        let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
        let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
        let o = ctx.open_obligation(&b, &m.market, 0);
        ctx.deposit(&b, &sol, &o, &b_sol, sol.units(100.0));
        ctx.borrow(&b, &usdc, &o, &b_usdc, usdc.units(debt));
    }
    ctx.warp_seconds(120);
    ctx.set_price(&sol, 15.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);

    let st = status(&ctx.chain, &m.market).expect("status");
    assert_eq!(st.obligations, 6);
    assert_eq!(st.with_debt, 5);
    let under_one = st.health.iter().find(|b| b.range == "< 1.00").unwrap();
    assert_eq!(under_one.obligations, 3, "{:?}", st.health);
    assert_eq!(st.health.iter().map(|b| b.obligations).sum::<usize>(), 5);
    assert!(st.lowest_health.unwrap() < 1.0);
    let now = ctx.clock().unix_timestamp;
    let r = st
        .reserves
        .iter()
        .find(|r| r.reserve == sol.keys.reserve.to_string())
        .unwrap();
    let params = ctx.reserve(&sol).risk_params(now);
    assert_eq!(r.policy, "dynamic");
    assert_eq!(
        (r.ltv_bps, r.liquidation_threshold_bps),
        (params.ltv_bps, params.liquidation_threshold_bps)
    );
    assert!((r.sigma.unwrap() - 0.5).abs() < 1e-9);
    assert_eq!(r.push_age_secs, Some(120));
    assert!(!r.stale);
    let u = st
        .reserves
        .iter()
        .find(|r| r.reserve == usdc.keys.reserve.to_string())
        .unwrap();
    // 6,340 borrowed of 100,000 (plus two minutes of interest).
    assert_eq!(u.utilization_bps, 634);
    assert_eq!(u.liquid, ctx.reserve(&usdc).available_amount);
    let json = serde_json::to_value(&st).unwrap();
    assert_eq!(json["with_debt"], 5);

    // Past the max age the conservative values are in force, and shown.
    ctx.warp_seconds(7_200);
    ctx.set_price(&sol, 15.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let st = status(&ctx.chain, &m.market).expect("status");
    let r = st
        .reserves
        .iter()
        .find(|r| r.reserve == sol.keys.reserve.to_string())
        .unwrap();
    assert!(r.stale);
    assert_eq!(r.ltv_bps, 4_000);
}
