//! `deposit`: tokens into a reserve, deposit shares (collateral) to the
//! owner's obligation. Needs no oracle and works while the market is paused:
//! adding collateral only ever de-risks.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::shares_for_deposit;
use crate::errors::BallastError;
use crate::events::Deposited;
use crate::state::*;

/// Accounts of `deposit`. Remaining accounts: the reserve's treasury
/// strategy reserve (read-only) while it has shares deployed, so that the
/// deposit is priced at the current exchange rate.
#[derive(Accounts)]
pub struct Deposit<'info> {
    /// The obligation's owner; signs the transfer from `user_token_account`.
    /// Only the owner may add positions (others could fill the slots).
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve deposited into.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation credited. Only this program creates `Obligation`
    /// accounts, so owner + discriminator + `has_one` pin it.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = owner @ BallastError::NotObligationOwner
    )]
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

/// Deposits `amount` base units. Errors: [`BallastError::ZeroAmount`],
/// [`BallastError::DepositCapExceeded`], [`BallastError::DepositTooSmall`],
/// [`BallastError::ReserveInsolvent`], [`BallastError::ObligationFull`],
/// [`BallastError::TreasuryAccountsMismatch`], [`BallastError::SameReserveLoop`]
/// (the obligation owes this reserve).
pub fn handler(ctx: Context<Deposit>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let shares = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        crate::runtime::treasury_cpi::mark_readonly(
            &mut reserve,
            ctx.remaining_accounts.first(),
            now,
        )?;
        let mut supply = reserve.supply()?;
        if reserve.deposit_shares == 0 && supply > FX_ZERO {
            // Every share is burned yet value is left (fees >= borrowed after
            // everyone exits, a late repayment): it belongs to nobody, so it
            // goes to the protocol's fees rather than to whoever deposits
            // next at 1:1.
            let fees = reserve.protocol_fees.get().add_(supply)?;
            reserve.protocol_fees.set(fees);
            supply = FX_ZERO;
        }
        require!(
            supply.add_(fx_u64(amount))? <= fx_u64(reserve.config.deposit_cap),
            BallastError::DepositCapExceeded
        );
        let shares = shares_for_deposit(amount, supply, reserve.deposit_shares)?;
        require!(shares > 0, BallastError::DepositTooSmall);
        reserve.available_amount = reserve.available_amount.safe_add(amount)?;
        reserve.deposit_shares = reserve.deposit_shares.safe_add(shares)?;
        // Inflows credit the outflow window (never limited), so a flash
        // deposit -> withdraw round trip leaves others' capacity as it was.
        let limits = reserve.config.liquidity;
        reserve.outflow.record_inflow(&limits, now, amount);

        let mut obligation = ctx.accounts.obligation.load_mut()?;
        // No collateral where the obligation owes (see `borrow`): repay it.
        let reserve_key = ctx.accounts.reserve.key();
        require!(
            obligation.find(&reserve_key, PositionKind::Debt).is_none()
                && obligation
                    .find(&reserve_key, PositionKind::TermDebt)
                    .is_none(),
            BallastError::SameReserveLoop
        );
        let i = obligation.find_or_open(&ctx.accounts.reserve.key(), PositionKind::Collateral)?;
        let p = &mut obligation.positions[i];
        p.deposit_shares = p.deposit_shares.safe_add(shares)?;
        shares
    };
    let a = &ctx.accounts;
    crate::runtime::token::transfer_in(
        &a.token_program,
        &a.user_token_account,
        &a.mint,
        &a.liquidity_vault,
        &a.owner,
        amount,
    )?;
    emit!(Deposited {
        reserve: a.reserve.key(),
        obligation: a.obligation.key(),
        amount,
        shares,
    });
    Ok(())
}
