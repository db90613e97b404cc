//! Provisioning on the embedded chain: the mints and Pyth oracles a
//! definition marks `"create"` (cargo feature `embedded`).

use anyhow::{Context, Result};
use solana_address::Address;

use super::apply::{DeployedReserve, Deployment};
use super::schema::{AccountRef, MarketDef};
use crate::accounts::PythPrice;
use crate::chain::embedded::EmbeddedChain;
use crate::ix::ReserveKeys;

/// On the embedded chain: creates the mints and oracles marked `"create"`
/// (oracles at `initial_price_usd`, published now, confidence 0) and
/// resolves the rest. `market` is the market's address (see
/// [`super::resolve_existing`]).
pub fn provision_embedded(
    chain: &mut EmbeddedChain,
    def: &MarketDef,
    market: Address,
) -> Result<Deployment> {
    let now = chain.clock().unix_timestamp;
    let mut reserves = vec![];
    for r in &def.reserves {
        let token_program = r.token_program_id()?;
        let mint = match r.mint_ref()? {
            AccountRef::Existing(a) => a,
            AccountRef::Create => chain
                .create_mint(&token_program, r.decimals)
                .with_context(|| format!("creating the {} mint", r.symbol))?,
        };
        let feed_id = r.feed_id_bytes()?.unwrap_or_else(|| mint.to_bytes());
        let oracle = match r.oracle_ref()? {
            AccountRef::Existing(a) => a,
            AccountRef::Create => {
                // The push oracle's price-feed account of the feed id: the
                // only oracle address the program accepts.
                let oracle = ballast::runtime::oracle_account::push_feed_address(&feed_id);
                let price = r.initial_price_usd.expect("validated");
                chain
                    .set_pyth_price(&oracle, &PythPrice::usd(feed_id, price, now))
                    .with_context(|| format!("creating the {} oracle", r.symbol))?;
                oracle
            }
        };
        reserves.push(DeployedReserve {
            symbol: r.symbol.clone(),
            keys: ReserveKeys::derive(&market, &mint, &token_program, &oracle),
            feed_id,
            decimals: r.decimals,
        });
    }
    Ok(Deployment { market, reserves })
}
