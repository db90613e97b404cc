//! Checked integer arithmetic that names the line that overflowed (Drift's
//! `SafeMath` and `SafeCast`).
//!
//! Every method is `#[track_caller]`: on failure it logs `file:line` of the
//! call site (`std::panic::Location::caller()`) with `msg!` and returns
//! [`BallastError::MathOverflow`] whose Anchor error origin is that same
//! line, so "AnchorError thrown in ..." points at the expression that
//! overflowed rather than at this module. The success path is the plain
//! `checked_*` operation: the location is a hidden pointer argument that
//! inlining turns into a constant, and the log is formatted only on the
//! (cold, out-of-line) error path.
//!
//! `safe_div` fails on a zero divisor as well as on overflow (`i64::MIN /
//! -1`); integer division truncates toward zero, as `/` does: callers that
//! need another rounding say so ([`crate::engine::fx`] for fixed point).

use core::panic::Location;

use anchor_lang::error::{AnchorError, Error, ErrorOrigin, Source};
use anchor_lang::prelude::*;

use crate::errors::BallastError;

/// The [`BallastError::MathOverflow`] error of the operation at `at`, after
/// logging that location. Cold and out of line: only failures pay for the
/// formatting.
#[cold]
#[inline(never)]
pub fn overflow_at(at: &'static Location<'static>) -> Error {
    msg!("math overflow at {}:{}", at.file(), at.line());
    let e = BallastError::MathOverflow;
    Error::from(AnchorError {
        error_name: e.name(),
        error_code_number: e.into(),
        error_msg: e.to_string(),
        error_origin: Some(ErrorOrigin::Source(Source {
            filename: at.file(),
            line: at.line(),
        })),
        compared_values: None,
    })
}

/// [`overflow_at`] the caller's location (through any chain of
/// `#[track_caller]` functions).
#[track_caller]
#[inline(always)]
pub fn overflow() -> Error {
    overflow_at(Location::caller())
}

/// `Some(v)` as `Ok(v)`, `None` as [`overflow`] at the caller's location.
#[track_caller]
#[inline(always)]
pub fn checked<T>(v: Option<T>) -> Result<T> {
    match v {
        Some(v) => Ok(v),
        None => Err(overflow()),
    }
}

/// Checked `+ - * /` on the primitive integers, each failing with
/// [`BallastError::MathOverflow`] at the caller's line (see the module doc).
pub trait SafeMath: Sized {
    /// `self + rhs`.
    #[track_caller]
    fn safe_add(self, rhs: Self) -> Result<Self>;
    /// `self - rhs`.
    #[track_caller]
    fn safe_sub(self, rhs: Self) -> Result<Self>;
    /// `self * rhs`.
    #[track_caller]
    fn safe_mul(self, rhs: Self) -> Result<Self>;
    /// `self / rhs`, truncated toward zero; fails when `rhs` is zero.
    #[track_caller]
    fn safe_div(self, rhs: Self) -> Result<Self>;
}

macro_rules! impl_safe_math {
    ($($t:ty),*) => {$(
        impl SafeMath for $t {
            #[track_caller]
            #[inline(always)]
            fn safe_add(self, rhs: Self) -> Result<Self> {
                checked(self.checked_add(rhs))
            }
            #[track_caller]
            #[inline(always)]
            fn safe_sub(self, rhs: Self) -> Result<Self> {
                checked(self.checked_sub(rhs))
            }
            #[track_caller]
            #[inline(always)]
            fn safe_mul(self, rhs: Self) -> Result<Self> {
                checked(self.checked_mul(rhs))
            }
            #[track_caller]
            #[inline(always)]
            fn safe_div(self, rhs: Self) -> Result<Self> {
                checked(self.checked_div(rhs))
            }
        }
    )*};
}

impl_safe_math!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128);

/// Lossless integer conversion or [`BallastError::MathOverflow`] at the
/// caller's line: `x.cast::<u16>()?` instead of `x as u16`, which would
/// truncate.
pub trait SafeCast: Sized + Copy {
    /// `self` as `T`, or an error when it does not fit.
    #[track_caller]
    fn cast<T: TryFrom<Self>>(self) -> Result<T>;
}

macro_rules! impl_safe_cast {
    ($($t:ty),*) => {$(
        impl SafeCast for $t {
            #[track_caller]
            #[inline(always)]
            fn cast<T: TryFrom<Self>>(self) -> Result<T> {
                checked(T::try_from(self).ok())
            }
        }
    )*};
}

impl_safe_cast!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128);

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(e: Error) -> (u32, String, u32) {
        match e {
            Error::AnchorError(a) => match a.error_origin {
                Some(ErrorOrigin::Source(s)) => (a.error_code_number, s.filename.into(), s.line),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn results_match_the_checked_operations() {
        assert_eq!(2u64.safe_add(3).unwrap(), 5);
        assert_eq!(5u64.safe_sub(3).unwrap(), 2);
        assert_eq!(5i64.safe_sub(7).unwrap(), -2);
        assert_eq!(6u128.safe_mul(7).unwrap(), 42);
        assert_eq!(7u64.safe_div(2).unwrap(), 3);
        assert_eq!((-7i64).safe_div(2).unwrap(), -3);
        assert_eq!(300u64.cast::<u16>().unwrap(), 300);
        assert_eq!((-1i64).cast::<i128>().unwrap(), -1);
    }

    #[test]
    fn failures_name_the_calling_line() {
        let overflow_code =
            anchor_lang::error::ERROR_CODE_OFFSET + BallastError::MathOverflow as u32;
        let line = line!() + 1;
        let e = u64::MAX.safe_add(1).unwrap_err();
        assert_eq!(origin(e), (overflow_code, file!().into(), line));
        let line = line!() + 1;
        let e = 0u64.safe_sub(1).unwrap_err();
        assert_eq!(origin(e).2, line);
        let line = line!() + 1;
        let e = 1u64.safe_div(0).unwrap_err();
        assert_eq!(origin(e).2, line);
        let line = line!() + 1;
        let e = i64::MIN.safe_div(-1).unwrap_err();
        assert_eq!(origin(e).2, line);
        let line = line!() + 1;
        let e = u128::MAX.safe_mul(2).unwrap_err();
        assert_eq!(origin(e).2, line);
        let line = line!() + 1;
        let e = 70_000u64.cast::<u16>().unwrap_err();
        assert_eq!(origin(e), (overflow_code, file!().into(), line));
        let e = (-1i64).cast::<u64>().unwrap_err();
        assert_eq!(origin(e).1, file!());
    }
}
