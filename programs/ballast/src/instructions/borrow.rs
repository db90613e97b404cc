//! `borrow`: tokens out of a reserve against the obligation's collateral.
//! Refused while the market is paused; needs every reserve of the obligation
//! and its fresh oracle as remaining accounts (see `crate::runtime::health_accounts`).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::rates::utilization;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::debt_shares_for_borrow;
use crate::errors::BallastError;
use crate::events::Borrowed;
use crate::state::*;

/// Accounts of `borrow`. Remaining accounts: the obligation's health
/// accounts, including the borrowed reserve (see `crate::runtime::health_accounts`).
#[derive(Accounts)]
pub struct Borrow<'info> {
    /// The obligation's owner.
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve borrowed from.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation charged.
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

/// Borrows `amount` base units. Errors: [`BallastError::MarketPaused`],
/// [`BallastError::ZeroAmount`], [`BallastError::BorrowCapExceeded`],
/// [`BallastError::InsufficientLiquidity`], [`BallastError::OutflowLimitExceeded`],
/// [`BallastError::MaxUtilizationExceeded`], [`BallastError::SameReserveLoop`]
/// (the obligation holds this reserve as collateral),
/// [`BallastError::ObligationFull`], health-check and oracle errors,
/// [`BallastError::InitialRequirementNotMet`].
pub fn handler<'info>(ctx: Context<'info, Borrow<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let market_key = ctx.accounts.market.key();
    let (paused, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
    require!(!paused, BallastError::MarketPaused);
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let (debt_shares, index) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let amount_fx = fx_u64(amount);
        // All loans, floating and term (the term book), against the cap
        // and in the utilisation.
        let borrowed_after = reserve.total_borrowed()?.add_(amount_fx)?;
        require!(
            borrowed_after <= fx_u64(reserve.config.borrow_cap),
            BallastError::BorrowCapExceeded
        );
        require!(
            amount <= reserve.available_amount,
            BallastError::InsufficientLiquidity
        );
        let limits = reserve.config.liquidity;
        reserve.outflow.record(&limits, now, amount)?;
        // Supply does not change by borrowing (liquid -> loan).
        let util_after = utilization(borrowed_after, reserve.supply()?)?;
        require!(
            util_after <= fx_bps_floor(reserve.config.max_utilization_bps as u64)?,
            BallastError::MaxUtilizationExceeded
        );
        let index = reserve.borrow_index.get();
        let debt_shares = debt_shares_for_borrow(amount, index)?;
        let total = reserve.borrow_shares.get().add_(debt_shares)?;
        reserve.borrow_shares.set(total);
        reserve.available_amount = reserve.available_amount.safe_sub(amount)?;

        let mut obligation = ctx.accounts.obligation.load_mut()?;
        // No debt where the obligation holds collateral: `liquidate` needs
        // two reserves and `socialize_bad_debt` an obligation without
        // collateral, so a same-reserve loop could be resolved by neither.
        require!(
            obligation
                .find(&reserve_key, PositionKind::Collateral)
                .is_none(),
            BallastError::SameReserveLoop
        );
        let i = obligation.find_or_open(&reserve_key, PositionKind::Debt)?;
        let p = &mut obligation.positions[i];
        let held = p.borrow_shares.get().add_(debt_shares)?;
        p.borrow_shares.set(held);
        (debt_shares, index)
    };
    {
        let obligation = ctx.accounts.obligation.load()?;
        crate::runtime::health_accounts::require_initial(
            &obligation,
            &market_key,
            ctx.remaining_accounts,
            now,
        )?;
    }
    let a = &ctx.accounts;
    crate::runtime::token::transfer_out(
        &a.token_program,
        &a.liquidity_vault,
        &a.mint,
        &a.user_token_account,
        &a.market_authority.to_account_info(),
        &market_key,
        authority_bump,
        amount,
    )?;
    emit!(Borrowed {
        reserve: reserve_key,
        obligation: a.obligation.key(),
        amount,
        debt_shares: debt_shares.into(),
        borrow_index: index.into(),
    });
    Ok(())
}
