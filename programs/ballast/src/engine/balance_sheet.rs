//! One reserve's balance sheet at a point in time, from its books: what
//! `balance_sheet` returns (and emits) and what off-chain readers (the
//! keeper's replay) compute from decoded accounts.
//!
//! ## Layout (the instruction's return data)
//!
//! The borsh encoding of [`BalanceSheet`], [`BALANCE_SHEET_LEN`] = 113
//! bytes, little endian, in field order: `reserve` (32), `timestamp` (i64),
//! `liquid`, `deployed`, `borrowed`, `assets`, `liabilities`,
//! `protocol_fees`, `insurance` (u64 each), `utilization_bps`,
//! `liquid_share_bps` (u16 each), `liquidity_coverage_bps` (u32),
//! `outflow_remaining` (u64, `u64::MAX` with no limiter), `paused` (u8).

use anchor_lang::prelude::*;

use super::book::ReserveBook;
use super::fx::*;
use super::liquidity::liquidity_coverage_bps;
use super::rates::utilization;
use super::safe_math::{SafeCast, SafeMath};
use super::treasury::{recallable_of, shares_value};

/// Length of a borsh-encoded [`BalanceSheet`] (the return data of
/// `balance_sheet`), bytes: 32 + 8 + 7 * 8 + 2 * 2 + 4 + 8 + 1.
pub const BALANCE_SHEET_LEN: usize = 113;

/// One reserve's balance sheet at a point in time; token base units unless
/// stated.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct BalanceSheet {
    /// The reserve.
    pub reserve: Pubkey,
    /// Unix time of the view, seconds.
    pub timestamp: i64,
    /// Tokens in the liquidity vault.
    pub liquid: u64,
    /// Tokens deployed to the treasury strategy (valued at its exchange rate).
    pub deployed: u64,
    /// Outstanding loans, interest projected to now (rounded up).
    pub borrowed: u64,
    /// `liquid + deployed + borrowed`.
    pub assets: u64,
    /// Depositors' claims at the share exchange rate (rounded down).
    pub liabilities: u64,
    /// Interest owed to the protocol (equity).
    pub protocol_fees: u64,
    /// Insurance vault balance (equity, outside the assets above).
    pub insurance: u64,
    /// Borrowed / (liquid + deployed + borrowed - fees), bps.
    pub utilization_bps: u16,
    /// Liquid / liabilities, bps (10,000 when there are none).
    pub liquid_share_bps: u16,
    /// (Liquid + recallable within the window) / stressed outflow, bps;
    /// `u32::MAX` when no outflow is stressed. The stressed outflow is
    /// `stress_outflow_bps` of the claims that can run within the outflow
    /// window: term deposits locked past it are left out.
    pub liquidity_coverage_bps: u32,
    /// What the outflow limiter still lets out in the current window.
    pub outflow_remaining: u64,
    /// 1 when the market is paused.
    pub paused: u8,
}

/// The balance sheet of `reserve` (address `key`) at unix time `now`,
/// interest projected, nothing written. `strategy` is the reserve's treasury
/// strategy reserve with its interest accrued (projected, on a copy) to
/// `now`: the deployed shares are valued at its exchange rate, and what it
/// could return within the window counts toward the liquidity coverage; it
/// is ignored (and may be `None`) when the reserve has no strategy, and
/// with `None` for a reserve that has one, nothing counts as deployed.
/// `insurance` is the insurance vault's balance, `paused` the market's
/// flag (1 when paused).
///
/// Rounding: debt and fees up; liabilities, shares and ratios down.
/// Errors: [`crate::errors::BallastError::MathOverflow`].
pub fn balance_sheet<R: ReserveBook, S: ReserveBook>(
    key: Pubkey,
    reserve: &R,
    strategy: Option<&S>,
    insurance: u64,
    paused: u8,
    now: i64,
) -> Result<BalanceSheet> {
    let borrowed = reserve.debt_at(now)?;
    let fees = reserve.protocol_fees();
    let liquid = reserve.liquid();
    // Deployed shares at the strategy's exchange rate, and what it could
    // return within the window.
    let (deployed, recallable) = match strategy {
        Some(s) if reserve.treasury().has_strategy() => {
            let value = shares_value(s, reserve.treasury().deployed_shares)?;
            (value, recallable_of(value, s, now))
        }
        _ => (0, 0),
    };
    let assets = fx_u64(liquid).add_(fx_u64(deployed))?.add_(borrowed)?;
    let liabilities = assets.sub_(fees)?.max(FX_ZERO);
    let utilization = utilization(borrowed, liabilities)?;
    let liabilities_u64 = liabilities.to_floor_u64()?;
    let liquid_share_bps = if liabilities_u64 == 0 {
        BPS as u16
    } else {
        (liquid as u128)
            .safe_mul(BPS as u128)?
            .safe_div(liabilities_u64 as u128)?
            .min(BPS as u128)
            .cast()?
    };
    // Term deposits locked past the stress window cannot run in it: the
    // stressed outflow is a share of the runnable claims only.
    let horizon = now.saturating_add(reserve.liquidity().outflow_window_secs as i64);
    let runnable = reserve.runnable(liabilities, horizon)?.to_floor_u64()?;
    Ok(BalanceSheet {
        reserve: key,
        timestamp: now,
        liquid,
        deployed,
        borrowed: borrowed.to_ceil_u64()?,
        assets: assets.to_ceil_u64()?,
        liabilities: liabilities_u64,
        protocol_fees: fees.to_ceil_u64()?,
        insurance,
        utilization_bps: utilization.mul_int(BPS as i128)?.to_floor_u64()?.cast()?,
        liquid_share_bps,
        liquidity_coverage_bps: liquidity_coverage_bps(
            liquid,
            recallable,
            runnable,
            reserve.liquidity().stress_outflow_bps,
        ),
        outflow_remaining: reserve.outflow_remaining(now),
        paused,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_encoding_has_the_documented_length() {
        let sheet = BalanceSheet {
            reserve: Pubkey::new_from_array([7; 32]),
            timestamp: -1,
            liquid: u64::MAX,
            deployed: 1,
            borrowed: 2,
            assets: 3,
            liabilities: 4,
            protocol_fees: 5,
            insurance: 6,
            utilization_bps: 7,
            liquid_share_bps: 8,
            liquidity_coverage_bps: u32::MAX,
            outflow_remaining: 9,
            paused: 1,
        };
        let mut bytes = Vec::new();
        sheet.serialize(&mut bytes).unwrap();
        assert_eq!(bytes.len(), BALANCE_SHEET_LEN);
        // `paused` is the last byte, `outflow_remaining` the eight before it.
        assert_eq!(bytes[BALANCE_SHEET_LEN - 1], 1);
        assert_eq!(
            bytes[BALANCE_SHEET_LEN - 9..BALANCE_SHEET_LEN - 1],
            9u64.to_le_bytes()
        );
        assert_eq!(BalanceSheet::try_from_slice(&bytes).unwrap(), sheet);
    }
}
