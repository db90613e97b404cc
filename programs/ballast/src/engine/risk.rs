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
//! * `min_update_interval_secs` is at least
//!   [`bounds::MIN_UPDATE_INTERVAL_FLOOR_SECS`] (60 s).
//!
//! ## Staleness decays (no cliff)
//!
//! Past `max_age_secs` without a push, the LTV snaps to its conservative
//! value (that blocks new borrowing and liquidates no one), while the
//! liquidation threshold and the borrow factor move toward their
//! conservative values by `max_lt_step_bps` per whole `min_update_interval`
//! of silence beyond `max_age_secs` ([`params_in_force`]): none in the first
//! interval, then one step per interval, exactly as fast as pushes could
//! move them. A keeper restart or an RPC outage therefore cannot liquidate a
//! crowd in one slot.
//!
//! Pushes tighten in steps from the values in force (decayed), not from the
//! last pushed ones, and not within one interval of a decay step; they
//! loosen in steps from the looser of the values in force and the last
//! pushed ones, so a keeper that comes back may restore what it last pushed
//! ([`accept_push`], [`RiskConfig::step_within`]). Configuration changes go through
//! [`reconfigure`]: the values in force carry over and later moves are
//! stepped. Together these keep, for any `t1 < t2` and whatever the sequence
//! of pushes, silences and configuration changes,
//!
//! ```text
//! LT(t2) >= LT(t1) - max_lt_step * ceil((t2 - t1) / min_update_interval)
//! BF(t2) <= BF(t1) + max_lt_step * ceil((t2 - t1) / min_update_interval)
//! ```
//!
//! (with the largest step and the least interval of the configurations in
//! force between `t1` and `t2`); the property tests below and in
//! `tests/tests/integration/volatility.rs` check it over random sequences.
//!
//! The first push of a reserve created dynamic, from the conservative start,
//! can only loosen and is bounded by `[sigma_min, sigma_max]` alone. The whole
//! rule is [`accept_push`]: `update_volatility` applies it, and the keeper's
//! push policy asks it which volatility a push may carry.
//!
//! A compromised or broken keeper can therefore move parameters only slowly
//! and within the admin's bounds, and so can a keeper that stops.

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
    /// Least time between two pushes, seconds (>= 60,
    /// [`bounds::MIN_UPDATE_INTERVAL_FLOOR_SECS`]); also the period of the
    /// staleness decay.
    pub min_update_interval_secs: u32,
    /// Age of the last push after which the LTV snaps to its conservative
    /// value and the liquidation threshold and borrow factor start decaying
    /// toward theirs, seconds (> `min_update_interval_secs`).
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
            bounds::RISK_MIN_UPDATE_INTERVAL_SECS.contains(&self.min_update_interval_secs),
            "risk.min_update_interval_secs",
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
        self.step_within(old, old, old, target)
    }

    /// [`RiskConfig::step`] with three references: `cur`, the values in
    /// force now (decayed by staleness); `window`, those in force one
    /// `min_update_interval` earlier; `last`, the last pushed (or carried
    /// over) values. Tightening is measured from the loosest of `cur` and
    /// `window`: the liquidation threshold may fall to `max(cur, window) -
    /// step` and the borrow factor rise to `min(cur, window) + step`, so a
    /// push cannot add its step to a decay step taken within the same
    /// interval. Loosening is measured from the looser of `cur` and `last`
    /// (`max` for the liquidation threshold and the LTV, `min` for the borrow
    /// factor), so a keeper that comes back after a silence can restore the
    /// values it last pushed (the same volatility is always accepted) and
    /// loosening stays bounded by one step beyond them. Errors: those of
    /// [`RiskConfig::step`].
    pub fn step_within(
        &self,
        cur: RiskParams,
        window: RiskParams,
        last: RiskParams,
        target: RiskParams,
    ) -> Result<RiskParams> {
        let lt_step = self.max_lt_step_bps as i64;
        let (t_lt, t_bf) = (
            target.liquidation_threshold_bps as i64,
            target.borrow_factor_bps as i64,
        );
        let lt = |p: RiskParams| p.liquidation_threshold_bps as i64;
        let bf = |p: RiskParams| p.borrow_factor_bps as i64;
        require!(
            t_lt >= lt(cur).max(lt(window)) - lt_step && t_lt <= lt(cur).max(lt(last)) + lt_step,
            BallastError::LiquidationThresholdStepTooLarge
        );
        require!(
            t_bf <= bf(cur).min(bf(window)) + lt_step && t_bf >= bf(cur).min(bf(last)) - lt_step,
            BallastError::LiquidationThresholdStepTooLarge
        );
        let ltv_ref = cur.ltv_bps.max(last.ltv_bps);
        require!(
            target.ltv_bps <= ltv_ref.saturating_add(self.max_ltv_step_bps),
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
    /// Unix time of the last push, seconds; 0 before the first. A
    /// configuration change ([`reconfigure`]) may also set it (to the time of
    /// the change), like a push that keeps the values in force.
    pub last_push_ts: i64,
    /// LTV, liquidation threshold and borrow factor set by the last push (or
    /// carried over by [`reconfigure`]).
    pub params: RiskParams,
}

/// Whole `min_update_interval`s of silence beyond `max_age_secs` at `now`
/// for a last push at `last` (> 0): `floor((now - last - max_age) /
/// interval)`, 0 while `now - last <= max_age + interval - 1`.
pub fn decay_steps(cfg: &RiskConfig, last: i64, now: i64) -> i64 {
    let over = now
        .saturating_sub(last)
        .saturating_sub(cfg.max_age_secs as i64);
    if over <= 0 {
        return 0;
    }
    over / (cfg.min_update_interval_secs.max(1) as i64)
}

/// `from` moved toward `to` by at most `by` (>= 0).
fn toward(from: i64, to: i64, by: i64) -> i64 {
    if from > to {
        from.saturating_sub(by).max(to)
    } else {
        from.saturating_add(by).min(to)
    }
}

/// The values the step bounds of a push at `now` are measured from: the last
/// pushed (or carried-over) values with the liquidation threshold and the
/// borrow factor moved toward their conservative values by `max_lt_step_bps`
/// per [`decay_steps`], and the LTV kept at or below the liquidation
/// threshold; the conservative values before the first push
/// (`last_push_ts == 0`). Unlike [`params_in_force`] the LTV does not snap.
/// Exact (integer bps), no rounding; never fails.
pub fn params_decayed(cfg: &RiskConfig, state: &RiskState, now: i64) -> RiskParams {
    let last = state.last_push_ts;
    if last == 0 {
        return cfg.conservative();
    }
    let k = decay_steps(cfg, last, now);
    if k == 0 {
        return state.params;
    }
    let cons = cfg.conservative();
    let by = k.saturating_mul(cfg.max_lt_step_bps as i64);
    let p = state.params;
    // Both ends are within u16 / u32, so the moved values are too.
    let lt = toward(
        p.liquidation_threshold_bps as i64,
        cons.liquidation_threshold_bps as i64,
        by,
    ) as u16;
    let bf = toward(
        p.borrow_factor_bps as i64,
        cons.borrow_factor_bps as i64,
        by,
    ) as u32;
    RiskParams {
        ltv_bps: p.ltv_bps.min(lt),
        liquidation_threshold_bps: lt,
        borrow_factor_bps: bf,
    }
}

/// The LTV, liquidation threshold and borrow factor in force at `now` under
/// the dynamic policy: [`params_decayed`], with the LTV snapped to its
/// conservative value (and kept at or below the liquidation threshold) once
/// the last push is older than `max_age_secs`; the conservative values
/// before the first push. Never fails.
pub fn params_in_force(cfg: &RiskConfig, state: &RiskState, now: i64) -> RiskParams {
    let last = state.last_push_ts;
    let mut p = params_decayed(cfg, state, now);
    if last != 0 && now.saturating_sub(last) > cfg.max_age_secs as i64 {
        p.ltv_bps = p.ltv_bps.min(cfg.conservative().ltv_bps);
    }
    p
}

/// The risk state after a reserve's configuration changes from `old` (with
/// static values `old_static`, the LTV, liquidation threshold and borrow
/// factor of the old reserve configuration) to `new`, at unix time `now`:
///
/// * Static -> Dynamic: the static values stay in force, recorded as if
///   pushed at `now`; later pushes step from them and staleness decays them.
/// * Dynamic -> Dynamic with a changed risk configuration: the values in
///   force under `old` at `now` carry over, recorded at `now` (so new
///   conservative values, a new step or a new interval apply only through
///   bounded steps). A reserve never pushed keeps `last_push_ts == 0` (the
///   new conservative values apply) unless they are tighter than the old
///   ones, in which case the old ones carry over.
/// * Dynamic -> Static: the state is left as is and the admin's static
///   values apply at once, as any change of a static reserve's values does:
///   they are the admin's explicit, signed choice, not a value a keeper or
///   its silence can move; bounding the admin's static changes is a
///   separate decision. The state is kept so a switch back carries the
///   static values (first case).
/// * otherwise (Static -> Static, or an unchanged risk configuration):
///   unchanged.
///
/// Writes nothing; never fails.
pub fn reconfigure(
    old: &RiskConfig,
    old_static: RiskParams,
    new: &RiskConfig,
    state: &RiskState,
    now: i64,
) -> RiskState {
    let anchored = |params: RiskParams| RiskState {
        last_push_ts: now,
        params,
        ..*state
    };
    match (old.policy(), new.policy()) {
        (RiskPolicy::Static, RiskPolicy::Dynamic) => anchored(old_static),
        (RiskPolicy::Dynamic, RiskPolicy::Dynamic) if old != new => {
            if state.last_push_ts != 0 {
                return anchored(params_in_force(old, state, now));
            }
            let (o, n) = (old.conservative(), new.conservative());
            if n.liquidation_threshold_bps < o.liquidation_threshold_bps
                || n.borrow_factor_bps > o.borrow_factor_bps
            {
                anchored(o)
            } else {
                *state
            }
        }
        _ => *state,
    }
}

/// The acceptance rule of a volatility push (`update_volatility`): the
/// values that pushing `sigma` (annualised) at unix time `now` leaves in
/// force on a reserve with dynamic configuration `cfg` and state `state`, or
/// the bound the push breaks. Tightening steps are measured from the values
/// in force, decayed by staleness ([`params_decayed`] at `now`), and from
/// those one `min_update_interval` earlier; loosening steps from the looser
/// of those in force and the last pushed ones ([`RiskConfig::step_within`]); the first push (`state.last_push_ts ==
/// 0`) is bounded by `[sigma_min, sigma_max]` alone. Writes nothing: the
/// caller records the push ([`RiskState`]'s `sigma`, `params`,
/// `last_push_ts`).
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
        return Ok(target);
    }
    let cur = params_decayed(cfg, state, now);
    let window = params_decayed(
        cfg,
        state,
        now.saturating_sub(cfg.min_update_interval_secs as i64),
    );
    cfg.step_within(cur, window, state.params, target)
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

    #[test]
    fn min_update_interval_has_a_floor() {
        let mut c = sol();
        c.min_update_interval_secs = 0;
        assert!(c.validate().is_err(), "0 voids every step bound");
        c.min_update_interval_secs = bounds::MIN_UPDATE_INTERVAL_FLOOR_SECS - 1;
        assert!(c.validate().is_err());
        c.min_update_interval_secs = bounds::MIN_UPDATE_INTERVAL_FLOOR_SECS;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn staleness_decays_one_step_per_interval_and_snaps_only_the_ltv() {
        let c = sol();
        let sh = c.sqrt_horizon().unwrap();
        let pushed = c.derive(FX_ONE, sh).unwrap();
        let st = RiskState {
            sqrt_horizon: sh.into(),
            last_push_ts: 1_000,
            params: pushed,
            ..Default::default()
        };
        let cons = c.conservative();
        let at = |age: i64| params_in_force(&c, &st, 1_000 + age);
        assert_eq!(at(7_200), pushed, "fresh up to max age");
        // Past max age: LTV conservative, LT and borrow factor unchanged for
        // the first interval.
        let p = at(7_201);
        assert_eq!(p.ltv_bps, cons.ltv_bps);
        assert_eq!(
            p.liquidation_threshold_bps,
            pushed.liquidation_threshold_bps
        );
        assert_eq!(p.borrow_factor_bps, pushed.borrow_factor_bps);
        assert_eq!(
            at(7_799).liquidation_threshold_bps,
            pushed.liquidation_threshold_bps
        );
        let p = at(7_800);
        assert_eq!(
            p.liquidation_threshold_bps,
            pushed.liquidation_threshold_bps - 100
        );
        assert_eq!(p.borrow_factor_bps, pushed.borrow_factor_bps + 100);
        let p = at(7_200 + 600 * 10);
        assert_eq!(
            p.liquidation_threshold_bps,
            pushed.liquidation_threshold_bps - 1_000
        );
        // Years later: exactly the conservative values, no overshoot.
        assert_eq!(at(400_000_000), cons);
        assert_eq!(at(i64::MAX - 2_000), cons);
    }

    /// The bound of the module doc, over random sequences of pushes,
    /// silences and configuration changes (Static -> Dynamic, changed
    /// curves, steps, intervals and ages), checked on every pair of the
    /// times at which the values in force can change.
    mod bound {
        use super::*;
        use proptest::prelude::*;

        #[derive(Clone, Debug)]
        enum Ev {
            Push {
                dt: i64,
                sigma: f64,
            },
            Silence {
                dt: i64,
            },
            Reconfigure {
                dt: i64,
                maint_max: u16,
                borrow_max: u16,
                step: u16,
                interval: u32,
                age_extra: u32,
            },
        }

        fn ev() -> impl Strategy<Value = Ev> {
            prop_oneof![
                4 => (1i64..4_000, 0.05f64..6.0).prop_map(|(dt, sigma)| Ev::Push { dt, sigma }),
                2 => (1i64..60_000).prop_map(|dt| Ev::Silence { dt }),
                1 => (
                    1i64..4_000,
                    3_000u16..6_000,
                    1_000u16..6_000,
                    prop::sample::select(vec![50u16, 100, 250]),
                    prop::sample::select(vec![60u32, 600, 1_800]),
                    1u32..8_000,
                )
                    .prop_map(|(dt, maint_max, borrow_max, step, interval, age_extra)| {
                        Ev::Reconfigure { dt, maint_max, borrow_max, step, interval, age_extra }
                    }),
            ]
        }

        struct Model {
            cfg: RiskConfig,
            statics: RiskParams,
            st: RiskState,
        }

        impl Model {
            fn in_force(&self, now: i64) -> RiskParams {
                match self.cfg.policy() {
                    RiskPolicy::Static => self.statics,
                    RiskPolicy::Dynamic => params_in_force(&self.cfg, &self.st, now),
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]
            #[test]
            fn lt_and_borrow_factor_move_at_most_one_step_per_interval(
                start_static in any::<bool>(),
                evs in prop::collection::vec(ev(), 1..60),
            ) {
                let mut cfg = sol();
                if start_static {
                    cfg.policy = RiskPolicy::Static as u8;
                }
                let statics = RiskParams { ltv_bps: 8_000, liquidation_threshold_bps: 8_500, borrow_factor_bps: 10_000 };
                let mut m = Model {
                    cfg,
                    statics,
                    st: RiskState { sqrt_horizon: cfg.sqrt_horizon().unwrap().into(), ..Default::default() },
                };
                let mut t: i64 = 1_000_000;
                let (mut step, mut interval) = (cfg.max_lt_step_bps as i64, cfg.min_update_interval_secs as i64);
                let mut samples: Vec<(i64, RiskParams)> = vec![(t, m.in_force(t))];
                for e in evs {
                    let dt = match e { Ev::Push { dt, .. } | Ev::Silence { dt } | Ev::Reconfigure { dt, .. } => dt };
                    // Every time the values in force can change in between:
                    // the decay steps.
                    if m.cfg.policy() == RiskPolicy::Dynamic && m.st.last_push_ts != 0 {
                        let base = m.st.last_push_ts + m.cfg.max_age_secs as i64;
                        let i = m.cfg.min_update_interval_secs as i64;
                        let mut k = ((t - base) / i).max(0) + 1;
                        while base + k * i < t + dt && k < 400 {
                            let at = base + k * i;
                            if at > t {
                                samples.push((at, m.in_force(at)));
                            }
                            k += 1;
                        }
                    }
                    t += dt;
                    match e {
                        Ev::Push { sigma, .. } => {
                            if let Ok(p) = accept_push(&m.cfg, &m.st, Fx::from_num(sigma), t) {
                                m.st.params = p;
                                m.st.sigma = Fx::from_num(sigma).into();
                                m.st.last_push_ts = t;
                            }
                        }
                        Ev::Silence { .. } => {}
                        Ev::Reconfigure { maint_max, borrow_max, step: s, interval: iv, age_extra, .. } => {
                            let mut new = m.cfg;
                            new.policy = RiskPolicy::Dynamic as u8;
                            new.maintenance.max_bps = maint_max;
                            new.initial.max_bps = new.initial.max_bps.max(maint_max);
                            new.borrow.max_bps = borrow_max;
                            new.max_lt_step_bps = s;
                            new.min_update_interval_secs = iv;
                            new.max_age_secs = iv + age_extra;
                            prop_assert!(new.validate().is_ok());
                            m.st = reconfigure(&m.cfg, m.statics, &new, &m.st, t);
                            m.st.sqrt_horizon = new.sqrt_horizon().unwrap().into();
                            m.cfg = new;
                            step = step.max(s as i64);
                            interval = interval.min(iv as i64);
                        }
                    }
                    samples.push((t, m.in_force(t)));
                }
                for (a, &(t1, p1)) in samples.iter().enumerate() {
                    for &(t2, p2) in &samples[a + 1..] {
                        let n = (t2 - t1 + interval - 1) / interval;
                        prop_assert!(
                            p2.liquidation_threshold_bps as i64
                                >= p1.liquidation_threshold_bps as i64 - step * n,
                            "LT {p1:?}@{t1} -> {p2:?}@{t2}"
                        );
                        prop_assert!(
                            p2.borrow_factor_bps as i64 <= p1.borrow_factor_bps as i64 + step * n,
                            "BF {p1:?}@{t1} -> {p2:?}@{t2}"
                        );
                        prop_assert!(p2.ltv_bps <= p2.liquidation_threshold_bps);
                    }
                }
            }
        }
    }
}
