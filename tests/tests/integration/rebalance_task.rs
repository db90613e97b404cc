//! The keeper's rebalance task (`ballast_keeper::tasks::rebalance`) on the
//! real program: it sends `rebalance` exactly when the program would accept
//! it, with the move the program then makes, and stays idle (nothing sent)
//! inside the band or at the cap; and the keeper loop runs it.

use ballast::engine::treasury::{bps_of_ceil, Move};
use ballast_keeper::chain::Chain;
use ballast_keeper::keeper_loop::{Keeper, KeeperConfig};
use ballast_keeper::tasks::rebalance::{self, Outcome};
use ballast_tests::*;

const DAY: i64 = 86_400;

fn context() -> TestContext {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000 - 1_700_000_000 % DAY);
    ctx
}

/// The reserve account's bytes.
fn raw(ctx: &TestContext, r: &TestReserve) -> Vec<u8> {
    Chain::account_data(&ctx.chain, &r.keys.reserve)
        .unwrap()
        .expect("reserve")
}

#[test]
fn the_task_deploys_recalls_and_idles_as_the_program_decides() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(6_000.0));
    let (_d2, _o2, _ta2) = ctx.depositor(&t.a.market, &t.a_usdc, u(4_000.0));
    let now = ctx.chain.clock().unix_timestamp;

    // 100% liquid, band 10/20/30%, cap 50%: the plan is the cap, 5,000.
    let planned = rebalance::plan(ctx.reserve(&t.a_usdc), ctx.reserve(&t.b_usdc), now).unwrap();
    assert_eq!(planned, Move::Deploy(u(5_000.0)));
    let out = rebalance::run(&mut ctx.chain, &t.a.market).unwrap();
    assert_eq!(out.len(), 1, "one reserve with a strategy: {out:?}");
    assert_eq!(out[0].0, t.a_usdc.keys.reserve);
    match &out[0].1 {
        Outcome::Sent {
            step,
            compute_units,
        } => {
            assert_eq!(*step, planned);
            assert!(*compute_units > 0);
        }
        other => panic!("{other:?}"),
    }
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(a.available_amount, u(5_000.0));
    assert_eq!(a.treasury.deployed_amount, u(5_000.0));

    // Still above the band, but at the cap: the task says why and sends
    // nothing (the reserve is untouched, not even accrued).
    ctx.warp_seconds(60);
    let before = raw(&ctx, &t.a_usdc);
    let out = rebalance::run(&mut ctx.chain, &t.a.market).unwrap();
    match &out[0].1 {
        Outcome::Idle(reason) => assert!(reason.contains("rehypothecation"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(raw(&ctx, &t.a_usdc), before, "nothing sent");

    // The admin raises the band to 60/70/80%: 50% liquid is below the
    // minimum; the task recalls up to the 70% target. (A withdrawal can no
    // longer leave the reserve below its band: it recalls itself.)
    ctx.update_config(&t.a, &t.a_usdc, |c| {
        c.liquidity.buffer_min_bps = 6_000;
        c.liquidity.buffer_target_bps = 7_000;
        c.liquidity.buffer_max_bps = 8_000;
    });
    let now = ctx.chain.clock().unix_timestamp;
    let a = ctx.reserve(&t.a_usdc);
    let deposits = a.supply().unwrap().to_num::<u64>();
    let want = bps_of_ceil(deposits, 7_000) - a.available_amount;
    let planned = rebalance::plan(a, ctx.reserve(&t.b_usdc), now).unwrap();
    assert_eq!(planned, Move::Recall(want));
    let out = rebalance::run(&mut ctx.chain, &t.a.market).unwrap();
    assert!(
        matches!(out[0].1, Outcome::Sent { step, .. } if step == planned),
        "{out:?}"
    );
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(a.available_amount, u(5_000.0) + want);

    // Back at the target: inside the band, idle.
    let before = raw(&ctx, &t.a_usdc);
    let out = rebalance::run(&mut ctx.chain, &t.a.market).unwrap();
    match &out[0].1 {
        Outcome::Idle(reason) => assert!(reason.contains("band"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(raw(&ctx, &t.a_usdc), before, "nothing sent");
}

#[test]
fn a_market_without_strategies_gives_the_task_nothing_to_do() {
    let mut ctx = context();
    let m = ctx.setup_market();
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, buffered_config([0; 32]));
    let (_, _, _) = ctx.depositor(&m.market, &usdc, usdc.units(1_000.0));
    let out = rebalance::run(&mut ctx.chain, &m.market).unwrap();
    assert!(out.is_empty(), "{out:?}");
}

#[test]
fn the_keeper_loop_rebalances_and_marks_the_treasury_when_it_accrues() {
    let mut ctx = context();
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let u = |x: f64| t.a_usdc.units(x);
    ctx.depositor(&t.a.market, &t.a_usdc, u(10_000.0));
    let mut keeper = Keeper::new(
        t.a.market,
        t.a.admin.insecure_clone(),
        None,
        KeeperConfig::default(),
    );
    let report = keeper.tick(&mut ctx.chain, 0).unwrap();
    assert!(
        matches!(
            report.rebalance.as_slice(),
            [(r, Outcome::Sent { step: Move::Deploy(x), .. })] if *r == t.a_usdc.keys.reserve && *x == u(5_000.0)
        ),
        "{:?}",
        report.rebalance
    );
    assert!(report.failures().is_empty(), "{:?}", report.failures());

    // B lends A's deployment out and earns interest; a day later the
    // keeper's interest task accrues A with the strategy reserve, which
    // marks the deployed shares up to B's rate.
    let (borrower, bo, ta) = {
        let (b, ta_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(10_000.0));
        let o = ctx.open_obligation(&b, &t.b.market, 0);
        ctx.deposit(&b, &t.b_sol, &o, &ta_sol, t.b_sol.units(10_000.0));
        let ta = ctx.token_account_for(&t.b_usdc, &b.pubkey(), 0);
        (b, o, ta)
    };
    ctx.borrow(&borrower, &t.b_usdc, &bo, &ta, u(10_000.0));
    ctx.warp_seconds(DAY);
    ctx.set_price(&t.b_usdc, 1.0, 0.0);
    ctx.set_price(&t.b_sol, 20.0, 0.0);
    let booked = ctx.reserve(&t.a_usdc).treasury.deployed_amount;
    let report = keeper.tick(&mut ctx.chain, 0).unwrap();
    assert!(report.accrued.contains(&t.a_usdc.keys.reserve));
    let marked = ctx.reserve(&t.a_usdc).treasury.deployed_amount;
    assert!(marked > booked, "marked {marked} <= booked {booked}");
}
