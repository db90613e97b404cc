//! `withdraw_insurance`: the market's admin takes tokens out of a reserve's
//! insurance vault into a token account of its choice. The insurance vault
//! is equity held apart from the reserve's assets, so the withdrawal is
//! bounded by the vault's balance only and never touches the liquidity
//! vault: depositors' claims, the liquid tokens and the outflow limiter do
//! not move.
//!
//! Refused while the market is paused: a pause is when bad debt is most
//! likely to need the insurance, and its cover must not leave then.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::safe_math::SafeMath;
use crate::errors::BallastError;
use crate::events::InsuranceWithdrawn;
use crate::runtime::token;
use crate::state::*;

/// Accounts of `withdraw_insurance`.
#[derive(Accounts)]
pub struct WithdrawInsurance<'info> {
    /// The market's admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve whose insurance vault pays (not written).
    #[account(
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = insurance_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The reserve's mint.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The reserve's insurance vault, which pays.
    #[account(mut)]
    pub insurance_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The receiver: any token account of the reserve's mint but the
    /// reserve's own vaults: the liquidity vault (the tokens would be an
    /// unaccounted donation, [`BallastError::ReceiverIsReserveVault`]) and
    /// the insurance vault (refused by Anchor as a duplicate writable
    /// account, `ConstraintDuplicateMutableAccount`).
    #[account(
        mut,
        token::mint = mint,
        token::token_program = token_program,
        constraint = receiver.key() != reserve.load()?.liquidity_vault @ BallastError::ReceiverIsReserveVault
    )]
    pub receiver: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Withdraws `amount` base units (`u64::MAX`: the whole balance) from the
/// insurance vault to `receiver` and emits [`InsuranceWithdrawn`].
///
/// Errors: [`BallastError::NotMarketAdmin`], [`BallastError::WrongMarket`],
/// [`BallastError::ReserveAccountMismatch`],
/// [`BallastError::ReceiverIsReserveVault`] (the liquidity vault), Anchor's
/// token-mint constraint for a receiver of another mint and its
/// duplicate-account check for the insurance vault as the receiver,
/// [`BallastError::MarketPaused`],
/// [`BallastError::ZeroAmount`], [`BallastError::InsuranceExceeded`] (more
/// than the vault holds, or `u64::MAX` on an empty vault).
pub fn handler(ctx: Context<WithdrawInsurance>, amount: u64) -> Result<()> {
    require!(amount > 0, BallastError::ZeroAmount);
    let (paused, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
    require!(!paused, BallastError::MarketPaused);
    let a = &ctx.accounts;
    let balance = a.insurance_vault.amount;
    let amount = if amount == u64::MAX {
        balance.max(1)
    } else {
        amount
    };
    if amount > balance {
        msg!(
            "insurance vault: {} base units, requested {}",
            balance,
            amount
        );
        return err!(BallastError::InsuranceExceeded);
    }
    token::transfer_out(
        &a.token_program,
        &a.insurance_vault,
        &a.mint,
        &a.receiver,
        &a.market_authority.to_account_info(),
        &a.market.key(),
        authority_bump,
        amount,
    )?;
    emit!(InsuranceWithdrawn {
        market: a.market.key(),
        reserve: a.reserve.key(),
        receiver: a.receiver.key(),
        amount,
        insurance_after: balance.safe_sub(amount)?,
    });
    Ok(())
}
