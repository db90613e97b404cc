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
/// reserves; then, when the liquidation takes the obligation's last
/// collateral and it owes in other reserves, a write-off group per other
/// debt reserve (those reserves writable among the health accounts, see
/// [`write_off_if_bare`]); then, while the collateral reserve has treasury
/// shares deployed, its strategy reserve (read-only, to mark them).
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
/// Errors: [`BallastError::ZeroAmount`], [`BallastError::TermDebtOutstanding`]
/// (send `convert_term_debt` first), health-account and oracle errors,
/// [`BallastError::ObligationHealthy`], [`BallastError::PositionNotFound`],
/// [`BallastError::LiquidationCannotImproveHealth`],
/// [`BallastError::InsufficientLiquidity`] (the collateral vault cannot
/// pay: `liquidate_for_shares` takes the collateral as deposit shares),
/// [`BallastError::WriteOffAccountsRequired`] (it takes the last collateral
/// and another debt reserve is not writable or lacks its write-off group,
/// see [`write_off_if_bare`]).
pub fn handler<'info>(ctx: Context<'info, Liquidate<'info>>, max_repay: u64) -> Result<()> {
    let a = &ctx.accounts;
    let (plan, authority_bump, unpriced, others) = accrue_and_plan(
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
        &others,
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
/// the plan, the market authority's bump, the reserves held as unpriced
/// dust and the accounts a write-off of the obligation's other debts needs
/// ([`WriteOffOthers`]).
///
/// Layout of `remaining`: the health accounts (two per reserve of the
/// obligation), then the write-off groups ([`WRITE_OFF_GROUP`] accounts
/// per other debt reserve, needed only when the liquidation takes the last
/// collateral, see [`write_off_if_bare`]), then the strategy reserve when
/// the collateral reserve has treasury shares deployed.
/// Errors: those of [`plan_liquidation`] and of the health accounts.
pub(crate) fn accrue_and_plan<'info>(
    market: &AccountLoader<'info, Market>,
    obligation: &AccountLoader<'info, Obligation>,
    debt_reserve: &AccountLoader<'info, Reserve>,
    collateral_reserve: &AccountLoader<'info, Reserve>,
    remaining: &'info [AccountInfo<'info>],
    max_repay: u64,
) -> Result<(LiquidationPlan, u8, Unpriced, WriteOffOthers<'info>)> {
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
    // Term debt is liquidated as floating debt: `convert_term_debt` (open
    // to anyone below Maintenance) first, in the same transaction.
    require!(
        !obligation.has_term_debt(),
        BallastError::TermDebtOutstanding
    );
    // The health accounts, then the write-off groups, then the
    // collateral's marking strategy (while it has shares deployed).
    let (remaining, groups) = {
        let (health, rest) = health_accounts::split(&obligation, remaining)?;
        let mut c = collateral_reserve.load_mut()?;
        c.accrue_interest(now)?;
        let (groups, strategy) = treasury_cpi::split_strategy(rest, &c);
        treasury_cpi::mark_readonly(&mut c, strategy, now)?;
        (health, groups)
    };
    require!(
        groups.len() % WRITE_OFF_GROUP == 0,
        BallastError::HealthAccountsMismatch
    );
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
    let others = WriteOffOthers {
        health: remaining,
        groups,
        now,
    };
    Ok((plan, authority_bump, unpriced, others))
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

/// Accounts per other debt reserve in a liquidation's write-off groups
/// (see [`accrue_and_plan`]): that reserve's insurance vault (writable),
/// liquidity vault (writable), mint and token program, in that order.
pub const WRITE_OFF_GROUP: usize = 4;

/// What a liquidation needs to write off the obligation's debt in reserves
/// other than the one repaid: the validated health accounts (where each
/// such reserve is, and must then be writable) and the write-off groups
/// that follow them in the remaining accounts.
pub(crate) struct WriteOffOthers<'info> {
    health: &'info [AccountInfo<'info>],
    groups: &'info [AccountInfo<'info>],
    now: i64,
}

/// After a liquidation's booking: when the obligation holds no collateral
/// any more (none, or only dust valued at zero in `unpriced` reserves), its
/// remaining debt is written off now, in every reserve it still owes:
/// first the debt reserve repaid, then each other debt reserve in slot
/// order, each exactly as `socialize_bad_debt` does it ([`write_off`]:
/// interest accrued to now, the reserve's insurance vault covers first, the
/// rest is written off against its depositors by the lower exchange rate),
/// each with its [`BadDebtSocialized`]. All in the instruction that takes
/// the last collateral, so nobody can re-deposit a base unit to block the
/// write-off, nor withdraw ahead of a pending one.
///
/// Each other debt reserve must be writable among the health accounts and
/// have its write-off group ([`WRITE_OFF_GROUP`]) after them; otherwise
/// the liquidation fails with [`BallastError::WriteOffAccountsRequired`]
/// rather than leave the debt behind (a group whose accounts are not that
/// reserve's: [`BallastError::ReserveAccountMismatch`]). A liquidation that
/// leaves collateral needs neither.
pub(crate) fn write_off_if_bare<'info>(
    obligation: &AccountLoader<'info, Obligation>,
    debt_reserve: &AccountLoader<'info, Reserve>,
    unpriced: &Unpriced,
    w: WriteOffAccounts<'_, 'info>,
    others: &WriteOffOthers<'info>,
) -> Result<()> {
    let debt_key = debt_reserve.key();
    let (done, rest) = {
        let mut o = obligation.load_mut()?;
        let bare = o
            .positions
            .iter()
            .all(|p| p.kind() != PositionKind::Collateral || unpriced.contains(&p.reserve));
        if !bare {
            return Ok(());
        }
        let mut d = debt_reserve.load_mut()?;
        let done = write_off(&mut o, &mut d, &debt_key, w.insurance_vault.amount)?;
        let mut rest = [Pubkey::default(); MAX_POSITIONS];
        for (k, p) in rest.iter_mut().zip(o.positions.iter()) {
            if p.kind() == PositionKind::Debt {
                *k = p.reserve;
            }
        }
        (done, rest)
    };
    if let Some(done) = done {
        cover_and_emit(obligation.key(), debt_key, done, &w)?;
    }
    for key in rest.iter().filter(|k| **k != Pubkey::default()) {
        write_off_other(obligation, key, others, &w)?;
    }
    Ok(())
}

/// [`write_off`] of the obligation's debt in `key`, a debt reserve other
/// than the one repaid, from its health account (writable) and its
/// write-off group. Errors: [`BallastError::WriteOffAccountsRequired`],
/// [`BallastError::ReserveAccountMismatch`], [`BallastError::HealthAccountsMismatch`].
#[inline(never)]
fn write_off_other<'info>(
    obligation: &AccountLoader<'info, Obligation>,
    key: &Pubkey,
    others: &WriteOffOthers<'info>,
    w: &WriteOffAccounts<'_, 'info>,
) -> Result<()> {
    let info = others
        .health
        .iter()
        .find(|a| a.key == key)
        .ok_or(error!(BallastError::HealthAccountsMismatch))?;
    if !info.is_writable {
        msg!("write-off needs reserve {} writable", key);
        return err!(BallastError::WriteOffAccountsRequired);
    }
    let loader = AccountLoader::<Reserve>::try_from(info)?;
    let (ins, liq, mint, tp) = {
        let r = loader.load()?;
        (
            r.insurance_vault,
            r.liquidity_vault,
            r.mint,
            r.token_program,
        )
    };
    let Some(g) = others
        .groups
        .chunks_exact(WRITE_OFF_GROUP)
        .find(|g| *g[0].key == ins)
    else {
        msg!("write-off needs the accounts of reserve {}", key);
        return err!(BallastError::WriteOffAccountsRequired);
    };
    require!(
        *g[1].key == liq && *g[2].key == mint && *g[3].key == tp,
        BallastError::ReserveAccountMismatch
    );
    require!(
        g[0].is_writable && g[1].is_writable,
        BallastError::WriteOffAccountsRequired
    );
    let insurance_vault = Box::new(InterfaceAccount::<TokenAccount>::try_from(&g[0])?);
    let vault = Box::new(InterfaceAccount::<TokenAccount>::try_from(&g[1])?);
    let mint = Box::new(InterfaceAccount::<Mint>::try_from(&g[2])?);
    let token_program = Interface::<TokenInterface>::try_from(&g[3])?;
    let done = {
        let mut o = obligation.load_mut()?;
        let mut r = loader.load_mut()?;
        r.accrue_interest(others.now)?;
        write_off(&mut o, &mut r, key, insurance_vault.amount)?
    };
    let Some(done) = done else {
        return Ok(());
    };
    let wo = WriteOffAccounts {
        token_program: &token_program,
        insurance_vault: &insurance_vault,
        mint: &mint,
        vault: &vault,
        authority: w.authority,
        market: w.market,
        bump: w.bump,
    };
    cover_and_emit(obligation.key(), *key, done, &wo)
}

/// Moves the insurance cover of a booked write-off (`(debt, covered,
/// written_off)` from [`write_off`]) into the reserve's liquidity vault and
/// emits [`BadDebtSocialized`].
fn cover_and_emit(
    obligation: Pubkey,
    reserve: Pubkey,
    (debt, covered, written_off): (u64, u64, u64),
    w: &WriteOffAccounts,
) -> Result<()> {
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
        reserve,
        obligation,
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
