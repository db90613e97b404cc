//! `obligation_stress`: a read-only view of one obligation under a price
//! shock, returned as return data so that another program can check by CPI
//! that a position survives a stated shock (or a keeper can simulate it).
//! Nothing is written, nothing is signed, no event is emitted (there is no
//! state change to record); interest is projected to now, not accrued.
//!
//! Works while the market is paused: a view only reads, and pausing is the
//! moment an integrator most wants to know. Oracles are checked as in a
//! normal health check (stale or too wide: the oracle's error, with no dust
//! exemption).
//!
//! The shock, the figures, the liquidation prices and the return-data layout
//! ([`OBLIGATION_STRESS_LEN`] bytes) are those of [`crate::engine::stress`].
//! After the CPI, read it with `get_return_data()` and
//! `ObligationStress::try_from_slice`, or by the offsets documented there.

use anchor_lang::prelude::*;

#[cfg(doc)]
use crate::engine::stress::OBLIGATION_STRESS_LEN;
use crate::engine::stress::{obligation_stress, ObligationStress};
use crate::errors::BallastError;
use crate::runtime::health_accounts::HealthAccounts;
use crate::state::*;

/// Accounts of `obligation_stress`. Remaining accounts: the obligation's
/// health accounts (for each distinct reserve of its open positions, in slot
/// order of first appearance, the reserve then its oracle; as `liquidate`).
#[derive(Accounts)]
pub struct ObligationStressView<'info> {
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The obligation, of `market`.
    #[account(has_one = market @ BallastError::WrongMarket)]
    pub obligation: AccountLoader<'info, Obligation>,
}

/// Loads the health accounts, applies `shocks_bps` (one factor per health
/// reserve, in their order, 10,000 = unchanged, 1..=1,000,000) and returns
/// the obligation's [`ObligationStress`]. Errors:
/// [`BallastError::HealthAccountsMismatch`] (missing, extra, reordered or
/// substituted health accounts), [`BallastError::HealthReserveInvalid`] (a
/// reserve of another market), the oracle errors (stale, too wide, wrong
/// account), [`BallastError::PriceShockLengthMismatch`],
/// [`BallastError::PriceShockOutOfRange`], [`BallastError::MathOverflow`].
#[inline(never)]
pub fn handler<'info>(
    ctx: Context<'info, ObligationStressView<'info>>,
    shocks_bps: Vec<u32>,
) -> Result<ObligationStress> {
    let now = Clock::get()?.unix_timestamp;
    let market = ctx.accounts.market.key();
    let key = ctx.accounts.obligation.key();
    let o = ctx.accounts.obligation.load()?;
    let accounts = Box::new(HealthAccounts::load(
        &o,
        &market,
        ctx.remaining_accounts,
        now,
    )?);
    crate::cu_trace!("stress: health accounts loaded");
    obligation_stress(
        key,
        now,
        &o.positions,
        &accounts.keys[..accounts.len],
        &shocks_bps,
        |r| accounts.get(r),
    )
}
