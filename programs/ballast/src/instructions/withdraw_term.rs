//! `withdraw_term`: settles a matured term deposit. Refused before the
//! maturity ([`BallastError::DepositLocked`]) and while the market is
//! paused. Redeems the locked shares at their value `V` and pays the face
//! `F`, the protocol's fees taking `V - F` or covering `F - V`
//! ([`crate::engine::term_deposit::settle`]); closes the deposit account
//! (rent to the owner).

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::shares::tokens_for_shares_floor;
use crate::engine::term_deposit::{book_remove, next_maturity, settle};
use crate::errors::BallastError;
use crate::events::TermDepositWithdrawn;
use crate::state::*;

/// Accounts of `withdraw_term`. Remaining accounts: the reserve's treasury
/// strategy reserve (read-only) while it has shares deployed (as
/// `deposit`), so the shares are valued at the current exchange rate.
#[derive(Accounts)]
pub struct WithdrawTerm<'info> {
    /// The depositor; receives the deposit account's rent.
    #[account(mut)]
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The term deposit settled. Only this program creates `TermDeposit`
    /// accounts (at their PDA), so discriminator + `has_one` pin it.
    #[account(
        mut,
        close = owner,
        has_one = owner @ BallastError::TermDepositMismatch,
        has_one = reserve @ BallastError::TermDepositMismatch
    )]
    pub term_deposit: Box<Account<'info, TermDeposit>>,
    /// The reserve's term-deposit book.
    #[account(mut, has_one = reserve @ BallastError::TermDepositMismatch)]
    pub book: Box<Account<'info, TermDepositBook>>,
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

/// Settles the deposit at or after its maturity: burns its locked shares,
/// worth `V = shares * supply / deposit_shares` (rounded down), and pays
/// the face `F`; `V > F` credits `V - F` to the protocol's fees, `V < F`
/// takes the shortfall out of them (whole units; what they cannot cover is
/// not paid: `unpaid` in the event). The supply moves by `V` exactly, so
/// the exchange rate of the other depositors does not move beyond rounding
/// (in their favour). The payment counts against the outflow limiter.
/// Emits [`TermDepositWithdrawn`].
///
/// Errors: [`BallastError::MarketPaused`], [`BallastError::DepositLocked`],
/// [`BallastError::TermDepositMismatch`], [`BallastError::InsufficientLiquidity`],
/// [`BallastError::OutflowLimitExceeded`], [`BallastError::MathOverflow`],
/// [`BallastError::TreasuryAccountsMismatch`].
pub fn handler(ctx: Context<WithdrawTerm>) -> Result<()> {
    let market_key = ctx.accounts.market.key();
    let (paused, authority_bump) = {
        let m = ctx.accounts.market.load()?;
        (m.is_paused(), m.authority_bump)
    };
    require!(!paused, BallastError::MarketPaused);
    let now = Clock::get()?.unix_timestamp;
    let (shares, face, maturity) = {
        let d = &ctx.accounts.term_deposit;
        (d.shares, d.face, d.maturity)
    };
    if now < maturity {
        msg!("locked until {} ({} s from now)", maturity, maturity - now);
        return err!(BallastError::DepositLocked);
    }
    let reserve_key = ctx.accounts.reserve.key();
    let (value, s) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        crate::runtime::treasury_cpi::mark_readonly(
            &mut reserve,
            ctx.remaining_accounts.first(),
            now,
        )?;
        let value = tokens_for_shares_floor(shares, reserve.supply()?, reserve.deposit_shares)?
            .to_floor_u64()?;
        let fees = reserve.protocol_fees.get();
        let s = settle(value, face, fees.max(FX_ZERO).to_floor_u64()?);
        require!(
            s.paid <= reserve.available_amount,
            BallastError::InsufficientLiquidity
        );
        let limits = reserve.config.liquidity;
        reserve.outflow.record(&limits, now, s.paid)?;
        let fees = fees
            .add_(fx_u64(s.to_fees))?
            .sub_(fx_u64(s.from_fees))?
            .max(FX_ZERO);
        reserve.protocol_fees.set(fees);
        reserve.available_amount = reserve.available_amount.safe_sub(s.paid)?;
        reserve.deposit_shares = reserve.deposit_shares.safe_sub(shares)?;
        let book = &mut ctx.accounts.book;
        book_remove(&mut book.buckets, maturity, shares, face)?;
        let t = &mut reserve.term_deposits;
        t.locked_shares = t.locked_shares.safe_sub(shares)?;
        t.locked_face = t.locked_face.saturating_sub(face);
        t.next_maturity = next_maturity(&book.buckets);
        (value, s)
    };
    let a = &ctx.accounts;
    if s.paid > 0 {
        crate::runtime::token::transfer_out(
            &a.token_program,
            &a.liquidity_vault,
            &a.mint,
            &a.user_token_account,
            &a.market_authority.to_account_info(),
            &market_key,
            authority_bump,
            s.paid,
        )?;
    }
    emit!(TermDepositWithdrawn {
        reserve: reserve_key,
        term_deposit: a.term_deposit.key(),
        owner: a.owner.key(),
        shares,
        value,
        face,
        paid: s.paid,
        to_protocol_fees: s.to_fees,
        from_protocol_fees: s.from_fees,
        unpaid: s.unpaid,
    });
    Ok(())
}
