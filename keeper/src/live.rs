//! `ballast-keeper run`: the keeper loop ([`crate::keeper_loop::Keeper`])
//! against a Solana RPC cluster ([`crate::rpc::RpcChain`]), the same task
//! code the replay drives on the embedded chain.
//!
//! Everything the keeper acts on is read from the chain at every tick, so a
//! restart resumes where the chain is. The one thing kept in memory is the
//! volatility estimator's price history, sampled from the oracles once per
//! period: after a restart the keeper pushes again once it has two samples
//! (the program's staleness rule keeps collateral requirements conservative
//! meanwhile).

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use ballast::state::Reserve;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::Chain;
use crate::keeper_loop::{Keeper, KeeperConfig};
use crate::rpc::RpcChain;
use crate::scan::decode_reserve;
use crate::tasks::liquidation::Liquidator;

/// The associated token account of `owner` for `mint` under `token_program`
/// (spl-associated-token-account's derivation).
pub fn associated_token_address(
    owner: &Address,
    mint: &Address,
    token_program: &Address,
) -> Address {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}

/// Reads a keypair file in the Solana CLI's format (a JSON array of 64
/// bytes), with the path in the error.
pub fn read_keypair(path: &Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading keypair {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON array of bytes", path.display()))?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{}: not a keypair: {e}", path.display()))
}

/// A liquidator paying from and receiving into `owner`'s associated token
/// accounts for every reserve mint of `market`.
pub fn liquidator_with_atas(
    chain: &impl Chain,
    market: &Address,
    keypair: Keypair,
) -> Result<Liquidator> {
    let owner = keypair.pubkey();
    let token_accounts: HashMap<Address, Address> = chain
        .ballast_accounts::<Reserve>(market)?
        .into_iter()
        .filter_map(|(_, d)| decode_reserve(&d))
        .map(|r| {
            (
                r.mint,
                associated_token_address(&owner, &r.mint, &r.token_program),
            )
        })
        .collect();
    Ok(Liquidator {
        keypair,
        token_accounts,
    })
}

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

/// Runs the keeper loop on `url` with `keypair` as fee payer, risk
/// authority and liquidator. A tick that fails is logged and retried at the
/// next interval (an RPC hiccup must not stop the keeper); the run fails only
/// when the market cannot be read at start.
pub fn run(url: &str, keypair: Keypair, opts: &LiveOptions) -> Result<()> {
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
    fn keypair_files_in_cli_format_are_read_and_bad_ones_named() {
        let dir = std::env::temp_dir().join(format!("ballast-kp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let kp = Keypair::new();
        let good = dir.join("id.json");
        std::fs::write(
            &good,
            serde_json::to_string(&kp.to_bytes().to_vec()).unwrap(),
        )
        .unwrap();
        assert_eq!(read_keypair(&good).unwrap().pubkey(), kp.pubkey());
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "[1,2,3]").unwrap();
        let e = read_keypair(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.json"), "{e}");
        let missing = read_keypair(&dir.join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.json"), "{missing}");
    }

    #[test]
    fn an_unreachable_cluster_fails_at_start_with_the_url() {
        let opts = LiveOptions {
            market: Address::new_unique(),
            interval_secs: 0,
            liquidation_capacity: 1,
            liquidate: true,
            ticks: Some(1),
        };
        let e = run("http://127.0.0.1:1", Keypair::new(), &opts).unwrap_err();
        assert!(format!("{e:#}").contains("chain backend"), "{e:#}");
    }
}
