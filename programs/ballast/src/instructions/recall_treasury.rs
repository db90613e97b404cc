//! `recall_treasury`: the admin of a reserve's market takes its treasury
//! back from the strategy, whatever the buffer band says: `amount` base
//! units, or everything (`u64::MAX`, or any amount at least the deployed
//! book value: every share is redeemed).
//!
//! The strategy market's admin controls the deployed funds as much as this
//! market's admin (it can pause its market, change the strategy reserve's
//! caps and limiter, or revoke its approval); this is the depositing
//! market's way out while the strategy market is not paused. The strategy
//! applies its own checks to the withdrawal (its liquidity, its outflow
//! limiter), so "everything" is what it can pay now. Works while this
//! market is paused (a recall only de-risks).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

use crate::engine::treasury::mark;
use crate::errors::BallastError;
use crate::events::TreasuryRecalled;
use crate::runtime::treasury_cpi::{self, StrategyAccounts};
use crate::state::*;

/// Accounts of `recall_treasury`: those of `rebalance`, and the admin.
#[derive(Accounts)]
pub struct RecallTreasury<'info> {
    /// The market's admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve whose treasury is recalled.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The reserve's mint (pinned by `has_one`; the token program
    /// checks it in the transfer).
    /// CHECK: as documented above (the IDL keeps the lines above).
    pub mint: UncheckedAccount<'info>,
    /// The reserve's liquidity vault (pinned by `has_one`).
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(mut)]
    pub liquidity_vault: UncheckedAccount<'info>,
    /// The mint's token program.
    pub token_program: Interface<'info, TokenInterface>,
    /// The strategy's market; the strategy's `withdraw` checks it
    /// against the strategy reserve.
    /// CHECK: as documented above (the IDL keeps the lines above).
    pub strategy_market: UncheckedAccount<'info>,
    /// The strategy market's authority PDA; the strategy's `withdraw`
    /// checks its seeds.
    /// CHECK: as documented above (the IDL keeps the lines above).
    pub strategy_market_authority: UncheckedAccount<'info>,
    /// The strategy reserve; must be the reserve's configured one
    /// (checked in the handler), loaded as a `Reserve`.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(mut)]
    pub strategy_reserve: UncheckedAccount<'info>,
    /// The strategy reserve's vault; the strategy's `has_one` checks it.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(mut)]
    pub strategy_liquidity_vault: UncheckedAccount<'info>,
    /// The treasury obligation; must be the configured one.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(mut)]
    pub strategy_obligation: UncheckedAccount<'info>,
    /// This program (the CPI target).
    pub ballast_program: Program<'info, crate::program::Ballast>,
}

/// Recalls `amount` base units (`u64::MAX`, or at least the deployed book
/// value: everything) from the strategy after marking the shares; emits
/// [`TreasuryRecalled`].
///
/// Errors: [`BallastError::NotMarketAdmin`], [`BallastError::ZeroAmount`],
/// [`BallastError::TreasuryAccountsMismatch`], [`BallastError::NothingRecallable`]
/// (nothing deployed), [`BallastError::StrategyMarketPaused`], and the
/// strategy's own `withdraw` errors (`InsufficientLiquidity`,
/// `OutflowLimitExceeded`: it cannot pay that much now).
pub fn handler(ctx: Context<RecallTreasury>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let a = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let authority_bump = a.market.load()?.authority_bump;
    let accounts = StrategyAccounts {
        market: a.market.key(),
        authority_bump,
        market_authority: a.market_authority.as_ref(),
        liquidity_vault: a.liquidity_vault.as_ref(),
        mint: a.mint.as_ref(),
        token_program: a.token_program.as_ref(),
        strategy_market: a.strategy_market.as_ref(),
        strategy_market_authority: a.strategy_market_authority.as_ref(),
        strategy_reserve: a.strategy_reserve.as_ref(),
        strategy_liquidity_vault: a.strategy_liquidity_vault.as_ref(),
        strategy_obligation: a.strategy_obligation.as_ref(),
        ballast_program: a.ballast_program.as_ref(),
    };
    let deployed = {
        let mut r = a.reserve.load_mut()?;
        accounts.validate(&r)?;
        r.accrue_interest(now)?;
        let mut s = accounts.strategy_mut()?;
        mark(&mut *r, &mut *s, now)?;
        require!(
            r.treasury.deployed_shares > 0,
            BallastError::NothingRecallable
        );
        r.treasury.deployed_amount
    };
    require!(
        !treasury_cpi::strategy_market_paused(&accounts)?,
        BallastError::StrategyMarketPaused
    );
    let x = if amount >= deployed { u64::MAX } else { amount };
    let (tokens, shares, _) = treasury_cpi::recall(&a.reserve, &accounts, x, now)?;
    let r = a.reserve.load()?;
    emit!(TreasuryRecalled {
        reserve: a.reserve.key(),
        strategy_reserve: r.treasury.strategy_reserve,
        admin: a.admin.key(),
        amount: tokens,
        shares,
        liquid_after: r.available_amount,
        deployed_after: r.treasury.deployed_amount,
    });
    Ok(())
}
