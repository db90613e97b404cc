//! `rebalance` (permissionless; the keeper triggers it): moves a reserve's
//! liquidity between its vault and its treasury strategy so that the liquid
//! share of deposits returns to the buffer target:
//!
//! * above `buffer_max_bps`: deploy down to `buffer_target_bps`, keeping
//!   `deployed <= rehypothecation_cap_bps × deposits` and within the
//!   strategy's deposit cap; refused while this market is paused;
//! * below `buffer_min_bps`: recall up to the target, as far as the strategy
//!   can return (its liquid tokens and its outflow limiter);
//! * deployed above the cap (after a loss, a marked gain in the strategy, a
//!   liquidation, or a lowered cap): recall the excess (and up to the
//!   target when below the band too);
//! * inside the band: refused with [`BallastError::InsideBufferBand`].
//!
//! Both reserves are accrued and the deployed shares marked at the
//! strategy's exchange rate first, so the decision and the balance sheet see
//! current values: the whole decision is
//! [`crate::engine::treasury::plan_rebalance`]; see
//! `crate::runtime::treasury_cpi` for the CPI and the accounting.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenInterface;

use crate::engine::treasury::{plan_rebalance, Idle, Move};
use crate::errors::BallastError;
use crate::events::Rebalanced;
use crate::runtime::treasury_cpi::{self, StrategyAccounts};
use crate::state::*;

/// Accounts of `rebalance`.
#[derive(Accounts)]
pub struct Rebalance<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve rebalanced.
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
    /// The strategy's market; the strategy's `deposit`/`withdraw`
    /// check it against the strategy reserve.
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

/// Rebalances; emits [`Rebalanced`].
///
/// Errors: [`BallastError::TreasuryAccountsMismatch`],
/// [`BallastError::InsideBufferBand`], [`BallastError::RehypothecationCapReached`],
/// [`BallastError::NothingRecallable`], [`BallastError::MarketPaused`] (a
/// deploy while paused), [`BallastError::StrategyMarketPaused`] (a deploy
/// into a paused strategy market), [`BallastError::StrategyNotApproved`] (a
/// deploy after the strategy's admin revoked its approval), and the
/// strategy's own `deposit`/`withdraw` errors.
pub fn handler(ctx: Context<Rebalance>) -> Result<()> {
    let a = &ctx.accounts;
    let now = Clock::get()?.unix_timestamp;
    let (paused, authority_bump) = {
        let m = a.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
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
    let plan = {
        let mut r = a.reserve.load_mut()?;
        accounts.validate(&r)?;
        r.accrue_interest(now)?;
        let mut s = accounts.strategy_mut()?;
        plan_rebalance(&mut *r, &mut *s, now)?
    };
    let step = plan.step.map_err(Idle::into_error)?;
    let (deployed, amount, shares) = match step {
        Move::Deploy(x) => {
            require!(!paused, BallastError::MarketPaused);
            // Nor into a paused strategy market, whose `withdraw` (and so any
            // recall) is refused until it is unpaused.
            require!(
                !treasury_cpi::strategy_market_paused(&accounts)?,
                BallastError::StrategyMarketPaused
            );
            // Nor once the strategy's admin has revoked its consent.
            require!(
                accounts
                    .strategy()?
                    .strategy_approvals
                    .contains(&a.reserve.key()),
                BallastError::StrategyNotApproved
            );
            (true, x, treasury_cpi::deploy(&a.reserve, &accounts, x)?)
        }
        Move::Recall(x) => {
            let (tokens, shares, _) = treasury_cpi::recall(&a.reserve, &accounts, x, now)?;
            (false, tokens, shares)
        }
    };
    let r = a.reserve.load()?;
    emit!(Rebalanced {
        reserve: a.reserve.key(),
        strategy_reserve: r.treasury.strategy_reserve,
        deployed,
        amount,
        shares,
        liquid_after: r.available_amount,
        deployed_after: r.treasury.deployed_amount,
        mark_to_market: plan.mark_to_market,
    });
    Ok(())
}
