//! Wall time of the stress Monte Carlo (`ballast_keeper::stress`), on all
//! the cores rayon finds.
//!
//! The model and the book are those of `migrations/stress-multi.toml`
//! (SOL and BTC collateral, EWMA covariance and filtered historical
//! simulation from `../shared/data`, 10,000 obligations). Times:
//!
//! * the headline: 10,000 paths x 168 hourly steps (7 days) over 10,000
//!   obligations, static policy and dynamic policy separately (target: each
//!   at most 60 s on two cores);
//! * scaling in obligations (1,000, 3,000, 10,000) at 1,000 paths;
//! * scaling in paths (1,000, 3,000, 10,000) at 10,000 obligations (the
//!   last is the headline's static run);
//!
//! and writes `target/bench/stress.json` with the seconds, the time per
//! path-step and per obligation-step of each.
//!
//! Run: `cargo bench -p ballast-keeper --bench stress` (part of `make
//! bench`, not of `make test`).

use std::time::Instant;

use ballast_keeper::market::MarketDef;
use ballast_keeper::stress::book::Book;
use ballast_keeper::stress::prices::{load_history, PriceFile, PriceModel, ShockModel};
use ballast_keeper::stress::run_paths;
use ballast_keeper::stress::sim::{Policy, SimConfig};
use serde_json::json;

const STEPS: usize = 168;

fn timed(
    book: &Book,
    model: &PriceModel,
    paths: usize,
    policy: Policy,
    cap: f64,
) -> serde_json::Value {
    let cfg = SimConfig {
        paths,
        steps: STEPS,
        step_secs: 3_600,
        seed: 17,
        shocks: ShockModel::Fhs,
        corr_stress: 0.0,
        capacity_usd_per_step: cap,
        impact_k: 1.0,
        profit: None,
        record: false,
    };
    let t = Instant::now();
    let out = run_paths(book, model, &cfg, policy, None);
    let secs = t.elapsed().as_secs_f64();
    let liquidated: f64 = out.iter().map(|o| o.liquidated_debt).sum::<f64>() / paths as f64;
    let path_steps = (paths * STEPS) as f64;
    let v = json!({
        "policy": format!("{policy:?}").to_lowercase(),
        "paths": paths,
        "steps": STEPS,
        "obligations": book.len(),
        "seconds": secs,
        "us_per_path_step": secs * 1e6 / path_steps,
        "ns_per_obligation_step": secs * 1e9 / (path_steps * book.len() as f64),
        "mean_debt_liquidated_usd": liquidated,
    });
    println!("{v}");
    v
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::set_current_dir(&root).expect("workspace root");
    let def = MarketDef::load(std::path::Path::new("migrations/stress-multi.toml")).unwrap();
    let st = def.stress.clone().unwrap();
    let files: Vec<PriceFile> = st
        .assets
        .iter()
        .map(|a| PriceFile {
            symbol: a.symbol.clone(),
            path: a.prices.clone().into(),
            file_symbol: a.file_symbol.clone(),
        })
        .collect();
    let model = PriceModel::fit(&load_history(&files, st.estimation_period_secs).unwrap()).unwrap();
    let sigmas: Vec<f64> = (0..model.n()).map(|a| model.sigma_annual(a)).collect();
    let book = |n: usize| Book::synthetic(&def, &model.s0, &sigmas, Some(n)).unwrap();
    let cap = st.liquidator_capacity_usd_per_hour;
    let threads = rayon::current_num_threads();
    println!("stress bench on {threads} threads");

    let big = book(10_000);
    let headline_static = timed(&big, &model, 10_000, Policy::Static, cap);
    let headline_dynamic = timed(&big, &model, 10_000, Policy::Dynamic, cap);
    let by_obligations: Vec<_> = [1_000, 3_000, 10_000]
        .iter()
        .map(|&n| timed(&book(n), &model, 1_000, Policy::Static, cap))
        .collect();
    let mut by_paths: Vec<_> = [1_000, 3_000]
        .iter()
        .map(|&p| timed(&big, &model, p, Policy::Static, cap))
        .collect();
    by_paths.push(headline_static.clone());
    let secs = |v: &serde_json::Value| v["seconds"].as_f64().unwrap();
    let json = json!({
        "threads": threads,
        "target_seconds": 60.0,
        "headline": {
            "static": headline_static,
            "dynamic": headline_dynamic,
            "within_target": secs(&headline_static) <= 60.0 && secs(&headline_dynamic) <= 60.0,
        },
        "scaling_obligations_at_1000_paths": by_obligations,
        "scaling_paths_at_10000_obligations": by_paths,
    });
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let text = serde_json::to_string_pretty(&json).unwrap();
    std::fs::write(dir.join("stress.json"), format!("{text}\n")).expect("write stress.json");
    println!("\ntarget/bench/stress.json:\n{text}");
}
