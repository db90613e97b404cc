//! Fixed-rate term deposits: the deposit rate, the face owed at maturity,
//! the settlement at withdrawal, the per-maturity book of locked shares and
//! the reserve's aggregates that the liquidity controls read.
//!
//! ## The deal
//!
//! A term deposit of `amount` base units mints ordinary deposit shares at
//! the reserve's exchange rate (rounded down, as `deposit`), but they are
//! locked in a `TermDeposit` account, not credited to an obligation: they
//! cannot be withdrawn before the maturity and cannot back a loan. The
//! depositor is owed the fixed face
//!
//! ```text
//! F = floor(amount * exp(r_dep * tau / SECONDS_PER_YEAR))     (face_floor)
//! ```
//!
//! at the maturity `T` (the first grid point at or after `now + tenor`, as
//! term loans: [`super::term::maturity_for`]), `tau = T - now`. The
//! exponent and `exp` are rounded down, so `F` is never above the exact
//! closed form.
//!
//! ## The deposit rate (annualised, continuous)
//!
//! ```text
//! r_dep = min(r_supply + base_spread / 2,  r_borrow + base_spread)
//! r_supply = r_borrow * U * (1 - reserve_factor)
//! ```
//!
//! rounded down. The floating supply rate plus half the term premium of the
//! loan curve ([`super::term::term_rate`] charges `r_borrow + base_spread +
//! slope * c`): the depositor who gives up the option to run is paid half
//! the premium a term borrower pays for certainty, the protocol keeps the
//! other half for the rate risk it takes as the fixed-for-floating
//! counterparty. The `min` keeps it at or below the loan curve's rate for
//! any tenor (the curve's lowest point, no commitment). Source: the same
//! expectations-plus-premium view as the loan curve (Exactly Protocol's
//! maturity pools pay fixed-rate depositors out of fixed borrowers'
//! premiums); the half is this protocol's choice.
//!
//! ## Settlement (protocol as fixed-for-floating counterparty)
//!
//! At or after maturity the locked shares are redeemed at their value `V`
//! (rounded down) and the depositor is paid `F`:
//! * `V >= F`: pays `F`, and `V - F` goes to the protocol's fees;
//! * `V < F`: the shortfall `F - V` comes out of the protocol's accrued fees
//!   (whole base units); if they do not cover it, the depositor gets `V`
//!   plus every whole unit of fees, and the rest (`shortfall`) is reported
//!   in the event, not paid (the insurance vault is not touched).
//!
//! Either way the supply drops by exactly `V` for the shares burned, so the
//! floating depositors' exchange rate does not move beyond rounding (in
//! their favour: `V` is rounded down).
//!
//! Units: token base units, seconds; rates are `Fx` fractions a year.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::fx::*;
use super::rates::SECONDS_PER_YEAR;
use super::term::exp_floor;
use crate::errors::BallastError;

/// Largest exponent `r * tau` priced (as term loans): beyond it the face
/// would overflow anyway.
const MAX_EXPONENT: u64 = 40;

/// Maturity buckets of a reserve's [`DEPOSIT_BUCKETS`]-slot book: the 13
/// grid points a tenor of at most 12 grid periods reaches, plus 11 for
/// matured deposits not yet withdrawn.
pub const DEPOSIT_BUCKETS: usize = 24;

/// The deposit rate (fraction a year, rounded down): `min(supply_apr +
/// base_spread / 2, borrow_apr + base_spread)` with `supply_apr =
/// borrow_apr * utilization * (1 - reserve_factor)`.
pub fn deposit_rate(
    borrow_apr: Fx,
    utilization: Fx,
    reserve_factor_bps: u16,
    base_spread_bps: u16,
) -> Result<Fx> {
    let keep = (BPS as i128)
        .saturating_sub(reserve_factor_bps as i128)
        .max(0);
    let supply_apr = borrow_apr
        .max(FX_ZERO)
        .mul_floor(utilization.clamp(FX_ZERO, FX_ONE))?
        .mul_div_int_floor(keep, BPS as i128)?;
    let half_spread = fx_bps_floor(base_spread_bps as u64)?.div_int_floor(2)?;
    let cap = borrow_apr
        .max(FX_ZERO)
        .add_(fx_bps_floor(base_spread_bps as u64)?)?;
    Ok(supply_apr.add_(half_spread)?.min(cap))
}

/// The face owed at maturity for `amount` deposited at `rate` for `tau`
/// seconds: `floor(amount * exp_floor(floor(rate * tau / year)))`, never
/// above the exact `amount * e^(rate * tau)`. Errors:
/// [`BallastError::MathOverflow`] (a face beyond `u64`, or an exponent
/// beyond 40).
pub fn face_floor(amount: u64, rate: Fx, tau: u64) -> Result<u64> {
    let x = rate
        .max(FX_ZERO)
        .mul_div_int_floor(tau as i128, SECONDS_PER_YEAR as i128)?;
    require!(x <= fx_u64(MAX_EXPONENT), BallastError::MathOverflow);
    fx_u64(amount).mul_floor(exp_floor(x)?)?.to_floor_u64()
}

/// What a withdrawal at or after maturity pays and books, base units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    /// Paid to the depositor: `F`, or `V` plus the fees available.
    pub paid: u64,
    /// Credited to the protocol's fees (`V - F` when `V > F`).
    pub to_fees: u64,
    /// Taken out of the protocol's fees (the shortfall they cover).
    pub from_fees: u64,
    /// Owed and not paid: the shortfall the fees did not cover.
    pub unpaid: u64,
}

/// The settlement of locked shares worth `value` (`V`, rounded down) owed
/// `face` (`F`), with `fees_available` whole base units of protocol fees.
pub fn settle(value: u64, face: u64, fees_available: u64) -> Settlement {
    if value >= face {
        return Settlement {
            paid: face,
            to_fees: value - face,
            ..Default::default()
        };
    }
    let need = face - value;
    let from_fees = need.min(fees_available);
    Settlement {
        paid: value + from_fees,
        to_fees: 0,
        from_fees,
        unpaid: need - from_fees,
    }
}

/// One maturity of a reserve's term deposits. 24 bytes. Free when
/// `shares == 0`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct DepositBucket {
    /// Maturity, unix seconds.
    pub maturity: i64,
    /// Deposit shares locked until then.
    pub shares: u64,
    /// Face owed then, base units.
    pub face: u64,
}

/// Adds `shares` and `face` at `maturity` to `buckets` (the bucket of that
/// maturity, else the first free one). Errors:
/// [`BallastError::TermBucketsFull`], [`BallastError::MathOverflow`].
pub fn book_add(
    buckets: &mut [DepositBucket],
    maturity: i64,
    shares: u64,
    face: u64,
) -> Result<()> {
    let i = match buckets
        .iter()
        .position(|b| b.shares > 0 && b.maturity == maturity)
    {
        Some(i) => i,
        None => {
            let i = buckets
                .iter()
                .position(|b| b.shares == 0)
                .ok_or(error!(BallastError::TermBucketsFull))?;
            buckets[i] = DepositBucket {
                maturity,
                ..Default::default()
            };
            i
        }
    };
    let b = &mut buckets[i];
    b.shares = b
        .shares
        .checked_add(shares)
        .ok_or(error!(BallastError::MathOverflow))?;
    b.face = b
        .face
        .checked_add(face)
        .ok_or(error!(BallastError::MathOverflow))?;
    Ok(())
}

/// Takes `shares` and `face` at `maturity` off `buckets`; a bucket left
/// without shares is freed. Errors: [`BallastError::MathOverflow`] when no
/// bucket of that maturity holds them (the book and the deposits disagree).
pub fn book_remove(
    buckets: &mut [DepositBucket],
    maturity: i64,
    shares: u64,
    face: u64,
) -> Result<()> {
    let b = buckets
        .iter_mut()
        .find(|b| b.shares >= shares && b.shares > 0 && b.maturity == maturity)
        .ok_or(error!(BallastError::MathOverflow))?;
    b.shares -= shares;
    b.face = b.face.saturating_sub(face);
    if b.shares == 0 {
        *b = DepositBucket::default();
    }
    Ok(())
}

/// The earliest maturity with locked shares (`i64::MAX` when none).
pub fn next_maturity(buckets: &[DepositBucket]) -> i64 {
    buckets
        .iter()
        .filter(|b| b.shares > 0)
        .map(|b| b.maturity)
        .min()
        .unwrap_or(i64::MAX)
}

/// The reserve's aggregates of its term deposits (in the reserve's last 32
/// bytes, formerly reserved). 32 bytes.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct TermDepositTotals {
    /// Deposit shares locked in term deposits (part of `deposit_shares`).
    pub locked_shares: u64,
    /// Face owed at their maturities, base units.
    pub locked_face: u64,
    /// The earliest maturity among them, unix seconds (`i64::MAX` after
    /// the last one is withdrawn; 0 on a reserve that never had one).
    pub next_maturity: i64,
    /// Reserved; zero.
    pub _reserved: [u8; 8],
}

impl TermDepositTotals {
    /// Locked shares that cannot run before unix time `at`: all of them
    /// while `at` is before the earliest maturity, none once any locked
    /// deposit has matured (the reserve does not know which ones: counting
    /// them all as runnable then is the conservative side).
    pub fn locked_until(&self, at: i64) -> u64 {
        if self.locked_shares == 0 || at >= self.next_maturity {
            0
        } else {
            self.locked_shares
        }
    }
}

/// The part of `claims` that cannot run before `at`: `claims * locked /
/// total_shares`, rounded DOWN (the runnable rest is valued high, the
/// conservative side for coverage and the buffer).
pub fn locked_claims(claims: Fx, locked: u64, total_shares: u64) -> Result<Fx> {
    if locked == 0 || total_shares == 0 || claims <= FX_ZERO {
        return Ok(FX_ZERO);
    }
    claims.mul_div_int_floor(locked.min(total_shares) as i128, total_shares as i128)
}

const _: () = assert!(core::mem::size_of::<DepositBucket>() == 24);
const _: () = assert!(core::mem::size_of::<TermDepositTotals>() == 32);

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: Fx) -> f64 {
        x.to_num::<f64>()
    }

    #[test]
    fn face_matches_the_closed_form_rounded_down() {
        let year = SECONDS_PER_YEAR;
        for (amount, rate, tau) in [
            (1_000_000_000u64, 0.05f64, year),
            (1_000_000_000, 0.05, 30 * 86_400),
            (123_456_789, 0.8, 7 * 86_400),
            (u64::MAX / 4, 0.12, 90 * 86_400),
            (1, 0.05, 86_400),
            (10_000, 0.0, 86_400),
        ] {
            let face = face_floor(amount, Fx::from_num(rate), tau).unwrap();
            let exact = amount as f64 * (rate * tau as f64 / year as f64).exp();
            assert!(face as f64 <= exact * (1.0 + 1e-12), "{amount} {rate}");
            assert!(
                face as f64 >= exact * (1.0 - 1e-12) - 1.0,
                "{amount} {rate}: {face} {exact}"
            );
            assert!(face >= amount);
        }
        // 5% over a year on 1e9: e^0.05 = 1.051271096376024
        assert_eq!(
            face_floor(1_000_000_000, Fx::from_num(0.05), SECONDS_PER_YEAR).unwrap(),
            1_051_271_096
        );
        assert!(face_floor(u64::MAX, Fx::from_num(0.5), SECONDS_PER_YEAR).is_err());
        assert!(face_floor(1, Fx::from_num(50), SECONDS_PER_YEAR).is_err());
    }

    #[test]
    fn deposit_rate_is_supply_plus_half_the_premium_below_the_loan_curve() {
        let b = Fx::from_num(0.10);
        let u = Fx::from_num(0.5);
        // supply 10% * 50% * 90% = 4.5%, + 0.5%
        let r = deposit_rate(b, u, 1_000, 100).unwrap();
        assert!((f(r) - 0.05).abs() < 1e-12, "{r}");
        // never above the loan rate at no commitment
        assert!(r <= b + fx_bps_floor(100).unwrap());
        let r = deposit_rate(b, FX_ONE, 0, 100).unwrap();
        assert!((f(r) - 0.105).abs() < 1e-12);
        assert_eq!(deposit_rate(FX_ZERO, FX_ZERO, 0, 0).unwrap(), FX_ZERO);
    }

    #[test]
    fn settlement_both_ways() {
        assert_eq!(
            settle(1_050, 1_000, 0),
            Settlement {
                paid: 1_000,
                to_fees: 50,
                ..Default::default()
            }
        );
        assert_eq!(
            settle(990, 1_000, 100),
            Settlement {
                paid: 1_000,
                from_fees: 10,
                ..Default::default()
            }
        );
        assert_eq!(
            settle(990, 1_000, 4),
            Settlement {
                paid: 994,
                from_fees: 4,
                unpaid: 6,
                ..Default::default()
            }
        );
    }

    #[test]
    fn book_fills_frees_and_tracks_the_next_maturity() {
        let mut b = [DepositBucket::default(); 3];
        assert_eq!(next_maturity(&b), i64::MAX);
        book_add(&mut b, 300, 10, 11).unwrap();
        book_add(&mut b, 100, 5, 6).unwrap();
        book_add(&mut b, 300, 1, 1).unwrap();
        book_add(&mut b, 200, 1, 1).unwrap();
        assert!(book_add(&mut b, 400, 1, 1).is_err());
        assert_eq!(next_maturity(&b), 100);
        book_remove(&mut b, 100, 5, 6).unwrap();
        assert_eq!(next_maturity(&b), 200);
        assert!(book_remove(&mut b, 300, 12, 0).is_err());
        book_remove(&mut b, 300, 11, 12).unwrap();
        book_add(&mut b, 400, 1, 1).unwrap();
        assert_eq!(b.iter().filter(|x| x.shares > 0).count(), 2);
        let t = TermDepositTotals {
            locked_shares: 7,
            next_maturity: 100,
            ..Default::default()
        };
        assert_eq!(t.locked_until(99), 7);
        assert_eq!(t.locked_until(100), 0);
        assert_eq!(
            locked_claims(fx_u64(1_000), 250, 1_000).unwrap(),
            fx_u64(250)
        );
    }
}
