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

/// Accounts of `maturity_ladder`.
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
/// claims ([`Reserve::projected_supply`]) overnight. Works while paused.
/// Errors: [`BallastError::WrongMarket`], [`BallastError::MathOverflow`].
pub fn handler(ctx: Context<MaturityLadderView>) -> Result<MaturityLadder> {
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
    maturity_ladder(
        ctx.accounts.reserve.key(),
        now,
        cash,
        floating,
        liabilities,
        &r.term,
    )
}
