//! `ballast-keeper replay`: checks the arguments, runs each policy over the
//! window with a progress bar, prints the summary table and writes the
//! `--json` and `--chart` files.

use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::args::{Cli, PolicyArg, ReplayArgs};
use crate::keeper_loop::KeeperConfig;
use crate::market::{MarketDef, PolicyName, REPLAY_SOL_USDC};
use crate::replay::{
    draw_population, load_window, run_policy, summary_table, LiquidatorSettings, OracleModel,
    ReplayOptions, ReplayReport, RunResult, Window, STEPS_PER_CANDLE,
};
use crate::volatility::candles::format_ts;

/// What the arguments resolve to before anything runs.
struct Plan {
    def: MarketDef,
    window: Window,
    liquidators: LiquidatorSettings,
    policies: Vec<PolicyName>,
    oracle: OracleModel,
}

pub(super) fn replay(cli: &Cli, args: &ReplayArgs) -> Result<()> {
    require_embedded(cli, "replay")?;
    let plan = plan(args)?;
    let (first, last) = (
        plan.window.candles[0].ts,
        plan.window.candles[plan.window.candles.len() - 1].ts,
    );
    eprintln!(
        "replay: {} candles of {} from {} to {} ({} of warm-up), {} borrowers (seed {})",
        plan.window.candles.len(),
        args.prices.display(),
        format_ts(first),
        format_ts(last),
        plan.window.warmup.len(),
        args.borrowers,
        args.seed,
    );
    let results = run_all(cli, args, &plan)?;
    let summaries: Vec<_> = results.iter().map(|r| r.summary.clone()).collect();
    let s0 = &summaries[0];
    println!(
        "{} {} -> {}, {} borrowers, seed {}; liquidators: ${:.0} an hour, depth ${:.0} a day, \
         ${} fixed cost, ${} least profit",
        args.prices.display(),
        format_ts(first),
        format_ts(last),
        args.borrowers,
        args.seed,
        s0.capacity_usd_per_hour,
        s0.depth_usd,
        args.fixed_cost_usd,
        args.min_profit_usd,
    );
    print!("{}", summary_table(&summaries));
    if let Some(path) = &args.json {
        let report = ReplayReport {
            prices: args.prices.display().to_string(),
            from: format_ts(first),
            to: format_ts(last),
            candles: plan.window.candles.len(),
            warmup_candles: plan.window.warmup.len(),
            seed: args.seed,
            oracle: plan.oracle,
            runs: summaries,
        };
        write_creating_dirs(path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.chart {
        draw_chart(path, args, (first, last), &results)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn require_embedded(cli: &Cli, what: &str) -> Result<()> {
    if cli.url != "embedded" {
        anyhow::bail!(
            "{what} runs on the embedded chain only (it writes oracle prices and moves the \
             clock); drop `--url {}`",
            cli.url
        );
    }
    Ok(())
}

/// Checks the arguments and reads the market and the price window.
fn plan(args: &ReplayArgs) -> Result<Plan> {
    let def = match &args.market {
        Some(p) => MarketDef::load(p)?,
        None => MarketDef::parse(REPLAY_SOL_USDC)
            .context("the built-in migrations/replay-sol-usdc.toml")?,
    };
    if args.borrowers == 0 {
        anyhow::bail!("--borrowers must be at least 1");
    }
    if !(args.conf_bps.is_finite() && args.conf_bps >= 0.0) {
        anyhow::bail!("--conf-bps must be >= 0");
    }
    if !(args.ema_half_life.is_finite() && args.ema_half_life > 0.0) {
        anyhow::bail!("--ema-half-life must be > 0");
    }
    let window = load_window(
        &args.prices,
        args.from,
        args.to,
        args.warmup_hours * 3_600,
        args.symbol.clone(),
    )?;
    let pos = |x: f64| x.is_finite() && x > 0.0;
    let nonneg = |x: f64| x.is_finite() && x >= 0.0;
    if let Some(c) = args.capacity_usd.filter(|c| !nonneg(*c)) {
        anyhow::bail!("--capacity-usd {c} must be >= 0");
    }
    if let Some(d) = args.depth_usd.filter(|d| !pos(*d)) {
        anyhow::bail!("--depth-usd {d} must be > 0");
    }
    if !nonneg(args.fixed_cost_usd) {
        anyhow::bail!("--fixed-cost-usd must be >= 0");
    }
    if !args.min_profit_usd.is_finite() {
        anyhow::bail!("--min-profit-usd must be finite");
    }
    let liquidators = LiquidatorSettings {
        capacity_usd_per_hour: args.capacity_usd,
        impact_k: None,
        depth_usd: args.depth_usd,
        profit: Some(crate::liquidators::ProfitRule {
            fixed_cost_usd: args.fixed_cost_usd,
            min_profit_usd: args.min_profit_usd,
        }),
    };
    let policies: Vec<PolicyName> = match args.policy {
        PolicyArg::Both => vec![PolicyName::Dynamic, PolicyName::Static],
        PolicyArg::Dynamic => vec![PolicyName::Dynamic],
        PolicyArg::Static => vec![PolicyName::Static],
    };
    let oracle = OracleModel {
        conf_bps: args.conf_bps,
        ema_half_life_secs: args.ema_half_life,
    };
    Ok(Plan {
        def,
        window,
        liquidators,
        policies,
        oracle,
    })
}

/// Runs every policy of the plan, one after the other, on the same
/// population, with a progress bar over their steps.
fn run_all(cli: &Cli, args: &ReplayArgs, plan: &Plan) -> Result<Vec<RunResult>> {
    let population = draw_population(args.seed, args.borrowers);
    let steps = plan.window.candles.len() * STEPS_PER_CANDLE;
    let bar = indicatif::ProgressBar::new((steps * plan.policies.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>8} [{bar:40}] {pos}/{len} steps {elapsed_precise} (eta {eta})",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    let mut results = vec![];
    for &policy in &plan.policies {
        bar.set_message(policy.to_string());
        let opts = ReplayOptions {
            policy,
            liquidators: plan.liquidators,
            oracle: plan.oracle,
            keeper: KeeperConfig::default(),
            so_path: super::program_so(cli),
            outage: args.outage,
            arrivals: args.arrivals,
            term_share: args.term_share,
        };
        let run = run_policy(&plan.def, &plan.window, &population, opts, |_, _| {
            bar.inc(1);
            Ok(())
        })?;
        results.push(run);
    }
    bar.finish_and_clear();
    Ok(results)
}

fn draw_chart(
    path: &Path,
    args: &ReplayArgs,
    (first, last): (i64, i64),
    results: &[RunResult],
) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let title = format!(
        "{} {} -> {}, {} borrowers",
        args.prices
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        format_ts(first),
        format_ts(last),
        args.borrowers
    );
    crate::replay::chart::draw(path, &title, results)
        .with_context(|| format!("drawing {}", path.display()))
}

fn write_creating_dirs(path: &Path, text: String) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}
