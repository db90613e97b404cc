//! The one fixed-point type of Ballast, [`Fx`] = `I80F48` (crate `fixed`), and
//! its arithmetic with the rounding direction named at every call.
//!
//! `fixed`'s `*` rounds toward negative infinity; because `Fx` is signed,
//! [`FxExt::mul_ceil`] follows exactly from `ceil(x) = -floor(-x)`. `fixed`'s
//! `/` truncates toward zero, so division rounds on magnitudes and adds one
//! ulp (`2^-48`) when a remainder was dropped in the direction asked for.
//! Every operation is checked and fails with
//! [`crate::errors::BallastError::MathOverflow`] (never wraps, never panics).
//! Every fallible helper is `#[track_caller]`: the failure logs, and carries
//! as its error origin, the `file:line` of the expression that called it
//! (see [`super::safe_math`]), not a line of this module.
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

use super::safe_math::{checked, overflow, SafeCast};

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
    /// `self * m` for an integer `m`, exact.
    fn mul_int(self, m: i128) -> Result<Fx>;
    /// `self / d` for an integer `d`, rounded toward negative infinity.
    /// Much cheaper on sBPF than `Fx / Fx` (an `i128` division instead of a
    /// 256-by-128-bit one).
    fn div_int_floor(self, d: i128) -> Result<Fx>;
    /// `self / d` for an integer `d`, rounded toward positive infinity.
    fn div_int_ceil(self, d: i128) -> Result<Fx>;
    /// `self * m / d` (integers `m`, `d`) rounded down, exactly (a 256-bit
    /// intermediate when `self * m` overflows).
    fn mul_div_int_floor(self, m: i128, d: i128) -> Result<Fx>;
    /// `self * m / d` rounded up, exactly.
    fn mul_div_int_ceil(self, m: i128, d: i128) -> Result<Fx>;
    /// Largest `u64` <= `self`; fails when negative or too large.
    fn to_floor_u64(self) -> Result<u64>;
    /// Smallest `u64` >= `self`; fails when negative or too large.
    fn to_ceil_u64(self) -> Result<u64>;
}

impl FxExt for Fx {
    #[track_caller]
    #[inline]
    fn add_(self, rhs: Fx) -> Result<Fx> {
        checked(self.checked_add(rhs))
    }
    #[track_caller]
    #[inline]
    fn sub_(self, rhs: Fx) -> Result<Fx> {
        checked(self.checked_sub(rhs))
    }
    #[track_caller]
    #[inline]
    fn mul_floor(self, rhs: Fx) -> Result<Fx> {
        if let Some(p) = mul_nonneg_fast(self, rhs, false) {
            return Ok(p);
        }
        checked(self.checked_mul(rhs))
    }
    #[track_caller]
    #[inline]
    fn mul_ceil(self, rhs: Fx) -> Result<Fx> {
        if let Some(p) = mul_nonneg_fast(self, rhs, true) {
            return Ok(p);
        }
        checked(
            self.checked_neg()
                .and_then(|neg| neg.checked_mul(rhs))
                .and_then(|p| p.checked_neg()),
        )
    }
    #[track_caller]
    #[inline]
    fn div_floor(self, rhs: Fx) -> Result<Fx> {
        let (q, exact, negative) = div_magnitude(self, rhs)?;
        if negative {
            let q = if exact {
                q
            } else {
                checked(q.checked_add(Fx::DELTA))?
            };
            Ok(-q)
        } else {
            Ok(q)
        }
    }
    #[track_caller]
    #[inline]
    fn div_ceil(self, rhs: Fx) -> Result<Fx> {
        let (q, exact, negative) = div_magnitude(self, rhs)?;
        if negative {
            Ok(-q)
        } else if exact {
            Ok(q)
        } else {
            checked(q.checked_add(Fx::DELTA))
        }
    }
    #[track_caller]
    #[inline]
    fn mul_int(self, m: i128) -> Result<Fx> {
        checked(mul_i128(self.to_bits(), m)).map(Fx::from_bits)
    }
    #[track_caller]
    #[inline]
    fn div_int_floor(self, d: i128) -> Result<Fx> {
        div_bits(self.to_bits(), d, false).map(Fx::from_bits)
    }
    #[track_caller]
    #[inline]
    fn div_int_ceil(self, d: i128) -> Result<Fx> {
        div_bits(self.to_bits(), d, true).map(Fx::from_bits)
    }
    #[track_caller]
    #[inline]
    fn mul_div_int_floor(self, m: i128, d: i128) -> Result<Fx> {
        mul_div_i128(self.to_bits(), m, d, false).map(Fx::from_bits)
    }
    #[track_caller]
    #[inline]
    fn mul_div_int_ceil(self, m: i128, d: i128) -> Result<Fx> {
        mul_div_i128(self.to_bits(), m, d, true).map(Fx::from_bits)
    }
    #[track_caller]
    #[inline]
    fn to_floor_u64(self) -> Result<u64> {
        checked(self.checked_floor().and_then(|v| v.checked_to_num::<u64>()))
    }
    #[track_caller]
    #[inline]
    fn to_ceil_u64(self) -> Result<u64> {
        checked(self.checked_ceil().and_then(|v| v.checked_to_num::<u64>()))
    }
}

/// `a * b` for non-negative `a`, `b` with one of them below 2^16 (its bits
/// fit a `u64`), rounded down or up: the 192-bit product of a `u128` and a
/// `u64` shifted right by the 48 fractional bits, with two 64-bit
/// multiplications instead of `fixed`'s 256-bit product (about 250 CU less
/// on sBPF). `None` when the operands don't qualify or the result overflows;
/// callers then take the general path, which gives the same result.
#[inline]
fn mul_nonneg_fast(a: Fx, b: Fx, ceil: bool) -> Option<Fx> {
    let (a, b) = (a.to_bits(), b.to_bits());
    if a < 0 || b < 0 {
        return None;
    }
    let (wide, narrow) = if b as u128 <= u64::MAX as u128 {
        (a as u128, b as u64)
    } else if a as u128 <= u64::MAX as u128 {
        (b as u128, a as u64)
    } else {
        return None;
    };
    let (w1, w0) = ((wide >> 64) as u64, wide as u64);
    let p0 = (w0 as u128) * (narrow as u128);
    // (2^64 - 1)^2 + (2^64 - 1) < 2^128: no overflow.
    let mid = (w1 as u128) * (narrow as u128) + (p0 >> 64);
    // product = mid * 2^64 + low; result = product >> 48.
    let low = p0 as u64;
    if mid >> 111 != 0 {
        return None; // result >= 2^127: outside i128
    }
    let mut q = (mid << 16) | (low >> 48) as u128;
    if ceil && low & ((1u64 << 48) - 1) != 0 {
        q += 1;
    }
    i128::try_from(q).ok().map(Fx::from_bits)
}

/// `|a| / |b|` rounded down (`fixed` truncates toward zero, which is the
/// floor for magnitudes), whether it was exact, and whether the true quotient
/// is negative. Exactness: for `q = floor(|a|/|b|)`, `q * |b| <= |a|` with
/// equality exactly when no remainder was dropped.
#[track_caller]
#[inline]
fn div_magnitude(a: Fx, b: Fx) -> Result<(Fx, bool, bool)> {
    let (ma, mb) = (checked(a.checked_abs())?, checked(b.checked_abs())?);
    let q = checked(ma.checked_div(mb))?;
    let exact = checked(q.checked_mul(mb))? == ma;
    let negative = a != FX_ZERO && (a < FX_ZERO) != (b < FX_ZERO);
    Ok((q, exact, negative))
}

/// `a * b` or `None` on overflow, for `i128`. Works on magnitudes in 64-bit
/// limbs: at most two widening `u64 x u64` products (`__multi3`, fast on
/// sBPF); `i128::checked_mul` (`__muloti4`) costs well over a thousand CU
/// there.
#[inline]
pub fn mul_i128(a: i128, b: i128) -> Option<i128> {
    let p = mul_u128(a.unsigned_abs(), b.unsigned_abs())?;
    let negative = (a < 0) != (b < 0);
    if negative {
        if p > i128::MIN.unsigned_abs() {
            return None;
        }
        Some((p as i128).wrapping_neg())
    } else {
        i128::try_from(p).ok()
    }
}

/// `a * b` or `None` on overflow, for `u128`, in 64-bit limbs.
#[inline]
pub fn mul_u128(a: u128, b: u128) -> Option<u128> {
    let (ah, al) = ((a >> 64) as u64, a as u64);
    let (bh, bl) = ((b >> 64) as u64, b as u64);
    if ah != 0 && bh != 0 {
        return None;
    }
    let low = (al as u128) * (bl as u128);
    // At most one of the cross terms is non-zero.
    let cross = (ah as u128) * (bl as u128) + (al as u128) * (bh as u128);
    if cross >> 64 != 0 {
        return None;
    }
    low.checked_add(cross << 64)
}

#[allow(clippy::manual_div_ceil, clippy::assign_op_pattern)]
mod wide {
    uint::construct_uint! {
        /// 256-bit unsigned integer for exact mul-div intermediates.
        pub struct U256(4);
    }
}
use wide::U256;

/// `a * b / d` rounded down, or up when `ceil`, exactly; `None` when `d` is
/// zero or the quotient exceeds `u128`. One `u128` multiply and divide when
/// the product fits (the common case), else a 256-bit intermediate.
pub fn mul_div_u128(a: u128, b: u128, d: u128, ceil: bool) -> Option<u128> {
    if d == 0 {
        return None;
    }
    if let Some(p) = mul_u128(a, b) {
        let q = p / d;
        let inexact = p != q.wrapping_mul(d);
        return if ceil && inexact {
            q.checked_add(1)
        } else {
            Some(q)
        };
    }
    if let (Ok(b), Ok(d)) = (u64::try_from(b), u64::try_from(d)) {
        return mul_div_u128_u64(a, b, d, ceil);
    }
    let p = U256::from(a) * U256::from(b);
    let (q, r) = p.div_mod(U256::from(d));
    let q = if ceil && !r.is_zero() {
        q + U256::one()
    } else {
        q
    };
    if q > U256::from(u128::MAX) {
        None
    } else {
        Some(q.as_u128())
    }
}

/// `a * b / d` for a 64-bit multiplier and divisor, exactly: the 192-bit
/// product is divided by 64-bit limbs, each step a `u128 / u64` whose high
/// part is below `d` (the fast path of `__udivti3` on sBPF).
fn mul_div_u128_u64(a: u128, b: u64, d: u64, ceil: bool) -> Option<u128> {
    let (a1, a0) = ((a >> 64) as u64, a as u64);
    let p0 = (a0 as u128) * (b as u128);
    // (2^64 - 1)^2 + (2^64 - 1) < 2^128: no overflow.
    let mid = (a1 as u128) * (b as u128) + (p0 >> 64);
    let limbs = [(mid >> 64) as u64, mid as u64, p0 as u64];
    let d128 = d as u128;
    let mut q: [u64; 3] = [0; 3];
    let mut r: u128 = 0;
    for (i, limb) in limbs.iter().enumerate() {
        let cur = (r << 64) | (*limb as u128);
        q[i] = (cur / d128) as u64;
        r = cur - (q[i] as u128) * d128;
    }
    if q[0] != 0 {
        return None;
    }
    let quotient = ((q[1] as u128) << 64) | (q[2] as u128);
    if ceil && r != 0 {
        quotient.checked_add(1)
    } else {
        Some(quotient)
    }
}

/// `n * m / d` on signed integers with floor or ceil rounding, exact.
#[track_caller]
#[inline]
fn mul_div_i128(n: i128, m: i128, d: i128, ceil: bool) -> Result<i128> {
    let negative = n != 0 && m != 0 && ((n < 0) != (m < 0)) != (d < 0);
    // The magnitude rounds up for ceil of a positive or floor of a negative.
    let q = checked(mul_div_u128(
        n.unsigned_abs(),
        m.unsigned_abs(),
        d.unsigned_abs(),
        ceil != negative,
    ))?;
    if negative {
        if q > i128::MIN.unsigned_abs() {
            return Err(overflow());
        }
        Ok((q as i128).wrapping_neg())
    } else {
        q.cast()
    }
}

/// Integer division of raw bits with the rounding asked for.
///
/// Divides magnitudes as `u128`: on sBPF `solana-compiler-builtins` supplies a
/// fast `__udivti3` (and `__multi3`), while signed `i128` division falls back
/// to a generic shift-and-subtract routine costing about 20 CU per quotient
/// bit. The remainder comes from one wrapping multiplication.
#[track_caller]
#[inline]
fn div_bits(n: i128, d: i128, ceil: bool) -> Result<i128> {
    if d == 0 {
        return Err(overflow());
    }
    let (na, da) = (n.unsigned_abs(), d.unsigned_abs());
    let qa = na / da;
    let inexact = na != qa.wrapping_mul(da);
    let negative = n != 0 && (n < 0) != (d < 0);
    // Round the magnitude up when the true quotient lies beyond it in the
    // direction asked for: away from zero for ceil of a positive or floor of
    // a negative quotient.
    let qa = if inexact && (ceil != negative) {
        qa + 1
    } else {
        qa
    };
    let q: i128 = qa.cast()?;
    Ok(if negative { -q } else { q })
}

/// `v` as `Fx` (exact for every `u64`): the raw bits are `v << 48`, which
/// always fit. `Fx::from_num` gives the same value through generic,
/// overflow-checked conversion code that costs about 250 CU on sBPF.
#[inline]
pub fn fx_u64(v: u64) -> Fx {
    Fx::from_bits((v as i128) << Fx::FRAC_NBITS)
}
/// `bps / 10,000` rounded down, e.g. 7,500 bps -> 0.75.
#[track_caller]
#[inline]
pub fn fx_bps_floor(bps: u64) -> Result<Fx> {
    fx_u64(bps).div_int_floor(BPS as i128)
}

/// `bps / 10,000` rounded up.
#[track_caller]
#[inline]
pub fn fx_bps_ceil(bps: u64) -> Result<Fx> {
    fx_u64(bps).div_int_ceil(BPS as i128)
}

/// Powers of ten as `i128`, `POW10[k] = 10^k` for `k` in `0..=38`.
static POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut k = 1;
    while k < 39 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// `10^exp` as an integer for `exp` in `0..=38` (a table lookup); fails above.
#[track_caller]
#[inline]
pub fn pow10(exp: u32) -> Result<i128> {
    checked(POW10.get(exp as usize).copied())
}

#[cfg(test)]
mod tests {

    proptest::proptest! {
        #[test]
        fn fast_products_equal_fixed(a in 0i128..=i128::MAX, b in 0i128..(1i128 << 70), small in 0i128..(1i128 << 64)) {
            for (x, y) in [(a, small), (small, a), (b, small), (small, b), (a >> 40, small >> 10)] {
                let (x, y) = (Fx::from_bits(x), Fx::from_bits(y));
                let floor = x.checked_mul(y);
                proptest::prop_assert_eq!(x.mul_floor(y).ok(), floor);
                let ceil = x.checked_neg().and_then(|n| n.checked_mul(y)).and_then(|p| p.checked_neg());
                proptest::prop_assert_eq!(x.mul_ceil(y).ok(), ceil);
            }
        }
    }

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
    fn integer_division_rounds_by_sign() {
        let third = fx(1.0).div_floor(fx(3.0)).unwrap();
        assert_eq!(fx(1.0).div_int_floor(3).unwrap(), third);
        assert_eq!(fx(1.0).div_int_ceil(3).unwrap(), third + Fx::DELTA);
        assert_eq!(fx(-1.0).div_int_floor(3).unwrap(), -third - Fx::DELTA);
        assert_eq!(fx(-1.0).div_int_ceil(3).unwrap(), -third);
        assert_eq!(fx(6.0).div_int_ceil(3).unwrap(), fx(2.0));
        assert!(fx(1.0).div_int_floor(0).is_err());
        // mul_div agrees with the Fx path and falls back on overflow.
        assert_eq!(
            fx(10.0).mul_div_int_floor(7, 3).unwrap(),
            fx(70.0).div_floor(fx(3.0)).unwrap()
        );
        assert_eq!(
            fx(10.0).mul_div_int_ceil(7, 3).unwrap(),
            fx(70.0).div_ceil(fx(3.0)).unwrap()
        );
        let big = fx_u64(u64::MAX);
        let v = big
            .mul_div_int_floor(1_000_000_000_000_000_000, 1_000_000_000_000_000_000)
            .unwrap();
        assert!(v <= big && big - v < fx(1e-6) * big);
    }

    #[test]
    fn limb_multiply_agrees_with_checked_mul() {
        let vals: [u128; 8] = [
            0,
            1,
            u64::MAX as u128,
            (u64::MAX as u128) + 1,
            1 << 100,
            u128::MAX,
            3 << 63,
            12_345_678_901_234_567_890,
        ];
        for a in vals {
            for b in vals {
                assert_eq!(mul_u128(a, b), a.checked_mul(b), "{a} * {b}");
            }
        }
    }

    #[test]
    fn limb_division_matches_wide_division() {
        let a_vals: [u128; 6] = [
            0,
            1,
            u64::MAX as u128,
            1 << 100,
            u128::MAX,
            281_474_980_034_594_000_069_652_175,
        ];
        let b_vals: [u64; 4] = [1, 7_500, 14_175_000_000_000, u64::MAX];
        let d_vals: [u64; 4] = [1, 3, 1_000_000_000_000_000, u64::MAX];
        for a in a_vals {
            for b in b_vals {
                for d in d_vals {
                    for ceil in [false, true] {
                        let p = U256::from(a) * U256::from(b);
                        let (q, r) = p.div_mod(U256::from(d));
                        let q = if ceil && !r.is_zero() {
                            q + U256::one()
                        } else {
                            q
                        };
                        let want = (q <= U256::from(u128::MAX)).then(|| q.as_u128());
                        assert_eq!(
                            mul_div_u128_u64(a, b, d, ceil),
                            want,
                            "{a} * {b} / {d} ceil={ceil}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn wide_mul_div_is_exact() {
        // (2^100 + 1) * 3 / 3 needs 102 bits of product; (2^127) * 4 / 8 needs 129.
        assert_eq!(
            mul_div_u128((1 << 100) + 1, 3, 3, false),
            Some((1 << 100) + 1)
        );
        assert_eq!(mul_div_u128(1 << 127, 4, 8, false), Some(1 << 126));
        assert_eq!(
            mul_div_u128(u128::MAX, u128::MAX, u128::MAX, true),
            Some(u128::MAX)
        );
        assert_eq!(mul_div_u128(u128::MAX, 3, 2, false), None);
        // 2 * (2^128 - 1) / 3 is exact; / 7 is not (values from exact big integers).
        assert_eq!(mul_div_u128(u128::MAX, 2, 3, true), Some(u128::MAX / 3 * 2));
        assert_eq!(
            mul_div_u128(u128::MAX, 2, 7, false),
            Some(97223533405982418132392744980505203272)
        );
        assert_eq!(
            mul_div_u128(u128::MAX, 2, 7, true),
            Some(97223533405982418132392744980505203273)
        );
        assert_eq!(mul_div_u128(1, 1, 0, false), None);
    }

    #[test]
    fn fast_multiply_agrees_with_checked_mul() {
        let vals = [
            0i128,
            1,
            -1,
            u64::MAX as i128,
            -(u64::MAX as i128),
            (u64::MAX as i128) + 1,
            i128::MAX,
            i128::MIN,
            i128::MIN + 1,
            1 << 100,
            -(1 << 100),
            1 << 63,
            3_037_000_499,
            -9_223_372_036_854_775_808,
        ];
        for a in vals {
            for b in vals {
                assert_eq!(mul_i128(a, b), a.checked_mul(b), "{a} * {b}");
            }
        }
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
        assert!(pow10(39).is_err());
        assert_eq!(pow10(19).unwrap(), 10_000_000_000_000_000_000);
    }

    #[test]
    fn failures_name_the_calling_line() {
        let line_of = |e: Error| match e {
            Error::AnchorError(a) => match a.error_origin {
                Some(anchor_lang::error::ErrorOrigin::Source(s)) => (s.filename, s.line),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        };
        let (e1, l1) = (Fx::MAX.mul_ceil(fx(2.0)).unwrap_err(), line!());
        let (e2, l2) = (FX_ONE.div_int_floor(0).unwrap_err(), line!());
        let (e3, l3) = (fx(-1.0).to_ceil_u64().unwrap_err(), line!());
        let (e4, l4) = (FX_ONE.mul_div_int_ceil(1, 0).unwrap_err(), line!());
        for (e, l) in [
            (e1, l1),
            (e2, l2),
            (e3, l3),
            (e4, l4),
            (pow10(99).unwrap_err(), line!()),
        ] {
            assert_eq!(line_of(e), (file!(), l));
        }
    }

    #[test]
    fn fx_u64_is_from_num() {
        for v in [0u64, 1, 7, 1 << 40, u64::MAX / 3, u64::MAX] {
            assert_eq!(fx_u64(v), Fx::from_num(v));
        }
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
