//! The accounts the keeper reads and writes, as bytes and as a market
//! snapshot:
//!
//! * **decode**: Ballast's zero-copy accounts ([`decode_market`],
//!   [`decode_reserve`], [`decode_obligation`]) from their bytes, and
//!   [`encode_account`] for fixtures, tests and benches;
//! * **oracle bytes**: [`PythPrice`], a Pyth `PriceUpdateV2` account as the
//!   receiver program writes it, and the owner programs the keeper names;
//! * **load**: the market's reserves and oracle accounts from a [`Chain`],
//!   and [`MarketSnapshot::load`], the one place that turns "market, its
//!   reserves and their oracles at one unix time" into the snapshot the
//!   liquidation scan, the bad-debt sweep and the replay's metrics score
//!   obligations against.

use std::collections::HashMap;

use anchor_lang::{AccountSerialize, Discriminator};
use ballast::state::{Market, Obligation, Reserve};
use bytemuck::Pod;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
use solana_address::Address;

use crate::chain::{Chain, ChainError};
use crate::scan::MarketSnapshot;

/// Decodes a zero-copy account of type `T`: the 8-byte Anchor discriminator of
/// `T`, then at least `size_of::<T>()` bytes (extra bytes are ignored, as
/// Anchor's `AccountLoader` ignores them). `None` for another type or a
/// short account.
fn decode_account<T: Pod + Discriminator>(data: &[u8]) -> Option<T> {
    let body = data.strip_prefix(T::DISCRIMINATOR)?;
    body.get(..core::mem::size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
}

/// Decodes an [`Obligation`] account's bytes (discriminator first).
pub fn decode_obligation(data: &[u8]) -> Option<Obligation> {
    decode_account(data)
}

/// Decodes a [`Reserve`] account's bytes (discriminator first).
pub fn decode_reserve(data: &[u8]) -> Option<Reserve> {
    decode_account(data)
}

/// Decodes a [`Market`] account's bytes (discriminator first).
pub fn decode_market(data: &[u8]) -> Option<Market> {
    decode_account(data)
}

/// The bytes of a zero-copy account holding `value`: discriminator, then the
/// `Pod` bytes (what the program writes; for tests, fixtures and benches).
pub fn encode_account<T: Pod + Discriminator>(value: &T) -> Vec<u8> {
    let mut data = Vec::with_capacity(T::DISCRIMINATOR.len() + core::mem::size_of::<T>());
    data.extend_from_slice(T::DISCRIMINATOR);
    data.extend_from_slice(bytemuck::bytes_of(value));
    data
}

/// The Pyth receiver program, owner of every `PriceUpdateV2` account.
pub const PYTH_RECEIVER_ID: Address = pyth_solana_receiver_sdk::ID;
/// The SPL Token program.
pub const TOKEN_PROGRAM_ID: Address = anchor_spl::token::ID;
/// The Token-2022 program.
pub const TOKEN_2022_PROGRAM_ID: Address = anchor_spl::token_2022::ID;

/// A Pyth price as written into a `PriceUpdateV2` account. Prices are integers
/// scaled by `10^exponent` (Pyth's convention, e.g. exponent -8).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PythPrice {
    /// The feed id the account carries.
    pub feed_id: [u8; 32],
    /// Spot price, in units of `10^exponent` USD.
    pub price: i64,
    /// Confidence interval (one standard deviation), same units as `price`.
    pub conf: u64,
    /// Decimal exponent of `price`, `conf` and `ema_price`.
    pub exponent: i32,
    /// Exponential moving average of the price, same units.
    pub ema_price: i64,
    /// Confidence of the EMA price, same units.
    pub ema_conf: u64,
    /// When the price was published, unix seconds.
    pub publish_time: i64,
    /// The verification level the receiver program recorded.
    pub verification: VerificationLevel,
}

impl PythPrice {
    /// A fully verified price with `conf` and EMA equal to the spot, exponent -8.
    pub fn usd(feed_id: [u8; 32], price_usd: f64, publish_time: i64) -> Self {
        let price = (price_usd * 1e8).round() as i64;
        Self {
            feed_id,
            price,
            conf: 0,
            exponent: -8,
            ema_price: price,
            ema_conf: 0,
            publish_time,
            verification: VerificationLevel::Full,
        }
    }

    /// Serializes into the bytes of a `PriceUpdateV2` account (Anchor
    /// discriminator first), exactly as the Pyth receiver program writes them.
    pub fn to_account_data(&self) -> Vec<u8> {
        let update = PriceUpdateV2 {
            write_authority: Address::default(),
            verification_level: self.verification,
            price_message: PriceFeedMessage {
                feed_id: self.feed_id,
                price: self.price,
                conf: self.conf,
                exponent: self.exponent,
                publish_time: self.publish_time,
                prev_publish_time: self.publish_time.saturating_sub(1),
                ema_price: self.ema_price,
                ema_conf: self.ema_conf,
            },
            posted_slot: 0,
        };
        let mut data = Vec::with_capacity(PriceUpdateV2::LEN);
        update
            .try_serialize(&mut data)
            .expect("PriceUpdateV2 serializes into a Vec");
        data
    }
}

/// Why a market could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A chain call failed.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The market account is missing or not a market.
    #[error("market {0} not found or not a Ballast market")]
    Market(Address),
}

/// The market account at `market`, decoded.
pub fn load_market(chain: &impl Chain, market: &Address) -> Result<Market, LoadError> {
    chain
        .account_data(market)?
        .as_deref()
        .and_then(decode_market)
        .ok_or(LoadError::Market(*market))
}

/// Every reserve of `market` (address, decoded account), in the order the
/// chain returns them; accounts that do not decode are left out.
pub fn load_reserves(
    chain: &impl Chain,
    market: &Address,
) -> Result<Vec<(Address, Reserve)>, ChainError> {
    Ok(chain
        .ballast_accounts::<Reserve>(market)?
        .into_iter()
        .filter_map(|(k, d)| decode_reserve(&d).map(|r| (k, r)))
        .collect())
}

/// The bytes of each reserve's oracle account that exists, keyed by the
/// oracle's address.
pub fn load_oracles(
    chain: &impl Chain,
    reserves: &[(Address, Reserve)],
) -> Result<HashMap<Address, Vec<u8>>, ChainError> {
    let mut oracles = HashMap::new();
    for (_, r) in reserves {
        if let Some(d) = chain.account_data(&r.oracle)? {
            oracles.insert(r.oracle, d);
        }
    }
    Ok(oracles)
}

impl MarketSnapshot {
    /// Reads `market`, its reserves and their oracle accounts from `chain`
    /// and builds the snapshot at unix time `now` (seconds; see
    /// [`MarketSnapshot::new`]). The decoded reserves stay available through
    /// [`MarketSnapshot::reserves`].
    pub fn load(chain: &impl Chain, market: &Address, now: i64) -> Result<Self, LoadError> {
        let market_state = load_market(chain, market)?;
        let reserves = load_reserves(chain, market)?;
        let oracles = load_oracles(chain, &reserves)?;
        // The strategy reserves of treasuries with shares deployed, so that
        // liquidations are priced at the marked rate, as the program does.
        let mut strategies = vec![];
        for (_, r) in &reserves {
            if r.treasury.deployed_shares == 0 {
                continue;
            }
            let key = r.treasury.strategy_reserve;
            if let Some(s) = chain
                .account_data(&key)?
                .as_deref()
                .and_then(decode_reserve)
            {
                strategies.push((key, s));
            }
        }
        Ok(
            Self::new(*market, &market_state, &reserves, &oracles, now)
                .with_strategies(&strategies),
        )
    }
}
