//! The one fixed-point type of Ballast, [`Fx`] = `I80F48` (crate `fixed`), and
//! its arithmetic with the rounding direction named at every call.
//!
//! `fixed`'s `*` rounds toward negative infinity; because `Fx` is signed,
//! [`FxExt::mul_ceil`] follows exactly from `ceil(x) = -floor(-x)`. `fixed`'s
//! `/` truncates toward zero, so division rounds on magnitudes and adds one
//! ulp (`2^-48`) when a remainder was dropped in the direction asked for. Every operation is checked and fails with
//! [`BallastError::MathOverflow`] (never wraps, never panics).
//!
//! Precision: 48 fractional bits (2^-48, about 3.6e-15); range about ±6.0e23.
//! Token amounts (u64, up to 1.8e19) fit.
//!
//! Accounts store `Fx` as [`WrappedFx`] (16 little-endian bytes, alignment 1),
//! so that zero-copy layouts are identical on the host and on sBPF, where
//! `i128` is aligned differently (marginfi's `WrappedI80F48`).

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};
pub use fixed::types::I80F48 as Fx;

use crate::errors::BallastError;

/// `Fx` zero.
pub const FX_ZERO: Fx = Fx::ZERO;
/// `Fx` one.
pub const FX_ONE: Fx = Fx::ONE;
/// Basis points in one (10,000).
pub const BPS: u64 = 10_000;

/// An [`Fx`] stored in an account: the raw `i128` bits, little endian.
#[derive(
    Clone, Copy, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct WrappedFx {
    /// `I80F48::to_bits()` in little-endian bytes.
    pub bits: [u8; 16],
}

impl WrappedFx {
    /// Wraps `v`.
    pub fn new(v: Fx) -> Self {
        Self {
            bits: v.to_bits().to_le_bytes(),
        }
    }

    /// The stored value.
    #[inline]
    pub fn get(&self) -> Fx {
        Fx::from_bits(i128::from_le_bytes(self.bits))
    }

    /// Stores `v`.
    #[inline]
    pub fn set(&mut self, v: Fx) {
        self.bits = v.to_bits().to_le_bytes();
    }
}

impl core::fmt::Debug for WrappedFx {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.get())
    }
}

impl From<Fx> for WrappedFx {
    fn from(v: Fx) -> Self {
        Self::new(v)
    }
}

/// Checked fixed-point arithmetic with explicit rounding.
pub trait FxExt: Sized {
    /// `self + rhs`, exact.
    fn add_(self, rhs: Fx) -> Result<Fx>;
    /// `self - rhs`, exact.
    fn sub_(self, rhs: Fx) -> Result<Fx>;
    /// `self * rhs` rounded toward negative infinity.
    fn mul_floor(self, rhs: Fx) -> Result<Fx>;
    /// `self * rhs` rounded toward positive infinity.
    fn mul_ceil(self, rhs: Fx) -> Result<Fx>;
    /// `self / rhs` rounded toward negative infinity; fails on `rhs == 0`.
    fn div_floor(self, rhs: Fx) -> Result<Fx>;
    /// `self / rhs` rounded toward positive infinity; fails on `rhs == 0`.
    fn div_ceil(self, rhs: Fx) -> Result<Fx>;
    /// Largest `u64` <= `self`; fails when negative or too large.
    fn to_floor_u64(self) -> Result<u64>;
    /// Smallest `u64` >= `self`; fails when negative or too large.
    fn to_ceil_u64(self) -> Result<u64>;
}

#[inline]
fn overflow() -> Error {
    error!(BallastError::MathOverflow)
}

impl FxExt for Fx {
    #[inline]
    fn add_(self, rhs: Fx) -> Result<Fx> {
        self.checked_add(rhs).ok_or_else(overflow)
    }
    #[inline]
    fn sub_(self, rhs: Fx) -> Result<Fx> {
        self.checked_sub(rhs).ok_or_else(overflow)
    }
    #[inline]
    fn mul_floor(self, rhs: Fx) -> Result<Fx> {
        self.checked_mul(rhs).ok_or_else(overflow)
    }
    #[inline]
    fn mul_ceil(self, rhs: Fx) -> Result<Fx> {
        let neg = self.checked_neg().ok_or_else(overflow)?;
        neg.checked_mul(rhs)
            .and_then(|p| p.checked_neg())
            .ok_or_else(overflow)
    }
    #[inline]
    fn div_floor(self, rhs: Fx) -> Result<Fx> {
        let (q, exact, negative) = div_magnitude(self, rhs)?;
        if negative {
            let q = if exact {
                q
            } else {
                q.checked_add(Fx::DELTA).ok_or_else(overflow)?
            };
            Ok(-q)
        } else {
            Ok(q)
        }
    }
    #[inline]
    fn div_ceil(self, rhs: Fx) -> Result<Fx> {
        let (q, exact, negative) = div_magnitude(self, rhs)?;
        if negative {
            Ok(-q)
        } else if exact {
            Ok(q)
        } else {
            q.checked_add(Fx::DELTA).ok_or_else(overflow)
        }
    }
    #[inline]
    fn to_floor_u64(self) -> Result<u64> {
        self.checked_floor()
            .and_then(|v| v.checked_to_num::<u64>())
            .ok_or_else(overflow)
    }
    #[inline]
    fn to_ceil_u64(self) -> Result<u64> {
        self.checked_ceil()
            .and_then(|v| v.checked_to_num::<u64>())
            .ok_or_else(overflow)
    }
}

/// `|a| / |b|` rounded down (`fixed` truncates toward zero, which is the
/// floor for magnitudes), whether it was exact, and whether the true quotient
/// is negative. Exactness: for `q = floor(|a|/|b|)`, `q * |b| <= |a|` with
/// equality exactly when no remainder was dropped.
#[inline]
fn div_magnitude(a: Fx, b: Fx) -> Result<(Fx, bool, bool)> {
    let (ma, mb) = (
        a.checked_abs().ok_or_else(overflow)?,
        b.checked_abs().ok_or_else(overflow)?,
    );
    let q = ma.checked_div(mb).ok_or_else(overflow)?;
    let exact = q.checked_mul(mb).ok_or_else(overflow)? == ma;
    let negative = a != FX_ZERO && (a < FX_ZERO) != (b < FX_ZERO);
    Ok((q, exact, negative))
}

/// `v` as `Fx` (exact for every `u64`).
#[inline]
pub fn fx_u64(v: u64) -> Fx {
    Fx::from_num(v)
}

/// `bps / 10,000` rounded down, e.g. 7,500 bps -> 0.75.
#[inline]
pub fn fx_bps_floor(bps: u64) -> Result<Fx> {
    fx_u64(bps).div_floor(fx_u64(BPS))
}

/// `bps / 10,000` rounded up.
#[inline]
pub fn fx_bps_ceil(bps: u64) -> Result<Fx> {
    fx_u64(bps).div_ceil(fx_u64(BPS))
}

/// `10^exp` as `Fx` for `exp` in `0..=19`; fails above.
pub fn pow10(exp: u32) -> Result<Fx> {
    10u64.checked_pow(exp).map(fx_u64).ok_or_else(overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(v: f64) -> Fx {
        Fx::from_num(v)
    }

    #[test]
    fn floor_and_ceil_bracket_the_exact_product() {
        let a = fx(1.0).div_floor(fx(3.0)).unwrap();
        let lo = a.mul_floor(fx(3.0)).unwrap();
        let hi = a.mul_ceil(fx(3.0)).unwrap();
        assert!(lo <= hi);
        // 1/3 is inexact, so floor(1/3)*3 is just below 1; div_ceil is just above.
        assert!(lo < FX_ONE);
        let up = fx(1.0).div_ceil(fx(3.0)).unwrap();
        assert_eq!(up - a, Fx::DELTA);
    }

    #[test]
    fn division_rounds_by_sign() {
        let third = fx(1.0).div_floor(fx(3.0)).unwrap();
        let neg_floor = fx(-1.0).div_floor(fx(3.0)).unwrap();
        let neg_ceil = fx(-1.0).div_ceil(fx(3.0)).unwrap();
        assert_eq!(neg_ceil, -third);
        assert_eq!(neg_floor, -third - Fx::DELTA);
        assert_eq!(fx(1.0).div_ceil(fx(-3.0)).unwrap(), -third);
        assert_eq!(fx(-1.0).div_ceil(fx(-3.0)).unwrap(), third + Fx::DELTA);
        assert_eq!(fx(-3.0).div_floor(fx(2.0)).unwrap(), fx(-1.5));
        // A quotient smaller than one ulp.
        assert_eq!(Fx::DELTA.div_floor(fx(3.0)).unwrap(), FX_ZERO);
        assert_eq!(Fx::DELTA.div_ceil(fx(3.0)).unwrap(), Fx::DELTA);
        assert_eq!((-Fx::DELTA).div_floor(fx(3.0)).unwrap(), -Fx::DELTA);
        assert_eq!((-Fx::DELTA).div_ceil(fx(3.0)).unwrap(), FX_ZERO);
    }

    #[test]
    fn exact_results_do_not_move_with_direction() {
        assert_eq!(fx(1.5).mul_ceil(fx(2.0)).unwrap(), fx(3.0));
        assert_eq!(fx(1.5).mul_floor(fx(2.0)).unwrap(), fx(3.0));
        assert_eq!(fx(3.0).div_ceil(fx(2.0)).unwrap(), fx(1.5));
        assert_eq!(fx(3.0).div_floor(fx(2.0)).unwrap(), fx(1.5));
    }

    #[test]
    fn conversions_round_as_named() {
        assert_eq!(fx(2.0000001).to_floor_u64().unwrap(), 2);
        assert_eq!(fx(2.0000001).to_ceil_u64().unwrap(), 3);
        assert_eq!(fx(2.0).to_ceil_u64().unwrap(), 2);
        assert!(fx(-0.5).to_floor_u64().is_err());
        assert_eq!(fx_u64(u64::MAX).to_floor_u64().unwrap(), u64::MAX);
    }

    #[test]
    fn overflow_and_division_by_zero_are_errors() {
        assert!(Fx::MAX.mul_floor(fx(2.0)).is_err());
        assert!(Fx::MAX.mul_ceil(fx(2.0)).is_err());
        assert!(FX_ONE.div_floor(FX_ZERO).is_err());
        assert!(FX_ONE.div_ceil(FX_ZERO).is_err());
        assert!(pow10(20).is_err());
        assert_eq!(pow10(19).unwrap(), fx_u64(10_000_000_000_000_000_000));
    }

    #[test]
    fn wrapped_round_trips() {
        for v in [fx(0.0), fx(-1.25), Fx::MAX, Fx::MIN, Fx::DELTA] {
            assert_eq!(WrappedFx::new(v).get(), v);
        }
        assert_eq!(core::mem::size_of::<WrappedFx>(), 16);
        assert_eq!(core::mem::align_of::<WrappedFx>(), 1);
    }
}
