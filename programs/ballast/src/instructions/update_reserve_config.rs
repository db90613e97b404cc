//! `update_reserve_config`: the admin changes a reserve's configuration and
//! oracle. Interest is accrued first, so the old curve applies up to now.

use anchor_lang::prelude::*;

use crate::engine::risk::reconfigure;
use crate::errors::BallastError;
use crate::events::ReserveConfigUpdated;
use crate::state::*;

/// Accounts of `update_reserve_config`.
#[derive(Accounts)]
pub struct UpdateReserveConfig<'info> {
    /// The market's admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The reserve.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
    /// Checked in the handler: owned by the Pyth receiver program,
    /// decodes as a `PriceUpdateV2` carrying the new feed id, and is the
    /// push oracle's price-feed account of that feed id.
    /// CHECK: as documented above (the IDL keeps the lines above).
    pub oracle: UncheckedAccount<'info>,
}

/// Validates and applies `config`; emits [`ReserveConfigUpdated`]. A change
/// of the dynamic-risk configuration goes through
/// [`crate::engine::risk::reconfigure`]: Static -> Dynamic keeps the static
/// values in force (then bounded steps), a changed dynamic configuration
/// carries the values in force over, Dynamic -> Static applies the static
/// values at once (the admin's explicit choice).
///
/// Errors: [`BallastError::NotMarketAdmin`], [`BallastError::InvalidRateCurve`],
/// [`BallastError::InvalidReserveConfig`], oracle decode errors,
/// [`BallastError::OracleFeedMismatch`], [`BallastError::OracleNotPushFeed`]
/// (see [`crate::runtime::oracle_account::check_configured_oracle`]).
pub fn handler(ctx: Context<UpdateReserveConfig>, config: ReserveConfig) -> Result<()> {
    config.validate()?;
    crate::runtime::oracle_account::check_configured_oracle(
        &ctx.accounts.oracle.to_account_info(),
        &config.oracle_feed_id,
    )?;
    let now = Clock::get()?.unix_timestamp;
    let mut reserve = ctx.accounts.reserve.load_mut()?;
    reserve.accrue_interest(now)?;
    let old = reserve.config;
    // Risk requirements in force carry over; later moves are stepped.
    let old_static = reserve.risk_params_static();
    reserve.risk = reconfigure(&old.risk, old_static, &config.risk, &reserve.risk, now);
    reserve.config = config;
    reserve.risk.sqrt_horizon = config.risk.sqrt_horizon()?.into();
    reserve.oracle = ctx.accounts.oracle.key();
    emit!(ReserveConfigUpdated {
        reserve: ctx.accounts.reserve.key(),
        oracle: reserve.oracle,
        old,
        new: config,
    });
    Ok(())
}
