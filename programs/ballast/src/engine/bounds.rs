//! The ranges the program accepts for every configuration value, as
//! constants: the validators (`state::ReserveConfig::validate`,
//! [`super::liquidation::LiquidationConfig::validate`],
//! [`super::liquidity::LiquidityConfig::validate`],
//! [`super::risk::RiskConfig::validate`], [`super::rates::RateCurve::validate`])
//! check against them, and off-chain tools (the keeper's market definitions)
//! can name the same ranges instead of copying their numbers.
//!
//! Ranges are inclusive (`start()..=end()`). Relations between fields
//! (LTV below the liquidation threshold, `bonus_min <= bonus_max`, the
//! buffer band's order, the Initial curve stricter than the Maintenance one,
//! ...) are checked by the validators and stated in their docs.

use core::ops::RangeInclusive;

use super::fx::BPS;
use super::rates::{MAX_BORROW_RATE_BPS, MAX_CURVE_POINTS, SECONDS_PER_YEAR};

/// 10,000 bps (one) as a `u16`.
pub const ONE_BPS_U16: u16 = BPS as u16;

/// Any share of a whole, bps: `0..=10,000`.
pub const SHARE_BPS: RangeInclusive<u16> = 0..=ONE_BPS_U16;

// ---- Reserve configuration (`ReserveConfig`) ----

/// Longest acceptable oracle max age, seconds (one day).
pub const MAX_ORACLE_AGE_SECS: u32 = 86_400;
/// `oracle_max_age_secs`: 1 s to one day.
pub const ORACLE_MAX_AGE_SECS: RangeInclusive<u32> = 1..=MAX_ORACLE_AGE_SECS;
/// `oracle_max_conf_bps`: 1..=10,000 bps of the price.
pub const ORACLE_MAX_CONF_BPS: RangeInclusive<u16> = 1..=ONE_BPS_U16;
/// Static `liquidation_threshold_bps`: below 10,000 (and above the LTV,
/// which is at least 0, so at least 1).
pub const LIQUIDATION_THRESHOLD_BPS: RangeInclusive<u16> = 1..=ONE_BPS_U16 - 1;
/// Highest borrow factor: 50,000 bps (5x).
pub const MAX_BORROW_FACTOR_BPS: u32 = 50_000;
/// Static `borrow_factor_bps`: 10,000..=50,000 (1x to 5x).
pub const BORROW_FACTOR_BPS: RangeInclusive<u32> = (BPS as u32)..=MAX_BORROW_FACTOR_BPS;
/// `reserve_factor_bps`: 0..=10,000.
pub const RESERVE_FACTOR_BPS: RangeInclusive<u16> = SHARE_BPS;
/// `max_utilization_bps`: 1..=10,000.
pub const MAX_UTILIZATION_BPS: RangeInclusive<u16> = 1..=ONE_BPS_U16;

// ---- Rate curve (`RateCurve`) ----

/// Number of curve points: 2..=11 (the first at 0, the last at 10,000 bps
/// utilisation).
pub const RATE_CURVE_POINTS: RangeInclusive<usize> = 2..=MAX_CURVE_POINTS;
/// A curve point's utilisation, bps: 0..=10,000.
pub const CURVE_UTILIZATION_BPS: RangeInclusive<u16> = SHARE_BPS;
/// A curve point's borrow APR, bps: 0..=100,000 (1,000% a year).
pub const CURVE_BORROW_RATE_BPS: RangeInclusive<u32> = 0..=MAX_BORROW_RATE_BPS;

// ---- Liquidation (`LiquidationConfig`) ----

/// `close_factor_bps`: 1..=10,000.
pub const CLOSE_FACTOR_BPS: RangeInclusive<u16> = 1..=ONE_BPS_U16;
/// `full_liquidation_health_bps`: 0..=10,000.
pub const FULL_LIQUIDATION_HEALTH_BPS: RangeInclusive<u16> = SHARE_BPS;
/// Greatest liquidation bonus, bps (50%).
pub const MAX_LIQUIDATION_BONUS_BPS: u16 = 5_000;
/// `bonus_min_bps` and `bonus_max_bps`: 0..=5,000 (and min <= max).
pub const LIQUIDATION_BONUS_BPS: RangeInclusive<u16> = 0..=MAX_LIQUIDATION_BONUS_BPS;
/// `protocol_bonus_share_bps`: 0..=10,000.
pub const PROTOCOL_BONUS_SHARE_BPS: RangeInclusive<u16> = SHARE_BPS;

// ---- Liquidity (`LiquidityConfig`) ----

/// `buffer_min_bps`, `buffer_target_bps`, `buffer_max_bps` (in that order),
/// `rehypothecation_cap_bps`, `stress_outflow_bps`: 0..=10,000.
pub const LIQUIDITY_BPS: RangeInclusive<u16> = SHARE_BPS;

// ---- Dynamic risk (`RiskConfig`) ----

/// `horizon_secs`: 1 s to one 365-day year.
pub const RISK_HORIZON_SECS: RangeInclusive<u32> = 1..=SECONDS_PER_YEAR as u32;
/// The Initial curve's `max_bps`: below 10,000, so the LTV stays positive.
pub const INITIAL_HAIRCUT_MAX_BPS: RangeInclusive<u16> = 0..=ONE_BPS_U16 - 1;
/// `max_lt_step_bps` and `max_ltv_step_bps`: at least 1.
pub const RISK_STEP_BPS: RangeInclusive<u16> = 1..=u16::MAX;
/// Least `min_update_interval_secs`: 60 s. The interval is what the step
/// bounds are counted per (one step of liquidation threshold and borrow
/// factor per interval, by pushes or by staleness decay); at 0 a risk
/// authority could chain pushes in one transaction and every step bound would
/// be void. One minute is far below any useful push cadence (the keeper
/// estimates from hourly samples) and still bounds a runaway signer to 60
/// steps an hour.
pub const MIN_UPDATE_INTERVAL_FLOOR_SECS: u32 = 60;
/// `min_update_interval_secs`: at least 60 s (and below `max_age_secs`).
pub const RISK_MIN_UPDATE_INTERVAL_SECS: RangeInclusive<u32> =
    MIN_UPDATE_INTERVAL_FLOOR_SECS..=u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_hold_the_documented_numbers() {
        assert_eq!(ORACLE_MAX_AGE_SECS, 1..=86_400);
        assert_eq!(LIQUIDATION_THRESHOLD_BPS, 1..=9_999);
        assert_eq!(BORROW_FACTOR_BPS, 10_000..=50_000);
        assert_eq!(RATE_CURVE_POINTS, 2..=11);
        assert_eq!(CURVE_BORROW_RATE_BPS, 0..=100_000);
        assert_eq!(LIQUIDATION_BONUS_BPS, 0..=5_000);
        assert_eq!(RISK_HORIZON_SECS, 1..=31_536_000);
        assert_eq!(INITIAL_HAIRCUT_MAX_BPS, 0..=9_999);
        assert_eq!(RISK_MIN_UPDATE_INTERVAL_SECS, 60..=u32::MAX);
    }
}
