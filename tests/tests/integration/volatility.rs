//! `update_volatility` on the real .so: derived requirements, every on-chain
//! bound with its own error and state unchanged, the stale fallback, and the
//! claim that a push tightens new borrowing without liquidating anyone.

use ballast::engine::fx::Fx;
use ballast::engine::health::Requirement;
use ballast::engine::risk::{RiskConfig, RiskParams};
use ballast::errors::BallastError;
use ballast::events::VolatilityUpdated;
use ballast_tests::*;

struct Setup {
    ctx: TestContext,
    m: TestMarket,
    sol: TestReserve,
    usdc: TestReserve,
}

fn setup() -> Setup {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, dynamic_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_2022_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    Setup { ctx, m, sol, usdc }
}

fn params(ctx: &TestContext, r: &TestReserve) -> RiskParams {
    ctx.reserve(r).risk_params(ctx.clock().unix_timestamp)
}

#[test]
fn push_derives_ltv_lt_and_borrow_factor_and_emits_the_change() {
    let Setup {
        mut ctx, m, sol, ..
    } = setup();
    // Before any push the most conservative values apply.
    let conservative = RiskParams {
        ltv_bps: 4_000,
        liquidation_threshold_bps: 4_500,
        borrow_factor_bps: 15_000,
    };
    assert_eq!(params(&ctx, &sol), conservative);

    let ix = ix::update_volatility(
        &m.admin.pubkey(),
        &m.market,
        &sol.address(),
        Fx::from_num(1.0),
    );
    let logs = ctx.ok_logs("update_volatility", &[ix], &[&m.admin]);
    // sigma 100%, 1-day horizon: sqrt(1/365) = 0.052342; haircuts 17.20%, 10.64%, 5.24%.
    let want = RiskParams {
        ltv_bps: 8_280,
        liquidation_threshold_bps: 8_936,
        borrow_factor_bps: 10_524,
    };
    assert_eq!(params(&ctx, &sol), want);
    let r = ctx.reserve(&sol);
    assert_eq!(r.risk.sigma.get(), Fx::from_num(1.0));
    assert_eq!(r.risk.last_push_ts, ctx.clock().unix_timestamp);
    let e: Vec<VolatilityUpdated> = events(&logs);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].old, e[0].new), (conservative, want));
    assert_eq!(e[0].new_sigma.get(), Fx::from_num(1.0));
}

#[test]
fn only_the_risk_authority_may_push() {
    let Setup {
        mut ctx, m, sol, ..
    } = setup();
    let before = ctx.svm.get_account(&sol.address()).unwrap().data;
    let stranger = ctx.funded_user(1);
    let ix = ix::update_volatility(
        &stranger.pubkey(),
        &m.market,
        &sol.address(),
        Fx::from_num(1.0),
    );
    let err = ctx.fails("stranger", &[ix], &[&stranger]);
    assert_ballast_err(&err, BallastError::NotRiskAuthority);
    let mut ix = ix::update_volatility(
        &m.admin.pubkey(),
        &m.market,
        &sol.address(),
        Fx::from_num(1.0),
    );
    ix.accounts[0].is_signer = false;
    let err = ctx.fails("unsigned", &[ix], &[]);
    assert_code(&err, ANCHOR_ACCOUNT_NOT_SIGNER);
    // The risk authority of another market cannot push into this one.
    let other = ctx.setup_market();
    let ix = ix::update_volatility(
        &other.admin.pubkey(),
        &other.market,
        &sol.address(),
        Fx::from_num(1.0),
    );
    let err = ctx.fails("other market", &[ix], &[&other.admin]);
    assert_ballast_err(&err, BallastError::WrongMarket);
    assert_eq!(ctx.svm.get_account(&sol.address()).unwrap().data, before);
}

#[test]
fn each_bound_has_its_own_error_and_leaves_state_unchanged() {
    let Setup {
        mut ctx,
        m,
        sol,
        usdc,
    } = setup();
    // A static reserve takes no pushes.
    let err = ctx.push_sigma(&m, &usdc, 1.0).unwrap_err();
    assert_ballast_err(&err, BallastError::VolatilityNotEnabled);

    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    // Narrow the steps: LT moves <= 1.5%, LTV loosens <= 2% per push.
    let mut cfg = ctx.reserve(&sol).config;
    cfg.risk.max_lt_step_bps = 150;
    cfg.risk.max_ltv_step_bps = 200;
    ctx.ok(
        "update_reserve_config",
        &[ix::update_reserve_config(&m.admin.pubkey(), &sol.keys, cfg)],
        &[&m.admin],
    );
    ctx.warp_seconds(600);
    ctx.set_price(&sol, 20.0, 0.0);
    let snapshot = ctx.svm.get_account(&sol.address()).unwrap().data;

    let cases: [(f64, BallastError); 4] = [
        (0.05, BallastError::SigmaOutOfBounds),
        (5.5, BallastError::SigmaOutOfBounds),
        // sigma 1.0 -> 1.5: LT haircut +4.32% > 1.5% step.
        (1.5, BallastError::LiquidationThresholdStepTooLarge),
        // sigma 1.0 -> 0.835: LT +1.42% (fine), LTV loosens 2.01% > 2% step.
        (0.835, BallastError::LtvStepTooLarge),
    ];
    for (sigma, expected) in cases {
        let err = ctx.push_sigma(&m, &sol, sigma).unwrap_err();
        assert_ballast_err(&err, expected);
        assert_eq!(
            ctx.svm.get_account(&sol.address()).unwrap().data,
            snapshot,
            "sigma {sigma}"
        );
    }
    // Within every step it goes through...
    ctx.push_sigma(&m, &sol, 0.85).unwrap();
    // ...and the next push must wait for the minimum interval.
    ctx.warp_seconds(599);
    let snapshot = ctx.svm.get_account(&sol.address()).unwrap().data;
    let err = ctx.push_sigma(&m, &sol, 0.85).unwrap_err();
    assert_ballast_err(&err, BallastError::VolatilityUpdateTooSoon);
    assert_eq!(ctx.svm.get_account(&sol.address()).unwrap().data, snapshot);
    ctx.warp_seconds(1);
    ctx.push_sigma(&m, &sol, 0.85).unwrap();
}

#[test]
fn tightening_ltv_is_immediate_but_loosening_is_stepped() {
    let Setup {
        mut ctx, m, sol, ..
    } = setup();
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    let mut cfg = ctx.reserve(&sol).config;
    cfg.risk.max_lt_step_bps = 2_000;
    cfg.risk.max_ltv_step_bps = 100;
    ctx.ok(
        "update_reserve_config",
        &[ix::update_reserve_config(&m.admin.pubkey(), &sol.keys, cfg)],
        &[&m.admin],
    );
    ctx.warp_seconds(600);
    // sigma x2: LTV 82.80% -> 70.60% in one push (tightening).
    ctx.push_sigma(&m, &sol, 2.0).unwrap();
    assert_eq!(params(&ctx, &sol).ltv_bps, 7_060);
    // Back to 1.0: the LTV may only come back 1% per push.
    ctx.warp_seconds(600);
    let err = ctx.push_sigma(&m, &sol, 1.0).unwrap_err();
    assert_ballast_err(&err, BallastError::LtvStepTooLarge);
    // 1.95: LTV haircut 5% + 2.33 * 1.95 * 5.234% = 28.79% -> LTV 71.21%, +0.61%.
    ctx.push_sigma(&m, &sol, 1.95).unwrap();
    assert_eq!(params(&ctx, &sol).ltv_bps, 7_121);
}

/// A liquidation attempt of `ob`'s USDC debt against its SOL by a fresh
/// liquidator; returns the transaction's result.
fn try_liquidate(
    ctx: &mut TestContext,
    ob: &Address,
    usdc: &TestReserve,
    sol: &TestReserve,
) -> Result<u64, solana_transaction_error::TransactionError> {
    let (liq, l_usdc) = ctx.user_with_tokens(usdc, usdc.units(10_000.0));
    let l_sol = ctx.token_account_for(sol, &liq.pubkey(), 0);
    let ix = ctx.liquidate_ix(&liq, ob, usdc, sol, &l_usdc, &l_sol, usdc.units(10_000.0));
    ctx.chain
        .send(&[ix], &[&liq])
        .map(|m| m.compute_units_consumed)
        .map_err(|e| e.err)
}

/// Issue 12: staleness was a cliff (LT 89.36% -> 45% in one slot, prices
/// unchanged, a health-1.6 obligation liquidatable). It decays: past max age
/// the LTV snaps to conservative (new borrows stop) but LT and the borrow
/// factor move one step (`max_lt_step_bps`) per `min_update_interval` of
/// silence, none in the first interval.
#[test]
fn stale_volatility_decays_instead_of_the_cliff() {
    let Setup {
        mut ctx,
        m,
        sol,
        usdc,
    } = setup();
    // Steps of 1% (the fixture's), so the decay is visible.
    ctx.update_config(&m, &sol, |c| {
        c.risk.max_lt_step_bps = 100;
        c.risk.max_ltv_step_bps = 200;
    });
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    let pushed = params(&ctx, &sol);
    assert_eq!(pushed.liquidation_threshold_bps, 8_936);
    let (supplier, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&supplier, &m.market, 0);
    ctx.deposit(&supplier, &usdc, &so, &s_ta, usdc.units(100_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    // $2,000 of SOL at LTV 82.8% supports $1,656: borrow $1,100. Health
    // under LT 89.36%: 1,787 / 1,100 = 1.62; under the conservative 45%:
    // 900 / 1,100 = 0.82.
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_100.0));

    // Two hours and a second later the push is stale.
    ctx.warp_seconds(7_201);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let stale = params(&ctx, &sol);
    assert_eq!(stale.ltv_bps, 4_000, "LTV snaps to conservative");
    assert_eq!(stale.liquidation_threshold_bps, 8_936, "LT does not");
    // New borrowing stops...
    let health = ctx.health_accounts(&ob, &[]);
    let ix = ix::borrow(
        &b.pubkey(),
        &usdc.keys,
        &ob,
        &b_usdc,
        usdc.units(1.0),
        health,
    );
    let err = ctx.fails("borrow on stale volatility", &[ix], &[&b]);
    assert_ballast_err(&err, BallastError::InitialRequirementNotMet);
    // ...but the healthy obligation is not liquidatable (the cliff made it so).
    let err = try_liquidate(&mut ctx, &ob, &usdc, &sol).unwrap_err();
    assert_ballast_err(&err, BallastError::ObligationHealthy);

    // One interval (600 s) later: one step of LT and borrow factor.
    ctx.warp_seconds(599);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let p = params(&ctx, &sol);
    assert_eq!(p.liquidation_threshold_bps, 8_836);
    assert_eq!(p.borrow_factor_bps, pushed.borrow_factor_bps + 100);
    // Ten intervals of silence in all: ten steps, still healthy.
    ctx.warp_seconds(9 * 600);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    assert_eq!(params(&ctx, &sol).liquidation_threshold_bps, 7_936);
    assert_ballast_err(
        &try_liquidate(&mut ctx, &ob, &usdc, &sol).unwrap_err(),
        BallastError::ObligationHealthy,
    );
    // A returning keeper restores what it last pushed in one push.
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    assert_eq!(params(&ctx, &sol), pushed);
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1.0));
}

/// Issue 12: `min_update_interval_secs = 0` was accepted, which let a risk
/// authority chain pushes in one transaction (every step bound void). The
/// floor is 60 s (`engine::bounds::MIN_UPDATE_INTERVAL_FLOOR_SECS`).
#[test]
fn min_update_interval_below_the_floor_is_refused() {
    let Setup {
        mut ctx, m, sol, ..
    } = setup();
    for bad in [0, 59] {
        let mut config = ctx.reserve(&sol).config;
        config.risk.min_update_interval_secs = bad;
        let ix = ix::update_reserve_config(&m.admin.pubkey(), &sol.keys, config);
        let err = ctx.fails("interval below the floor", &[ix], &[&m.admin]);
        assert_ballast_err(&err, BallastError::InvalidRiskConfig);
    }
    assert_eq!(
        ctx.reserve(&sol).config.risk.min_update_interval_secs,
        600,
        "unchanged"
    );
    ctx.update_config(&m, &sol, |c| {
        c.risk.min_update_interval_secs = ballast::engine::bounds::MIN_UPDATE_INTERVAL_FLOOR_SECS
    });
}

/// Issue 12: switching a static reserve to the dynamic policy applied the
/// conservative values at once (LT 80% -> 45%): a healthy book became
/// liquidatable by a configuration change. The static values stay in force
/// (recorded as a push at the switch), then move in bounded steps.
#[test]
fn static_to_dynamic_switch_keeps_the_static_values_then_steps() {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_2022_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (supplier, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&supplier, &m.market, 0);
    ctx.deposit(&supplier, &usdc, &so, &s_ta, usdc.units(100_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    // $2,000 at LTV 75%: borrow $1,200; health under LT 80% = 1.33.
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_200.0));
    let statics = params(&ctx, &sol);
    ctx.update_config(&m, &sol, |c| {
        c.risk = RiskConfig {
            max_lt_step_bps: 100,
            max_ltv_step_bps: 200,
            ..ballast::fixtures::sol_risk()
        };
    });
    assert_eq!(
        params(&ctx, &sol),
        statics,
        "the static values stay in force"
    );
    assert_ballast_err(
        &try_liquidate(&mut ctx, &ob, &usdc, &sol).unwrap_err(),
        BallastError::ObligationHealthy,
    );
    // The switch counts as a push: the next one waits an interval and steps
    // from the static values.
    assert_ballast_err(
        &ctx.push_sigma(&m, &sol, 5.0).unwrap_err(),
        BallastError::VolatilityUpdateTooSoon,
    );
    ctx.warp_seconds(600);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    assert_ballast_err(
        &ctx.push_sigma(&m, &sol, 5.0).unwrap_err(),
        BallastError::LiquidationThresholdStepTooLarge,
    );
    assert_ballast_err(
        &try_liquidate(&mut ctx, &ob, &usdc, &sol).unwrap_err(),
        BallastError::ObligationHealthy,
    );
}

#[test]
fn rising_sigma_blocks_new_borrows_but_one_push_liquidates_no_one() {
    let Setup {
        mut ctx,
        m,
        sol,
        usdc,
    } = setup();
    ctx.push_sigma(&m, &sol, 0.8).unwrap();
    let mut cfg = ctx.reserve(&sol).config;
    cfg.risk.max_lt_step_bps = 150;
    cfg.risk.max_ltv_step_bps = 200;
    ctx.ok(
        "update_reserve_config",
        &[ix::update_reserve_config(&m.admin.pubkey(), &sol.keys, cfg)],
        &[&m.admin],
    );
    let (supplier, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(1_000_000.0));
    let so = ctx.open_obligation(&supplier, &m.market, 0);
    ctx.deposit(&supplier, &usdc, &so, &s_ta, usdc.units(1_000_000.0));

    // Borrowers as close to their LTV as the program lets them.
    let ltv = params(&ctx, &sol).ltv_bps as f64 / 1e4;
    let mut obligations = vec![];
    for i in 0..5 {
        let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
        let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
        let ob = ctx.open_obligation(&b, &m.market, 0);
        ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
        let amount = 2_000.0 * ltv * (0.999 - 0.001 * i as f64);
        ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(amount));
        obligations.push((b, ob, b_usdc));
    }
    // A new borrower's request that passes now...
    let (n, n_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let n_usdc = ctx.token_account_for(&usdc, &n.pubkey(), 0);
    let on = ctx.open_obligation(&n, &m.market, 0);
    ctx.deposit(&n, &sol, &on, &n_sol, sol.units(100.0));
    let request = usdc.units(2_000.0 * ltv * 0.99);
    let health = ctx.health_accounts(&on, &[&usdc]);
    let sim = ix::borrow(
        &n.pubkey(),
        &usdc.keys,
        &on,
        &n_usdc,
        request,
        health.clone(),
    );
    assert!(
        ctx.svm
            .simulate_transaction(solana_tx(&ctx, &[sim], &n))
            .is_ok(),
        "passes before the push"
    );

    // Volatility jumps from 80% to 120%; the push that the bounds allow:
    ctx.warp_seconds(600);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let before = params(&ctx, &sol);
    assert_ballast_err(
        &ctx.push_sigma(&m, &sol, 1.2).unwrap_err(),
        BallastError::LiquidationThresholdStepTooLarge,
    );
    ctx.push_sigma(&m, &sol, 1.05).unwrap();
    let after = params(&ctx, &sol);
    assert!(
        after.ltv_bps < before.ltv_bps
            && after.liquidation_threshold_bps < before.liquidation_threshold_bps
    );

    // ...now fails,
    let ix = ix::borrow(&n.pubkey(), &usdc.keys, &on, &n_usdc, request, health);
    let err = ctx.fails("same borrow after the push", &[ix], &[&n]);
    assert_ballast_err(&err, BallastError::InitialRequirementNotMet);
    // while every existing obligation stays above its maintenance requirement.
    for (_, ob, _) in &obligations {
        let h = ctx.engine_health(ob, Requirement::Maintenance);
        assert!(h.is_satisfied(), "{h:?}");
        assert!(
            !ctx.engine_health(ob, Requirement::Initial).is_satisfied(),
            "they are past their new LTV"
        );
    }
}

fn solana_tx(
    ctx: &TestContext,
    ixs: &[solana_instruction::Instruction],
    signer: &Keypair,
) -> solana_transaction::Transaction {
    let payer = &ctx.chain.payer;
    let msg = solana_message::Message::new(ixs, Some(&payer.pubkey()));
    solana_transaction::Transaction::new(&[payer, signer], msg, ctx.svm.latest_blockhash())
}

#[test]
fn pushes_continue_while_the_market_is_paused() {
    let Setup {
        mut ctx, m, sol, ..
    } = setup();
    let params = ballast::instructions::UpdateMarketParams {
        paused: Some(true),
        ..Default::default()
    };
    ctx.ok(
        "pause",
        &[ix::update_market(&m.admin.pubkey(), &m.market, params)],
        &[&m.admin],
    );
    // Risk updates are a safety mechanism: a pause must not freeze them.
    ctx.push_sigma(&m, &sol, 2.0).unwrap();
    assert_eq!(params_of(&ctx, &sol).ltv_bps, 7_060);
    // Zero volatility is below the admin's floor, not a free pass.
    ctx.warp_seconds(600);
    assert_ballast_err(
        &ctx.push_sigma(&m, &sol, 0.0).unwrap_err(),
        BallastError::SigmaOutOfBounds,
    );
}

fn params_of(ctx: &TestContext, r: &TestReserve) -> RiskParams {
    params(ctx, r)
}
