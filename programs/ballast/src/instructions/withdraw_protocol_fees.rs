//! `withdraw_protocol_fees`: the market's admin takes protocol fees (the
//! protocol's equity in a reserve) out of the liquidity vault into a token
//! account of its choice. The rule ([`crate::engine::equity`]): at most the
//! fees rounded down, the vault's liquid tokens and what the outflow limiter
//! still lets out; depositors' claims do not move.
//!
//! Refused while the market is paused: a pause freezes depositors'
//! withdrawals, and the protocol's equity must not leave ahead of them.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::equity::fee_withdrawal;
use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::errors::BallastError;
use crate::events::ProtocolFeesWithdrawn;
use crate::runtime::token;
use crate::state::*;

/// Accounts of `withdraw_protocol_fees`.
#[derive(Accounts)]
pub struct WithdrawProtocolFees<'info> {
    /// The market's admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve whose fees are withdrawn.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The reserve's mint.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The reserve's liquidity vault, which pays.
    #[account(mut)]
    pub liquidity_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The receiver: any token account of the reserve's mint but the
    /// liquidity vault (which Anchor refuses as a duplicate writable
    /// account, `ConstraintDuplicateMutableAccount`); the insurance vault may
    /// receive (fees -> insurance).
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub receiver: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Accrues the reserve's interest, withdraws `amount` base units of its
/// protocol fees (`u64::MAX`: all that is withdrawable) to `receiver` and
/// emits [`ProtocolFeesWithdrawn`]. The outflow is recorded in the limiter.
///
/// Errors: [`BallastError::NotMarketAdmin`], [`BallastError::WrongMarket`],
/// [`BallastError::ReserveAccountMismatch`], Anchor's token-mint constraint
/// for a receiver of another mint and its duplicate-account check for the
/// liquidity vault as the receiver, [`BallastError::MarketPaused`], then
/// those of [`fee_withdrawal`].
pub fn handler(ctx: Context<WithdrawProtocolFees>, amount: u64) -> Result<()> {
    let (paused, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
    require!(!paused, BallastError::MarketPaused);
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let (amount, fees_after, liquid_after, claims_after) = {
        let mut reserve = a.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let claims_before = reserve.supply()?;
        let fees = reserve.protocol_fees.get();
        // Assets on the claims side's basis (debt rounded down), not
        // clamped: `supply()` floors at zero.
        let assets = reserve
            .cash()
            .add_(reserve.borrowed_floor()?)?
            .add_(reserve.term_book()?)?;
        let limits = reserve.config.liquidity;
        let amount = fee_withdrawal(
            amount,
            fees,
            assets,
            reserve.available_amount,
            reserve.outflow.remaining(&limits, now),
        )?;
        reserve.outflow.record(&limits, now, amount)?;
        reserve.available_amount = reserve.available_amount.safe_sub(amount)?;
        reserve.protocol_fees.set(fees.sub_(fx_u64(amount))?);
        // The rule's point, re-checked on the books: depositors' claims
        // never fall (integer moves are exact in `I80F48`, so they are
        // equal).
        let claims_after = reserve.supply()?;
        require!(
            claims_after >= claims_before,
            BallastError::ReserveInsolvent
        );
        (
            amount,
            reserve.protocol_fees,
            reserve.available_amount,
            claims_after.to_floor_u64()?,
        )
    };
    token::transfer_out(
        &a.token_program,
        &a.liquidity_vault,
        &a.mint,
        &a.receiver,
        &a.market_authority.to_account_info(),
        &a.market.key(),
        authority_bump,
        amount,
    )?;
    emit!(ProtocolFeesWithdrawn {
        market: a.market.key(),
        reserve: a.reserve.key(),
        receiver: a.receiver.key(),
        amount,
        protocol_fees_after: fees_after,
        liquid_after,
        claims_after,
    });
    Ok(())
}
