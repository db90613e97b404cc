//! `ballast-keeper run`: the keeper loop ([`crate::keeper_loop::Keeper`])
//! against a Solana RPC cluster ([`crate::chain::rpc::RpcChain`]), the same
//! task code the replay drives on the embedded chain (cargo feature `rpc`).
//!
//! Everything the keeper acts on is read from the chain at every tick, so a
//! restart resumes where the chain is. The one thing kept in memory is the
//! volatility estimator's price history, sampled from the oracles once per
//! period: after a restart the keeper pushes again once it has two samples
//! (the program's staleness rule keeps collateral requirements conservative
//! meanwhile).

use std::time::Duration;

use anyhow::{Context, Result};
use solana_address::Address;
use solana_keypair::Keypair;

use crate::chain::rpc::RpcChain;
use crate::chain::Chain;
use crate::cli::args::{Cli, RunArgs};
use crate::cli::read_keypair;
use crate::keeper_loop::{Keeper, KeeperConfig};
use crate::tasks::liquidation::liquidator_with_atas;

/// Options of a live run.
#[derive(Debug)]
pub struct LiveOptions {
    /// The market served.
    pub market: Address,
    /// Seconds between ticks.
    pub interval_secs: u64,
    /// Liquidations per tick at most.
    pub liquidation_capacity: usize,
    /// Whether this keeper liquidates (its keypair's ATAs fund the repays).
    pub liquidate: bool,
    /// Stop after this many ticks (`None`: run until killed).
    pub ticks: Option<u64>,
}

/// `run` as the command line gives it: `--url` must be a cluster.
pub(super) fn run(cli: &Cli, args: &RunArgs) -> Result<()> {
    if cli.url == "embedded" {
        anyhow::bail!(
            "`run` serves a cluster: give --url (e.g. http://127.0.0.1:8899 or \
             https://api.devnet.solana.com); the embedded chain is driven by `replay`"
        );
    }
    let keypair = read_keypair(&cli.keypair_path())?;
    let market = args
        .market
        .parse()
        .map_err(|e| anyhow::anyhow!("--market {}: {e}", args.market))?;
    run_live(
        &cli.url,
        keypair,
        &LiveOptions {
            market,
            interval_secs: args.interval,
            liquidation_capacity: args.capacity,
            liquidate: !args.no_liquidate,
            ticks: args.ticks,
        },
    )
}

/// Runs the keeper loop on `url` with `keypair` as fee payer, risk
/// authority and liquidator. A tick that fails is logged and retried at the
/// next interval (an RPC hiccup must not stop the keeper); the run fails only
/// when the market cannot be read at start.
pub fn run_live(url: &str, keypair: Keypair, opts: &LiveOptions) -> Result<()> {
    let mut chain = RpcChain::new(url, keypair.insecure_clone());
    chain
        .account_data(&opts.market)?
        .with_context(|| format!("market {} not found on {url}", opts.market))?;
    let liquidator = if opts.liquidate {
        Some(liquidator_with_atas(
            &chain,
            &opts.market,
            keypair.insecure_clone(),
        )?)
    } else {
        None
    };
    let mut keeper = Keeper::new(opts.market, keypair, liquidator, KeeperConfig::default());
    let mut n = 0u64;
    loop {
        match keeper.tick(&mut chain, opts.liquidation_capacity) {
            Ok(report) => tracing::info!(?report, "tick"),
            Err(e) => tracing::warn!("tick failed: {e:#}"),
        }
        n += 1;
        if opts.ticks.is_some_and(|t| n >= t) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(opts.interval_secs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_cluster_fails_at_start_with_the_url() {
        let opts = LiveOptions {
            market: Address::new_unique(),
            interval_secs: 0,
            liquidation_capacity: 1,
            liquidate: true,
            ticks: Some(1),
        };
        let e = run_live("http://127.0.0.1:1", Keypair::new(), &opts).unwrap_err();
        assert!(format!("{e:#}").contains("chain backend"), "{e:#}");
    }
}
