//! `ballast-keeper demo`: deploys the program into an embedded chain and
//! creates a market (a smoke run of the embedded backend).

use anyhow::{Context, Result};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::embedded::EmbeddedChain;
use crate::cli::args::Cli;

pub(super) fn demo(cli: &Cli) -> Result<()> {
    let so = super::program_so(cli);
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
            liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
        },
    );
    let meta = chain.send_ok(&[ix], &[&market])?;
    println!(
        "init_market: market {} created, {} compute units",
        market.pubkey(),
        meta.compute_units_consumed
    );
    println!("(the main job is `ballast-keeper replay`; `make demo` runs it on the FTX window)");
    Ok(())
}
