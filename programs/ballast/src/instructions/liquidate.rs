//! `liquidate`: anyone repays part of an unhealthy obligation's debt and
//! receives its collateral with a bonus. The sizing is
//! [`crate::engine::liquidation::plan_liquidation`]; this file loads the
//! accounts, books the plan and moves the tokens.
//! Works while the market is paused (it only de-risks); never on a stale or
//! low-confidence price: the health check fails with the oracle's error.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use super::socialize_bad_debt::write_off;
use crate::engine::fx::*;
use crate::engine::liquidation::{plan_liquidation, LiquidationPlan};
use crate::engine::safe_math::SafeMath;
use crate::errors::BallastError;
use crate::events::{BadDebtSocialized, Liquidated};
use crate::runtime::health_accounts::{self, HealthAccounts};
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
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
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
    /// The debt reserve's insurance vault: covers the obligation's remaining
    /// debt when this liquidation takes its last collateral.
    #[account(mut, address = debt_reserve.load()?.insurance_vault @ BallastError::ReserveAccountMismatch)]
    pub debt_insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
}

/// Repays up to `max_repay` base units of the obligation's debt in
/// `debt_reserve` (`u64::MAX`: as much as the close factor allows) and seizes
/// collateral from its position in `collateral_reserve`, as
/// [`plan_liquidation`] sizes it. Emits [`Liquidated`].
///
/// Errors: [`BallastError::ZeroAmount`], health-account and oracle errors,
/// [`BallastError::ObligationHealthy`], [`BallastError::PositionNotFound`],
/// [`BallastError::LiquidationCannotImproveHealth`],
/// [`BallastError::InsufficientLiquidity`] (the collateral vault cannot
/// pay: `liquidate_for_shares` takes the collateral as deposit shares).
pub fn handler<'info>(ctx: Context<'info, Liquidate<'info>>, max_repay: u64) -> Result<()> {
    let a = &ctx.accounts;
    let (plan, authority_bump, unpriced) = accrue_and_plan(
        &a.market,
        &a.obligation,
        &a.debt_reserve,
        &a.collateral_reserve,
        ctx.remaining_accounts,
        max_repay,
    )?;
    let market_key = a.market.key();
    let (debt_key, coll_key) = (a.debt_reserve.key(), a.collateral_reserve.key());
    book_debt(&a.debt_reserve, &plan)?;
    {
        let mut c = a.collateral_reserve.load_mut()?;
        require!(
            plan.seize <= c.available_amount,
            BallastError::InsufficientLiquidity
        );
        c.available_amount = c.available_amount.safe_sub(plan.seize)?;
        c.deposit_shares = c.deposit_shares.safe_sub(plan.shares_burned)?;
    }
    book_obligation(&a.obligation, &debt_key, &coll_key, &plan)?;
    pay(a, &market_key, authority_bump, &plan)?;
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
    )?;
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

/// The common first half of `liquidate` and `liquidate_for_shares`: accrues
/// both reserves to now, marks the collateral reserve's treasury (a
/// trailing strategy reserve in `remaining`, required while it has shares
/// deployed) and plans the liquidation over the obligation's health
/// accounts ([`plan_liquidation`]; an oracle error aborts here, except for
/// dust collateral, see [`HealthAccounts::load_for_liquidation`]). Returns
/// the plan, the market authority's bump and the reserves held as unpriced
/// dust. Errors: those of [`plan_liquidation`] and of the health accounts.
pub(crate) fn accrue_and_plan<'info>(
    market: &AccountLoader<'info, Market>,
    obligation: &AccountLoader<'info, Obligation>,
    debt_reserve: &AccountLoader<'info, Reserve>,
    collateral_reserve: &AccountLoader<'info, Reserve>,
    remaining: &'info [AccountInfo<'info>],
    max_repay: u64,
) -> Result<(LiquidationPlan, u8, Unpriced)> {
    require!(max_repay > 0, BallastError::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let market_key = market.key();
    let (cfg, authority_bump) = {
        let m = market.load()?;
        (m.liquidation, m.authority_bump)
    };
    let (debt_key, coll_key) = (debt_reserve.key(), collateral_reserve.key());
    debt_reserve.load_mut()?.accrue_interest(now)?;
    let obligation = obligation.load()?;
    let remaining = {
        // The health accounts, then the collateral's marking strategy.
        let (health, rest) = health_accounts::split(&obligation, remaining)?;
        let mut c = collateral_reserve.load_mut()?;
        c.accrue_interest(now)?;
        let (extra, strategy) = treasury_cpi::split_strategy(rest, &c);
        treasury_cpi::mark_readonly(&mut c, strategy, now)?;
        // Anything else left over: the health check sees every account and
        // fails with `HealthAccountsMismatch`.
        if extra.is_empty() {
            health
        } else {
            remaining
        }
    };
    // Dust collateral behind an unusable oracle counts as zero rather than
    // blocking; the two reserves liquidated must be priced.
    let accounts = Box::new(HealthAccounts::load_for_liquidation(
        &obligation,
        &market_key,
        remaining,
        now,
        cfg.dust_debt_micro_usd,
    )?);
    accounts.require_priced(&debt_key)?;
    accounts.require_priced(&coll_key)?;
    let plan = plan_liquidation(
        &cfg,
        &obligation.positions,
        &debt_key,
        &coll_key,
        |r| accounts.get(r),
        max_repay,
    )?;
    let mut unpriced = Unpriced::default();
    for i in 0..accounts.len {
        if accounts.unpriced[i] != 0 {
            unpriced.keys[unpriced.len] = accounts.keys[i];
            unpriced.len += 1;
        }
    }
    Ok((plan, authority_bump, unpriced))
}

/// The reserves of an obligation whose collateral was valued at zero as
/// dust behind an unusable oracle.
#[derive(Default)]
pub(crate) struct Unpriced {
    keys: [Pubkey; MAX_POSITIONS],
    len: usize,
}

impl Unpriced {
    fn contains(&self, k: &Pubkey) -> bool {
        self.keys[..self.len].contains(k)
    }
}

/// The accounts that move the insurance cover of a write-off.
pub(crate) struct WriteOffAccounts<'a, 'info> {
    pub(crate) token_program: &'a Interface<'info, TokenInterface>,
    pub(crate) insurance_vault: &'a InterfaceAccount<'info, TokenAccount>,
    pub(crate) mint: &'a InterfaceAccount<'info, Mint>,
    pub(crate) vault: &'a InterfaceAccount<'info, TokenAccount>,
    pub(crate) authority: &'a AccountInfo<'info>,
    pub(crate) market: &'a Pubkey,
    pub(crate) bump: u8,
}

/// After a liquidation's booking: when the obligation holds no collateral
/// any more (none, or only dust valued at zero in `unpriced` reserves) and
/// still owes in the debt reserve, that debt is written off now, insurance
/// first, as `socialize_bad_debt` would ([`write_off`]), and
/// [`BadDebtSocialized`] is emitted. In the instruction that takes the
/// last collateral, so nobody can re-deposit a base unit to block the
/// write-off, nor withdraw ahead of a pending one. Debt in other reserves
/// (an obligation with several debts) is left to `socialize_bad_debt`.
pub(crate) fn write_off_if_bare(
    obligation: &AccountLoader<Obligation>,
    debt_reserve: &AccountLoader<Reserve>,
    unpriced: &Unpriced,
    w: WriteOffAccounts,
) -> Result<()> {
    let debt_key = debt_reserve.key();
    let done = {
        let mut o = obligation.load_mut()?;
        let bare = o
            .positions
            .iter()
            .all(|p| p.kind() != PositionKind::Collateral || unpriced.contains(&p.reserve));
        if !bare {
            return Ok(());
        }
        let mut d = debt_reserve.load_mut()?;
        write_off(&mut o, &mut d, &debt_key, w.insurance_vault.amount)?
    };
    let Some((debt, covered, written_off)) = done else {
        return Ok(());
    };
    if covered > 0 {
        token::transfer_out(
            w.token_program,
            w.insurance_vault,
            w.mint,
            w.vault,
            w.authority,
            w.market,
            w.bump,
            covered,
        )?;
    }
    emit!(BadDebtSocialized {
        reserve: debt_key,
        obligation: obligation.key(),
        debt,
        covered_by_insurance: covered,
        written_off,
    });
    Ok(())
}

/// Writes the debt side of `plan` to the debt reserve: its debt shares
/// fall by `debt_removed`, its liquidity rises by `repay`.
pub(crate) fn book_debt(
    debt_reserve: &AccountLoader<Reserve>,
    plan: &LiquidationPlan,
) -> Result<()> {
    let mut d = debt_reserve.load_mut()?;
    let total = d.borrow_shares.get().sub_(plan.debt_removed)?.max(FX_ZERO);
    d.borrow_shares.set(total);
    d.available_amount = d.available_amount.safe_add(plan.repay)?;
    Ok(())
}

/// Writes `plan` to the liquidated obligation: its debt position in
/// `debt_key` falls by `debt_removed`, its collateral position in
/// `coll_key` by `shares_burned`, each freed once empty.
pub(crate) fn book_obligation(
    obligation: &AccountLoader<Obligation>,
    debt_key: &Pubkey,
    coll_key: &Pubkey,
    plan: &LiquidationPlan,
) -> Result<()> {
    let mut o = obligation.load_mut()?;
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
