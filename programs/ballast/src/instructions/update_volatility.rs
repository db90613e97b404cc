//! `update_volatility`: the market's risk authority pushes a reserve's
//! annualised volatility; the program derives LTV, liquidation threshold and
//! borrow factor from it within the admin's bounds (see
//! [`crate::engine::risk`]).

use anchor_lang::prelude::*;

use crate::engine::fx::WrappedFx;
use crate::engine::risk::accept_push;
use crate::errors::BallastError;
use crate::events::VolatilityUpdated;
use crate::state::*;

/// Accounts of `update_volatility`.
#[derive(Accounts)]
pub struct UpdateVolatility<'info> {
    /// The market's risk authority.
    pub risk_authority: Signer<'info>,
    /// The market.
    #[account(has_one = risk_authority @ BallastError::NotRiskAuthority)]
    pub market: AccountLoader<'info, Market>,
    /// The reserve.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
}

/// Pushes `sigma` (annualised, `Fx`) if [`accept_push`] accepts it. The step
/// bounds are measured from the values the last push set; staleness only
/// overrides them with the most conservative values when they are read, so
/// a keeper that comes back continues from where it was. The first push is
/// bounded by `[sigma_min, sigma_max]` alone: from the conservative start it
/// can only loosen, which liquidates no one. Emits [`VolatilityUpdated`]
/// with the values in force before (conservative if stale) and after.
///
/// Errors, in the order checked: [`BallastError::NotRiskAuthority`],
/// [`BallastError::VolatilityNotEnabled`], [`BallastError::SigmaOutOfBounds`],
/// [`BallastError::VolatilityUpdateTooSoon`],
/// [`BallastError::LiquidationThresholdStepTooLarge`],
/// [`BallastError::LtvStepTooLarge`].
pub fn handler(ctx: Context<UpdateVolatility>, sigma: WrappedFx) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    let new = accept_push(&reserve.config.risk, &reserve.risk, sigma.get(), now)?;
    let old = reserve.risk_params(now);
    let old_sigma = reserve.risk.sigma;
    reserve.risk.sigma = sigma;
    reserve.risk.params = new;
    reserve.risk.last_push_ts = now;
    emit!(VolatilityUpdated {
        reserve: ctx.accounts.reserve.key(),
        old_sigma,
        new_sigma: sigma,
        old,
        new,
        timestamp: now,
    });
    Ok(())
}
