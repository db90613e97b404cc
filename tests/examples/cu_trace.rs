//! Profiling aid: prints the program log of a borrow whose health check reads
//! 2 reserves, 1 h after their last accrual. With a `cu-trace` build the log
//! shows the compute units left at each `cu_trace!` point:
//!
//! ```sh
//! BALLAST_SBF_FEATURES=cu-trace BALLAST_SO_OUT=target/deploy/ballast-cu-trace.so bash scripts/build-sbf.sh
//! BALLAST_SO=$PWD/target/deploy/ballast-cu-trace.so cargo run -p ballast-tests --example cu_trace
//! ```

use ballast_tests::*;

fn main() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(1e6));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(1e6));
    let (u, u_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let u_usdc = ctx.token_account_for(&usdc, &u.pubkey(), 0);
    let o = ctx.open_obligation(&u, &m.market, 0);
    ctx.deposit(&u, &sol, &o, &u_sol, sol.units(100.0));
    ctx.borrow(&u, &usdc, &o, &u_usdc, usdc.units(10.0));
    ctx.warp_seconds(3600);
    ctx.set_price(&usdc, 1.0, 0.001);
    ctx.set_price(&sol, 20.0, 0.02);
    let health = ctx.health_accounts(&o, &[]);
    let ix = ix::borrow(
        &u.pubkey(),
        &usdc.keys,
        &o,
        &u_usdc,
        usdc.units(10.0),
        health,
    );
    let meta = ctx.chain.send(&[ix], &[&u]).expect("borrow");
    for l in meta.logs {
        println!("{l}");
    }
}
