//! Wall-clock time of `ballast-keeper replay`: 30 days of hourly SOL/USDT
//! candles (2022-11-01 to 2022-12-01, FTX included), 1,000 borrowers, both
//! policies (each on its own embedded chain, one after the other, as the
//! command runs them), repeated `BALLAST_BENCH_RUNS` times (default 3).
//! Writes the medians to `target/bench/replay.json`:
//!
//! ```text
//! {"candles": 721, "steps_per_policy": 2884, "borrowers": 1000, "runs": 3,
//!  "median_seconds_both": .., "median_seconds": {"dynamic": .., "static": ..},
//!  "seconds_both": [..], "target_seconds": 60.0}
//! ```
//!
//! Run: `cargo bench -p ballast-keeper --bench replay` (needs
//! target/deploy/ballast.so).

use std::path::Path;
use std::time::Instant;

use ballast_keeper::keeper_loop::KeeperConfig;
use ballast_keeper::market::{MarketDef, PolicyName, REPLAY_SOL_USDC};
use ballast_keeper::replay::{
    draw_population, load_window, run_policy, LiquidatorSettings, OracleModel, ReplayOptions,
};
use ballast_keeper::volatility::candles::parse_time_bound;

const BORROWERS: usize = 1_000;
const TARGET_SECONDS: f64 = 60.0;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("BALLAST_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let prices = root.join("../shared/data/SOLUSDT_1h.csv");
    let window = load_window(
        &prices,
        parse_time_bound("2022-11-01")?,
        parse_time_bound("2022-12-01")?,
        168 * 3_600,
        None,
    )?;
    let def = MarketDef::parse(REPLAY_SOL_USDC)?;
    let population = draw_population(42, BORROWERS);
    let policies = [PolicyName::Dynamic, PolicyName::Static];
    let mut both = vec![];
    let mut per: Vec<Vec<f64>> = vec![vec![]; policies.len()];
    for run in 0..runs {
        let start = Instant::now();
        for (i, policy) in policies.iter().enumerate() {
            let opts = ReplayOptions {
                policy: *policy,
                liquidators: LiquidatorSettings::default(),
                oracle: OracleModel::default(),
                keeper: KeeperConfig::default(),
                so_path: ballast_keeper::chain::embedded::EmbeddedChain::default_so_path(),
                outage: None,
                arrivals: false,
                term_share: 0.0,
            };
            let r = run_policy(&def, &window, &population, opts, |_, _| Ok(()))?;
            per[i].push(r.summary.wall_seconds);
        }
        let secs = start.elapsed().as_secs_f64();
        println!("run {}/{runs}: both policies in {secs:.2} s", run + 1);
        both.push(secs);
    }
    let median_both = median(both.clone());
    let report = serde_json::json!({
        "prices": "shared/data/SOLUSDT_1h.csv",
        "from": "2022-11-01 00:00:00",
        "to": "2022-12-01 00:00:00",
        "candles": window.candles.len(),
        "steps_per_policy": window.candles.len() * 4,
        "borrowers": BORROWERS,
        "runs": runs,
        "seconds_both": both,
        "median_seconds_both": median_both,
        "median_seconds": {
            "dynamic": median(per[0].clone()),
            "static": median(per[1].clone()),
        },
        "target_seconds": TARGET_SECONDS,
    });
    let out = root.join("target/bench/replay.json");
    std::fs::create_dir_all(out.parent().expect("target/bench"))?;
    std::fs::write(&out, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    println!(
        "median {median_both:.2} s for both policies (target <= {TARGET_SECONDS} s): {}",
        if median_both <= TARGET_SECONDS {
            "ok"
        } else {
            "OVER TARGET"
        }
    );
    Ok(())
}
