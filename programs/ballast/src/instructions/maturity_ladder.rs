//! `maturity_ladder`: a read-only view of one reserve's maturity ladder
//! (assets that mature or reprice and liabilities that can leave, per time
//! bucket, and the repricing gaps), returned as return data so other
//! programs can read it by CPI. Nothing is written: interest is projected
//! to now. A separate view rather than more fields in `balance_sheet`, whose
//! 113-byte return data clients already decode. Layout:
//! [`crate::engine::term::MaturityLadder`] ([`crate::engine::term::MATURITY_LADDER_LEN`] bytes).

use anchor_lang::prelude::*;

use crate::engine::fx::*;
use crate::engine::term::{maturity_ladder, MaturityLadder};
use crate::errors::BallastError;
use crate::state::*;

/// Accounts of `maturity_ladder`. Remaining accounts: optionally the
/// reserve's `TermDepositBook` (read-only), to place the term deposits'
/// locked shares at their maturities; without it every claim is on demand.
#[derive(Accounts)]
pub struct MaturityLadderView<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The reserve.
    #[account(has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Computes and returns the ladder at now: cash (the vault and the
/// treasury's deployed amount at book value) and floating loans overnight,
/// each term bucket's book value by its time to maturity, the depositors'
/// claims ([`Reserve::projected_supply`]) overnight, but for the term
/// deposits' locked shares at their value in their maturity's bucket when
/// the book is passed. Works while paused. Errors:
/// [`BallastError::WrongMarket`], [`BallastError::TermDepositMismatch`]
/// (a book of another reserve, or not a book), [`BallastError::MathOverflow`].
pub fn handler<'info>(ctx: Context<'info, MaturityLadderView<'info>>) -> Result<MaturityLadder> {
    let now = Clock::get()?.unix_timestamp;
    let r = ctx.accounts.reserve.load()?;
    let shares = r.borrow_shares.get();
    let floating = if shares == FX_ZERO {
        0
    } else {
        shares
            .mul_floor(r.projected_borrow_index(now)?)?
            .to_floor_u64()?
    };
    let cash = r.cash().to_floor_u64()?;
    let liabilities = r.projected_supply(now)?.to_floor_u64()?;
    let key = ctx.accounts.reserve.key();
    let book = match ctx.remaining_accounts.first() {
        Some(info) => {
            let book = Account::<TermDepositBook>::try_from(info)
                .map_err(|_| error!(BallastError::TermDepositMismatch))?;
            require_keys_eq!(book.reserve, key, BallastError::TermDepositMismatch);
            Some(book)
        }
        None => None,
    };
    let locked: &[DepositBucket] = book.as_ref().map_or(&[], |b| &b.buckets[..]);
    maturity_ladder(
        key,
        now,
        cash,
        floating,
        liabilities,
        &r.term,
        locked,
        r.deposit_shares,
    )
}
