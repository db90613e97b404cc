//! The subcommands, one module each, and the dispatch. A subcommand whose
//! backend this build leaves out fails with [`super::feature_off`]'s error.

use anyhow::Result;

use super::args::{Cli, Command, MarketApplyArgs, MarketCommand, ReplayArgs, RunArgs, StressArgs};

mod alm;
mod snapshot;

mod status;

#[cfg(feature = "embedded")]
mod demo;
#[cfg(feature = "rpc")]
pub(super) mod live;
#[cfg(any(feature = "embedded", feature = "rpc"))]
mod market;
#[cfg(feature = "embedded")]
mod replay;
#[cfg(feature = "stress")]
mod stress;
mod vol;

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo => demo(&cli),
        Command::Vol(ref args) => vol::vol(args),
        Command::Market {
            command: MarketCommand::Apply(ref args),
        } => market_apply(&cli, args),
        Command::Replay(ref args) => replay(&cli, args),
        Command::Run(ref args) => run_live(&cli, args),
        Command::Status(ref args) => status::run(&cli, args),
        Command::Snapshot(ref args) => snapshot::run(&cli, args),
        Command::Stress(ref args) => stress(&cli, args),
        Command::Alm(ref args) => alm::run(&cli, args),
    }
}

#[cfg(feature = "embedded")]
fn demo(cli: &Cli) -> Result<()> {
    demo::demo(cli)
}

#[cfg(not(feature = "embedded"))]
fn demo(_: &Cli) -> Result<()> {
    Err(super::feature_off("`demo`", "embedded"))
}

#[cfg(feature = "stress")]
fn stress(cli: &Cli, args: &StressArgs) -> Result<()> {
    stress::stress(cli, args)
}

#[cfg(not(feature = "stress"))]
fn stress(_: &Cli, _: &StressArgs) -> Result<()> {
    Err(super::feature_off("`stress`", "stress"))
}

#[cfg(feature = "embedded")]
fn replay(cli: &Cli, args: &ReplayArgs) -> Result<()> {
    replay::replay(cli, args)
}

#[cfg(not(feature = "embedded"))]
fn replay(_: &Cli, _: &ReplayArgs) -> Result<()> {
    Err(super::feature_off("`replay`", "embedded"))
}

fn market_apply(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    if cli.url == "embedded" {
        market_apply_embedded(cli, args)
    } else {
        market_apply_rpc(cli, args)
    }
}

#[cfg(feature = "embedded")]
fn market_apply_embedded(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    market::apply_embedded(cli, args)
}

#[cfg(not(feature = "embedded"))]
fn market_apply_embedded(_: &Cli, _: &MarketApplyArgs) -> Result<()> {
    Err(super::feature_off(
        "`market apply --url embedded`",
        "embedded",
    ))
}

#[cfg(feature = "rpc")]
fn market_apply_rpc(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    market::apply_rpc(cli, args)
}

#[cfg(not(feature = "rpc"))]
fn market_apply_rpc(_: &Cli, _: &MarketApplyArgs) -> Result<()> {
    Err(super::feature_off("`market apply` on a cluster", "rpc"))
}

#[cfg(feature = "rpc")]
fn run_live(cli: &Cli, args: &RunArgs) -> Result<()> {
    live::run(cli, args)
}

#[cfg(not(feature = "rpc"))]
fn run_live(_: &Cli, _: &RunArgs) -> Result<()> {
    Err(super::feature_off("`run`", "rpc"))
}

/// The program's sBPF build for the embedded chain: `--program-so`, else
/// [`crate::chain::embedded::EmbeddedChain::default_so_path`].
#[cfg(feature = "embedded")]
fn program_so(cli: &Cli) -> std::path::PathBuf {
    cli.program_so
        .clone()
        .unwrap_or_else(crate::chain::embedded::EmbeddedChain::default_so_path)
}

/// A fresh embedded chain with the market of definition `market` (a
/// `migrations/*.toml` path: the chain is fresh at each run, so an address
/// is refused) provisioned and applied as written; returns the chain and the
/// market's address. What `status` and `snapshot` run on `--url embedded`.
#[cfg(feature = "embedded")]
fn embedded_market(
    cli: &Cli,
    market: &str,
) -> Result<(
    crate::chain::embedded::EmbeddedChain,
    solana_address::Address,
)> {
    use anyhow::Context;
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    use crate::chain::embedded::EmbeddedChain;
    use crate::market::{apply, provision_embedded, MarketDef, PolicyChoice};

    let path = std::path::Path::new(market);
    if path.extension().and_then(|e| e.to_str()) != Some("toml") {
        anyhow::bail!(
            "the embedded chain is fresh at each run: give --market a market definition \
             (e.g. migrations/replay-sol-usdc.toml), or --url a cluster"
        );
    }
    let def = MarketDef::load(path)?;
    let so = program_so(cli);
    let mut chain = EmbeddedChain::new(&so)
        .with_context(|| format!("starting the embedded chain with {}", so.display()))?;
    let admin = chain.payer.insecure_clone();
    let market_kp = Keypair::new();
    let address = match &def.market.address {
        Some(a) => a.parse().context("market.address")?,
        None => market_kp.pubkey(),
    };
    let dep = provision_embedded(&mut chain, &def, address)?;
    apply(
        &mut chain,
        &admin,
        Some(&market_kp),
        &def,
        &dep,
        PolicyChoice::AsWritten,
    )?;
    Ok((chain, dep.market))
}
