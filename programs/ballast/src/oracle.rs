//! Account-level oracle checks: the account passed is the reserve's
//! configured oracle, owned by the Pyth receiver program, and decodes as a
//! `PriceUpdateV2`; then the content checks of [`crate::engine::oracle`].

use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::engine::health::OraclePrice;
use crate::engine::oracle::{validate_price, OracleLimits};
use crate::errors::BallastError;
use crate::state::Reserve;

/// The oracle limits configured on `reserve`.
pub fn limits(reserve: &Reserve) -> OracleLimits {
    OracleLimits {
        feed_id: reserve.config.oracle_feed_id,
        max_age_secs: reserve.config.oracle_max_age_secs as u64,
        max_conf_bps: reserve.config.oracle_max_conf_bps,
    }
}

/// Decodes `oracle` after checking its owner. Errors:
/// [`BallastError::OracleWrongOwner`], [`BallastError::OracleDecodeFailed`].
pub fn decode(oracle: &AccountInfo) -> Result<PriceUpdateV2> {
    require_keys_eq!(
        *oracle.owner,
        pyth_solana_receiver_sdk::ID,
        BallastError::OracleWrongOwner
    );
    let data = oracle.try_borrow_data()?;
    decode_bytes(&data)
}

/// Decodes a `PriceUpdateV2` from account bytes (discriminator first), for
/// callers that checked the owner already (and for off-chain readers).
/// Errors: [`BallastError::OracleDecodeFailed`].
pub fn decode_bytes(data: &[u8]) -> Result<PriceUpdateV2> {
    PriceUpdateV2::try_deserialize(&mut &data[..])
        .map_err(|_| error!(BallastError::OracleDecodeFailed))
}

/// A validated price for `reserve` from `oracle` at unix time `now`. Errors:
/// [`BallastError::OracleAccountMismatch`] when `oracle` is not the reserve's,
/// then those of [`decode`] and [`validate_price`].
pub fn load_price(oracle: &AccountInfo, reserve: &Reserve, now: i64) -> Result<OraclePrice> {
    require_keys_eq!(
        *oracle.key,
        reserve.oracle,
        BallastError::OracleAccountMismatch
    );
    let update = decode(oracle)?;
    validate_price(&update, &limits(reserve), now)
}
