//! `ballast-keeper status --market <ADDR>`: the operator's table (or JSON
//! with `--output json`) of [`crate::status::status`], over a cluster, or on
//! the embedded chain, which is fresh at each run: there `--market` names a
//! market definition (`migrations/*.toml`) applied first.

use anyhow::{Context, Result};

use crate::cli::args::{Cli, Output, StatusArgs};
use crate::status::{status, table, Status};

/// Prints the status.
pub(super) fn run(cli: &Cli, args: &StatusArgs) -> Result<()> {
    let s = if cli.url == "embedded" {
        embedded(cli, args)?
    } else {
        rpc(cli, args)?
    };
    match args.output {
        Output::Text => print!("{}", table(&s)),
        Output::Json => println!("{}", serde_json::to_string_pretty(&s)?),
    }
    Ok(())
}

#[cfg(feature = "rpc")]
fn rpc(cli: &Cli, args: &StatusArgs) -> Result<Status> {
    let market = args
        .market
        .parse()
        .map_err(|e| anyhow::anyhow!("--market {}: not an address ({e})", args.market))?;
    // Reading needs no signer: a throwaway payer.
    let chain = crate::chain::rpc::RpcChain::new(&cli.url, solana_keypair::Keypair::new());
    status(&chain, &market).with_context(|| format!("status of market {market} on {}", cli.url))
}

#[cfg(not(feature = "rpc"))]
fn rpc(_: &Cli, _: &StatusArgs) -> Result<Status> {
    Err(crate::cli::feature_off("`status` on a cluster", "rpc"))
}

#[cfg(feature = "embedded")]
fn embedded(cli: &Cli, args: &StatusArgs) -> Result<Status> {
    let (chain, market) = super::embedded_market(cli, &args.market)?;
    status(&chain, &market)
}

#[cfg(not(feature = "embedded"))]
fn embedded(_: &Cli, _: &StatusArgs) -> Result<Status> {
    Err(crate::cli::feature_off(
        "`status --url embedded`",
        "embedded",
    ))
}
