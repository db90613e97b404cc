//! `repay_term`: anyone repays an obligation's term loan in full. Before
//! maturity at the current term price for the remaining time, floored at
//! the loan's book value; at or after maturity the face plus the penalty
//! accrued since. Needs no oracle and works while the market is paused: a
//! borrower can always de-risk.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use bytemuck::Zeroable;

use crate::engine::fx::*;
use crate::engine::safe_math::SafeMath;
use crate::engine::term::{early_repayment, owed, term_rate};
use crate::errors::BallastError;
use crate::events::TermRepaid;
use crate::state::*;

/// Accounts of `repay_term` (those of `repay`).
#[derive(Accounts)]
pub struct RepayTerm<'info> {
    /// Whoever pays; signs the transfer from `user_token_account`.
    pub repayer: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve whose term loan is repaid.
    #[account(
        mut,
        has_one = market @ BallastError::WrongMarket,
        has_one = mint @ BallastError::ReserveAccountMismatch,
        has_one = liquidity_vault @ BallastError::ReserveAccountMismatch,
        has_one = token_program @ BallastError::ReserveAccountMismatch
    )]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation credited (any owner).
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The reserve's mint.
    pub mint: InterfaceAccount<'info, Mint>,
    /// The reserve's liquidity vault.
    #[account(mut)]
    pub liquidity_vault: InterfaceAccount<'info, TokenAccount>,
    /// Source of the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: InterfaceAccount<'info, TokenAccount>,
    /// The reserve's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Repays the obligation's term loan in this reserve in full and closes
/// the position; the payment may not exceed `max_amount` (slippage bound:
/// the early price moves with the floating rate and the commitment).
///
/// * Before maturity: `max(ceil(face * exp(-r_now * tau_rem)), ceil(book))`
///   with `r_now` the term rate quoted now at the loan's maturity (rounded
///   down) and `book = face - unearned` on the reserve's linear accrual
///   basis ([`crate::engine::term::early_repayment`]): the reserve never
///   books a loss. What is paid above book is smoothed into the bucket's
///   unearned interest when the bucket's remaining face has room (earned
///   linearly to its maturity), else credited to the protocol's fees: the
///   depositors' supply does not jump either way.
/// * At or after maturity: `ceil(face * exp(penalty * (now - T)))`; the
///   penalty goes to the protocol's fees (as in `convert_term_debt`).
///
/// Emits [`TermRepaid`]. Errors: [`BallastError::NoTermPosition`],
/// [`BallastError::TermSlippageExceeded`], token-transfer errors.
pub fn handler(ctx: Context<RepayTerm>, max_amount: u64) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let (loan, amount, book, to_fees) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        let i = obligation
            .find(&reserve_key, PositionKind::TermDebt)
            .ok_or(error!(BallastError::NoTermPosition))?;
        let loan = obligation.positions[i].term();
        let (amount, book, to_fees) = if now < loan.maturity {
            let supply = reserve.supply()?;
            let committed = reserve.term.face_at(loan.maturity);
            let cfg = reserve.term_config;
            let rate = term_rate(reserve.borrow_rate()?, &cfg, committed, supply, false)?;
            let e = early_repayment(
                loan.face,
                loan.principal,
                loan.open_ts,
                loan.maturity,
                now,
                rate,
            )?;
            let left = reserve
                .term
                .remove_loan(loan.maturity, loan.face, e.unearned, e.excess)?;
            let book = fx_u64(loan.face).sub_(e.unearned)?;
            (e.amount, book, left)
        } else {
            let owed = owed(loan.face, loan.maturity, loan.penalty_bps, now)?.to_ceil_u64()?;
            reserve
                .term
                .remove_loan(loan.maturity, loan.face, FX_ZERO, FX_ZERO)?;
            let book = fx_u64(loan.face);
            (owed, book, fx_u64(owed).sub_(book)?)
        };
        require!(amount <= max_amount, BallastError::TermSlippageExceeded);
        if to_fees > FX_ZERO {
            let fees = reserve.protocol_fees.get().add_(to_fees)?;
            reserve.protocol_fees.set(fees);
        }
        reserve.available_amount = reserve.available_amount.safe_add(amount)?;
        let limits = reserve.config.liquidity;
        reserve.outflow.record_inflow(&limits, now, amount);
        obligation.positions[i] = Position::zeroed();
        (loan, amount, book, to_fees)
    };
    let a = &ctx.accounts;
    crate::runtime::token::transfer_in(
        &a.token_program,
        &a.user_token_account,
        &a.mint,
        &a.liquidity_vault,
        &a.repayer,
        amount,
    )?;
    emit!(TermRepaid {
        reserve: reserve_key,
        obligation: a.obligation.key(),
        face: loan.face,
        amount,
        book_value: book.to_ceil_u64()?,
        early: u8::from(now < loan.maturity),
        to_protocol_fees: to_fees.to_floor_u64()?,
    });
    Ok(())
}
