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

/// Pushes `sigma` (annualised, `Fx`). The values in force move from what
/// [`Reserve::risk_params`] gives now (the most conservative ones before the
/// first push or once stale) toward those derived from `sigma`, within the
/// step bounds. Emits [`VolatilityUpdated`].
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
    let new = cfg.step(old, target)?;
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
