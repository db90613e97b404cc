//! The `ballast-keeper` command line: parsing (clap) and dispatch. Global
//! options follow the Solana CLI's habits (`--url`, `--keypair`, default
//! keypair `~/.config/solana/id.json`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::embedded::EmbeddedChain;

/// Ballast keeper: pushes volatility, liquidates, rebalances and accrues
/// interest for a Ballast lending market; replays historical crashes on an
/// embedded chain.
#[derive(Parser, Debug)]
#[command(name = "ballast-keeper", version, about)]
pub struct Cli {
    /// RPC URL of the cluster, or `embedded` for an in-process LiteSVM chain
    /// running target/deploy/ballast.so.
    #[arg(
        short = 'u',
        long,
        global = true,
        default_value = "embedded",
        env = "BALLAST_URL"
    )]
    pub url: String,
    /// Keypair file of the keeper (fee payer, signer).
    #[arg(short = 'k', long, global = true, env = "BALLAST_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Path of the program's sBPF build for the embedded chain.
    #[arg(long, global = true, env = "BALLAST_SO")]
    pub program_so: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Deploys the program into an embedded chain, creates a market and
    /// prints what it cost (a smoke run of the embedded backend).
    Demo,
}

impl Cli {
    /// The keypair path: `--keypair`, else `~/.config/solana/id.json`.
    pub fn keypair_path(&self) -> PathBuf {
        self.keypair.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".config/solana/id.json")
        })
    }

    fn program_so(&self) -> PathBuf {
        self.program_so
            .clone()
            .unwrap_or_else(EmbeddedChain::default_so_path)
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo => demo(&cli),
    }
}

fn demo(cli: &Cli) -> Result<()> {
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    let so = cli.program_so();
    let mut chain = EmbeddedChain::new(&so)
        .with_context(|| format!("starting the embedded chain with {}", so.display()))?;
    println!(
        "embedded chain: {} loaded as program {}",
        so.display(),
        ballast::ID
    );
    let market = Keypair::new();
    let admin = chain.payer.insecure_clone();
    let ix = crate::ix::init_market(
        &admin.pubkey(),
        &market.pubkey(),
        ballast::instructions::InitMarketParams {
            risk_authority: admin.pubkey(),
            paused: false,
        },
    );
    let meta = chain.send_ok(&[ix], &[&market])?;
    println!(
        "init_market: market {} created, {} compute units",
        market.pubkey(),
        meta.compute_units_consumed
    );
    println!(
        "(the crash replay, `ballast-keeper replay`, is the main job once the lending core lands)"
    );
    Ok(())
}
