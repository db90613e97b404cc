//! `borrow_term`: a fixed-rate term loan. The borrower owes `face` at the
//! maturity of the chosen tenor and receives its zero-coupon price at the
//! reserve's term rate ([`crate::engine::term`]). Refused while the market
//! is paused; needs the obligation's health accounts (as `borrow`).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::rates::utilization;
use crate::engine::safe_math::SafeMath;
use crate::engine::term::{maturity_for, price_floor, term_rate};
use crate::errors::BallastError;
use crate::events::TermBorrowed;
use crate::state::*;

/// Accounts of `borrow_term` (those of `borrow`). Remaining accounts: the
/// obligation's health accounts, including the borrowed reserve.
#[derive(Accounts)]
pub struct BorrowTerm<'info> {
    /// The obligation's owner.
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve borrowed from.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation charged.
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
    /// Destination of the proceeds.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: InterfaceAccount<'info, TokenAccount>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Borrows `face` base units due at the maturity of tenor `tenor_index`
/// (the first grid point at or after now + tenor) and pays out the price
/// `P = face * exp(-r * tau)` rounded down, at the term rate `r` =
/// floating rate now + base spread + slope * (face committed at that
/// maturity after this loan / supply), rounded up. The loan counts as
/// borrowed at its book value (principal, growing linearly to the face):
/// the borrow cap is checked against the face, utilisation against the
/// principal. Emits [`TermBorrowed`].
///
/// Errors: [`BallastError::MarketPaused`], [`BallastError::ZeroAmount`]
/// (face 0, or a price that rounds to 0), [`BallastError::TermDisabled`],
/// [`BallastError::UnknownTenor`], [`BallastError::TermCommitmentCapExceeded`],
/// [`BallastError::TermSlippageExceeded`] (proceeds below `min_proceeds`),
/// [`BallastError::BorrowCapExceeded`], [`BallastError::InsufficientLiquidity`],
/// [`BallastError::OutflowLimitExceeded`], [`BallastError::MaxUtilizationExceeded`],
/// [`BallastError::TermBucketsFull`], [`BallastError::SameReserveLoop`],
/// [`BallastError::TermPositionExists`], [`BallastError::ObligationFull`],
/// health-check and oracle errors, [`BallastError::InitialRequirementNotMet`].
pub fn handler<'info>(
    ctx: Context<'info, BorrowTerm<'info>>,
    tenor_index: u8,
    face: u64,
    min_proceeds: u64,
) -> Result<()> {
    require!(face > 0, BallastError::ZeroAmount);
    let market_key = ctx.accounts.market.key();
    let (paused, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
    require!(!paused, BallastError::MarketPaused);
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let (principal, maturity, rate) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let cfg = reserve.term_config;
        let tenor = cfg.tenor(tenor_index)?;
        let maturity = maturity_for(now, tenor, cfg.grid_secs)?;
        let supply = reserve.supply()?;
        let committed = reserve.term.face_at(maturity).safe_add(face)?;
        require!(
            fx_u64(committed) <= supply.mul_floor(fx_bps_floor(cfg.max_commit_bps as u64)?)?,
            BallastError::TermCommitmentCapExceeded
        );
        let rate = term_rate(reserve.borrow_rate()?, &cfg, committed, supply, true)?;
        let principal = price_floor(face, rate, maturity.safe_sub(now)? as u64)?;
        require!(principal > 0, BallastError::ZeroAmount);
        require!(
            principal >= min_proceeds,
            BallastError::TermSlippageExceeded
        );
        let borrowed = reserve.total_borrowed()?;
        require!(
            borrowed.add_(fx_u64(face))? <= fx_u64(reserve.config.borrow_cap),
            BallastError::BorrowCapExceeded
        );
        require!(
            principal <= reserve.available_amount,
            BallastError::InsufficientLiquidity
        );
        let limits = reserve.config.liquidity;
        reserve.outflow.record(&limits, now, principal)?;
        let util_after = utilization(borrowed.add_(fx_u64(principal))?, supply)?;
        require!(
            util_after <= fx_bps_floor(reserve.config.max_utilization_bps as u64)?,
            BallastError::MaxUtilizationExceeded
        );
        reserve.term.add_loan(maturity, face, principal)?;
        reserve.available_amount = reserve.available_amount.safe_sub(principal)?;

        let mut obligation = ctx.accounts.obligation.load_mut()?;
        require!(
            obligation
                .find(&reserve_key, PositionKind::Collateral)
                .is_none(),
            BallastError::SameReserveLoop
        );
        require!(
            obligation
                .find(&reserve_key, PositionKind::TermDebt)
                .is_none(),
            BallastError::TermPositionExists
        );
        let i = obligation.find_or_open(&reserve_key, PositionKind::TermDebt)?;
        let rate_micro = rate
            .mul_floor(fx_u64(1_000_000))?
            .to_floor_u64()?
            .min(u32::MAX as u64) as u32;
        obligation.positions[i].set_term(&TermLoan {
            face,
            maturity,
            open_ts: now,
            principal,
            rate_micro,
            penalty_bps: cfg.penalty_spread_bps,
        });
        (principal, maturity, rate_micro)
    };
    {
        let obligation = ctx.accounts.obligation.load()?;
        crate::runtime::health_accounts::require_initial(
            &obligation,
            &market_key,
            ctx.remaining_accounts,
            now,
        )?;
    }
    let a = &ctx.accounts;
    crate::runtime::token::transfer_out(
        &a.token_program,
        &a.liquidity_vault,
        &a.mint,
        &a.user_token_account,
        &a.market_authority.to_account_info(),
        &market_key,
        authority_bump,
        principal,
    )?;
    emit!(TermBorrowed {
        reserve: reserve_key,
        obligation: a.obligation.key(),
        tenor_index,
        face,
        principal,
        maturity,
        rate_micro: rate,
    });
    Ok(())
}
