//! `balance_sheet`: a read-only view of one reserve's balance sheet, returned
//! as return data (and emitted as an event) so other programs can read it by
//! CPI. Nothing is written: interest is projected to now, not accrued.
//!
//! The figures and the return-data layout ([`BALANCE_SHEET_LEN`] bytes) are
//! those of [`crate::engine::balance_sheet`]. After the CPI, read it with
//! `get_return_data()` and `BalanceSheet::try_from_slice`, or by the offsets
//! documented there.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

#[cfg(doc)]
use crate::engine::balance_sheet::BALANCE_SHEET_LEN;
use crate::engine::balance_sheet::{balance_sheet, BalanceSheet};
use crate::errors::BallastError;
use crate::events::BalanceSheetReported;
use crate::runtime::treasury_cpi;
use crate::state::*;

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
/// Errors: [`BallastError::TreasuryAccountsMismatch`] (the reserve has a
/// strategy and its reserve is missing or wrong),
/// [`BallastError::MathOverflow`].
pub fn handler<'info>(ctx: Context<'info, BalanceSheetView<'info>>) -> Result<BalanceSheet> {
    let now = Clock::get()?.unix_timestamp;
    let paused = ctx.accounts.market.load()?.paused;
    let r = ctx.accounts.reserve.load()?;
    let key = ctx.accounts.reserve.key();
    let insurance = ctx.accounts.insurance_vault.amount;
    let sheet = if r.treasury.has_strategy() {
        // The strategy's interest is projected on a copy: nothing is written.
        let info = ctx
            .remaining_accounts
            .first()
            .ok_or(error!(BallastError::TreasuryAccountsMismatch))?;
        treasury_cpi::with_projected_strategy(&r, info, now, |s| {
            balance_sheet(key, &*r, Some(s), insurance, paused, now)
        })?
    } else {
        balance_sheet(key, &*r, None::<&Reserve>, insurance, paused, now)?
    };
    emit!(BalanceSheetReported { sheet });
    Ok(sheet)
}
