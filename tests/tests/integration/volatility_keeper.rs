//! The keeper's estimator and push policy against the real program: hourly
//! SOL candles through the FTX collapse (2022-11-01 to 2022-11-20), RiskMetrics
//! EWMA (lambda 0.94), `policy::decide` each hour and `update_volatility` on
//! the .so. The program must accept every push the keeper decides on, and the
//! requirements must tighten through the crash.

use std::path::Path;

use ballast_keeper::volatility::candles::{parse_time_bound, read_prices, ReadOptions};
use ballast_keeper::volatility::estimators::ewma;
use ballast_keeper::volatility::policy::{decide, Decision, PushPolicy};
use ballast_tests::*;

#[test]
fn keeper_pushes_follow_ftx_volatility_and_are_never_refused() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/SOLUSDT_1h.csv");
    let opts = ReadOptions {
        from: Some(parse_time_bound("2022-11-01").unwrap()),
        to: Some(parse_time_bound("2022-11-20").unwrap()),
        ..Default::default()
    };
    let series = read_prices(&file, &opts).unwrap();
    let rows = ewma(&series.candles, series.period_seconds, 0.94).unwrap();

    let mut ctx = TestContext::new();
    ctx.set_time(series.candles[0].ts);
    let m = ctx.setup_market();
    let mut cfg = dynamic_config([0; 32]);
    cfg.risk.max_lt_step_bps = 100;
    cfg.risk.max_ltv_step_bps = 200;
    cfg.risk.min_update_interval_secs = 1_800;
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, series.candles[0].close, cfg);
    let policy = PushPolicy::default();

    let (mut pushes, mut stepped) = (0, 0);
    let mut lt_by_day: Vec<(String, u16)> = vec![];
    let mut lowest_lt = u16::MAX;
    for (candle, row) in series.candles.iter().zip(&rows) {
        ctx.set_time(candle.ts + 3_600);
        ctx.set_price(&sol, candle.close, 0.0);
        let Some(sigma) = row.sigma_annual else {
            continue;
        };
        let now = ctx.clock().unix_timestamp;
        match decide(&ctx.reserve(&sol), sigma, now, &policy) {
            Decision::Push {
                sigma,
                reached_target,
                params,
            } => {
                let ix = ix::update_volatility(&m.admin.pubkey(), &m.market, &sol.address(), sigma);
                ctx.ok("update_volatility", &[ix], &[&m.admin]);
                assert_eq!(
                    ctx.reserve(&sol).risk_params(now),
                    params,
                    "the program set what the keeper expected"
                );
                pushes += 1;
                stepped += usize::from(!reached_target);
            }
            Decision::Skip(_) => {}
        }
        let lt = ctx.reserve(&sol).risk_params(now).liquidation_threshold_bps;
        lowest_lt = lowest_lt.min(lt);
        if (candle.ts % 86_400) == 0 {
            lt_by_day.push((
                ballast_keeper::volatility::candles::format_ts(candle.ts),
                lt,
            ));
        }
    }
    println!(
        "pushes {pushes}, stepped {stepped}, lowest LT {lowest_lt} bps; LT by day: {lt_by_day:?}"
    );
    assert!(pushes > 20, "the keeper kept the reserve fresh: {pushes}");
    assert!(stepped > 0, "the crash needed steps toward the target");
    let lt_at = |day: &str| {
        lt_by_day
            .iter()
            .find(|(d, _)| d.starts_with(day))
            .unwrap()
            .1
    };
    assert!(
        lt_at("2022-11-11") < lt_at("2022-11-06"),
        "LT tightened through the crash"
    );
    assert!(lowest_lt < 8_500);
}
