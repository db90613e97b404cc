//! The protocol's equity leaving a reserve: how much of the protocol fees an
//! admin withdrawal (`withdraw_protocol_fees`) may take.
//!
//! ## The rule
//!
//! A reserve's books (token base units): assets = liquid + deployed +
//! borrowed; depositors' claims = assets - protocol fees. A fee withdrawal
//! of `x` takes `x` whole tokens out of the liquidity vault and removes `x`
//! from the fees, so assets and fees fall by the same `x` and the claims do
//! not move (to the base unit: integers are exact in `I80F48`), nor does the
//! share exchange rate. It is allowed when
//!
//! * `x <= floor(protocol_fees)`: only the protocol's own equity leaves,
//!   never a depositor's claim. Equivalently, the withdrawal is bounded by
//!   the liquid cash net of what the depositors' claims need of it: claims -
//!   deployed - borrowed = liquid - fees;
//! * `x <= liquid`: paid from the vault only, never recalled from the
//!   treasury strategy nor counted against a loan;
//! * `x <=` what the outflow limiter still lets out in its window: the fee
//!   sweep is an outflow like any withdrawal, so the limiter's bound on how
//!   far the reserve's liquidity can fall in a window holds for the admin
//!   too;
//! * the reserve is solvent on its books (assets >= fees): otherwise the
//!   fees are not backed and nothing leaves
//!   ([`BallastError::ReserveInsolvent`]).
//!
//! The insurance vault is outside the reserve's assets (equity held apart):
//! its withdrawal is bounded by the vault's balance only and never touches
//! the liquidity vault (`withdraw_insurance`).

use anchor_lang::prelude::*;

use super::fx::*;
use crate::errors::BallastError;

/// The tokens an admin fee withdrawal of `requested` base units takes from
/// a reserve whose protocol fees are `fees` (fractional base units), whose
/// assets (liquid + deployed + borrowed, interest accrued) are `assets`,
/// with `liquid` tokens in its vault and `outflow_remaining` left in the
/// outflow limiter's window (`u64::MAX` without a limiter).
///
/// `requested == u64::MAX` takes everything withdrawable: `min(floor(fees),
/// liquid, outflow_remaining)`; when that is zero it fails with the error
/// of the bound that is zero.
///
/// Rounding: fees are rounded down (only whole tokens of equity leave).
/// Errors: [`BallastError::ZeroAmount`], [`BallastError::ReserveInsolvent`]
/// (assets < fees), [`BallastError::ProtocolFeesExceeded`] (more than
/// `floor(fees)`), [`BallastError::InsufficientLiquidity`] (more than
/// `liquid`), [`BallastError::OutflowLimitExceeded`] (more than the window
/// lets out), [`BallastError::MathOverflow`].
pub fn fee_withdrawal(
    requested: u64,
    fees: Fx,
    assets: Fx,
    liquid: u64,
    outflow_remaining: u64,
) -> Result<u64> {
    require!(requested > 0, BallastError::ZeroAmount);
    require!(assets >= fees, BallastError::ReserveInsolvent);
    let withdrawable_fees = fees.max(FX_ZERO).to_floor_u64()?;
    let amount = if requested == u64::MAX {
        // At least 1, so that nothing withdrawable fails below with the
        // bound that is zero.
        withdrawable_fees.min(liquid).min(outflow_remaining).max(1)
    } else {
        requested
    };
    if amount > withdrawable_fees {
        msg!(
            "protocol fees withdrawable: {} base units, requested {}",
            withdrawable_fees,
            amount
        );
        return err!(BallastError::ProtocolFeesExceeded);
    }
    if amount > liquid {
        msg!("liquid: {} base units, requested {}", liquid, amount);
        return err!(BallastError::InsufficientLiquidity);
    }
    if amount > outflow_remaining {
        msg!(
            "outflow limit: {} requested, {} left in the window",
            amount,
            outflow_remaining
        );
        return err!(BallastError::OutflowLimitExceeded);
    }
    Ok(amount)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(v: f64) -> Fx {
        Fx::from_num(v)
    }

    /// The Ballast error code (`BallastError as u32`) of a refusal.
    fn code(r: Result<u64>) -> u32 {
        match r {
            Err(anchor_lang::error::Error::AnchorError(e)) => {
                e.error_code_number - anchor_lang::error::ERROR_CODE_OFFSET
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn takes_at_most_the_whole_fees() {
        let assets = fx(1_000.0);
        assert_eq!(
            fee_withdrawal(7, fx(7.9), assets, 100, u64::MAX).unwrap(),
            7
        );
        assert_eq!(
            code(fee_withdrawal(8, fx(7.9), assets, 100, u64::MAX)),
            BallastError::ProtocolFeesExceeded as u32
        );
        assert_eq!(
            fee_withdrawal(u64::MAX, fx(7.9), assets, 100, u64::MAX).unwrap(),
            7
        );
    }

    #[test]
    fn all_is_bounded_by_liquid_and_the_window() {
        let assets = fx(1_000.0);
        assert_eq!(
            fee_withdrawal(u64::MAX, fx(50.0), assets, 20, 30).unwrap(),
            20
        );
        assert_eq!(
            fee_withdrawal(u64::MAX, fx(50.0), assets, 40, 30).unwrap(),
            30
        );
        assert_eq!(
            code(fee_withdrawal(21, fx(50.0), assets, 20, 30)),
            BallastError::InsufficientLiquidity as u32
        );
        assert_eq!(
            code(fee_withdrawal(31, fx(50.0), assets, 40, 30)),
            BallastError::OutflowLimitExceeded as u32
        );
    }

    #[test]
    fn nothing_withdrawable_fails_with_the_binding_bound() {
        let assets = fx(1_000.0);
        assert_eq!(
            code(fee_withdrawal(u64::MAX, fx(0.99), assets, 40, 30)),
            BallastError::ProtocolFeesExceeded as u32
        );
        assert_eq!(
            code(fee_withdrawal(u64::MAX, fx(5.0), assets, 0, 30)),
            BallastError::InsufficientLiquidity as u32
        );
        assert_eq!(
            code(fee_withdrawal(u64::MAX, fx(5.0), assets, 40, 0)),
            BallastError::OutflowLimitExceeded as u32
        );
        assert_eq!(
            code(fee_withdrawal(0, fx(5.0), assets, 40, 30)),
            BallastError::ZeroAmount as u32
        );
    }

    #[test]
    fn unbacked_fees_never_leave() {
        assert_eq!(
            code(fee_withdrawal(1, fx(10.0), fx(9.5), 9, u64::MAX)),
            BallastError::ReserveInsolvent as u32
        );
        assert_eq!(
            fee_withdrawal(10, fx(10.0), fx(10.0), 10, u64::MAX).unwrap(),
            10
        );
    }
}
