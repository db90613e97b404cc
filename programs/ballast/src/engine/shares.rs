//! Deposit shares and debt shares.
//!
//! * Deposit shares (`u64`, like klend's cTokens) are claims on the reserve's
//!   supply: `supply = available + borrowed - protocol_fees` token base units.
//!   The exchange rate is `supply / shares`. Minting rounds shares down,
//!   redeeming rounds tokens down and burning-for-an-amount rounds shares up,
//!   so no sequence of deposits and withdrawals lowers the exchange rate.
//! * Debt shares (`Fx`, Aave's scaled balance): `debt = shares * borrow_index`.
//!   Borrowing adds `amount / index` rounded up; repaying `x` removes
//!   `x / index` rounded down; a position's debt is rounded up.
//!
//! All amounts are token base units.

use anchor_lang::prelude::*;

use super::fx::*;
use super::safe_math::{checked, SafeCast};
use crate::errors::BallastError;

/// Shares minted for depositing `amount` into a reserve with `supply` and
/// `total_shares` outstanding, rounded down. The first deposit (no shares
/// outstanding) mints 1:1. Errors: [`BallastError::ReserveInsolvent`] when
/// shares exist but the supply is zero.
pub fn shares_for_deposit(amount: u64, supply: Fx, total_shares: u64) -> Result<u64> {
    if total_shares == 0 {
        return Ok(amount);
    }
    require!(supply > FX_ZERO, BallastError::ReserveInsolvent);
    shares_mul_div(amount, supply, total_shares, false)
}

/// Tokens paid out for redeeming `shares`, rounded down.
pub fn tokens_for_shares_floor(shares: u64, supply: Fx, total_shares: u64) -> Result<Fx> {
    if shares == 0 {
        return Ok(FX_ZERO);
    }
    require!(
        total_shares > 0 && shares <= total_shares,
        BallastError::MathOverflow
    );
    // shares * supply / total with an integer multiplier and divisor (cheap
    // on sBPF, exact; see `FxExt::mul_div_int_floor`).
    supply.mul_div_int_floor(shares as i128, total_shares as i128)
}

/// Shares to burn so that `amount` tokens can be paid out, rounded up: the
/// least `s` with `s * supply / total >= amount`.
pub fn shares_for_withdraw_ceil(amount: u64, supply: Fx, total_shares: u64) -> Result<u64> {
    require!(supply > FX_ZERO, BallastError::ReserveInsolvent);
    shares_mul_div(amount, supply, total_shares, true)
}

/// What withdrawing `amount` base units of a collateral position of `held`
/// deposit shares pays and burns, in a reserve with `supply` and
/// `total_shares` outstanding: `(tokens, shares)`. `u64::MAX` withdraws the
/// whole position, its tokens rounded down; any other amount burns its
/// shares rounded up ([`shares_for_withdraw_ceil`]). Errors:
/// [`BallastError::InsufficientCollateral`] (more shares than held),
/// [`BallastError::ReserveInsolvent`], [`BallastError::MathOverflow`].
pub fn withdrawal(amount: u64, held: u64, supply: Fx, total_shares: u64) -> Result<(u64, u64)> {
    if amount == u64::MAX {
        let tokens = tokens_for_shares_floor(held, supply, total_shares)?.to_floor_u64()?;
        return Ok((tokens, held));
    }
    let shares = shares_for_withdraw_ceil(amount, supply, total_shares)?;
    require!(shares <= held, BallastError::InsufficientCollateral);
    Ok((amount, shares))
}

/// `amount * total / supply` as whole shares, exactly:
/// `amount * total * 2^48 / supply.to_bits()`, rounded as asked.
fn shares_mul_div(amount: u64, supply: Fx, total_shares: u64, ceil: bool) -> Result<u64> {
    let n = (amount as u128) * (total_shares as u128);
    checked(mul_div_u128(
        n,
        1u128 << Fx::FRAC_NBITS,
        supply.to_bits() as u128,
        ceil,
    ))?
    .cast()
}

/// Debt shares added by borrowing `amount` at `index`, rounded up.
pub fn debt_shares_for_borrow(amount: u64, index: Fx) -> Result<Fx> {
    fx_u64(amount).div_ceil(index)
}

/// Debt shares removed by repaying `amount` at `index`, rounded down.
pub fn debt_shares_for_repay(amount: u64, index: Fx) -> Result<Fx> {
    fx_u64(amount).div_floor(index)
}

/// Debt in token base units of `shares` at `index`, rounded up (as fractional
/// `Fx`; the amount to repay all is its ceiling as an integer).
pub fn debt_for_shares(shares: Fx, index: Fx) -> Result<Fx> {
    shares.mul_ceil(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_deposit_is_one_to_one() {
        assert_eq!(shares_for_deposit(1_000, FX_ZERO, 0).unwrap(), 1_000);
    }

    #[test]
    fn shares_round_down_and_burns_round_up() {
        // supply 1,000.5 tokens for 1,000 shares: rate 1.0005.
        let supply = Fx::from_num(1_000.5);
        assert_eq!(shares_for_deposit(3, supply, 1_000).unwrap(), 2); // 2.9985 -> 2
        assert_eq!(
            tokens_for_shares_floor(999, supply, 1_000)
                .unwrap()
                .to_floor_u64()
                .unwrap(),
            999
        ); // 999.4995
        assert_eq!(
            shares_for_withdraw_ceil(1_000, supply, 1_000).unwrap(),
            1_000
        ); // 999.5 -> 1000
        assert_eq!(shares_for_withdraw_ceil(1, supply, 1_000).unwrap(), 1);
    }

    #[test]
    fn insolvent_reserve_refuses_deposits() {
        assert!(shares_for_deposit(10, FX_ZERO, 5).is_err());
        assert!(shares_for_withdraw_ceil(10, FX_ZERO, 5).is_err());
    }

    #[test]
    fn large_amounts_do_not_overflow() {
        let supply = fx_u64(u64::MAX / 2);
        let s = shares_for_deposit(u64::MAX / 4, supply, u64::MAX / 2).unwrap();
        assert!((u64::MAX / 4 - 1_000_000..=u64::MAX / 4).contains(&s));
    }

    #[test]
    fn a_withdrawal_burns_shares_rounded_up_or_the_whole_position() {
        let supply = Fx::from_num(1_000.5);
        assert_eq!(withdrawal(3, 10, supply, 1_000).unwrap(), (3, 3));
        assert_eq!(
            withdrawal(u64::MAX, 999, supply, 1_000).unwrap(),
            (999, 999)
        );
        assert!(withdrawal(11, 10, supply, 1_000).is_err());
    }

    #[test]
    fn debt_shares_round_against_the_borrower() {
        let index = Fx::from_num(1.1);
        let s = debt_shares_for_borrow(100, index).unwrap();
        assert!(debt_for_shares(s, index).unwrap() >= fx_u64(100));
        let r = debt_shares_for_repay(100, index).unwrap();
        assert!(r <= s);
    }
}
