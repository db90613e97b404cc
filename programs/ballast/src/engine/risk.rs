//! Dynamic collateral requirements: haircuts derived from an annualised
//! volatility, and the on-chain bounds on every volatility push.
//!
//! ## Formula
//!
//! Parametric (Gaussian) value-at-risk over the liquidation horizon: if an
//! asset's log return over `h` seconds is `N(0, sigma^2 * h / year)`, the
//! loss not exceeded with confidence `Phi(z)` is about
//! `z * sigma * sqrt(h / year)` (RiskMetrics, 1996; the same square-root-of-
//! time scaling as Basel's 10-day VaR). A haircut covers that loss plus a
//! base margin, within the admin's bounds:
//!
//! ```text
//! haircut = clamp(base + z * sigma * sqrt(horizon / year), min, max)
//! LTV  = 1 - haircut(initial)        LT = 1 - haircut(maintenance)
//! borrow factor = 1 + haircut(borrow)            (z_initial > z_maintenance)
//! ```
//!
//! Units: `sigma` annualised (1.0 = 100% a year) as `Fx`; `base`, `min`,
//! `max` and the results in bps; `z` in thousandths (2,330 = 2.33);
//! `horizon` in seconds; `year` = 31,536,000 s. Haircuts round up, so LTV and
//! LT round down and the borrow factor rounds up (in the protocol's favour).
//!
//! ## Bounds on a push (`update_volatility`)
//!
//! * `sigma_min <= sigma <= sigma_max`;
//! * at least `min_update_interval_secs` since the last push;
//! * the liquidation threshold, and the borrow factor, move at most
//!   `max_lt_step_bps` per push, so one push cannot liquidate a crowd;
//! * LTV may tighten at once (that liquidates no one) but loosens at most
//!   `max_ltv_step_bps` per push;
//! * past `max_age_secs` without a push the reserve uses its most
//!   conservative values (the `max` haircuts) until a fresh push.
//!
//! Steps are measured from the values the last push set (staleness overrides
//! them only when read); the first push, from the conservative start, can
//! only loosen and is bounded by `[sigma_min, sigma_max]` alone. The whole
//! rule is [`accept_push`]: `update_volatility` applies it, and the keeper's
//! push policy asks it which volatility a push may carry.
//!
//! A compromised or broken keeper can therefore move parameters only slowly
//! and within the admin's bounds.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::bounds;
use super::fx::*;
use super::rates::SECONDS_PER_YEAR;
use super::safe_math::{checked, SafeCast, SafeMath};
use crate::errors::{check_field, BallastError};

/// Risk policy of a reserve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RiskPolicy {
    /// Fixed LTV, liquidation threshold and borrow factor from the reserve
    /// configuration (the baseline the replay compares against).
    Static = 0,
    /// Values derived from the volatility the risk authority pushes.
    Dynamic = 1,
}

/// One haircut curve: `clamp(base + z * sigma * sqrt(horizon / year), min, max)`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct HaircutCurve {
    /// Base haircut, bps.
    pub base_bps: u16,
    /// Least haircut, bps.
    pub min_bps: u16,
    /// Greatest haircut, bps (< 10,000 for collateral sides).
    pub max_bps: u16,
    /// Padding; zero.
    pub _padding: u16,
    /// Confidence multiplier in thousandths (2,330 = 2.33, about 99%).
    pub z_milli: u32,
}

/// The admin's configuration of dynamic collateral requirements (part of the
/// reserve configuration). Ignored under [`RiskPolicy::Static`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize)]
#[repr(C)]
pub struct RiskConfig {
    /// Lowest volatility a push may set (annualised, `Fx`).
    pub sigma_min: WrappedFx,
    /// Highest volatility a push may set (annualised, `Fx`).
    pub sigma_max: WrappedFx,
    /// Haircut giving the LTV (Initial requirement).
    pub initial: HaircutCurve,
    /// Haircut giving the liquidation threshold (Maintenance requirement).
    pub maintenance: HaircutCurve,
    /// Haircut added to 1 for the borrow factor of debt in this reserve.
    pub borrow: HaircutCurve,
    /// Liquidation horizon, seconds (1..=31,536,000).
    pub horizon_secs: u32,
    /// Least time between two pushes, seconds.
    pub min_update_interval_secs: u32,
    /// Age of the last push after which the most conservative values apply,
    /// seconds (> `min_update_interval_secs`).
    pub max_age_secs: u32,
    /// Largest move of the liquidation threshold (and of the borrow factor)
    /// per push, bps (>= 1).
    pub max_lt_step_bps: u16,
    /// Largest loosening of the LTV per push, bps (>= 1).
    pub max_ltv_step_bps: u16,
    /// [`RiskPolicy`] as `u8`.
    pub policy: u8,
    /// Padding; zero.
    pub _padding: [u8; 7],
}

impl RiskConfig {
    /// The policy (unknown values read as static).
    pub fn policy(&self) -> RiskPolicy {
        if self.policy == RiskPolicy::Dynamic as u8 {
            RiskPolicy::Dynamic
        } else {
            RiskPolicy::Static
        }
    }

    /// Checks the configuration of a dynamic policy (a static one only needs
    /// a valid `policy` byte and zero padding). Errors:
    /// [`BallastError::InvalidRiskConfig`].
    pub fn validate(&self) -> Result<()> {
        let f = |ok, field| check_field(ok, field, BallastError::InvalidRiskConfig);
        f(self.policy <= 1, "risk.policy")?;
        f(self._padding == [0; 7], "risk._padding")?;
        if self.policy() == RiskPolicy::Static {
            return Ok(());
        }
        let (lo, hi) = (self.sigma_min.get(), self.sigma_max.get());
        f(lo >= FX_ZERO && lo <= hi, "risk.sigma_min")?;
        for (c, min, pad) in [
            (
                &self.initial,
                "risk.initial.min_bps",
                "risk.initial._padding",
            ),
            (
                &self.maintenance,
                "risk.maintenance.min_bps",
                "risk.maintenance._padding",
            ),
            (&self.borrow, "risk.borrow.min_bps", "risk.borrow._padding"),
        ] {
            f(c.min_bps <= c.max_bps, min)?;
            f(c._padding == 0, pad)?;
        }
        // Collateral haircuts leave a positive weight.
        f(
            bounds::INITIAL_HAIRCUT_MAX_BPS.contains(&self.initial.max_bps),
            "risk.initial.max_bps",
        )?;
        // Initial is stricter than Maintenance at every sigma.
        let (i, m) = (&self.initial, &self.maintenance);
        f(i.z_milli > m.z_milli, "risk.initial.z_milli")?;
        f(i.base_bps >= m.base_bps, "risk.initial.base_bps")?;
        f(i.min_bps >= m.min_bps, "risk.initial.min_bps")?;
        f(i.max_bps >= m.max_bps, "risk.initial.max_bps")?;
        f(
            bounds::RISK_HORIZON_SECS.contains(&self.horizon_secs),
            "risk.horizon_secs",
        )?;
        f(
            self.max_age_secs > self.min_update_interval_secs,
            "risk.max_age_secs",
        )?;
        f(
            bounds::RISK_STEP_BPS.contains(&self.max_lt_step_bps),
            "risk.max_lt_step_bps",
        )?;
        f(
            bounds::RISK_STEP_BPS.contains(&self.max_ltv_step_bps),
            "risk.max_ltv_step_bps",
        )
    }

    /// `sqrt(horizon / year)` rounded up (stored at configuration time so a
    /// push does not take a square root).
    pub fn sqrt_horizon(&self) -> Result<Fx> {
        sqrt_ceil(fx_u64(self.horizon_secs as u64).div_int_ceil(SECONDS_PER_YEAR as i128)?)
    }

    /// The most conservative values: every haircut at its `max`.
    pub fn conservative(&self) -> RiskParams {
        RiskParams {
            ltv_bps: (BPS as u16).saturating_sub(self.initial.max_bps),
            liquidation_threshold_bps: (BPS as u16).saturating_sub(self.maintenance.max_bps),
            borrow_factor_bps: BPS as u32 + self.borrow.max_bps as u32,
        }
    }

    /// The values derived from `sigma` (annualised) with `sqrt_horizon` from
    /// [`RiskConfig::sqrt_horizon`], before any step limit.
    pub fn derive(&self, sigma: Fx, sqrt_horizon: Fx) -> Result<RiskParams> {
        let one = BPS as u16;
        Ok(RiskParams {
            ltv_bps: one.safe_sub(haircut_bps(&self.initial, sigma, sqrt_horizon)?)?,
            liquidation_threshold_bps: one.safe_sub(haircut_bps(
                &self.maintenance,
                sigma,
                sqrt_horizon,
            )?)?,
            borrow_factor_bps: BPS as u32 + haircut_bps(&self.borrow, sigma, sqrt_horizon)? as u32,
        })
    }

    /// The values a push of `target` (from [`RiskConfig::derive`]) leaves,
    /// given the current `old` ones, or the bound it breaks:
    /// [`BallastError::LiquidationThresholdStepTooLarge`] when the liquidation
    /// threshold or the borrow factor would move more than `max_lt_step_bps`,
    /// [`BallastError::LtvStepTooLarge`] when the LTV would loosen more than
    /// `max_ltv_step_bps`. The LTV is kept at or below the liquidation
    /// threshold.
    pub fn step(&self, old: RiskParams, target: RiskParams) -> Result<RiskParams> {
        let lt_step = self.max_lt_step_bps as u32;
        require!(
            (target.liquidation_threshold_bps as i32 - old.liquidation_threshold_bps as i32)
                .unsigned_abs()
                <= lt_step,
            BallastError::LiquidationThresholdStepTooLarge
        );
        require!(
            (target.borrow_factor_bps as i64 - old.borrow_factor_bps as i64).unsigned_abs()
                <= lt_step as u64,
            BallastError::LiquidationThresholdStepTooLarge
        );
        require!(
            target.ltv_bps <= old.ltv_bps.saturating_add(self.max_ltv_step_bps),
            BallastError::LtvStepTooLarge
        );
        Ok(RiskParams {
            ltv_bps: target.ltv_bps.min(target.liquidation_threshold_bps),
            ..target
        })
    }
}

/// The dynamic-collateral state of a reserve, written by `update_volatility`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct RiskState {
    /// Last pushed volatility, annualised (`Fx`, 1.0 = 100%).
    pub sigma: WrappedFx,
    /// `sqrt(horizon / year)` of the current configuration, rounded up.
    pub sqrt_horizon: WrappedFx,
    /// Unix time of the last push, seconds; 0 before the first.
    pub last_push_ts: i64,
    /// LTV, liquidation threshold and borrow factor set by the last push.
    pub params: RiskParams,
}

/// The acceptance rule of a volatility push (`update_volatility`): the
/// values that pushing `sigma` (annualised) at unix time `now` leaves in
/// force on a reserve with dynamic configuration `cfg` and state `state`, or
/// the bound the push breaks. The step bounds are measured from the values
/// the last push set (`state.params`; staleness only overrides them when
/// they are read); the first push (`state.last_push_ts == 0`) is bounded by
/// `[sigma_min, sigma_max]` alone. Writes nothing: the caller records the
/// push ([`RiskState`]'s `sigma`, `params`, `last_push_ts`).
///
/// Errors, in the order checked: [`BallastError::VolatilityNotEnabled`]
/// (static policy), [`BallastError::SigmaOutOfBounds`],
/// [`BallastError::VolatilityUpdateTooSoon`] (less than
/// `min_update_interval_secs` since the last push), then those of
/// [`RiskConfig::step`] ([`BallastError::LiquidationThresholdStepTooLarge`],
/// [`BallastError::LtvStepTooLarge`]) and [`BallastError::MathOverflow`].
pub fn accept_push(cfg: &RiskConfig, state: &RiskState, sigma: Fx, now: i64) -> Result<RiskParams> {
    require!(
        cfg.policy() == RiskPolicy::Dynamic,
        BallastError::VolatilityNotEnabled
    );
    require!(
        sigma >= cfg.sigma_min.get() && sigma <= cfg.sigma_max.get(),
        BallastError::SigmaOutOfBounds
    );
    let last = state.last_push_ts;
    require!(
        last == 0 || now.saturating_sub(last) >= cfg.min_update_interval_secs as i64,
        BallastError::VolatilityUpdateTooSoon
    );
    let target = cfg.derive(sigma, state.sqrt_horizon.get())?;
    if last == 0 {
        Ok(target)
    } else {
        cfg.step(state.params, target)
    }
}

/// LTV, liquidation threshold and borrow factor, bps.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct RiskParams {
    /// Loan-to-value, bps.
    pub ltv_bps: u16,
    /// Liquidation threshold, bps.
    pub liquidation_threshold_bps: u16,
    /// Borrow factor, bps (>= 10,000).
    pub borrow_factor_bps: u32,
}

/// `clamp(base + z * sigma * sqrt_horizon, min, max)` in bps, rounded up.
pub fn haircut_bps(c: &HaircutCurve, sigma: Fx, sqrt_horizon: Fx) -> Result<u16> {
    // z * sigma * sqrt_h in bps: sigma * sqrt_h * z_milli * 10,000 / 1,000.
    let var = sigma
        .mul_ceil(sqrt_horizon)?
        .mul_div_int_ceil(c.z_milli as i128 * 10, 1)?;
    let raw = fx_u64(c.base_bps as u64).add_(var)?;
    let capped: u16 = raw.min(fx_u64(c.max_bps as u64)).to_ceil_u64()?.cast()?;
    Ok(capped.clamp(c.min_bps, c.max_bps))
}

/// `sqrt(x)` for `x >= 0`, rounded up.
pub fn sqrt_ceil(x: Fx) -> Result<Fx> {
    let s = checked(x.checked_sqrt())?;
    if s.mul_floor(s)? < x {
        s.add_(Fx::DELTA)
    } else {
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An aggressive-but-plausible SOL config: 1-day horizon, LTV haircut
    /// 5% + 2.33 sigma sqrt(h), in [15%, 60%]; LT haircut 2% + 1.65 sigma
    /// sqrt(h), in [10%, 55%]; borrow factor 1 + 0..50%.
    pub fn sol() -> RiskConfig {
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

    #[test]
    fn sqrt_horizon_of_one_day() {
        let s = sol().sqrt_horizon().unwrap();
        let exact = (86_400f64 / 31_536_000f64).sqrt();
        assert!(s.to_num::<f64>() >= exact && s.to_num::<f64>() - exact < 1e-13);
        assert!(sqrt_ceil(Fx::from_num(4)).unwrap() == Fx::from_num(2));
    }

    #[test]
    fn formula_at_zero_huge_and_moderate_sigma() {
        let c = sol();
        let sh = c.sqrt_horizon().unwrap();
        // sigma = 0: every haircut at max(base, min).
        let p = c.derive(FX_ZERO, sh).unwrap();
        assert_eq!(
            p,
            RiskParams {
                ltv_bps: 8_500,
                liquidation_threshold_bps: 9_000,
                borrow_factor_bps: 10_000
            }
        );
        // Huge sigma: every haircut at its max.
        let p = c.derive(Fx::from_num(1_000), sh).unwrap();
        assert_eq!(p, c.conservative());
        assert_eq!(
            p,
            RiskParams {
                ltv_bps: 4_000,
                liquidation_threshold_bps: 4_500,
                borrow_factor_bps: 15_000
            }
        );
        // sigma = 100%: sqrt(1/365) = 0.052342: initial 500 + 2.33 * 523.42 = 1719.6 -> 1720 bps.
        let p = c.derive(FX_ONE, sh).unwrap();
        assert_eq!(p.ltv_bps, 10_000 - 1_720);
        // maintenance 200 + 1.65 * 523.42 = 1063.6 -> 1064; borrow 523.4 -> 524.
        assert_eq!(p.liquidation_threshold_bps, 10_000 - 1_064);
        assert_eq!(p.borrow_factor_bps, 10_524);
    }

    #[test]
    fn each_clamp_binds() {
        let c = sol();
        let sh = c.sqrt_horizon().unwrap();
        let f = |s: f64| haircut_bps(&c.initial, Fx::from_num(s), sh).unwrap();
        assert_eq!(f(0.0), 1_500, "min binds");
        assert_eq!(f(10.0), 6_000, "max binds");
        let mut no_min = c.initial;
        no_min.min_bps = 0;
        assert_eq!(
            haircut_bps(&no_min, FX_ZERO, sh).unwrap(),
            500,
            "base alone"
        );
    }

    #[test]
    fn derived_values_are_monotone_in_sigma() {
        let c = sol();
        let sh = c.sqrt_horizon().unwrap();
        let mut prev = c.derive(FX_ZERO, sh).unwrap();
        for i in 1..=500 {
            let p = c.derive(Fx::from_num(i as f64 * 0.02), sh).unwrap();
            assert!(
                p.ltv_bps <= prev.ltv_bps
                    && p.liquidation_threshold_bps <= prev.liquidation_threshold_bps
            );
            assert!(p.borrow_factor_bps >= prev.borrow_factor_bps);
            assert!(p.ltv_bps <= p.liquidation_threshold_bps);
            prev = p;
        }
    }

    #[test]
    fn steps_are_bounded() {
        let c = sol();
        let old = RiskParams {
            ltv_bps: 8_000,
            liquidation_threshold_bps: 8_500,
            borrow_factor_bps: 10_500,
        };
        // Tightening LTV at once is fine; LT within a step.
        let t = RiskParams {
            ltv_bps: 6_000,
            liquidation_threshold_bps: 8_400,
            borrow_factor_bps: 10_600,
        };
        assert_eq!(c.step(old, t).unwrap(), t);
        let code = |r: Result<RiskParams>| match r {
            Err(Error::AnchorError(e)) => e.error_code_number,
            other => panic!("{other:?}"),
        };
        let err = |e: BallastError| anchor_lang::error::ERROR_CODE_OFFSET + e as u32;
        let lt_jump = RiskParams {
            liquidation_threshold_bps: 8_399,
            ..old
        };
        assert_eq!(
            code(c.step(old, lt_jump)),
            err(BallastError::LiquidationThresholdStepTooLarge)
        );
        let bf_jump = RiskParams {
            borrow_factor_bps: 10_601,
            ..old
        };
        assert_eq!(
            code(c.step(old, bf_jump)),
            err(BallastError::LiquidationThresholdStepTooLarge)
        );
        let ltv_loosen = RiskParams {
            ltv_bps: 8_201,
            ..old
        };
        assert_eq!(
            code(c.step(old, ltv_loosen)),
            err(BallastError::LtvStepTooLarge)
        );
        assert!(c
            .step(
                old,
                RiskParams {
                    ltv_bps: 8_200,
                    ..old
                }
            )
            .is_ok());
    }

    #[test]
    fn push_acceptance_checks_in_order_and_frees_the_first_push() {
        let c = sol();
        let sh = c.sqrt_horizon().unwrap();
        let code = |r: Result<RiskParams>| match r {
            Err(Error::AnchorError(e)) => e.error_code_number,
            other => panic!("{other:?}"),
        };
        let err = |e: BallastError| anchor_lang::error::ERROR_CODE_OFFSET + e as u32;
        let fresh = RiskState {
            sqrt_horizon: sh.into(),
            ..Default::default()
        };
        // The first push may jump straight to any target within the bounds.
        let first = accept_push(&c, &fresh, Fx::from_num(0.1), 1_000).unwrap();
        assert_eq!(first, c.derive(Fx::from_num(0.1), sh).unwrap());
        let pushed = RiskState {
            last_push_ts: 1_000,
            params: first,
            ..fresh
        };
        assert_eq!(
            code(accept_push(&c, &pushed, Fx::from_num(6), 1_000)),
            err(BallastError::SigmaOutOfBounds),
            "bounds before the interval"
        );
        assert_eq!(
            code(accept_push(&c, &pushed, Fx::from_num(0.1), 1_599)),
            err(BallastError::VolatilityUpdateTooSoon)
        );
        assert_eq!(
            code(accept_push(&c, &pushed, Fx::from_num(5), 1_600)),
            err(BallastError::LiquidationThresholdStepTooLarge),
            "later pushes are stepped"
        );
        assert!(accept_push(&c, &pushed, Fx::from_num(0.1), 1_600).is_ok());
        let mut static_cfg = c;
        static_cfg.policy = RiskPolicy::Static as u8;
        assert_eq!(
            code(accept_push(&static_cfg, &pushed, Fx::from_num(6), 0)),
            err(BallastError::VolatilityNotEnabled),
            "the policy first"
        );
    }

    #[test]
    fn config_validation() {
        assert!(sol().validate().is_ok());
        let mut c = sol();
        c.initial.z_milli = c.maintenance.z_milli;
        assert!(c.validate().is_err(), "z_initial must exceed z_maintenance");
        let mut c = sol();
        c.sigma_min = WrappedFx::new(Fx::from_num(6));
        assert!(c.validate().is_err());
        let mut c = sol();
        c.max_age_secs = c.min_update_interval_secs;
        assert!(c.validate().is_err());
        let mut c = sol();
        c.initial.max_bps = 10_000;
        assert!(c.validate().is_err());
        let mut c = sol();
        c.policy = 2;
        assert!(c.validate().is_err());
        let mut c = sol();
        c.policy = RiskPolicy::Static as u8;
        c.initial.z_milli = 0;
        assert!(c.validate().is_ok(), "static ignores the curves");
    }
}
