//! Example configurations shared by the tests, the benches and the keeper's
//! tests, so that they all stand on the same numbers instead of keeping
//! copies that drift apart.
//!
//! Compiled only for this crate's own tests and with the `test-fixtures`
//! feature, which the dev-dependencies of the other crates enable (the
//! program itself never carries it). Each fixture is a plain value; a test
//! that needs a variant overrides fields at the call site:
//!
//! ```text
//! let config = ReserveConfig {
//!     loan_to_value_bps: 5_000,
//!     risk: RiskConfig {
//!         max_lt_step_bps: 5_000,
//!         ..fixtures::sol_risk()
//!     },
//!     ..fixtures::reserve_config([0; 32])
//! };
//! ```

use bytemuck::Zeroable;

use crate::engine::fx::{Fx, WrappedFx};
use crate::engine::liquidity::LiquidityConfig;
use crate::engine::rates::RateCurve;
use crate::engine::risk::{HaircutCurve, RiskConfig, RiskPolicy};
use crate::state::ReserveConfig;

/// The Compound III-like borrow curve: 0.5% APR at 0 utilisation, 8.5% at
/// the 80% kink, 68.5% at 100% (base 0.5%, slopes 0.1 and 3).
pub fn rate_curve() -> RateCurve {
    RateCurve::from_points(&[(0, 50), (8_000, 850), (10_000, 6_850)])
}

/// A reserve under the static policy reading the Pyth feed `feed_id`: LTV
/// 75%, liquidation threshold 80%, borrow factor 1, reserve factor 10%, max
/// utilisation 95%, oracle max age 60 s and max confidence 2%, caps of
/// `u64::MAX / 4`, the [`rate_curve`], no dynamic risk configuration and no
/// buffer band or outflow limiter (every other field zero).
pub fn reserve_config(feed_id: [u8; 32]) -> ReserveConfig {
    ReserveConfig {
        oracle_feed_id: feed_id,
        deposit_cap: u64::MAX / 4,
        borrow_cap: u64::MAX / 4,
        oracle_max_age_secs: 60,
        borrow_factor_bps: 10_000,
        oracle_max_conf_bps: 200,
        loan_to_value_bps: 7_500,
        liquidation_threshold_bps: 8_000,
        reserve_factor_bps: 1_000,
        max_utilization_bps: 9_500,
        rate_curve: rate_curve(),
        ..ReserveConfig::zeroed()
    }
}

/// An aggressive-but-plausible dynamic configuration for SOL: 1-day
/// horizon; LTV haircut 5% + 2.33 sigma sqrt(h) in [15%, 60%]; liquidation
/// threshold haircut 2% + 1.65 sigma sqrt(h) in [10%, 55%]; borrow factor
/// 1 + sigma sqrt(h) in [0, 50%]; sigma in [0.1, 5]; pushes at least 10 min
/// apart, stale after 2 h; the liquidation threshold (and borrow factor)
/// moves at most 1% per push and the LTV loosens at most 2% per push.
pub fn sol_risk() -> RiskConfig {
    RiskConfig {
        sigma_min: WrappedFx::new(Fx::from_num(0.1)),
        sigma_max: WrappedFx::new(Fx::from_num(5)),
        initial: HaircutCurve {
            base_bps: 500,
            min_bps: 1_500,
            max_bps: 6_000,
            _padding: 0,
            z_milli: 2_330,
        },
        maintenance: HaircutCurve {
            base_bps: 200,
            min_bps: 1_000,
            max_bps: 5_500,
            _padding: 0,
            z_milli: 1_650,
        },
        borrow: HaircutCurve {
            base_bps: 0,
            min_bps: 0,
            max_bps: 5_000,
            _padding: 0,
            z_milli: 1_000,
        },
        horizon_secs: 86_400,
        min_update_interval_secs: 600,
        max_age_secs: 7_200,
        max_lt_step_bps: 100,
        max_ltv_step_bps: 200,
        policy: RiskPolicy::Dynamic as u8,
        _padding: [0; 7],
    }
}

/// A buffer band: the liquid share of deposits is kept between 10% and 30%
/// (target 20%), at most 50% of deposits may be deployed to the treasury
/// strategy, and the liquidity coverage stresses a 25% run; no outflow
/// limiter.
pub fn buffered_liquidity() -> LiquidityConfig {
    LiquidityConfig {
        buffer_min_bps: 1_000,
        buffer_target_bps: 2_000,
        buffer_max_bps: 3_000,
        rehypothecation_cap_bps: 5_000,
        stress_outflow_bps: 2_500,
        ..LiquidityConfig::default()
    }
}
