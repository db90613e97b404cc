//! `liquidate`: anyone repays part of an unhealthy obligation's debt and
//! receives its collateral with a bonus. The sizing is
//! [`crate::engine::liquidation::plan_liquidation`]; this file loads the
//! accounts, books the plan and moves the tokens.
//! Works while the market is paused (it only de-risks); never on a stale or
//! low-confidence price: the health check fails with the oracle's error.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::liquidation::{plan_liquidation, LiquidationPlan};
use crate::engine::safe_math::SafeMath;
use crate::errors::BallastError;
use crate::events::Liquidated;
use crate::runtime::health_accounts::HealthAccounts;
use crate::runtime::{token, treasury_cpi};
use crate::state::*;

/// Accounts of `liquidate`. Remaining accounts: the obligation's health
/// accounts (see `crate::runtime::health_accounts`), which include both
/// reserves, then, while the collateral reserve has treasury shares
/// deployed, its strategy reserve (read-only, to mark them).
#[derive(Accounts)]
pub struct Liquidate<'info> {
    /// The liquidator: pays the debt, receives the collateral.
    pub liquidator: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// CHECK: the market authority PDA, checked by its seeds and stored bump.
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The obligation liquidated.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The reserve of the debt repaid.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        constraint = debt_reserve.key() != collateral_reserve.key() @ BallastError::ReserveAccountMismatch
    )]
    pub debt_reserve: AccountLoader<'info, Reserve>,
    /// The debt reserve's mint.
    #[account(address = debt_reserve.load()?.mint @ BallastError::ReserveAccountMismatch)]
    pub debt_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The debt reserve's liquidity vault.
    #[account(mut, address = debt_reserve.load()?.liquidity_vault @ BallastError::ReserveAccountMismatch)]
    pub debt_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The liquidator's source of the debt tokens.
    #[account(mut, token::mint = debt_mint, token::token_program = debt_token_program)]
    pub liquidator_debt_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The debt mint's token program.
    #[account(address = debt_reserve.load()?.token_program @ BallastError::ReserveAccountMismatch)]
    pub debt_token_program: Interface<'info, TokenInterface>,
    /// The reserve of the collateral seized.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub collateral_reserve: AccountLoader<'info, Reserve>,
    /// The collateral reserve's mint.
    #[account(address = collateral_reserve.load()?.mint @ BallastError::ReserveAccountMismatch)]
    pub collateral_mint: Box<InterfaceAccount<'info, Mint>>,
    /// The collateral reserve's liquidity vault.
    #[account(mut, address = collateral_reserve.load()?.liquidity_vault @ BallastError::ReserveAccountMismatch)]
    pub collateral_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The collateral reserve's insurance vault (receives the protocol's cut).
    #[account(mut, address = collateral_reserve.load()?.insurance_vault @ BallastError::ReserveAccountMismatch)]
    pub collateral_insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The liquidator's destination for the collateral tokens.
    #[account(mut, token::mint = collateral_mint, token::token_program = collateral_token_program)]
    pub liquidator_collateral_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The collateral mint's token program.
    #[account(address = collateral_reserve.load()?.token_program @ BallastError::ReserveAccountMismatch)]
    pub collateral_token_program: Interface<'info, TokenInterface>,
}

/// Repays up to `max_repay` base units of the obligation's debt in
/// `debt_reserve` (`u64::MAX`: as much as the close factor allows) and seizes
/// collateral from its position in `collateral_reserve`, as
/// [`plan_liquidation`] sizes it. Emits [`Liquidated`].
///
/// Errors: [`BallastError::ZeroAmount`], health-account and oracle errors,
/// [`BallastError::ObligationHealthy`], [`BallastError::PositionNotFound`],
/// [`BallastError::InsufficientLiquidity`] (the collateral vault cannot pay).
pub fn handler<'info>(ctx: Context<'info, Liquidate<'info>>, max_repay: u64) -> Result<()> {
    require!(max_repay > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let market_key = ctx.accounts.market.key();
    let (cfg, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.liquidation, m.authority_bump)
    };
    let (debt_key, coll_key) = (
        ctx.accounts.debt_reserve.key(),
        ctx.accounts.collateral_reserve.key(),
    );
    ctx.accounts.debt_reserve.load_mut()?.accrue_interest(now)?;
    // A trailing strategy reserve marks the collateral reserve's treasury
    // (required while it has shares deployed) before its shares are priced.
    let remaining = {
        let mut c = ctx.accounts.collateral_reserve.load_mut()?;
        c.accrue_interest(now)?;
        let (health, strategy) = treasury_cpi::split_strategy(ctx.remaining_accounts, &c);
        treasury_cpi::mark_readonly(&mut c, strategy, now)?;
        health
    };
    // Maintenance health at fresh prices (an oracle error aborts here).
    let plan = {
        let obligation = ctx.accounts.obligation.load()?;
        let accounts = Box::new(HealthAccounts::load(
            &obligation,
            &market_key,
            remaining,
            now,
        )?);
        plan_liquidation(
            &cfg,
            &obligation.positions,
            &debt_key,
            &coll_key,
            |r| accounts.get(r),
            max_repay,
        )?
    };
    let a = &ctx.accounts;
    book(a, &debt_key, &coll_key, &plan)?;
    pay(a, &market_key, authority_bump, &plan)?;
    emit!(Liquidated {
        obligation: a.obligation.key(),
        liquidator: a.liquidator.key(),
        debt_reserve: debt_key,
        collateral_reserve: coll_key,
        repaid: plan.repay,
        seized: plan.seize,
        to_insurance: plan.protocol_cut,
        bonus_bps: plan.bonus_bps,
        health_before: plan.health_before.into(),
    });
    Ok(())
}

/// Writes `plan` to the books: the debt reserve's shares and liquidity, the
/// collateral reserve's liquidity and shares (refusing with
/// [`BallastError::InsufficientLiquidity`] when its vault cannot pay), then
/// the obligation's two positions, each freed once empty.
fn book(a: &Liquidate, debt_key: &Pubkey, coll_key: &Pubkey, plan: &LiquidationPlan) -> Result<()> {
    {
        let mut d = a.debt_reserve.load_mut()?;
        let total = d.borrow_shares.get().sub_(plan.debt_removed)?.max(FX_ZERO);
        d.borrow_shares.set(total);
        d.available_amount = d.available_amount.safe_add(plan.repay)?;
    }
    {
        let mut c = a.collateral_reserve.load_mut()?;
        require!(
            plan.seize <= c.available_amount,
            BallastError::InsufficientLiquidity
        );
        c.available_amount = c.available_amount.safe_sub(plan.seize)?;
        c.deposit_shares = c.deposit_shares.safe_sub(plan.shares_burned)?;
    }
    let mut o = a.obligation.load_mut()?;
    let i_d = o
        .find(debt_key, PositionKind::Debt)
        .ok_or(error!(BallastError::PositionNotFound))?;
    let left = o.positions[i_d]
        .borrow_shares
        .get()
        .sub_(plan.debt_removed)?;
    o.positions[i_d].borrow_shares.set(left);
    o.close_if_empty(i_d);
    let i_c = o
        .find(coll_key, PositionKind::Collateral)
        .ok_or(error!(BallastError::PositionNotFound))?;
    let p = &mut o.positions[i_c];
    p.deposit_shares = p.deposit_shares.safe_sub(plan.shares_burned)?;
    o.close_if_empty(i_c);
    Ok(())
}

/// The transfers of `plan`: the repay from the liquidator into the debt
/// vault, the collateral to the liquidator and the protocol's cut to the
/// insurance vault (each skipped when zero).
fn pay<'info>(
    a: &Liquidate<'info>,
    market_key: &Pubkey,
    authority_bump: u8,
    plan: &LiquidationPlan,
) -> Result<()> {
    token::transfer_in(
        &a.debt_token_program,
        &a.liquidator_debt_account,
        &a.debt_mint,
        &a.debt_vault,
        &a.liquidator,
        plan.repay,
    )?;
    let authority = a.market_authority.to_account_info();
    let to_liquidator = plan.to_liquidator()?;
    if to_liquidator > 0 {
        token::transfer_out(
            &a.collateral_token_program,
            &a.collateral_vault,
            &a.collateral_mint,
            &a.liquidator_collateral_account,
            &authority,
            market_key,
            authority_bump,
            to_liquidator,
        )?;
    }
    if plan.protocol_cut > 0 {
        token::transfer_out(
            &a.collateral_token_program,
            &a.collateral_vault,
            &a.collateral_mint,
            &a.collateral_insurance_vault,
            &authority,
            market_key,
            authority_bump,
            plan.protocol_cut,
        )?;
    }
    Ok(())
}
