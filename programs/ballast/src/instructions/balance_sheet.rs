//! `balance_sheet`: a read-only view of one reserve's balance sheet, returned
//! as return data (and emitted as an event) so other programs can read it by
//! CPI. Nothing is written: interest is projected to now, not accrued.
//!
//! ## Return-data layout
//!
//! The borsh encoding of [`BalanceSheet`], 113 bytes, little endian, in field
//! order: `reserve` (32), `timestamp` (i64), `liquid`, `deployed`,
//! `borrowed`, `assets`, `liabilities`, `protocol_fees`, `insurance` (u64
//! each), `utilization_bps`, `liquid_share_bps` (u16 each),
//! `liquidity_coverage_bps` (u32), `outflow_remaining` (u64, `u64::MAX` with
//! no limiter), `paused` (u8). After the CPI, read it with
//! `get_return_data()` and `BalanceSheet::try_from_slice`, or by the offsets
//! above.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::engine::fx::*;
use crate::engine::liquidity::liquidity_coverage_bps;
use crate::errors::BallastError;
use crate::events::BalanceSheetReported;
use crate::state::*;

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
    /// `u32::MAX` when no outflow is stressed.
    pub liquidity_coverage_bps: u32,
    /// What the outflow limiter still lets out in the current window.
    pub outflow_remaining: u64,
    /// 1 when the market is paused.
    pub paused: u8,
}

/// Accounts of `balance_sheet`. Remaining accounts: the strategy reserve,
/// when the reserve has a treasury strategy (its deployed shares are valued
/// at that reserve's exchange rate).
#[derive(Accounts)]
pub struct BalanceSheetView<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve.
    #[account(
        has_one = market @ BallastError::WrongMarket,
        has_one = insurance_vault @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The reserve's insurance vault.
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// Computes the balance sheet, emits [`BalanceSheetReported`] and returns it.
pub fn handler<'info>(ctx: Context<'info, BalanceSheetView<'info>>) -> Result<BalanceSheet> {
    let now = Clock::get()?.unix_timestamp;
    let paused = ctx.accounts.market.load()?.paused;
    let r = ctx.accounts.reserve.load()?;
    let index = r.projected_borrow_index(now)?;
    let borrowed = r.borrow_shares.get().mul_ceil(index)?;
    let fees = r.protocol_fees.get();
    let liquid = r.available_amount;
    // Deployed shares at the strategy's exchange rate (its interest projected
    // to now), and what it could return within the window.
    let (deployed, recallable) = if r.treasury.has_strategy() {
        let info = ctx
            .remaining_accounts
            .first()
            .ok_or(error!(BallastError::TreasuryAccountsMismatch))?;
        let shares = r.treasury.deployed_shares;
        crate::treasury::with_projected_strategy(&r, info, now, |s| {
            let value = crate::treasury::shares_value(s, shares)?;
            Ok((value, crate::treasury::recallable_of(value, s, now)))
        })?
    } else {
        (0, 0)
    };
    let assets = fx_u64(liquid).add_(fx_u64(deployed))?.add_(borrowed)?;
    let liabilities = assets.sub_(fees)?.max(FX_ZERO);
    let utilization = crate::engine::rates::utilization(borrowed, liabilities)?;
    let liabilities_u64 = liabilities.to_floor_u64()?;
    let liquid_share_bps = if liabilities_u64 == 0 {
        BPS as u16
    } else {
        (((liquid as u128) * (BPS as u128)) / (liabilities_u64 as u128)).min(BPS as u128) as u16
    };
    let sheet = BalanceSheet {
        reserve: ctx.accounts.reserve.key(),
        timestamp: now,
        liquid,
        deployed,
        borrowed: borrowed.to_ceil_u64()?,
        assets: assets.to_ceil_u64()?,
        liabilities: liabilities_u64,
        protocol_fees: fees.to_ceil_u64()?,
        insurance: ctx.accounts.insurance_vault.amount,
        utilization_bps: utilization.mul_int(BPS as i128)?.to_floor_u64()? as u16,
        liquid_share_bps,
        liquidity_coverage_bps: liquidity_coverage_bps(
            liquid,
            recallable,
            liabilities_u64,
            r.config.liquidity.stress_outflow_bps,
        ),
        outflow_remaining: r.outflow.remaining(&r.config.liquidity, now),
        paused,
    };
    emit!(BalanceSheetReported { sheet });
    Ok(sheet)
}
