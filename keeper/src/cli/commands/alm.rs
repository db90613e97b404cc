//! `ballast-keeper alm`: the duration-risk report of [`crate::alm`] for a
//! market read from a cluster, from the embedded chain (fresh at each run:
//! `--market` names a market definition, applied first) or from a
//! `--snapshot` file, or the replay's seeded book on the embedded chain
//! (`--population N`); a table or JSON on stdout, optionally the JSON in a
//! file (`--json`) and the ladder's chart (`--chart`).

use anyhow::{Context, Result};

use crate::alm::report::{market_alm, market_alm_on_chain, table};
use crate::alm::{Calibration, MarketAlm};
use crate::cli::args::{AlmArgs, AlmCalibration, Cli, Output};
use crate::snapshot::Snapshot;

/// Computes, prints and writes the report.
pub(super) fn run(cli: &Cli, args: &AlmArgs) -> Result<()> {
    let report = compute(cli, args)?;
    match args.output {
        Output::Text => print!("{}", table(&report)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(path) = &args.chart {
        chart(path, &report)?;
    }
    Ok(())
}

fn calibration(c: AlmCalibration) -> Calibration {
    match c {
        AlmCalibration::Crypto => Calibration::crypto(),
        AlmCalibration::Bcbs => Calibration::bcbs(),
    }
}

fn compute(cli: &Cli, args: &AlmArgs) -> Result<MarketAlm> {
    if let Some(b) = args.deposit_beta {
        anyhow::ensure!(
            (0.0..=1.0).contains(&b),
            "--deposit-beta must be in [0, 1] (got {b})"
        );
    }
    let cal = Calibration {
        deposit_beta: args.deposit_beta,
        ..calibration(args.calibration)
    };
    if let Some(path) = &args.snapshot {
        let snap = Snapshot::read(path)?;
        return market_alm(&snap, &Default::default(), &cal, args.horizon_days)
            .with_context(|| format!("ALM of snapshot {}", path.display()));
    }
    let market = args
        .market
        .as_deref()
        .context("give --market or --snapshot")?;
    if cli.url == "embedded" {
        match args.population {
            Some(n) => synthetic(cli, market, n, args.seed, &cal, args.horizon_days),
            None => embedded(cli, market, &cal, args.horizon_days),
        }
    } else if args.population.is_some() {
        anyhow::bail!("--population populates the embedded chain: use it with --url embedded")
    } else {
        rpc(&cli.url, market, &cal, args.horizon_days)
    }
}

#[cfg(feature = "rpc")]
fn rpc(url: &str, market: &str, cal: &Calibration, horizon: f64) -> Result<MarketAlm> {
    let address = market
        .parse()
        .map_err(|e| anyhow::anyhow!("--market {market}: not an address ({e})"))?;
    // Reading needs no signer: a throwaway payer.
    let chain = crate::chain::rpc::RpcChain::new(url, solana_keypair::Keypair::new());
    market_alm_on_chain(&chain, &address, cal, horizon)
        .with_context(|| format!("ALM of market {market} on {url}"))
}

#[cfg(not(feature = "rpc"))]
fn rpc(_: &str, _: &str, _: &Calibration, _: f64) -> Result<MarketAlm> {
    Err(crate::cli::feature_off("`alm` on a cluster", "rpc"))
}

#[cfg(feature = "embedded")]
fn embedded(cli: &Cli, market: &str, cal: &Calibration, horizon: f64) -> Result<MarketAlm> {
    let (chain, address) = super::embedded_market(cli, market)?;
    market_alm_on_chain(&chain, &address, cal, horizon)
}

#[cfg(not(feature = "embedded"))]
fn embedded(_: &Cli, _: &str, _: &Calibration, _: f64) -> Result<MarketAlm> {
    Err(crate::cli::feature_off("`alm --url embedded`", "embedded"))
}

#[cfg(feature = "embedded")]
fn synthetic(
    cli: &Cli,
    market: &str,
    n: usize,
    seed: u64,
    cal: &Calibration,
    horizon: f64,
) -> Result<MarketAlm> {
    crate::alm::synthetic::synthetic_alm(
        std::path::Path::new(market),
        &super::program_so(cli),
        n,
        seed,
        cal,
        horizon,
    )
}

#[cfg(not(feature = "embedded"))]
fn synthetic(_: &Cli, _: &str, _: usize, _: u64, _: &Calibration, _: f64) -> Result<MarketAlm> {
    Err(crate::cli::feature_off("`alm --population`", "embedded"))
}

#[cfg(feature = "embedded")]
fn chart(path: &std::path::Path, r: &MarketAlm) -> Result<()> {
    crate::alm::chart::draw(
        path,
        &format!("maturity ladder, market {}", r.market),
        &r.total.ladder,
    )
}

#[cfg(not(feature = "embedded"))]
fn chart(_: &std::path::Path, _: &MarketAlm) -> Result<()> {
    Err(crate::cli::feature_off(
        "`alm --chart` (plotters)",
        "embedded",
    ))
}
