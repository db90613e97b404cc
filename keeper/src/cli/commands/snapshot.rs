//! `ballast-keeper snapshot --market <ADDR> --out FILE`: every account of a
//! market in one file ([`crate::snapshot`]), over a cluster, or on the
//! embedded chain, which is fresh at each run: there `--market` names a
//! market definition (`migrations/*.toml`) applied first. Prints what it
//! wrote (a line, or JSON with `--output json`).

use anyhow::{Context, Result};

use crate::cli::args::{Cli, Output, SnapshotArgs};
use crate::snapshot::{Role, Snapshot};

/// Takes and writes the snapshot.
pub(super) fn run(cli: &Cli, args: &SnapshotArgs) -> Result<()> {
    let s = if cli.url == "embedded" {
        embedded(cli, args)?
    } else {
        rpc(cli, args)?
    };
    s.write(&args.out)?;
    let c = s.counts();
    let n = |r| c.get(&r).copied().unwrap_or(0);
    let summary = serde_json::json!({
        "file": args.out.display().to_string(),
        "market": s.market.to_string(),
        "slot": s.slot,
        "unix_time": s.unix_time,
        "reserves": n(Role::Reserve),
        "obligations": n(Role::Obligation),
        "oracles": n(Role::Oracle),
        "strategy_reserves": n(Role::StrategyReserve),
    });
    match args.output {
        Output::Text => println!(
            "wrote {}: market {} at slot {} (unix {}): {} reserves, {} obligations, {} oracles, {} strategy reserves",
            args.out.display(),
            s.market,
            s.slot,
            s.unix_time,
            n(Role::Reserve),
            n(Role::Obligation),
            n(Role::Oracle),
            n(Role::StrategyReserve)
        ),
        Output::Json => println!("{}", serde_json::to_string_pretty(&summary)?),
    }
    Ok(())
}

fn rpc(cli: &Cli, args: &SnapshotArgs) -> Result<Snapshot> {
    capture_rpc(&cli.url, &args.market)
}

/// The snapshot of market `market` (an address) on the cluster at `url`.
#[cfg(feature = "rpc")]
pub(super) fn capture_rpc(url: &str, market: &str) -> Result<Snapshot> {
    let market = market
        .parse()
        .map_err(|e| anyhow::anyhow!("--market {market}: not an address ({e})"))?;
    // Reading needs no signer: a throwaway payer.
    let chain = crate::chain::rpc::RpcChain::new(url, solana_keypair::Keypair::new());
    Snapshot::capture(&chain, &market)
        .with_context(|| format!("snapshot of market {market} on {url}"))
}

/// Without the `rpc` feature: an error naming it.
#[cfg(not(feature = "rpc"))]
pub(super) fn capture_rpc(_: &str, _: &str) -> Result<Snapshot> {
    Err(crate::cli::feature_off(
        "reading a market on a cluster",
        "rpc",
    ))
}

#[cfg(feature = "embedded")]
fn embedded(cli: &Cli, args: &SnapshotArgs) -> Result<Snapshot> {
    let (chain, market) = super::embedded_market(cli, &args.market)?;
    Ok(Snapshot::capture(&chain, &market)?)
}

#[cfg(not(feature = "embedded"))]
fn embedded(_: &Cli, _: &SnapshotArgs) -> Result<Snapshot> {
    Err(crate::cli::feature_off(
        "`snapshot --url embedded`",
        "embedded",
    ))
}
