//! The keeper's volatility push policy: when to push a reserve's volatility
//! and which value, so that the push is never refused by the program's
//! on-chain bounds.
//!
//! The program derives LTV, liquidation threshold and borrow factor from the
//! pushed volatility and refuses a push that moves them more than its step
//! bounds allow (see `ballast::engine::risk`). The keeper therefore:
//!
//! 1. takes a target volatility from its estimator (e.g. EWMA), clamped to the
//!    reserve's `[sigma_min, sigma_max]`;
//! 2. pushes only when the LTV or liquidation threshold derived from the
//!    target differs from the one in force by more than `lt_threshold_bps`,
//!    when the last push is within `age_margin_secs` of going stale, or before
//!    the first push; never sooner than the on-chain minimum interval;
//! 3. pushes the target when the bounds allow (steps are measured from the
//!    values in force, decayed by staleness; the first push is free),
//!    otherwise the value
//!    closest to the target that they allow (bisection on sigma between a
//!    value the bounds accept and the target), and says that it stepped.
//!
//! Every derived value comes from the program crate's own functions
//! (`RiskConfig::derive`, `engine::risk::accept_push`, `Reserve::risk_params`),
//! so the keeper never proposes a push the program refuses.

use ballast::engine::fx::Fx;
use ballast::engine::risk::{accept_push, RiskParams, RiskPolicy};
use ballast::errors::BallastError;
use ballast::state::Reserve;

/// When the keeper pushes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PushPolicy {
    /// Push when the target's LTV or liquidation threshold differs from the
    /// one in force by more than this, bps.
    pub lt_threshold_bps: u16,
    /// Push when the last push is this close to `max_age_secs`, seconds.
    pub age_margin_secs: u32,
}

impl Default for PushPolicy {
    /// 25 bps of liquidation threshold; refresh 10 minutes before staleness.
    fn default() -> Self {
        Self {
            lt_threshold_bps: 25,
            age_margin_secs: 600,
        }
    }
}

/// Why the keeper does not push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The reserve runs the static policy.
    StaticPolicy,
    /// The on-chain minimum interval has not passed.
    TooSoon,
    /// The target moves the liquidation threshold by less than the threshold
    /// and the last push is fresh.
    Unchanged,
    /// No volatility within the bounds is accepted from the values in force
    /// (a configuration the keeper cannot help).
    NoFeasibleStep,
}

/// The keeper's decision for one reserve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Push `sigma` (annualised); the program will set `params`.
    Push {
        /// The volatility to push.
        sigma: Fx,
        /// The values the push will leave in force.
        params: RiskParams,
        /// Whether `sigma` is the (clamped) target, or a step toward it.
        reached_target: bool,
    },
    /// Do not push.
    Skip(Skip),
}

/// Decides what to push for `reserve` at unix time `now` given the
/// estimator's `target_sigma` (annualised, e.g. 0.8 for 80%).
pub fn decide(reserve: &Reserve, target_sigma: f64, now: i64, policy: &PushPolicy) -> Decision {
    let cfg = &reserve.config.risk;
    if cfg.policy() != RiskPolicy::Dynamic {
        return Decision::Skip(Skip::StaticPolicy);
    }
    let last = reserve.risk.last_push_ts;
    let (lo, hi) = (cfg.sigma_min.get(), cfg.sigma_max.get());
    let target = to_fx(target_sigma).clamp(lo, hi);
    // The program's own rule says when a push is too soon.
    if let Err(anchor_lang::error::Error::AnchorError(e)) =
        accept_push(cfg, &reserve.risk, target, now)
    {
        if e.error_code_number
            == anchor_lang::error::ERROR_CODE_OFFSET + BallastError::VolatilityUpdateTooSoon as u32
        {
            return Decision::Skip(Skip::TooSoon);
        }
    }
    let sqrt_h = reserve.risk.sqrt_horizon.get();
    let current = reserve.risk_params(now);
    let derive = |s: Fx| cfg.derive(s, sqrt_h).ok();
    let Some(target_params) = derive(target) else {
        return Decision::Skip(Skip::NoFeasibleStep);
    };
    let moved = |a: u16, b: u16| (a as i32 - b as i32).unsigned_abs();
    let change = moved(
        target_params.liquidation_threshold_bps,
        current.liquidation_threshold_bps,
    )
    .max(moved(target_params.ltv_bps, current.ltv_bps));
    let ageing = last == 0 || now - last >= cfg.max_age_secs as i64 - policy.age_margin_secs as i64;
    if !ageing && change <= policy.lt_threshold_bps as u32 {
        return Decision::Skip(Skip::Unchanged);
    }
    let feasible = |s: Fx| accepted(reserve, s, now);
    if let Some(params) = feasible(target) {
        return Decision::Push {
            sigma: target,
            params,
            reached_target: true,
        };
    }
    // An accepted anchor: the last pushed volatility (accepted unless the
    // admin changed the curves since), else the accepted point of a coarse
    // scan of the range nearest to the target.
    let last_sigma = reserve.risk.sigma.get();
    let anchor = if last_sigma >= lo && last_sigma <= hi && feasible(last_sigma).is_some() {
        Some(last_sigma)
    } else {
        (0..=64)
            .map(|i| lo + (hi - lo) * Fx::from_num(i) / Fx::from_num(64))
            .filter(|s| feasible(*s).is_some())
            .min_by_key(|s| (*s - target).abs())
    };
    let Some(mut ok) = anchor else {
        return Decision::Skip(Skip::NoFeasibleStep);
    };
    // Feasibility is monotone along the path from the anchor to the target
    // (derived values move monotonically with sigma): bisect the boundary.
    let mut bad = target;
    for _ in 0..64 {
        let mid = ok + (bad - ok) / 2;
        if mid == ok || mid == bad {
            break;
        }
        if feasible(mid).is_some() {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    match feasible(ok) {
        Some(params) => Decision::Push {
            sigma: ok,
            params,
            reached_target: false,
        },
        None => Decision::Skip(Skip::NoFeasibleStep),
    }
}

/// The values the program would leave in force if `sigma` (annualised) were
/// pushed for `reserve` at unix time `now`, or `None` if it would refuse the
/// push: the program's own acceptance rule,
/// [`ballast::engine::risk::accept_push`] (sigma bounds, interval, steps
/// measured from the values in force, decayed by staleness; the first push
/// is free).
pub fn accepted(reserve: &Reserve, sigma: Fx, now: i64) -> Option<RiskParams> {
    accept_push(&reserve.config.risk, &reserve.risk, sigma, now).ok()
}

/// `v` as `Fx` (saturating; NaN reads as 0).
fn to_fx(v: f64) -> Fx {
    if v.is_nan() {
        return Fx::ZERO;
    }
    Fx::saturating_from_num(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ballast::engine::fx::FX_ONE;
    use ballast::engine::risk::RiskConfig;
    use bytemuck::Zeroable;

    fn reserve(max_lt_step: u16, max_ltv_step: u16) -> Reserve {
        let mut r = Reserve::zeroed();
        r.config.risk = RiskConfig {
            max_lt_step_bps: max_lt_step,
            max_ltv_step_bps: max_ltv_step,
            ..ballast::fixtures::sol_risk()
        };
        r.risk.sqrt_horizon = r.config.risk.sqrt_horizon().unwrap().into();
        r
    }

    /// Applies a decision the way the program would.
    fn apply(r: &mut Reserve, d: Decision, now: i64) {
        let Decision::Push { sigma, params, .. } = d else {
            panic!("{d:?}")
        };
        let accepted = accept_push(&r.config.risk, &r.risk, sigma, now).unwrap();
        assert_eq!(accepted, params, "the program accepts it");
        r.risk.sigma = sigma.into();
        r.risk.params = params;
        r.risk.last_push_ts = now;
    }

    #[test]
    fn first_push_lands_on_the_target_then_steps_follow_it() {
        let mut r = reserve(100, 200);
        let policy = PushPolicy::default();
        let d = decide(&r, 2.0, 1_000, &policy);
        assert!(
            matches!(
                d,
                Decision::Push {
                    reached_target: true,
                    ..
                }
            ),
            "{d:?}"
        );
        apply(&mut r, d, 1_000);
        assert_eq!(r.risk.sigma.get(), Fx::from_num(2));
        // Volatility halves: LT may move 1% and LTV loosen 2% a push, so the
        // keeper walks there in steps the program accepts.
        let mut now = 1_000;
        let mut pushes = 0;
        loop {
            now += 600;
            let d = decide(&r, 1.0, now, &policy);
            let done = matches!(
                d,
                Decision::Push {
                    reached_target: true,
                    ..
                }
            );
            apply(&mut r, d, now);
            pushes += 1;
            if done {
                break;
            }
            assert!(pushes < 100, "converges");
        }
        assert_eq!(r.risk.sigma.get(), FX_ONE);
        // LT 80.72% -> 89.36%: 864 bps at 100 a push -> 9 pushes.
        assert_eq!(pushes, 9);
    }

    #[test]
    fn after_staleness_the_keeper_continues_from_the_decayed_values() {
        let mut r = reserve(100, 200);
        let p = PushPolicy::default();
        let d = decide(&r, 1.0, 1_000, &p);
        apply(&mut r, d, 1_000);
        let pushed = r.risk.params;
        // 10,000 s of silence: 2,800 s past max age (7,200) = 4 whole
        // intervals (600): LT down 4 steps, borrow factor up 4, LTV snapped.
        let later = 1_000 + 10_000;
        let cons = r.config.risk.conservative();
        let stale = r.risk_params(later);
        assert_eq!(stale.ltv_bps, cons.ltv_bps);
        assert_eq!(
            stale.liquidation_threshold_bps,
            pushed.liquidation_threshold_bps - 400
        );
        assert_eq!(stale.borrow_factor_bps, pushed.borrow_factor_bps + 400);
        // The keeper that comes back may restore what it last pushed (a
        // loosening, measured from the last pushed values); the program
        // accepts it (`apply` checks).
        let d = decide(&r, 1.0, later, &p);
        let Decision::Push {
            reached_target,
            params,
            ..
        } = d
        else {
            panic!("{d:?}")
        };
        assert!(reached_target, "same sigma: no step needed");
        assert_eq!(params, pushed);
        // A higher volatility tightens from the decayed values, one step.
        let d2 = decide(&r, 3.0, later, &p);
        let Decision::Push { params: p2, .. } = d2 else {
            panic!("{d2:?}")
        };
        assert!(
            p2.liquidation_threshold_bps + 100 >= stale.liquidation_threshold_bps
                && p2.borrow_factor_bps <= stale.borrow_factor_bps + 100
                && p2.liquidation_threshold_bps < pushed.liquidation_threshold_bps,
            "{p2:?} vs {stale:?}"
        );
        // The last decay step was 400 s ago (at 2,400 s past max age), less
        // than an interval: the push may not add a step of its own on top.
        assert_eq!(
            p2.liquidation_threshold_bps, stale.liquidation_threshold_bps,
            "{p2:?}"
        );
        let d3 = decide(&r, 3.0, later + 200, &p);
        let Decision::Push { params: p3, .. } = d3 else {
            panic!("{d3:?}")
        };
        assert_eq!(
            p3.liquidation_threshold_bps + 100,
            stale.liquidation_threshold_bps,
            "an interval after the decay step, one step: {p3:?}"
        );
        apply(&mut r, d, later);
    }

    #[test]
    fn skips_when_unchanged_too_soon_or_static() {
        let mut r = reserve(5_000, 5_000);
        let p = PushPolicy::default();
        let d = decide(&r, 1.0, 1_000, &p);
        apply(&mut r, d, 1_000);
        assert_eq!(decide(&r, 1.01, 1_300, &p), Decision::Skip(Skip::TooSoon));
        assert_eq!(decide(&r, 1.01, 1_600, &p), Decision::Skip(Skip::Unchanged));
        // A bigger move is pushed.
        assert!(matches!(
            decide(&r, 1.2, 1_600, &p),
            Decision::Push {
                reached_target: true,
                ..
            }
        ));
        // Nearing max age, the same value is pushed again to keep it fresh.
        assert!(matches!(
            decide(&r, 1.0, 1_000 + 7_200 - 600, &p),
            Decision::Push { .. }
        ));
        let mut s = reserve(5_000, 5_000);
        s.config.risk.policy = RiskPolicy::Static as u8;
        assert_eq!(
            decide(&s, 1.0, 1_000, &p),
            Decision::Skip(Skip::StaticPolicy)
        );
    }

    #[test]
    fn a_spike_is_followed_within_the_lt_step() {
        let mut r = reserve(100, 200);
        let p = PushPolicy::default();
        // Settle at 60%.
        let mut now = 0;
        for _ in 0..100 {
            now += 600;
            match decide(&r, 0.6, now, &p) {
                Decision::Push { reached_target, .. } => {
                    let d = decide(&r, 0.6, now, &p);
                    apply(&mut r, d, now);
                    if reached_target {
                        break;
                    }
                }
                Decision::Skip(s) => panic!("{s:?}"),
            }
        }
        let before = r.risk_params(now);
        now += 600;
        let d = decide(&r, 3.0, now, &p);
        let Decision::Push {
            reached_target,
            params,
            ..
        } = d
        else {
            panic!("{d:?}")
        };
        assert!(!reached_target);
        // From 60%, the borrow factor's step (100 bps) binds before LT's
        // (LT sits on its 10% haircut floor up to sigma 0.93).
        let lt_move = before.liquidation_threshold_bps - params.liquidation_threshold_bps;
        let bf_move = params.borrow_factor_bps - before.borrow_factor_bps;
        assert!(lt_move <= 100 && bf_move <= 100);
        assert!(bf_move >= 99, "uses the step: {bf_move}");
        apply(&mut r, d, now);
    }

    #[test]
    fn targets_are_clamped_to_the_bounds() {
        let r = reserve(5_000, 5_000);
        let p = PushPolicy::default();
        let Decision::Push { sigma, .. } = decide(&r, 50.0, 1_000, &p) else {
            panic!()
        };
        assert_eq!(sigma, Fx::from_num(5));
        let Decision::Push { sigma, .. } = decide(&r, f64::NAN, 1_000, &p) else {
            panic!()
        };
        assert_eq!(sigma, Fx::from_num(0.1));
    }
}
