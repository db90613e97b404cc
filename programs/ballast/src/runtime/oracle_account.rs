//! Account-level oracle checks: the account passed is the reserve's
//! configured oracle, owned by the Pyth receiver program, and decodes as a
//! `PriceUpdateV2`; then the content checks of [`crate::engine::oracle`].
//!
//! ## Whose prices: the push oracle's price-feed account only
//!
//! A `PriceUpdateV2` account belongs to its write authority: whoever posted
//! it may post into it again any verified price (older ones included, as
//! long as they pass the reserve's max age) and close it. A reserve that
//! trusted any account owned by the receiver would let that writer pick its
//! price within the max age (issue 13). So a reserve's oracle must be the
//! Pyth push oracle's price-feed account of its feed id
//! ([`push_feed_address`]: the PDA `[shard (u16 LE), feed id]` of
//! `PYTH_PUSH_ORACLE_ID`, shard [`PUSH_FEED_SHARD`]), checked when the
//! oracle is set (`init_reserve`, `update_reserve_config`:
//! [`check_configured_oracle`]). Only the push oracle can sign for that
//! address, so the receiver lets only the push oracle create it, write it
//! (it is its own write authority) and close it (the push oracle has no
//! close instruction); the push oracle posts only verified updates of that
//! feed id with a newer publish time than the account holds. Pyth's own
//! pushers keep shard 0 fresh for the feeds they sponsor; anyone may push a
//! newer verified price into it (the pull model), never an older one.
//!
//! The reads (`load_price`) check the key against the reserve's stored
//! oracle and the owner, as before; the address was pinned when it was
//! stored, so they cost nothing more.

use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::engine::oracle::{validate_price, OracleLimits, OraclePrice};
use crate::errors::BallastError;
use crate::state::Reserve;

pub use crate::state::{PUSH_FEED_SHARD, PYTH_PUSH_ORACLE_PROGRAM_ID};

/// The Pyth push oracle's price-feed account of `feed_id` in shard
/// [`PUSH_FEED_SHARD`]: the PDA `[shard.to_le_bytes(), feed_id]` of
/// `PYTH_PUSH_ORACLE_ID` (`pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT`), as
/// Pyth's `pyth_push_oracle::update_price_feed` derives it (its
/// `price_feed_account` seeds, pyth-crosschain
/// `target_chains/solana/programs/pyth-push-oracle`). Costs a PDA search (about 1,500 CU per bump tried): for
/// configuration, not for reads.
pub fn push_feed_address(feed_id: &[u8; 32]) -> Pubkey {
    Pubkey::find_program_address(
        &[&PUSH_FEED_SHARD.to_le_bytes(), feed_id],
        &PYTH_PUSH_ORACLE_PROGRAM_ID,
    )
    .0
}

/// The checks of an oracle being configured on a reserve with `feed_id`:
/// owned by the Pyth receiver, a `PriceUpdateV2` carrying `feed_id`, at the
/// push oracle's price-feed address of `feed_id` ([`push_feed_address`]).
/// Errors, in this order: [`BallastError::OracleWrongOwner`],
/// [`BallastError::OracleDecodeFailed`], [`BallastError::OracleFeedMismatch`],
/// [`BallastError::OracleNotPushFeed`].
pub fn check_configured_oracle(oracle: &AccountInfo, feed_id: &[u8; 32]) -> Result<()> {
    let update = decode(oracle)?;
    require!(
        update.price_message.feed_id == *feed_id,
        BallastError::OracleFeedMismatch
    );
    let expected = push_feed_address(feed_id);
    if *oracle.key != expected {
        msg!(
            "oracle {} is not the push-oracle price feed account {} of the feed id",
            oracle.key,
            expected
        );
        return err!(BallastError::OracleNotPushFeed);
    }
    Ok(())
}

/// The oracle limits configured on `reserve`.
// On every health check's path: inlined whatever its other call sites
// (called, the health helpers cost ~240 CU more a position: README).
#[inline(always)]
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
/// [`BallastError::OracleWrongOwner`], [`BallastError::OracleDecodeFailed`],
/// then those of [`validate_price`].
///
/// The hot path of every health check: it reads only the fields it checks,
/// at their offsets in the published `PriceUpdateV2` layout
/// ([`read_price_fields`]), instead of decoding the whole account; the
/// result is the same as the SDK's decoder (test
/// `layout_reader_matches_the_sdk`).
pub fn load_price(oracle: &AccountInfo, reserve: &Reserve, now: i64) -> Result<OraclePrice> {
    require_keys_eq!(
        *oracle.key,
        reserve.oracle,
        BallastError::OracleAccountMismatch
    );
    require_keys_eq!(
        *oracle.owner,
        pyth_solana_receiver_sdk::ID,
        BallastError::OracleWrongOwner
    );
    let data = oracle.try_borrow_data()?;
    let update = read_price_fields(&data)?;
    validate_price(&update, &limits(reserve), now)
}

/// Reads a `PriceUpdateV2` account's bytes by its published (borsh) layout:
/// 8-byte discriminator, write authority (32), verification level (1-byte
/// tag: 0 `Partial` followed by a `u8`, 1 `Full`), then the
/// `PriceFeedMessage` (feed id 32, price i64, conf u64, exponent i32,
/// publish time i64, previous publish time i64, EMA price i64, EMA conf u64)
/// and the posted slot (u64), little endian. Returns the update with the
/// fields a price check uses (write authority and posted slot zeroed).
/// Errors: [`BallastError::OracleDecodeFailed`] on a wrong discriminator, an
/// unknown tag or short data.
// On every health check's path: inlined whatever its other call sites
// (called, the health helpers cost ~240 CU more a position: README).
#[inline(always)]
pub fn read_price_fields(data: &[u8]) -> Result<PriceUpdateV2> {
    use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, VerificationLevel};
    let bad = || error!(BallastError::OracleDecodeFailed);
    if data.len() < 8 || data[..8] != *PriceUpdateV2::DISCRIMINATOR {
        return Err(bad());
    }
    let (verification_level, m) = match data.get(40) {
        Some(1) => (VerificationLevel::Full, 41),
        Some(0) => (
            VerificationLevel::Partial {
                num_signatures: *data.get(41).ok_or_else(bad)?,
            },
            42,
        ),
        _ => return Err(bad()),
    };
    // The whole account must be there (posted slot included), as the SDK requires.
    if data.len() < m + 32 + 8 + 8 + 4 + 8 * 4 + 8 {
        return Err(bad());
    }
    let bytes8 = |at: usize| -> [u8; 8] {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[m + at..m + at + 8]);
        b
    };
    let mut feed_id = [0u8; 32];
    feed_id.copy_from_slice(&data[m..m + 32]);
    let mut exp = [0u8; 4];
    exp.copy_from_slice(&data[m + 48..m + 52]);
    Ok(PriceUpdateV2 {
        write_authority: Pubkey::default(),
        verification_level,
        price_message: PriceFeedMessage {
            feed_id,
            price: i64::from_le_bytes(bytes8(32)),
            conf: u64::from_le_bytes(bytes8(40)),
            exponent: i32::from_le_bytes(exp),
            publish_time: i64::from_le_bytes(bytes8(52)),
            prev_publish_time: i64::from_le_bytes(bytes8(60)),
            ema_price: i64::from_le_bytes(bytes8(68)),
            ema_conf: u64::from_le_bytes(bytes8(76)),
        },
        posted_slot: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, VerificationLevel};

    fn sdk_bytes(level: VerificationLevel, seed: i64) -> (PriceUpdateV2, Vec<u8>) {
        let u = PriceUpdateV2 {
            write_authority: Pubkey::new_from_array([seed as u8; 32]),
            verification_level: level,
            price_message: PriceFeedMessage {
                feed_id: [(seed * 7) as u8; 32],
                price: seed * 1_000_003 - 17,
                conf: (seed as u64).wrapping_mul(31),
                exponent: -((seed % 13) as i32),
                publish_time: 1_700_000_000 + seed,
                prev_publish_time: 1_699_999_999 + seed,
                ema_price: seed * 999_983,
                ema_conf: (seed as u64).wrapping_mul(37),
            },
            posted_slot: (seed as u64).wrapping_mul(11),
        };
        let mut data = vec![];
        u.try_serialize(&mut data).unwrap();
        (u, data)
    }

    #[test]
    fn layout_reader_matches_the_sdk() {
        for seed in [1i64, 2, 99, 12_345, -5, 4_000_000_000_000] {
            for level in [
                VerificationLevel::Full,
                VerificationLevel::Partial { num_signatures: 3 },
            ] {
                let (u, data) = sdk_bytes(level, seed);
                let sdk = PriceUpdateV2::try_deserialize(&mut data.as_slice()).unwrap();
                let ours = read_price_fields(&data).unwrap();
                assert_eq!(ours.verification_level, sdk.verification_level);
                assert_eq!(ours.price_message, sdk.price_message);
                assert_eq!(ours.price_message, u.price_message);
            }
        }
    }

    #[test]
    fn push_feed_address_is_pyths() {
        // Pyth's SOL/USD feed in shard 0: the address Pyth publishes for its
        // sponsored feed (as gmx-solana's `find_pyth_feed_account` test
        // pins it).
        let mut feed = [0u8; 32];
        let hex = "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d";
        for (i, b) in feed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        assert_eq!(
            push_feed_address(&feed).to_string(),
            "7UVimffxr9ow1uXYxsr4LHAcV58mLzhmwaeKvJ1pjLiE"
        );
    }

    #[test]
    fn layout_reader_refuses_what_the_sdk_refuses() {
        let (_, data) = sdk_bytes(VerificationLevel::Full, 5);
        let mut wrong_disc = data.clone();
        wrong_disc[0] ^= 1;
        assert!(read_price_fields(&wrong_disc).is_err());
        let mut bad_tag = data.clone();
        bad_tag[40] = 2;
        assert!(read_price_fields(&bad_tag).is_err());
        assert!(read_price_fields(&data[..data.len() - 1]).is_err());
        assert!(PriceUpdateV2::try_deserialize(&mut &data[..data.len() - 1]).is_err());
    }
}
