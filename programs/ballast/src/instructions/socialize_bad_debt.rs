//! `socialize_bad_debt`: permissionless. When an obligation owes debt and
//! holds no collateral, its debt in one reserve is covered from that
//! reserve's insurance vault first and the rest is written down against the
//! reserve's depositors (a lower share exchange rate). Nothing is forgiven
//! silently: the event gives each amount.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use bytemuck::Zeroable;

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::debt_for_shares;
use crate::errors::BallastError;
use crate::events::BadDebtSocialized;
use crate::state::*;

/// Accounts of `socialize_bad_debt`.
#[derive(Accounts)]
pub struct SocializeBadDebt<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The obligation: debt left, no collateral.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The reserve the debt is owed to.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = insurance_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The reserve's mint.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The reserve's liquidity vault.
    #[account(mut)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's insurance vault.
    #[account(mut)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Covers and writes off the obligation's debt in `reserve`. Emits
/// [`BadDebtSocialized`]. Errors: [`BallastError::ObligationHasCollateral`],
/// [`BallastError::NothingToRepay`].
pub fn handler(ctx: Context<SocializeBadDebt>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let insurance_balance = ctx.accounts.insurance_vault.amount;
    let (debt, covered, written_off) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let mut o = ctx.accounts.obligation.load_mut()?;
        require!(
            !o.positions
                .iter()
                .any(|p| p.kind() == PositionKind::Collateral),
            BallastError::ObligationHasCollateral
        );
        write_off(&mut o, &mut reserve, &reserve_key, insurance_balance)?
            .ok_or(error!(BallastError::NothingToRepay))?
    };
    if covered > 0 {
        let a = &ctx.accounts;
        let bump = a.market.load()?.authority_bump;
        crate::runtime::token::transfer_out(
            &a.token_program,
            &a.insurance_vault,
            &a.mint,
            &a.liquidity_vault,
            &a.market_authority.to_account_info(),
            &a.market.key(),
            bump,
            covered,
        )?;
    }
    emit!(BadDebtSocialized {
        reserve: reserve_key,
        obligation: ctx.accounts.obligation.key(),
        debt,
        covered_by_insurance: covered,
        written_off,
    });
    Ok(())
}

/// Books the write-off of `o`'s debt in `reserve` (at key `reserve_key`,
/// interest accrued): the debt (base units, rounded up) is covered from
/// the insurance vault up to `insurance_balance` (the caller transfers
/// `covered` from it into the liquidity vault) and the rest is written off
/// against the depositors (the debt shares vanish, so the supply falls).
/// Returns `(debt, covered, written_off)`, or `None` when `o` owes nothing
/// there. Shared with `liquidate` and `liquidate_for_shares`, which write
/// off in the instruction that takes an obligation's last collateral.
pub(crate) fn write_off(
    o: &mut Obligation,
    reserve: &mut Reserve,
    reserve_key: &Pubkey,
    insurance_balance: u64,
) -> Result<Option<(u64, u64, u64)>> {
    let Some(i) = o.find(reserve_key, PositionKind::Debt) else {
        return Ok(None);
    };
    let shares = o.positions[i].borrow_shares.get();
    let debt = debt_for_shares(shares, reserve.borrow_index.get())?.to_ceil_u64()?;
    let covered = debt.min(insurance_balance);
    o.positions[i] = Position::zeroed();
    let total = reserve.borrow_shares.get().sub_(shares)?.max(FX_ZERO);
    reserve.borrow_shares.set(total);
    reserve.available_amount = reserve.available_amount.safe_add(covered)?;
    Ok(Some((debt, covered, debt.safe_sub(covered)?)))
}
