//! `withdraw`: redeem collateral shares for tokens. Refused while the market
//! is paused. Needs fresh oracles (remaining accounts, see `crate::health`)
//! only when the obligation has debt.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::shares::{shares_for_withdraw_ceil, tokens_for_shares_floor};
use crate::errors::BallastError;
use crate::events::Withdrawn;
use crate::state::*;

/// Accounts of `withdraw`. Remaining accounts: the obligation's health
/// accounts (see `crate::health`), empty when it has no debt.
#[derive(Accounts)]
pub struct Withdraw<'info> {
    /// The obligation's owner.
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market authority PDA, checked by its seeds and stored bump.
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve withdrawn from.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation debited.
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
    /// Destination of the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: InterfaceAccount<'info, TokenAccount>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Withdraws `amount` base units (`u64::MAX`: the whole position, rounded
/// down). Errors: [`BallastError::MarketPaused`], [`BallastError::ZeroAmount`],
/// [`BallastError::PositionNotFound`], [`BallastError::InsufficientCollateral`],
/// [`BallastError::InsufficientLiquidity`], [`BallastError::OutflowLimitExceeded`], health-check errors,
/// [`BallastError::InitialRequirementNotMet`].
pub fn handler<'info>(ctx: Context<'info, Withdraw<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let market_key = ctx.accounts.market.key();
    let (paused, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
    require!(!paused, BallastError::MarketPaused);
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let (tokens, shares, slot) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        let i = obligation
            .find(&reserve_key, PositionKind::Collateral)
            .ok_or(error!(BallastError::PositionNotFound))?;
        let held = obligation.positions[i].deposit_shares;
        let supply = reserve.supply()?;
        let (tokens, shares) = if amount == u64::MAX {
            (
                tokens_for_shares_floor(held, supply, reserve.deposit_shares)?.to_floor_u64()?,
                held,
            )
        } else {
            let shares = shares_for_withdraw_ceil(amount, supply, reserve.deposit_shares)?;
            require!(shares <= held, BallastError::InsufficientCollateral);
            (amount, shares)
        };
        require!(
            tokens <= reserve.available_amount,
            BallastError::InsufficientLiquidity
        );
        let limits = reserve.config.liquidity;
        reserve.outflow.record(&limits, now, tokens)?;
        reserve.available_amount -= tokens;
        reserve.deposit_shares = reserve
            .deposit_shares
            .checked_sub(shares)
            .ok_or(error!(BallastError::MathOverflow))?;
        obligation.positions[i].deposit_shares = held - shares;
        (tokens, shares, i)
    };
    {
        // The emptied slot stays open through the health check (it counts for
        // zero), so clients pass the obligation's reserves as they were
        // before the instruction; it is freed right after.
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        crate::health::require_initial(&obligation, &market_key, ctx.remaining_accounts, now)?;
        obligation.close_if_empty(slot);
    }
    let a = &ctx.accounts;
    if tokens > 0 {
        crate::token::transfer_out(
            &a.token_program,
            &a.liquidity_vault,
            &a.mint,
            &a.user_token_account,
            &a.market_authority.to_account_info(),
            &market_key,
            authority_bump,
            tokens,
        )?;
    }
    emit!(Withdrawn {
        reserve: reserve_key,
        obligation: a.obligation.key(),
        amount: tokens,
        shares,
    });
    Ok(())
}
