//! Interest: the utilisation -> borrow-APR curve and the growth of the
//! cumulative borrow index.
//!
//! ## Compounding
//!
//! Interest compounds continuously: over `dt` seconds at a borrow APR `r`
//! (fraction per 365-day year, `SECONDS_PER_YEAR` = 31,536,000 s as in marginfi,
//! Drift and Aave) the borrow index is multiplied by `exp(r * dt / year)`. The
//! rate is the one at the utilisation when the period starts (as every peer
//! does). `exp` is computed by scaling and squaring: `x = r * dt / year` is
//! halved `k` times until it is below 2^-8, `e^y` is a 6-term Taylor series
//! (truncation below y^6/720 < 2e-17), and the result is squared `k` times.
//! Every step rounds up, so the index is never below the exact value (debt up,
//! in the protocol's favour). Error against exact continuous compounding over
//! one year at 100% APR: below 1e-11 relative, measured 2.7e-12 (test
//! `one_year_at_100_percent_matches_e`); compounding per second instead
//! would differ from it by 1.6e-8.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::fx::*;
use crate::errors::{check_field, BallastError};

/// Seconds in a 365-day year.
pub const SECONDS_PER_YEAR: u64 = 31_536_000;
/// Most points a rate curve may have.
pub const MAX_CURVE_POINTS: usize = 11;
/// Highest borrow APR a curve may set: 100,000 bps = 1,000% a year. It keeps
/// the index (and so every debt) far inside `Fx`'s range for decades without
/// accrual.
pub const MAX_BORROW_RATE_BPS: u32 = 100_000;

/// One point of the curve: at `utilization_bps` the borrow APR is
/// `borrow_rate_bps`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct CurvePoint {
    /// Utilisation, bps of supply (0..=10,000).
    pub utilization_bps: u16,
    /// Padding; zero.
    pub _padding: [u8; 2],
    /// Borrow APR at that utilisation, bps (annualised, 0..=100,000).
    pub borrow_rate_bps: u32,
}

/// A piecewise-linear utilisation -> borrow APR curve of 2 to 11 points (klend
/// allows 11, marginfi 7). The first point is at 0% utilisation, the last at
/// 100%; utilisations strictly increase and rates never decrease.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize)]
#[repr(C)]
pub struct RateCurve {
    /// The points; only the first `num_points` are used, the rest are zero.
    pub points: [CurvePoint; MAX_CURVE_POINTS],
    /// Number of points in use (2..=11).
    pub num_points: u8,
    /// Padding; zero.
    pub _padding: [u8; 7],
}

impl Default for RateCurve {
    fn default() -> Self {
        Self::zeroed()
    }
}

impl RateCurve {
    /// A curve from `(utilization_bps, borrow_rate_bps)` pairs (unvalidated;
    /// see [`RateCurve::validate`]). Extra points beyond 11 are dropped.
    pub fn from_points(points: &[(u16, u32)]) -> Self {
        let mut c = Self::zeroed();
        for (i, (u, r)) in points.iter().take(MAX_CURVE_POINTS).enumerate() {
            c.points[i] = CurvePoint {
                utilization_bps: *u,
                _padding: [0; 2],
                borrow_rate_bps: *r,
            };
        }
        c.num_points = points.len().min(MAX_CURVE_POINTS) as u8;
        c
    }

    /// The points in use.
    pub fn active(&self) -> &[CurvePoint] {
        &self.points[..(self.num_points as usize).min(MAX_CURVE_POINTS)]
    }

    /// Checks the shape (ranges in [`super::bounds`]). Errors:
    /// [`BallastError::InvalidRateCurve`] when there are fewer than 2 or more
    /// than 11 points, the first is not at 0 or the last not at 10,000 bps,
    /// utilisations do not strictly increase, rates decrease, a rate exceeds
    /// [`MAX_BORROW_RATE_BPS`], or unused points or padding are not zero.
    pub fn validate(&self) -> Result<()> {
        let n = self.num_points as usize;
        let f = |ok, field| check_field(ok, field, BallastError::InvalidRateCurve);
        f(
            super::bounds::RATE_CURVE_POINTS.contains(&n),
            "rate_curve.num_points",
        )?;
        let pts = self.active();
        f(
            pts[0].utilization_bps == 0,
            "rate_curve.points.utilization_bps (first)",
        )?;
        f(
            pts[n - 1].utilization_bps as u64 == BPS,
            "rate_curve.points.utilization_bps (last)",
        )?;
        for w in pts.windows(2) {
            f(
                w[0].utilization_bps < w[1].utilization_bps,
                "rate_curve.points.utilization_bps (not increasing)",
            )?;
            f(
                w[0].borrow_rate_bps <= w[1].borrow_rate_bps,
                "rate_curve.points.borrow_rate_bps (decreasing)",
            )?;
        }
        for p in pts {
            f(
                super::bounds::CURVE_BORROW_RATE_BPS.contains(&p.borrow_rate_bps),
                "rate_curve.points.borrow_rate_bps (too high)",
            )?;
            f(p._padding == [0; 2], "rate_curve.points._padding")?;
        }
        for p in &self.points[n..] {
            f(
                *p == CurvePoint::default(),
                "rate_curve.points (unused, not zero)",
            )?;
        }
        f(self._padding == [0; 7], "rate_curve._padding")
    }

    /// Borrow APR (a fraction per year, e.g. 0.05) at `utilization` (a
    /// fraction, clamped to [0, 1]), linear between points, rounded up.
    pub fn borrow_rate(&self, utilization: Fx) -> Result<Fx> {
        let u_bps = utilization.clamp(FX_ZERO, FX_ONE).mul_ceil(fx_u64(BPS))?;
        let pts = self.active();
        let mut lo = pts[0];
        for &hi in &pts[1..] {
            let (u0, u1) = (
                fx_u64(lo.utilization_bps as u64),
                fx_u64(hi.utilization_bps as u64),
            );
            if u_bps <= u1 {
                let (r0, r1) = (lo.borrow_rate_bps as u64, hi.borrow_rate_bps as u64);
                let slope_part = u_bps.sub_(u0)?.mul_div_int_ceil(
                    (r1 - r0) as i128,
                    (hi.utilization_bps - lo.utilization_bps) as i128,
                )?;
                return fx_u64(r0).add_(slope_part)?.div_int_ceil(BPS as i128);
            }
            lo = hi;
        }
        fx_bps_ceil(lo.borrow_rate_bps as u64)
    }
}

/// Utilisation = borrowed / supply (fractions), 0 when supply is 0, rounded
/// up (a higher rate, in the protocol's favour). Both in token base units.
pub fn utilization(borrowed: Fx, supply: Fx) -> Result<Fx> {
    if supply <= FX_ZERO {
        return Ok(if borrowed > FX_ZERO { FX_ONE } else { FX_ZERO });
    }
    Ok(borrowed.div_ceil(supply)?.min(FX_ONE))
}

/// Growth factor of the borrow index over `dt` seconds at `apr`:
/// `exp(apr * dt / SECONDS_PER_YEAR)`, rounded up (see the module doc).
pub fn compound_growth(apr: Fx, dt: u64) -> Result<Fx> {
    if dt == 0 || apr == FX_ZERO {
        return Ok(FX_ONE);
    }
    let x = apr
        .mul_ceil(fx_u64(dt))?
        .div_ceil(fx_u64(SECONDS_PER_YEAR))?;
    exp_ceil(x)
}

/// Largest exponent `apr * dt / year` [`grown_index`] evaluates: `e^40` is
/// about 2.35e17, inside `Fx`'s range (about 6.0e23) with room for the
/// squarings of [`exp_ceil`]; beyond it the index saturates.
pub const MAX_GROWTH_EXPONENT: u64 = 40;

/// The borrow index after `dt` seconds at `apr` from `index`, for a reserve
/// owing `shares` debt shares: `index * exp(apr * dt / year)` rounded up
/// ([`compound_growth`]), saturated at the index where the debt `shares *
/// index` reaches `u64::MAX` base units (never below `index`). So accrual
/// never fails however long a reserve sat idle (10 years at the maximum
/// 1,000% APR is `e^100`, beyond `Fx`): the debt stops growing where no
/// token amount could express it, instead of every instruction of the
/// reserve failing with [`BallastError::MathOverflow`] for ever (each one
/// accrues first, `update_reserve_config` included). Errors: none in
/// practice (`apr * dt` overflows only past `dt` ~ 2^75 s).
pub fn grown_index(index: Fx, apr: Fx, dt: u64, shares: Fx) -> Result<Fx> {
    if dt == 0 || apr == FX_ZERO || shares <= FX_ZERO {
        return Ok(index);
    }
    let x = apr
        .mul_ceil(fx_u64(dt))?
        .div_ceil(fx_u64(SECONDS_PER_YEAR))?;
    let grown = if x <= fx_u64(MAX_GROWTH_EXPONENT) {
        let g = exp_ceil(x)?;
        match index.checked_mul(g) {
            Some(_) => Some(index.mul_ceil(g)?),
            None => None,
        }
    } else {
        None
    };
    let max_debt = fx_u64(u64::MAX);
    match grown {
        Some(v) if shares.checked_mul(v).is_some_and(|d| d <= max_debt) => Ok(v),
        _ => Ok(max_debt.checked_div(shares).unwrap_or(Fx::MAX).max(index)),
    }
}

/// `e^x` for `x >= 0`, rounded up, by scaling and squaring.
pub fn exp_ceil(x: Fx) -> Result<Fx> {
    require!(x >= FX_ZERO, BallastError::MathOverflow);
    // Halve x until y = x / 2^k < 2^-8 (rounding up: ceil(x / 2^k) = -floor(-x >> k)).
    let threshold = Fx::from_bits(1i128 << 40); // 2^-8 with 48 fractional bits
    let mut k = 0u32;
    while (x >> k) >= threshold {
        k += 1;
    }
    let y = -((-x) >> k);
    // 1 + y + y^2/2 + y^3/6 + y^4/24 + y^5/120, Horner form, rounded up.
    let mut acc = FX_ONE;
    for d in [5u64, 4, 3, 2, 1] {
        acc = FX_ONE.add_(acc.mul_ceil(y)?.div_int_ceil(d as i128)?)?;
    }
    for _ in 0..k {
        acc = acc.mul_ceil(acc)?;
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compound3() -> RateCurve {
        // Compound III: kink 0.8, base 0.005, slope low 0.1, slope high 3
        // -> 0.5% at 0, 0.5% + 0.1*0.8 = 8.5% at the kink, 8.5% + 3*0.2 = 68.5% at 1.
        RateCurve::from_points(&[(0, 50), (8_000, 850), (10_000, 6_850)])
    }

    fn close(a: Fx, b: f64, tol: f64) -> bool {
        (a.to_num::<f64>() - b).abs() <= tol
    }

    #[test]
    fn ten_idle_years_at_the_maximum_rate_saturate() {
        let apr = Fx::from_num(MAX_BORROW_RATE_BPS) / Fx::from_num(10_000);
        let ten_years = 10 * SECONDS_PER_YEAR;
        // compound_growth alone overflows (e^100).
        assert!(compound_growth(apr, ten_years).is_err());
        let shares = fx_u64(1_000_000_000);
        let i = grown_index(FX_ONE, apr, ten_years, shares).unwrap();
        // Saturated where the debt reaches u64::MAX base units.
        assert!(shares.checked_mul(i).unwrap() <= fx_u64(u64::MAX));
        assert!(i > fx_u64(18_000_000_000), "{i}");
        // One hour at 1,000% is the exact growth, unsaturated.
        let h = grown_index(FX_ONE, apr, 3_600, shares).unwrap();
        assert_eq!(h, compound_growth(apr, 3_600).unwrap());
        // Never below the index, even when it is already past the cap.
        let big = fx_u64(1u64 << 40);
        assert_eq!(grown_index(big, apr, 1, shares).unwrap(), big);
    }

    #[test]
    fn compound_iii_vectors() {
        let c = compound3();
        c.validate().unwrap();
        let reserve_factor = 0.1;
        for (u, borrow, supply) in [
            (0.1, 0.015, 0.00135),
            (0.9, 0.385, 0.31185),
            (0.0, 0.005, 0.0),
        ] {
            let r = c.borrow_rate(Fx::from_num(u)).unwrap();
            assert!(close(r, borrow, 1e-12), "u={u}: {r} != {borrow}");
            let s = r.to_num::<f64>() * u * (1.0 - reserve_factor);
            assert!((s - supply).abs() < 1e-12, "supply rate at {u}: {s}");
        }
    }

    #[test]
    fn rate_is_monotone_and_clamped() {
        let c = compound3();
        let mut prev = FX_ZERO;
        for bps in (0..=10_000).step_by(250) {
            let r = c
                .borrow_rate(fx_u64(bps).div_floor(fx_u64(BPS)).unwrap())
                .unwrap();
            assert!(r >= prev);
            prev = r;
        }
        assert_eq!(
            c.borrow_rate(Fx::from_num(2)).unwrap(),
            c.borrow_rate(FX_ONE).unwrap()
        );
        assert_eq!(
            c.borrow_rate(Fx::from_num(-1)).unwrap(),
            c.borrow_rate(FX_ZERO).unwrap()
        );
    }

    #[test]
    fn bad_curves_are_rejected() {
        let bad = [
            RateCurve::from_points(&[(0, 100)]),
            RateCurve::from_points(&[(100, 100), (10_000, 200)]),
            RateCurve::from_points(&[(0, 100), (9_000, 200)]),
            RateCurve::from_points(&[(0, 100), (5_000, 300), (5_000, 400), (10_000, 500)]),
            RateCurve::from_points(&[(0, 300), (5_000, 200), (10_000, 500)]),
            RateCurve::from_points(&[(0, 0), (10_000, MAX_BORROW_RATE_BPS + 1)]),
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
        let mut twelve: Vec<(u16, u32)> = (0..11).map(|i| (i * 1000, 100)).collect();
        twelve.push((10_000, 100));
        let mut c = RateCurve::from_points(&twelve);
        c.num_points = 12;
        assert!(c.validate().is_err());
        let eleven: Vec<(u16, u32)> = (0..=10).map(|i| (i * 1000, 100 + i as u32)).collect();
        RateCurve::from_points(&eleven).validate().unwrap();
    }

    #[test]
    fn one_year_at_100_percent_matches_e() {
        let g = compound_growth(FX_ONE, SECONDS_PER_YEAR).unwrap();
        let e = std::f64::consts::E;
        let rel = (g.to_num::<f64>() - e) / e;
        assert!(rel >= 0.0, "rounded up: {rel}");
        assert!(rel < 1e-11, "relative error {rel}");
        // Compounding per second would differ from continuous by ~1.6e-8.
        let y = SECONDS_PER_YEAR as f64;
        let per_second = (y * (1.0 / y).ln_1p()).exp();
        assert!(((e - per_second) / e - 1.585e-8).abs() < 1e-10);
    }

    #[test]
    fn growth_is_exact_for_short_periods_and_composes() {
        assert_eq!(compound_growth(FX_ONE, 0).unwrap(), FX_ONE);
        assert_eq!(compound_growth(FX_ZERO, 1000).unwrap(), FX_ONE);
        let apr = Fx::from_num(0.37);
        let one_hour = compound_growth(apr, 3600).unwrap();
        let exact = (0.37f64 * 3600.0 / SECONDS_PER_YEAR as f64).exp();
        assert!((one_hour.to_num::<f64>() - exact).abs() < 1e-14);
        // 24 hourly accruals ~= one daily accrual (continuous compounding composes).
        let mut idx = FX_ONE;
        for _ in 0..24 {
            idx = idx.mul_ceil(one_hour).unwrap();
        }
        let day = compound_growth(apr, 86_400).unwrap();
        assert!((idx - day).abs() < Fx::from_num(1e-12));
    }

    #[test]
    fn extreme_rate_over_decades_stays_in_range() {
        let max = fx_bps_ceil(MAX_BORROW_RATE_BPS as u64).unwrap();
        // 1,000% APR for 5 years untouched: e^50 ~ 5.2e21, still representable.
        let g = compound_growth(max, 5 * SECONDS_PER_YEAR).unwrap();
        assert!(g > Fx::from_num(5e21));
        assert!(
            compound_growth(max, 50 * SECONDS_PER_YEAR).is_err(),
            "overflow is an error, not a wrap"
        );
    }
}
