//! `convert_term_debt`: anyone turns a term loan into floating debt shares
//! of its reserve, once it has matured or its obligation is below the
//! Maintenance requirement, so that the existing liquidation, write-off
//! and socialisation paths handle it unchanged. `liquidate`,
//! `liquidate_for_shares` and `socialize_bad_debt` refuse an obligation
//! with unconverted term debt ([`BallastError::TermDebtOutstanding`]): the
//! keeper sends this instruction first in the same transaction. Works
//! while the market is paused (as liquidation does); moves no tokens.

use anchor_lang::prelude::*;
use bytemuck::Zeroable;

use crate::engine::fx::*;
use crate::engine::health::Requirement;
use crate::engine::shares::debt_shares_for_borrow;
use crate::engine::term::{loan_unearned, owed};
use crate::errors::BallastError;
use crate::events::TermDebtConverted;
use crate::state::*;

/// Accounts of `convert_term_debt`. Remaining accounts: before maturity,
/// the obligation's health accounts (as `liquidate`'s); none after.
#[derive(Accounts)]
pub struct ConvertTermDebt<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve of the term loan.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The obligation (any owner).
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
}

/// Converts the obligation's term loan in this reserve into floating debt
/// of `face * exp(penalty * max(0, now - T))` base units (rounded up; the
/// face before maturity: the loan is accelerated), added to its floating
/// debt position in the reserve (opened in the freed slot if needed) at
/// the current borrow index (shares rounded up). The loan leaves its
/// bucket at its book value; the debt booked above it (the interest not
/// yet earned and the penalty) is credited to the protocol's fees, so the
/// depositors' supply is unchanged to the bit and nobody gains by
/// depositing just before a conversion. Emits [`TermDebtConverted`].
///
/// Errors: [`BallastError::NoTermPosition`], [`BallastError::TermNotConvertible`]
/// (before maturity with the Maintenance requirement met), health-account
/// and oracle errors (before maturity).
pub fn handler<'info>(ctx: Context<'info, ConvertTermDebt<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let reserve_key = ctx.accounts.reserve.key();
    let market_key = ctx.accounts.market.key();
    let loan = {
        let obligation = ctx.accounts.obligation.load()?;
        let i = obligation
            .find(&reserve_key, PositionKind::TermDebt)
            .ok_or(error!(BallastError::NoTermPosition))?;
        let loan = obligation.positions[i].term();
        if now < loan.maturity {
            let h = crate::runtime::health_accounts::obligation_health(
                &obligation,
                &market_key,
                ctx.remaining_accounts,
                now,
                Requirement::Maintenance,
            )?;
            require!(!h.is_satisfied(), BallastError::TermNotConvertible);
        }
        loan
    };
    let (debt, shares, to_fees) = {
        let mut reserve = ctx.accounts.reserve.load_mut()?;
        reserve.accrue_interest(now)?;
        let debt = owed(loan.face, loan.maturity, loan.penalty_bps, now)?.to_ceil_u64()?;
        let unearned = loan_unearned(loan.face, loan.principal, loan.open_ts, loan.maturity, now)?;
        let book = fx_u64(loan.face).sub_(unearned)?;
        let before = reserve.borrowed_floor()?;
        reserve
            .term
            .remove_loan(loan.maturity, loan.face, unearned, FX_ZERO)?;
        let shares = debt_shares_for_borrow(debt, reserve.borrow_index.get())?;
        let total = reserve.borrow_shares.get().add_(shares)?;
        reserve.borrow_shares.set(total);
        // The floating debt booked (as `supply()` values it) above the
        // loan's book value goes to the protocol: supply unchanged.
        let booked = reserve.borrowed_floor()?.sub_(before)?;
        let to_fees = booked.sub_(book)?.max(FX_ZERO);
        let fees = reserve.protocol_fees.get().add_(to_fees)?;
        reserve.protocol_fees.set(fees);
        (debt, shares, to_fees)
    };
    {
        let mut obligation = ctx.accounts.obligation.load_mut()?;
        let i = obligation
            .find(&reserve_key, PositionKind::TermDebt)
            .ok_or(error!(BallastError::NoTermPosition))?;
        obligation.positions[i] = Position::zeroed();
        let j = obligation.find_or_open(&reserve_key, PositionKind::Debt)?;
        let p = &mut obligation.positions[j];
        let held = p.borrow_shares.get().add_(shares)?;
        p.borrow_shares.set(held);
    }
    emit!(TermDebtConverted {
        reserve: reserve_key,
        obligation: ctx.accounts.obligation.key(),
        face: loan.face,
        debt,
        debt_shares: shares.into(),
        matured: u8::from(now >= loan.maturity),
        to_protocol_fees: to_fees.to_floor_u64()?,
    });
    Ok(())
}
