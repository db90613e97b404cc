//! `withdraw`: redeem collateral shares for tokens. Refused while the market
//! is paused. Needs fresh oracles (remaining accounts, see `crate::health`)
//! only when the obligation has debt.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::shares::{shares_for_withdraw_ceil, tokens_for_shares_floor};
use crate::engine::treasury;
use crate::errors::BallastError;
use crate::events::{Rebalanced, Withdrawn};
use crate::runtime::treasury_cpi::{self, StrategyAccounts, RECALL_ACCOUNTS};
use crate::state::*;

/// Accounts of `withdraw`. Remaining accounts: the obligation's health
/// accounts (see `crate::runtime::health_accounts`), empty when it has no debt, then
/// optionally the six recall accounts of a reserve with a treasury strategy
/// (strategy market, its authority PDA, strategy reserve, its liquidity
/// vault, the treasury obligation, this program): when the vault holds less
/// than the withdrawal, the shortfall is recalled from the strategy first.
/// While the reserve has shares deployed, either those six accounts or the
/// strategy reserve alone (read-only) must follow, so that the withdrawal is
/// priced at the current exchange rate.
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
    let a = &ctx.accounts;
    // Trailing recall accounts (see the module doc) are recognised by the
    // strategy reserve in their third place: a reserve of another market,
    // which can never be a health account of this one.
    // Otherwise a single trailing strategy reserve marks the treasury; one
    // or the other is required while shares are deployed.
    let (health_accounts, recall_accounts, mark_account) = {
        let r = ctx.remaining_accounts;
        let reserve = a.reserve.load()?;
        match r.len().checked_sub(RECALL_ACCOUNTS) {
            Some(k)
                if reserve.treasury.has_strategy()
                    && *r[k + 2].key == reserve.treasury.strategy_reserve =>
            {
                (&r[..k], Some(&r[k..]), None)
            }
            _ => {
                let (rest, strategy) = treasury_cpi::split_strategy(r, &reserve);
                (rest, None, strategy)
            }
        }
    };
    let strategy = recall_accounts.map(|r| StrategyAccounts {
        market: market_key,
        authority_bump,
        market_authority: a.market_authority.as_ref(),
        liquidity_vault: a.liquidity_vault.as_ref(),
        mint: a.mint.as_ref(),
        token_program: a.token_program.as_ref(),
        strategy_market: &r[0],
        strategy_market_authority: &r[1],
        strategy_reserve: &r[2],
        strategy_liquidity_vault: &r[3],
        strategy_obligation: &r[4],
        ballast_program: &r[5],
    });
    let mut recallable = 0;
    if let Some(st) = &strategy {
        let mut reserve = a.reserve.load_mut()?;
        st.validate(&reserve)?;
        reserve.accrue_interest(now)?;
        let mut s = st.strategy_mut()?;
        treasury::mark(&mut *reserve, &mut *s, now)?;
        recallable = treasury::recallable(&*reserve, &*s, now);
    } else {
        let mut reserve = a.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        treasury_cpi::mark_readonly(&mut reserve, mark_account, now)?;
    }
    // Size the withdrawal; recall the shortfall from the treasury strategy
    // when the vault is short and the recall accounts were passed.
    let (tokens, shares, slot, shortfall) = {
        let mut reserve = a.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let obligation = a.obligation.load()?;
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
        let shortfall = tokens.saturating_sub(reserve.available_amount);
        if shortfall > recallable || (shortfall > 0 && strategy.is_none()) {
            msg!(
                "liquid now: {} base units; recallable from the treasury now: {}{}",
                reserve.available_amount,
                recallable,
                if strategy.is_none() && reserve.treasury.deployed_amount > 0 {
                    " (not counted: pass the recall accounts to recall)"
                } else {
                    ""
                }
            );
            return err!(BallastError::InsufficientLiquidity);
        }
        (tokens, shares, i, shortfall)
    };
    if let (Some(st), true) = (&strategy, shortfall > 0) {
        let (moved, burned, _) = treasury_cpi::recall(&a.reserve, st, shortfall, now)?;
        let r = a.reserve.load()?;
        emit!(Rebalanced {
            reserve: reserve_key,
            strategy_reserve: r.treasury.strategy_reserve,
            deployed: false,
            amount: moved,
            shares: burned,
            liquid_after: r.available_amount,
            deployed_after: r.treasury.deployed_amount,
            mark_to_market: 0,
        });
    }
    {
        let mut reserve = a.reserve.load_mut()?;
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
        let mut obligation = a.obligation.load_mut()?;
        obligation.positions[slot].deposit_shares -= shares;
    }
    {
        // The emptied slot stays open through the health check (it counts for
        // zero), so clients pass the obligation's reserves as they were
        // before the instruction; it is freed right after.
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        crate::runtime::health_accounts::require_initial(
            &obligation,
            &market_key,
            health_accounts,
            now,
        )?;
        obligation.close_if_empty(slot);
    }
    if tokens > 0 {
        crate::runtime::token::transfer_out(
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
