//! `repay`: anyone pays down any obligation's debt. Needs no oracle and works
//! while the market is paused: a borrower can always de-risk.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::{debt_for_shares, debt_shares_for_repay};
use crate::errors::BallastError;
use crate::events::Repaid;
use crate::state::*;

/// Accounts of `repay`.
#[derive(Accounts)]
pub struct Repay<'info> {
    /// Whoever pays; signs the transfer from `user_token_account`.
    pub repayer: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve whose debt is repaid.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation credited (any owner).
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The reserve's mint.
    pub mint: InterfaceAccount<'info, Mint>,
    /// The reserve's liquidity vault.
    #[account(mut)]
    pub liquidity_vault: InterfaceAccount<'info, TokenAccount>,
    /// Source of the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: InterfaceAccount<'info, TokenAccount>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Repays up to `amount` base units; `u64::MAX` (or any amount at or above
/// the debt) repays all of it, rounded up, and closes the position.
/// Errors: [`BallastError::ZeroAmount`], [`BallastError::NothingToRepay`].
pub fn handler(ctx: Context<Repay>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let (paid, shares_removed, remaining) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let index = reserve.borrow_index.get();
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        let i = obligation
            .find(&reserve_key, PositionKind::Debt)
            .ok_or(error!(BallastError::NothingToRepay))?;
        let held = obligation.positions[i].borrow_shares.get();
        let debt = debt_for_shares(held, index)?.to_ceil_u64()?;
        let (paid, removed) = if amount >= debt {
            (debt, held)
        } else {
            (amount, debt_shares_for_repay(amount, index)?.min(held))
        };
        let left = held.sub_(removed)?;
        obligation.positions[i].borrow_shares.set(left);
        obligation.close_if_empty(i);
        // Total shares are the exact sum of positions' shares; never below zero.
        let total = reserve.borrow_shares.get().sub_(removed)?.max(FX_ZERO);
        reserve.borrow_shares.set(total);
        reserve.available_amount = reserve.available_amount.safe_add(paid)?;
        // Repayments credit the outflow window (never limited): a borrow ->
        // repay round trip leaves others' capacity as it was.
        let limits = reserve.config.liquidity;
        reserve.outflow.record_inflow(&limits, now, paid);
        (paid, removed, debt_for_shares(left, index)?.to_ceil_u64()?)
    };
    let a = &ctx.accounts;
    crate::runtime::token::transfer_in(
        &a.token_program,
        &a.user_token_account,
        &a.mint,
        &a.liquidity_vault,
        &a.repayer,
        paid,
    )?;
    emit!(Repaid {
        reserve: reserve_key,
        obligation: a.obligation.key(),
        repayer: a.repayer.key(),
        amount: paid,
        debt_shares: shares_removed.into(),
        remaining_debt: remaining,
    });
    Ok(())
}
