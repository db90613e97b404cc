//! `accrue_interest`: permissionless interest accrual on one reserve.
//!
//! Every instruction that changes a reserve's balances (deposit, withdraw,
//! borrow, repay, config update) also accrues that reserve first, so its
//! exchange rate and debts are exact when they move. Health checks read the
//! other reserves without writing them, projecting their borrow index to now
//! (`Reserve::projected_borrow_index`), so no refresh instruction is needed
//! in the same transaction. This crank keeps idle reserves' stored state
//! current for readers (keeper, integrators, the balance sheet).

use anchor_lang::prelude::*;

use crate::events::InterestAccrued;
use crate::state::Reserve;

/// Accounts of `accrue_interest`. Remaining accounts: optionally the
/// reserve's treasury strategy reserve, to mark the deployed shares at its
/// exchange rate (the value other obligations' health checks read).
#[derive(Accounts)]
pub struct AccrueInterest<'info> {
    /// The reserve.
    #[account(mut)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Accrues to now and emits [`InterestAccrued`].
pub fn handler(ctx: Context<AccrueInterest>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    let interest = reserve.accrue_interest(now)?;
    if let Some(strategy) = ctx.remaining_accounts.first() {
        crate::runtime::treasury_cpi::mark_readonly(&mut reserve, Some(strategy), now)?;
    }
    emit!(InterestAccrued {
        reserve: ctx.accounts.reserve.key(),
        interest: interest.into(),
        borrow_index: reserve.borrow_index,
        protocol_fees: reserve.protocol_fees,
        timestamp: now,
    });
    Ok(())
}
