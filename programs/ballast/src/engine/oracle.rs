//! Oracle prices: [`OraclePrice`], the validated reading the engine values
//! positions with, and the checks on a decoded Pyth `PriceUpdateV2`, each
//! failing with its own error. The account-level checks (owner is the Pyth
//! receiver program, the account is the reserve's configured oracle, it
//! decodes) live in `crate::runtime::oracle_account`; these are the checks
//! on its contents.

use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use super::fx::BPS;
use super::health::Requirement;
use crate::errors::BallastError;

/// A validated oracle reading in Pyth's integer form: `value = mantissa *
/// 10^exponent` USD per whole token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OraclePrice {
    /// Spot price mantissa (> 0).
    pub price: i64,
    /// Spot confidence, same units.
    pub conf: u64,
    /// EMA price mantissa (> 0).
    pub ema_price: i64,
    /// EMA confidence, same units.
    pub ema_conf: u64,
    /// Decimal exponent of all four.
    pub exponent: i32,
}

impl OraclePrice {
    /// Price mantissa used for assets (low side), never negative.
    pub fn asset_mantissa(&self, req: Requirement) -> i128 {
        match req {
            Requirement::Initial => {
                let spot = self.price as i128 - self.conf as i128;
                let ema = self.ema_price as i128 - self.ema_conf as i128;
                spot.min(ema).max(0)
            }
            Requirement::Maintenance => self.price as i128,
        }
    }

    /// Price mantissa used for liabilities (high side).
    pub fn liability_mantissa(&self, req: Requirement) -> i128 {
        match req {
            Requirement::Initial => {
                let spot = self.price as i128 + self.conf as i128;
                let ema = self.ema_price as i128 + self.ema_conf as i128;
                spot.max(ema)
            }
            Requirement::Maintenance => self.price as i128,
        }
    }
}

/// Acceptance limits for a reserve's oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OracleLimits {
    /// The feed id the reserve was configured with.
    pub feed_id: [u8; 32],
    /// Oldest acceptable price, seconds between `publish_time` and now.
    pub max_age_secs: u64,
    /// Widest acceptable confidence, bps of the spot price.
    pub max_conf_bps: u16,
}

/// Validates `update` against `limits` at unix time `now` (seconds).
///
/// Errors, in the order checked: [`BallastError::OracleFeedMismatch`] (feed id),
/// [`BallastError::OracleNotFullyVerified`] (verification level below Full),
/// [`BallastError::OracleInvalidPrice`] (spot or EMA not positive),
/// [`BallastError::OracleStale`] (`now - publish_time > max_age_secs`; a
/// publish time ahead of `now` counts as age 0),
/// [`BallastError::OracleConfidenceTooWide`] (`conf > max_conf_bps * price`).
// On every health check's path: inlined whatever its other call sites
// (called, the health helpers cost ~240 CU more a position: README).
#[inline(always)]
pub fn validate_price(
    update: &PriceUpdateV2,
    limits: &OracleLimits,
    now: i64,
) -> Result<OraclePrice> {
    let m = &update.price_message;
    require!(
        m.feed_id == limits.feed_id,
        BallastError::OracleFeedMismatch
    );
    require!(
        matches!(update.verification_level, VerificationLevel::Full),
        BallastError::OracleNotFullyVerified
    );
    require!(
        m.price > 0 && m.ema_price > 0,
        BallastError::OracleInvalidPrice
    );
    let age = now.saturating_sub(m.publish_time).max(0) as u64;
    require!(age <= limits.max_age_secs, BallastError::OracleStale);
    // conf / price <= max_conf_bps / 10,000, in integers (no rounding).
    require!(
        (m.conf as u128) * (BPS as u128) <= (limits.max_conf_bps as u128) * (m.price as u128),
        BallastError::OracleConfidenceTooWide
    );
    Ok(OraclePrice {
        price: m.price,
        conf: m.conf,
        ema_price: m.ema_price,
        ema_conf: m.ema_conf,
        exponent: m.exponent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyth_solana_receiver_sdk::price_update::PriceFeedMessage;

    fn update(price: i64, conf: u64, publish_time: i64, level: VerificationLevel) -> PriceUpdateV2 {
        PriceUpdateV2 {
            write_authority: Pubkey::default(),
            verification_level: level,
            price_message: PriceFeedMessage {
                feed_id: [7; 32],
                price,
                conf,
                exponent: -8,
                publish_time,
                prev_publish_time: publish_time - 1,
                ema_price: price,
                ema_conf: conf,
            },
            posted_slot: 0,
        }
    }

    const LIMITS: OracleLimits = OracleLimits {
        feed_id: [7; 32],
        max_age_secs: 60,
        max_conf_bps: 200,
    };

    fn code(r: Result<OraclePrice>) -> u32 {
        match r {
            Err(Error::AnchorError(e)) => e.error_code_number,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn err(e: BallastError) -> u32 {
        anchor_lang::error::ERROR_CODE_OFFSET + e as u32
    }

    #[test]
    fn accepts_a_fresh_tight_full_price() {
        let p = validate_price(
            &update(2_000_000_000, 40_000_000, 1_000, VerificationLevel::Full),
            &LIMITS,
            1_060,
        )
        .unwrap();
        assert_eq!(p.price, 2_000_000_000);
    }

    #[test]
    fn each_failure_has_its_own_error() {
        let full = VerificationLevel::Full;
        let mut wrong_feed = update(2_000_000_000, 0, 1_000, full);
        wrong_feed.price_message.feed_id = [8; 32];
        assert_eq!(
            code(validate_price(&wrong_feed, &LIMITS, 1_000)),
            err(BallastError::OracleFeedMismatch)
        );
        let partial = update(
            2_000_000_000,
            0,
            1_000,
            VerificationLevel::Partial { num_signatures: 5 },
        );
        assert_eq!(
            code(validate_price(&partial, &LIMITS, 1_000)),
            err(BallastError::OracleNotFullyVerified)
        );
        assert_eq!(
            code(validate_price(&update(0, 0, 1_000, full), &LIMITS, 1_000)),
            err(BallastError::OracleInvalidPrice)
        );
        assert_eq!(
            code(validate_price(
                &update(2_000_000_000, 0, 1_000, full),
                &LIMITS,
                1_061
            )),
            err(BallastError::OracleStale)
        );
        // 2% of $20 = $0.40 is the limit; one unit more is refused.
        assert_eq!(
            code(validate_price(
                &update(2_000_000_000, 40_000_001, 1_000, full),
                &LIMITS,
                1_000
            )),
            err(BallastError::OracleConfidenceTooWide)
        );
    }

    #[test]
    fn future_publish_time_counts_as_fresh() {
        assert!(validate_price(
            &update(1, 0, 2_000, VerificationLevel::Full),
            &LIMITS,
            1_000
        )
        .is_ok());
    }
}
