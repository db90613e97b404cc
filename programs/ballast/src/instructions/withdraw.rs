//! `withdraw`: redeem collateral shares for tokens. Refused while the market
//! is paused. Needs fresh oracles (remaining accounts, see
//! `crate::runtime::health_accounts`) only when the obligation has debt.
//! The sizing is [`crate::engine::shares::withdrawal`]; a shortfall of the
//! vault is recalled from the treasury strategy
//! ([`crate::runtime::treasury_cpi::recall`]) when the recall accounts are
//! passed.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::withdrawal;
use crate::engine::treasury;
use crate::errors::BallastError;
use crate::events::{Rebalanced, Withdrawn};
use crate::runtime::treasury_cpi::{self, StrategyAccounts};
use crate::runtime::{health_accounts, token};
use crate::state::*;

/// Accounts of `withdraw`. Remaining accounts: the obligation's health
/// accounts (see `crate::runtime::health_accounts`), empty when it has no
/// debt, then optionally the six recall accounts of a reserve with a
/// treasury strategy (strategy market, its authority PDA, strategy reserve,
/// its liquidity vault, the treasury obligation, this program): when the
/// vault holds less than the withdrawal, the shortfall is recalled from the
/// strategy first.
/// While the reserve has shares deployed, either those six accounts or the
/// strategy reserve alone (read-only) must follow, so that the withdrawal is
/// priced at the current exchange rate; the six when the withdrawal would
/// otherwise leave the reserve above its rehypothecation cap or below its
/// buffer band's minimum (it then recalls enough first: see `size`).
#[derive(Accounts)]
pub struct Withdraw<'info> {
    /// The obligation's owner.
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
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
/// [`BallastError::InitialRequirementNotMet`], [`BallastError::RecallAccountsRequired`],
/// [`BallastError::RehypothecationCapExceeded`], the strategy's own `withdraw` errors (a recall).
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
    // The health accounts first (each strategy reserve in its place), then
    // this withdrawal's own recall accounts or marking strategy reserve.
    // Anything else left over makes the health check see every account
    // (and fail with `HealthAccountsMismatch`), after the mark.
    let (health, rest) = health_accounts::split(&*a.obligation.load()?, ctx.remaining_accounts)?;
    let mut tail = treasury_cpi::split_recall(rest, &*a.reserve.load()?);
    tail.health = if tail.health.is_empty() {
        health
    } else {
        ctx.remaining_accounts
    };
    let strategy = tail.recall.map(|r| StrategyAccounts {
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
    let recallable = accrue_and_mark(&a.reserve, strategy.as_ref(), tail.mark, now)?;
    // Size the withdrawal; recall the shortfall from the treasury strategy
    // when the vault is short and the recall accounts were passed.
    let (tokens, shares, slot, to_recall) = size(a, amount, recallable, strategy.is_some(), now)?;
    if let (Some(st), true) = (&strategy, to_recall > 0) {
        let (moved, burned, _) = treasury_cpi::recall(&a.reserve, st, to_recall, now)?;
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
        reserve.available_amount = reserve.available_amount.safe_sub(tokens)?;
        reserve.deposit_shares = reserve.deposit_shares.safe_sub(shares)?;
        let mut obligation = a.obligation.load_mut()?;
        let p = &mut obligation.positions[slot];
        p.deposit_shares = p.deposit_shares.safe_sub(shares)?;
    }
    {
        // The emptied slot stays open through the health check (it counts for
        // zero), so clients pass the obligation's reserves as they were
        // before the instruction; it is freed right after.
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        health_accounts::require_initial(&obligation, &market_key, tail.health, now)?;
        obligation.close_if_empty(slot);
    }
    if tokens > 0 {
        token::transfer_out(
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

/// Accrues the reserve and marks its treasury: from the strategy reserve
/// of the recall accounts (checked, and accrued in place) when they were
/// passed, else read-only from the trailing strategy reserve, if any.
/// Returns what the strategy could return now (0 without recall accounts).
fn accrue_and_mark(
    reserve: &AccountLoader<Reserve>,
    strategy: Option<&StrategyAccounts>,
    mark_account: Option<&AccountInfo>,
    now: i64,
) -> Result<u64> {
    let mut reserve = reserve.load_mut()?;
    let Some(st) = strategy else {
        reserve.accrue_interest(now)?;
        treasury_cpi::mark_readonly(&mut reserve, mark_account, now)?;
        return Ok(0);
    };
    st.validate(&reserve)?;
    reserve.accrue_interest(now)?;
    let mut s = st.strategy_mut()?;
    treasury::mark(&mut *reserve, &mut *s, now)?;
    Ok(treasury::recallable(&*reserve, &*s, now))
}

/// Sizes the withdrawal of `amount` ([`withdrawal`]) from the obligation's
/// collateral position: (tokens, shares burned, position slot, tokens to
/// recall from the treasury strategy first). The recall
/// ([`treasury::withdrawal_recall`]) covers the vault's shortfall and keeps
/// `deployed <= rehypothecation cap x deposits` after the withdrawal (both
/// required), and brings the liquid share back to the buffer target when it
/// would end below the band's minimum (as far as the strategy can return).
/// Errors: [`BallastError::PositionNotFound`],
/// [`BallastError::InsufficientCollateral`],
/// [`BallastError::InsufficientLiquidity`] when the vault is short by more
/// than the strategy can return now (or at all, without recall accounts),
/// [`BallastError::RecallAccountsRequired`] when a recall is due and the
/// recall accounts were not passed, [`BallastError::RehypothecationCapExceeded`]
/// when the strategy cannot return what the cap requires.
fn size(
    a: &Withdraw,
    amount: u64,
    recallable: u64,
    can_recall: bool,
    now: i64,
) -> Result<(u64, u64, usize, u64)> {
    let mut reserve = a.reserve.load_mut()?;
    reserve.accrue_interest(now)?;
    let obligation = a.obligation.load()?;
    let i = obligation
        .find(&a.reserve.key(), PositionKind::Collateral)
        .ok_or(error!(BallastError::PositionNotFound))?;
    let held = obligation.positions[i].deposit_shares;
    let (tokens, shares) = withdrawal(amount, held, reserve.supply()?, reserve.deposit_shares)?;
    let liquid = reserve.available_amount;
    let shortfall = tokens.saturating_sub(liquid);
    if shortfall > recallable || (shortfall > 0 && !can_recall) {
        msg!(
            "liquid now: {} base units; recallable from the treasury now: {}{}",
            reserve.available_amount,
            recallable,
            if !can_recall && reserve.treasury.deployed_amount > 0 {
                " (not counted: pass the recall accounts to recall)"
            } else {
                ""
            }
        );
        return err!(BallastError::InsufficientLiquidity);
    }
    if reserve.treasury.deployed_shares == 0 {
        return Ok((tokens, shares, i, shortfall));
    }
    let deployed = reserve.treasury.deployed_amount;
    // The band's base leaves out term deposits locked past now (they cannot
    // be withdrawn); the cap's counts them (they may be deployed).
    let supply = reserve.supply()?;
    let locked = crate::engine::term_deposit::locked_claims(
        supply,
        reserve.term_deposits.locked_until(now),
        reserve.deposit_shares,
    )?;
    let after = supply.sub_(fx_u64(tokens))?.max(FX_ZERO);
    let deposits_after = after.to_floor_u64()?;
    let runnable_after = after.sub_(locked)?.max(FX_ZERO).to_floor_u64()?;
    let need = treasury::withdrawal_recall_split(
        &reserve.config.liquidity,
        liquid,
        runnable_after,
        deposits_after,
        deployed,
        tokens,
    );
    if need.wanted > 0 && !can_recall {
        msg!(
            "recall due: {} required, {} wanted (deployed {}, liquid {}, deposits after {})",
            need.required,
            need.wanted,
            deployed,
            liquid,
            deposits_after
        );
        return err!(BallastError::RecallAccountsRequired);
    }
    if need.required > recallable {
        msg!(
            "deployed {} must come down to the cap on {} of deposits: {} to recall, {} recallable now",
            deployed,
            deposits_after,
            need.required,
            recallable
        );
        return err!(BallastError::RehypothecationCapExceeded);
    }
    Ok((
        tokens,
        shares,
        i,
        need.wanted.min(recallable).max(need.required),
    ))
}
