//! `liquidate_for_shares`: `liquidate` without cash out of the collateral
//! vault. The liquidator repays the debt as in `liquidate` and takes the
//! seized collateral as deposit shares of the collateral reserve, credited
//! to its own obligation in the same market (Solend's and klend's
//! liquidators may take cTokens the same way), which it redeems later when
//! the reserve has cash.
//!
//! Why shares rather than recalling from the treasury in the instruction:
//! at high utilisation the cash is lent out, not deployed, and no recall can
//! find it; shares need no cash at all, cost no CPI, and leave the
//! reserve's liquidity (`available_amount`) untouched, so the vault always
//! reconciles. The sizing is the same [`plan_liquidation`] as `liquidate`'s,
//! so the two pay the same value.
//!
//! The liquidator's shares are the seized tokens less the protocol's cut,
//! converted at the reserve's rate rounded down (the protocol's favour);
//! the rest of the shares taken from the borrower are burned, and the
//! protocol's cut is added to the reserve's `protocol_fees` (the equity
//! the cut is paid to in `liquidate`'s insurance vault, here without cash),
//! so the share price of the other depositors never falls.
//!
//! Works while the market is paused (it only de-risks and moves no cash
//! out), like `liquidate`.
//!
//! [`plan_liquidation`]: crate::engine::liquidation::plan_liquidation

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use super::liquidate::{
    accrue_and_plan, book_debt, book_obligation, write_off_if_bare, WriteOffAccounts,
};
use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::shares_for_deposit;
use crate::errors::BallastError;
use crate::events::LiquidatedForShares;
use crate::state::*;

/// Accounts of `liquidate_for_shares`. Remaining accounts as `liquidate`'s:
/// the liquidated obligation's health accounts, then the write-off groups
/// of its other debt reserves (needed, with those reserves writable, when
/// the liquidation takes the last collateral: every debt is then written
/// off in this instruction), then, while the collateral reserve has
/// treasury shares deployed, its strategy reserve.
#[derive(Accounts)]
pub struct LiquidateForShares<'info> {
    /// The liquidator: pays the debt, owns `liquidator_obligation`.
    pub liquidator: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored
    /// bump (signs the insurance cover of a write-off).
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The obligation liquidated.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The liquidator's own obligation in the market: receives the seized
    /// collateral as deposit shares. Not the obligation liquidated.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        constraint = liquidator_obligation.load()?.owner == liquidator.key() @ BallastError::NotObligationOwner,
        constraint = liquidator_obligation.key() != obligation.key() @ BallastError::LiquidatorObligationIsLiquidated
    )]
    pub liquidator_obligation: AccountLoader<'info, Obligation>,
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
    /// The debt reserve's insurance vault: covers the obligation's remaining
    /// debt when this liquidation takes its last collateral.
    #[account(mut, address = debt_reserve.load()?.insurance_vault @ BallastError::ReserveAccountMismatch)]
    pub debt_insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve of the collateral seized.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub collateral_reserve: AccountLoader<'info, Reserve>,
}

/// Repays up to `max_repay` base units of the obligation's debt in
/// `debt_reserve` (`u64::MAX`: the whole allowance) and moves the seized
/// collateral, as deposit shares of `collateral_reserve`, to the
/// liquidator's obligation; sized as `liquidate` sizes it. Emits
/// [`LiquidatedForShares`].
///
/// Errors: those of `liquidate` except `InsufficientLiquidity` (no cash
/// leaves the collateral vault), plus [`BallastError::NotObligationOwner`]
/// (the liquidator does not own `liquidator_obligation`),
/// [`BallastError::WrongMarket`] (it belongs to another market),
/// [`BallastError::LiquidatorObligationIsLiquidated`] (it is the
/// obligation liquidated), [`BallastError::SameReserveLoop`] (it owes debt in the
/// collateral reserve), [`BallastError::ObligationFull`] (no free slot for
/// the new collateral position), [`BallastError::WriteOffAccountsRequired`]
/// (it takes the last collateral and another debt reserve is not writable
/// or lacks its write-off group).
pub fn handler<'info>(
    ctx: Context<'info, LiquidateForShares<'info>>,
    max_repay: u64,
) -> Result<()> {
    let a = &ctx.accounts;
    let (plan, authority_bump, unpriced, others) = accrue_and_plan(
        &a.market,
        &a.obligation,
        &a.debt_reserve,
        &a.collateral_reserve,
        ctx.remaining_accounts,
        max_repay,
    )?;
    let (debt_key, coll_key) = (a.debt_reserve.key(), a.collateral_reserve.key());
    book_debt(&a.debt_reserve, &plan)?;
    // The liquidator's shares: the seized tokens less the protocol's cut,
    // at the rate before the burn, rounded down (never more than the
    // borrower's shares that back them).
    let credited = {
        let mut c = a.collateral_reserve.load_mut()?;
        let supply = c.supply()?;
        let credited = shares_for_deposit(plan.to_liquidator()?, supply, c.deposit_shares)?
            .min(plan.shares_burned);
        let burned = plan.shares_burned.safe_sub(credited)?;
        c.deposit_shares = c.deposit_shares.safe_sub(burned)?;
        let fees = c.protocol_fees.get().add_(fx_u64(plan.protocol_cut))?;
        c.protocol_fees.set(fees);
        credited
    };
    book_obligation(&a.obligation, &debt_key, &coll_key, &plan)?;
    {
        let mut lo = a.liquidator_obligation.load_mut()?;
        // As `deposit`: no collateral where the obligation owes.
        require!(
            lo.find(&coll_key, PositionKind::Debt).is_none()
                && lo.find(&coll_key, PositionKind::TermDebt).is_none(),
            BallastError::SameReserveLoop
        );
        if credited > 0 {
            let i = lo.find_or_open(&coll_key, PositionKind::Collateral)?;
            let p = &mut lo.positions[i];
            p.deposit_shares = p.deposit_shares.safe_add(credited)?;
        }
    }
    crate::runtime::token::transfer_in(
        &a.debt_token_program,
        &a.liquidator_debt_account,
        &a.debt_mint,
        &a.debt_vault,
        &a.liquidator,
        plan.repay,
    )?;
    let market_key = a.market.key();
    write_off_if_bare(
        &a.obligation,
        &a.debt_reserve,
        &unpriced,
        WriteOffAccounts {
            token_program: &a.debt_token_program,
            insurance_vault: &a.debt_insurance_vault,
            mint: &a.debt_mint,
            vault: &a.debt_vault,
            authority: &a.market_authority.to_account_info(),
            market: &market_key,
            bump: authority_bump,
        },
        &others,
    )?;
    emit!(LiquidatedForShares {
        obligation: a.obligation.key(),
        liquidator: a.liquidator.key(),
        liquidator_obligation: a.liquidator_obligation.key(),
        debt_reserve: debt_key,
        collateral_reserve: coll_key,
        repaid: plan.repay,
        seized: plan.seize,
        to_protocol_fees: plan.protocol_cut,
        shares_credited: credited,
        bonus_bps: plan.bonus_bps,
        health_before: plan.health_before.into(),
    });
    Ok(())
}
