//! `set_term_config`: the market admin sets a reserve's fixed-rate term-loan
//! configuration (tenors, maturity grid, curve, commitment cap, penalty).
//! Open loans keep their maturity, face and penalty (fixed at opening);
//! the new curve prices loans opened and repaid from now on.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::TermConfigUpdated;
use crate::state::*;

/// Accounts of `set_term_config`.
#[derive(Accounts)]
pub struct SetTermConfig<'info> {
    /// The market's admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The reserve.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Validates and applies `config` (all tenors 0 disables new term loans;
/// open ones run to maturity); accrues the reserve first; emits
/// [`TermConfigUpdated`]. Allowed while the market is paused (a pause is
/// when an admin may need to stop term lending). Errors:
/// [`BallastError::NotMarketAdmin`], [`BallastError::WrongMarket`],
/// [`BallastError::InvalidTermConfig`].
pub fn handler(ctx: Context<SetTermConfig>, config: TermConfig) -> Result<()> {
    config.validate()?;
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    reserve.accrue_interest(now)?;
    let old = reserve.term_config;
    reserve.term_config = config;
    emit!(TermConfigUpdated {
        reserve: ctx.accounts.reserve.key(),
        old,
        new: config,
    });
    Ok(())
}
