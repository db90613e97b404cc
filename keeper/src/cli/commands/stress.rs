//! `ballast-keeper stress`: the Monte Carlo of [`crate::stress`] on the
//! synthetic book of a market definition's `[stress]` section.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::cli::args::{StressArgs, StressOutput, StressShocks};
use crate::market::MarketDef;
use crate::stress::book::Book;
use crate::stress::greeks::{greeks, GreeksReport};
use crate::stress::prices::{load_history, PriceFile, PriceModel, ShockModel};
use crate::stress::report::{table, usd, BookSummary, PolicyReport};
use crate::stress::scenarios::{worst_windows, Scenario};
use crate::stress::sim::{run_scripted, Policy, SimConfig};
use crate::stress::{chart, run_paths};

/// One historical scenario's outcome per policy.
#[derive(Serialize)]
struct ScenarioOutcome {
    scenario: Scenario,
    /// (policy, bad debt USD, debt liquidated USD).
    outcomes: Vec<(Policy, f64, f64)>,
}

#[derive(Serialize)]
struct StressJson {
    book: BookSummary,
    paths: usize,
    horizon_secs: i64,
    step_secs: i64,
    seed: u64,
    shocks: ShockModel,
    correlation_stress: f64,
    vol_scale: f64,
    depth_scale: f64,
    capacity_usd_per_hour: f64,
    impact_k: f64,
    lambda: f64,
    policies: Vec<PolicyReport>,
    greeks: Vec<GreeksReport>,
    scenarios: Vec<ScenarioOutcome>,
    seconds: f64,
}

/// Runs `stress`.
pub fn stress(cli: &crate::cli::args::Cli, args: &StressArgs) -> Result<()> {
    if args.paths == 0 {
        bail!("--paths must be at least 1");
    }
    if args.step > args.horizon {
        bail!("--step is longer than --horizon");
    }
    if !(args.depth_scale.is_finite() && args.depth_scale > 0.0) {
        bail!("--depth-scale must be positive");
    }
    let t0 = Instant::now();
    let mut def = MarketDef::load(&args.book)?;
    if let (Some(x), Some(st)) = (args.term_share, def.stress.as_mut()) {
        st.term_share = x;
        def.validate().context("--term-share")?;
    }
    let st = def
        .stress
        .clone()
        .with_context(|| format!("{} has no [stress] section", args.book.display()))?;
    let files: Vec<PriceFile> = st
        .assets
        .iter()
        .map(|a| PriceFile {
            symbol: a.symbol.clone(),
            path: PathBuf::from(&a.prices),
            file_symbol: a.file_symbol.clone(),
        })
        .collect();
    let history = load_history(&files, st.estimation_period_secs)?;
    if !(args.vol_scale.is_finite() && args.vol_scale > 0.0) {
        bail!("--vol-scale must be positive");
    }
    let mut model = PriceModel::fit(&history)?;
    for a in 0..model.n() {
        model.scale_vol(a, args.vol_scale);
    }
    let sigmas: Vec<f64> = (0..model.n()).map(|a| model.sigma_annual(a)).collect();
    let snap = match (&args.snapshot, &args.market) {
        (Some(_), Some(_)) => bail!("give --snapshot or --market, not both"),
        (Some(path), None) => Some(crate::snapshot::Snapshot::read(path)?),
        (None, Some(m)) if cli.url == "embedded" => bail!(
            "--market reads a market on a cluster (--url); the embedded chain is fresh at each run"
        ),
        (None, Some(m)) => Some(super::snapshot::capture_rpc(&cli.url, m)?),
        (None, None) => None,
    };
    let mut book = match &snap {
        None => Book::synthetic(&def, &model.s0, &sigmas, args.borrowers)?,
        Some(snap) => {
            Book::from_snapshot(snap, &def, &st, &model.symbols, &model.s0, &args.assets)?
        }
    };
    for a in &mut book.assets {
        a.depth_usd *= args.depth_scale;
    }
    let capacity = args.capacity.unwrap_or(st.liquidator_capacity_usd_per_hour);
    let cfg = SimConfig {
        paths: args.paths,
        steps: (args.horizon / args.step) as usize,
        step_secs: args.step,
        seed: args.seed,
        shocks: match args.shocks {
            StressShocks::Fhs => ShockModel::Fhs,
            StressShocks::Gaussian => ShockModel::Gaussian,
        },
        corr_stress: args.correlation_stress,
        capacity_usd_per_step: capacity * args.step as f64 / 3_600.0,
        impact_k: st.impact_k,
        profit: None,
        record: args.chart.is_some(),
    };
    let summary = BookSummary::of(&book, &model);
    let policies = [Policy::Static, Policy::Dynamic];
    let mut outs = Vec::new();
    let mut reports = Vec::new();
    for p in policies {
        let pb = indicatif::ProgressBar::new(cfg.paths as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{p:?} {{bar:40}} {{pos}}/{{len}} paths, {{elapsed}} (eta {{eta}})"
            ))
            .expect("valid template"),
        );
        let o = run_paths(&book, &model, &cfg, p, Some(&pb));
        pb.finish_and_clear();
        reports.push(PolicyReport::of(&book, &model, p, &o));
        outs.push(o);
    }
    let mut greeks_reports = Vec::new();
    if args.greeks_paths > 0 {
        let gcfg = SimConfig {
            paths: args.greeks_paths,
            record: false,
            ..cfg.clone()
        };
        for p in policies {
            greeks_reports.push(greeks(&book, &model, &gcfg, p));
        }
        // The gross exposure: the puts the lender is short with no
        // liquidation before the horizon (what liquidators hedge away).
        let gross = SimConfig {
            capacity_usd_per_step: 0.0,
            ..gcfg.clone()
        };
        greeks_reports.push(greeks(&book, &model, &gross, Policy::Static));
    }
    let scen_cfg = SimConfig {
        step_secs: history.period_secs,
        capacity_usd_per_step: capacity * history.period_secs as f64 / 3_600.0,
        record: false,
        ..cfg.clone()
    };
    let scenarios: Vec<ScenarioOutcome> = worst_windows(&history, args.scenario_days)
        .into_iter()
        .map(|s| {
            let outcomes = policies
                .iter()
                .map(|&p| {
                    let o = run_scripted(&book, &model, &scen_cfg, p, &s.returns);
                    (p, o.bad_debt, o.liquidated_debt)
                })
                .collect();
            ScenarioOutcome {
                scenario: s,
                outcomes,
            }
        })
        .collect();
    if let Some(dir) = &args.chart {
        let runs: Vec<chart::Run<'_>> = outs
            .iter()
            .zip(&reports)
            .map(|(o, r)| (o.as_slice(), r))
            .collect();
        chart::draw(dir, &model.symbols, args.step as f64 / 3_600.0, &runs)?;
    }
    let json = StressJson {
        book: summary,
        paths: cfg.paths,
        horizon_secs: args.horizon,
        step_secs: args.step,
        seed: args.seed,
        shocks: cfg.shocks,
        correlation_stress: cfg.corr_stress,
        vol_scale: args.vol_scale,
        depth_scale: args.depth_scale,
        capacity_usd_per_hour: capacity,
        impact_k: st.impact_k,
        lambda: crate::stress::prices::LAMBDA,
        policies: reports,
        greeks: greeks_reports,
        scenarios,
        seconds: t0.elapsed().as_secs_f64(),
    };
    let text = serde_json::to_string_pretty(&json)?;
    if let Some(path) = &args.json {
        std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
    }
    match args.output {
        StressOutput::Json => println!("{text}"),
        StressOutput::Table => print_table(&json),
    }
    Ok(())
}

fn print_table(j: &StressJson) {
    let b = &j.book;
    println!(
        "stress: {} obligations, debt {} ({} term loans, face {}), deposits {}; {} paths x {} steps of {} s, seed {}, {:?} shocks, correlation stress {}, vol x{}, depth x{}, capacity {}/h, impact k {}",
        b.obligations,
        usd(b.debt_usd),
        b.term_obligations,
        usd(b.term_face_usd),
        usd(b.deposits_usd),
        j.paths,
        j.horizon_secs / j.step_secs,
        j.step_secs,
        j.seed,
        j.shocks,
        j.correlation_stress,
        j.vol_scale,
        j.depth_scale,
        usd(j.capacity_usd_per_hour),
        j.impact_k
    );
    for ((s, c), (_, v)) in b.collateral_usd.iter().zip(&b.sigma_annual) {
        println!(
            "  {s}: collateral {}, EWMA sigma {:.1}% a year",
            usd(*c),
            v * 100.0
        );
    }
    let n = b.sigma_annual.len();
    for i in 0..n {
        for k in i + 1..n {
            println!(
                "  correlation {}/{}: {:.3}",
                b.sigma_annual[i].0,
                b.sigma_annual[k].0,
                b.correlation[i * n + k]
            );
        }
    }
    println!();
    print!("{}", table(&j.policies));
    for g in &j.greeks {
        let what = if g.liquidation {
            format!("{:?}", g.policy)
        } else {
            "no liquidation (the gross short put)".to_string()
        };
        println!(
            "\nGreeks of expected bad debt, {what} ({} paths): E = {} (se {})",
            g.paths,
            usd(g.expected_bad_debt.0),
            usd(g.expected_bad_debt.1)
        );
        for a in &g.assets {
            println!(
                "  {}: delta {:.4} (se {:.4}) USD/USD, per 1% move {}; gamma {:.3e} (se {:.1e}); vega {} per vol point (se {}); theta {} per day (se {}); hedge {:.2} units = {} notional",
                a.asset,
                a.delta.0,
                a.delta.1,
                usd(a.dollar_delta / 100.0),
                a.gamma.0,
                a.gamma.1,
                usd(a.vega.0),
                usd(a.vega.1),
                usd(a.theta.0),
                usd(a.theta.1),
                a.hedge_units,
                usd(a.hedge_notional_usd)
            );
        }
        println!(
            "  VaR95/VaR99/ES99 before the hedge {} / {} / {}, after {} / {} / {}",
            usd(g.unhedged.var95),
            usd(g.unhedged.var99),
            usd(g.unhedged.es99),
            usd(g.hedged.var95),
            usd(g.hedged.var99),
            usd(g.hedged.es99)
        );
    }
    if !j.scenarios.is_empty() {
        println!("\nHistorical scenarios (worst window of each asset, replayed jointly at the estimation period):");
        for s in &j.scenarios {
            let moves: Vec<String> = b
                .sigma_annual
                .iter()
                .zip(&s.scenario.moves)
                .map(|((sym, _), m)| format!("{sym} {:+.1}%", m * 100.0))
                .collect();
            let res: Vec<String> = s
                .outcomes
                .iter()
                .map(|(p, bd, liq)| format!("{p:?} bad debt {} liquidated {}", usd(*bd), usd(*liq)))
                .collect();
            println!(
                "  worst {}: {} .. {} ({}): {}",
                s.scenario.asset,
                s.scenario.from,
                s.scenario.to,
                moves.join(", "),
                res.join("; ")
            );
        }
    }
    println!("\n{:.1} s", j.seconds);
}
