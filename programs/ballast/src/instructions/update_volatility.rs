//! `update_volatility`: the market's risk authority pushes a reserve's
//! annualised volatility; the program derives LTV, liquidation threshold and
//! borrow factor from it within the admin's bounds (see
//! [`crate::engine::risk`]).

use anchor_lang::prelude::*;

use crate::engine::fx::WrappedFx;
use crate::engine::risk::RiskPolicy;
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

/// Pushes `sigma` (annualised, `Fx`). The step bounds are measured from the
/// values the last push set; staleness only overrides them with the most
/// conservative values when they are read, so a keeper that comes back
/// continues from where it was. The first push is bounded by
/// `[sigma_min, sigma_max]` alone: from the conservative start it can only
/// loosen, which liquidates no one. Emits [`VolatilityUpdated`] with the
/// values in force before (conservative if stale) and after.
///
/// Errors, in the order checked: [`BallastError::NotRiskAuthority`],
/// [`BallastError::VolatilityNotEnabled`], [`BallastError::SigmaOutOfBounds`],
/// [`BallastError::VolatilityUpdateTooSoon`],
/// [`BallastError::LiquidationThresholdStepTooLarge`],
/// [`BallastError::LtvStepTooLarge`].
pub fn handler(ctx: Context<UpdateVolatility>, sigma: WrappedFx) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    let cfg = reserve.config.risk;
    require!(
        cfg.policy() == RiskPolicy::Dynamic,
        BallastError::VolatilityNotEnabled
    );
    let s = sigma.get();
    require!(
        s >= cfg.sigma_min.get() && s <= cfg.sigma_max.get(),
        BallastError::SigmaOutOfBounds
    );
    let last = reserve.risk.last_push_ts;
    require!(
        last == 0 || now.saturating_sub(last) >= cfg.min_update_interval_secs as i64,
        BallastError::VolatilityUpdateTooSoon
    );
    let old = reserve.risk_params(now);
    let target = cfg.derive(s, reserve.risk.sqrt_horizon.get())?;
    let new = if last == 0 {
        target
    } else {
        cfg.step(reserve.risk.params, target)?
    };
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
