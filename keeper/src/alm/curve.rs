//! Zero curves: continuously compounded zero rates at knots, interpolated
//! linearly in `r(t) * t` (the log discount factor) between knots and held
//! flat outside them; discount factors and forward rates from it.
//!
//! ## Conventions
//!
//! * Time `t` in years of 365 days (`t = days / 365`), rates as annual
//!   fractions, continuously compounded: `DF(t) = exp(-r(t) t)`.
//! * Between knots `(t1, r1)` and `(t2, r2)`: `r(t) t` is linear in `t`,
//!   i.e. the instantaneous forward rate is constant on the interval and
//!   equals `f(t1, t2) = (r2 t2 - r1 t1) / (t2 - t1)` (Hull, *Options,
//!   Futures and Other Derivatives*, 4.7 "Forward rates", eq. 4.5).
//! * Before the first knot and after the last, the zero rate is flat at
//!   the first (resp. last) knot's rate.

use serde::Serialize;

/// Days in the year the curve's time is measured in.
pub const DAYS_PER_YEAR: f64 = 365.0;

/// One knot of a curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Knot {
    /// Tenor, days (> 0).
    pub tenor_days: f64,
    /// Continuously compounded zero rate at the tenor, annual fraction.
    pub zero: f64,
}

/// A zero curve (see the module doc for interpolation and extrapolation).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZeroCurve {
    /// Knots, tenors strictly increasing, at least one.
    pub knots: Vec<Knot>,
}

/// Why a curve cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CurveError {
    /// No knot given.
    #[error("a zero curve needs at least one knot")]
    Empty,
    /// A tenor is not positive and finite, or tenors do not increase.
    #[error(
        "curve tenors must be positive, finite and strictly increasing (got {0} days after {1})"
    )]
    Tenors(f64, f64),
    /// A rate is not finite.
    #[error("curve rate at {0} days is not finite")]
    Rate(f64),
}

impl ZeroCurve {
    /// A curve through `knots` (`(tenor days, zero rate)`), checked.
    pub fn new(knots: &[(f64, f64)]) -> Result<Self, CurveError> {
        if knots.is_empty() {
            return Err(CurveError::Empty);
        }
        let mut prev = 0.0;
        for &(d, r) in knots {
            if !(d.is_finite() && d > prev) {
                return Err(CurveError::Tenors(d, prev));
            }
            if !r.is_finite() {
                return Err(CurveError::Rate(d));
            }
            prev = d;
        }
        Ok(Self {
            knots: knots
                .iter()
                .map(|&(tenor_days, zero)| Knot { tenor_days, zero })
                .collect(),
        })
    }

    /// A flat curve at `rate` (one knot at one day).
    pub fn flat(rate: f64) -> Self {
        Self {
            knots: vec![Knot {
                tenor_days: 1.0,
                zero: rate,
            }],
        }
    }

    /// The zero rate at `t` years (continuous, annual fraction).
    pub fn zero(&self, t: f64) -> f64 {
        let k = &self.knots;
        let first = k[0];
        let last = k[k.len() - 1];
        let d = t * DAYS_PER_YEAR;
        if d <= first.tenor_days {
            return first.zero;
        }
        if d >= last.tenor_days {
            return last.zero;
        }
        let i = k.iter().position(|x| x.tenor_days >= d).expect("inside");
        let (a, b) = (k[i - 1], k[i]);
        let (t1, t2) = (a.tenor_days / DAYS_PER_YEAR, b.tenor_days / DAYS_PER_YEAR);
        let rt = a.zero * t1 + (t - t1) / (t2 - t1) * (b.zero * t2 - a.zero * t1);
        rt / t
    }

    /// The discount factor `exp(-r(t) t)` at `t` years (1 at `t <= 0`).
    pub fn df(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        (-self.zero(t) * t).exp()
    }

    /// The continuously compounded forward rate between `t1` and `t2` years
    /// (`t1 < t2`): `(r2 t2 - r1 t1) / (t2 - t1)`; with `t1 = 0`, the zero
    /// rate at `t2`.
    pub fn forward(&self, t1: f64, t2: f64) -> f64 {
        let rt1 = if t1 <= 0.0 { 0.0 } else { self.zero(t1) * t1 };
        (self.zero(t2) * t2 - rt1) / (t2 - t1)
    }

    /// This curve with `shift(t)` added to the zero rate at every knot and
    /// the result floored at `floor` (when given), plus a knot at each of
    /// `extra_days` so that the shock's shape is sampled where the book's
    /// cash flows are. A shock is a function of the tenor, so the shocked
    /// curve is rebuilt on the union of the tenors.
    pub fn shifted(
        &self,
        shift: impl Fn(f64) -> f64,
        floor: Option<f64>,
        extra_days: &[f64],
    ) -> ZeroCurve {
        let mut days: Vec<f64> = self.knots.iter().map(|k| k.tenor_days).collect();
        days.extend(extra_days.iter().copied().filter(|d| *d > 0.0));
        days.sort_by(|a, b| a.total_cmp(b));
        days.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
        let knots = days
            .into_iter()
            .map(|d| {
                let t = d / DAYS_PER_YEAR;
                let r = self.zero(t) + shift(t);
                Knot {
                    tenor_days: d,
                    zero: floor.map_or(r, |f| r.max(f)),
                }
            })
            .collect();
        ZeroCurve { knots }
    }
}
