//! `update_volatility` on the real .so: derived requirements, every on-chain
//! bound with its own error and state unchanged, the stale fallback, and the
//! claim that a push tightens new borrowing without liquidating anyone.

use ballast::engine::fx::Fx;
use ballast::engine::health::Requirement;
use ballast::engine::risk::RiskParams;
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

#[test]
fn stale_volatility_falls_back_to_the_most_conservative_values() {
    let Setup {
        mut ctx,
        m,
        sol,
        usdc,
    } = setup();
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    let (supplier, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&supplier, &m.market, 0);
    ctx.deposit(&supplier, &usdc, &so, &s_ta, usdc.units(100_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    // $2,000 of SOL at LTV 82.8% supports $1,656: borrow $1,000.
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_000.0));

    // Two hours and a second later the push is stale: LTV 40%, LT 45%.
    ctx.warp_seconds(7_201);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    assert_eq!(params(&ctx, &sol).ltv_bps, 4_000);
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
    // A fresh push restores the derived values (steps are wide here).
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    assert_eq!(params(&ctx, &sol).ltv_bps, 8_280);
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1.0));
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
