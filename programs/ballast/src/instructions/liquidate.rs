//! `liquidate`: anyone repays part of an unhealthy obligation's debt and
//! receives its collateral with a bonus (see [`crate::engine::liquidation`]).
//! Works while the market is paused (it only de-risks); never on a stale or
//! low-confidence price: the health check fails with the oracle's error.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::health::{spot_values, Requirement, UnitPrice};
use crate::engine::liquidation::seize_for_repay;
use crate::engine::shares::{
    debt_for_shares, debt_shares_for_repay, shares_for_withdraw_ceil, tokens_for_shares_floor,
};
use crate::errors::BallastError;
use crate::events::Liquidated;
use crate::runtime::health_accounts::HealthAccounts;
use crate::state::*;

/// Accounts of `liquidate`. Remaining accounts: the obligation's health
/// accounts (see `crate::runtime::health_accounts`), which include both reserves.
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
/// collateral from its position in `collateral_reserve`. Emits [`Liquidated`].
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
        let (health, strategy) =
            crate::runtime::treasury_cpi::split_strategy(ctx.remaining_accounts, &c);
        crate::runtime::treasury_cpi::mark_readonly(&mut c, strategy, now)?;
        health
    };

    // Maintenance health at fresh prices (an oracle error aborts here).
    let (repay, seize, protocol_cut, shares_burned, debt_removed, bonus_bps, health_ratio) = {
        let obligation = ctx.accounts.obligation.load()?;
        let accounts = Box::new(HealthAccounts::load(
            &obligation,
            &market_key,
            remaining,
            now,
        )?);
        let health = accounts.health(&obligation, Requirement::Maintenance)?;
        require!(!health.is_satisfied(), BallastError::ObligationHealthy);
        let ratio = health.ratio().unwrap_or(FX_ZERO);
        let (coll_value, debt_value_all) = spot_values(&obligation.positions, |r| accounts.get(r))?;
        let solvent = coll_value >= debt_value_all;

        let i_d = obligation
            .find(&debt_key, PositionKind::Debt)
            .ok_or(error!(BallastError::PositionNotFound))?;
        let i_c = obligation
            .find(&coll_key, PositionKind::Collateral)
            .ok_or(error!(BallastError::PositionNotFound))?;
        let (view_d, price_d) = accounts
            .get(&debt_key)
            .ok_or(error!(BallastError::HealthAccountsMismatch))?;
        let (view_c, price_c) = accounts
            .get(&coll_key)
            .ok_or(error!(BallastError::HealthAccountsMismatch))?;
        let unit_d = UnitPrice::new(
            price_d.price as i128,
            BPS,
            view_d.decimals,
            price_d.exponent,
        )?;
        let unit_c = UnitPrice::new(
            price_c.price as i128,
            BPS,
            view_c.decimals,
            price_c.exponent,
        )?;

        let held_debt = obligation.positions[i_d].borrow_shares.get();
        let debt_tokens = debt_for_shares(held_debt, view_d.borrow_index)?;
        let debt_value = unit_d.value_ceil(debt_tokens)?;
        let allowed = cfg
            .max_repay(debt_tokens, debt_value, ratio)?
            .min(fx_u64(max_repay));
        let bonus_bps = cfg.bonus_bps(
            ratio,
            solvent,
            view_c.liquidation_threshold_bps,
            view_d.borrow_factor_bps,
        )?;

        // Never seize more than the collateral position holds: scale the
        // repay down to what it can pay for.
        let held_coll = obligation.positions[i_c].deposit_shares;
        let coll_tokens = view_c.collateral_tokens(held_coll)?;
        // The liquidator pays whole base units and is paid collateral for
        // exactly what it pays: the allowance rounded down, or, when it is
        // the whole debt, the debt rounded up (nothing fractional is left).
        let debt_ceil = debt_tokens.to_ceil_u64()?;
        let mut repay = if allowed >= debt_tokens {
            debt_ceil.min(max_repay)
        } else {
            allowed.to_floor_u64()?
        };
        let (mut seize, mut bonus_part) =
            seize_for_repay(fx_u64(repay), &unit_d, &unit_c, bonus_bps)?;
        let capped = seize >= coll_tokens;
        if capped {
            // The position cannot pay that much: repay what it covers, rounded
            // up (the borrower's favour), for the whole position.
            repay = coll_tokens
                .mul_div_int_ceil(repay as i128, 1)?
                .div_ceil(seize)?
                .to_ceil_u64()?
                .min(debt_ceil);
            (seize, bonus_part) = seize_for_repay(fx_u64(repay), &unit_d, &unit_c, bonus_bps)?;
        }
        let (supply_c, total_c) = (view_c.supply, view_c.deposit_shares);
        let (shares, seize) = if capped {
            repay = repay.max(1);
            (
                held_coll,
                tokens_for_shares_floor(held_coll, supply_c, total_c)?.to_floor_u64()?,
            )
        } else {
            require!(repay > 0, BallastError::ZeroAmount);
            let seize = seize.to_floor_u64()?;
            // Burn the shares the seized tokens are worth (rounded up).
            let shares = shares_for_withdraw_ceil(seize, supply_c, total_c)?;
            if shares >= held_coll {
                (
                    held_coll,
                    tokens_for_shares_floor(held_coll, supply_c, total_c)?.to_floor_u64()?,
                )
            } else {
                (shares, seize)
            }
        };
        let protocol_cut = bonus_part
            .min(fx_u64(seize))
            .mul_div_int_floor(cfg.protocol_bonus_share_bps as i128, BPS as i128)?
            .to_floor_u64()?;
        let debt_removed = if repay >= debt_ceil {
            held_debt
        } else {
            debt_shares_for_repay(repay, view_d.borrow_index)?.min(held_debt)
        };
        (
            repay.min(debt_ceil),
            seize,
            protocol_cut,
            shares,
            debt_removed,
            bonus_bps,
            ratio,
        )
    };

    // Books: debt side, collateral side, obligation.
    {
        let mut d = ctx.accounts.debt_reserve.load_mut()?;
        let total = d.borrow_shares.get().sub_(debt_removed)?.max(FX_ZERO);
        d.borrow_shares.set(total);
        d.available_amount = d
            .available_amount
            .checked_add(repay)
            .ok_or(error!(BallastError::MathOverflow))?;
    }
    {
        let mut c = ctx.accounts.collateral_reserve.load_mut()?;
        require!(
            seize <= c.available_amount,
            BallastError::InsufficientLiquidity
        );
        c.available_amount -= seize;
        c.deposit_shares = c
            .deposit_shares
            .checked_sub(shares_burned)
            .ok_or(error!(BallastError::MathOverflow))?;
    }
    {
        let mut o = ctx.accounts.obligation.load_mut()?;
        let i_d = o
            .find(&debt_key, PositionKind::Debt)
            .ok_or(error!(BallastError::PositionNotFound))?;
        let left = o.positions[i_d].borrow_shares.get().sub_(debt_removed)?;
        o.positions[i_d].borrow_shares.set(left);
        o.close_if_empty(i_d);
        let i_c = o
            .find(&coll_key, PositionKind::Collateral)
            .ok_or(error!(BallastError::PositionNotFound))?;
        o.positions[i_c].deposit_shares -= shares_burned;
        o.close_if_empty(i_c);
    }

    let a = &ctx.accounts;
    crate::runtime::token::transfer_in(
        &a.debt_token_program,
        &a.liquidator_debt_account,
        &a.debt_mint,
        &a.debt_vault,
        &a.liquidator,
        repay,
    )?;
    let authority = a.market_authority.to_account_info();
    let to_liquidator = seize - protocol_cut;
    if to_liquidator > 0 {
        crate::runtime::token::transfer_out(
            &a.collateral_token_program,
            &a.collateral_vault,
            &a.collateral_mint,
            &a.liquidator_collateral_account,
            &authority,
            &market_key,
            authority_bump,
            to_liquidator,
        )?;
    }
    if protocol_cut > 0 {
        crate::runtime::token::transfer_out(
            &a.collateral_token_program,
            &a.collateral_vault,
            &a.collateral_mint,
            &a.collateral_insurance_vault,
            &authority,
            &market_key,
            authority_bump,
            protocol_cut,
        )?;
    }
    emit!(Liquidated {
        obligation: a.obligation.key(),
        liquidator: a.liquidator.key(),
        debt_reserve: debt_key,
        collateral_reserve: coll_key,
        repaid: repay,
        seized: seize,
        to_insurance: protocol_cut,
        bonus_bps,
        health_before: health_ratio.into(),
    });
    Ok(())
}
