//! `update_market`: the admin changes the risk authority, the pause flag or
//! the liquidation parameters. The admin itself changes in two steps
//! (`propose_admin`, `accept_admin`), so a typo cannot lose the market.

use anchor_lang::prelude::*;

use crate::engine::liquidation::LiquidationConfig;
use crate::errors::BallastError;
use crate::events::MarketUpdated;
use crate::state::Market;

/// Arguments of `update_market`; `None` leaves a field as it is.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UpdateMarketParams {
    /// Must be `None`: refused with [`BallastError::AdminTransferIsTwoStep`]
    /// (kept so the instruction's layout does not change; see
    /// `propose_admin`).
    pub admin: Option<Pubkey>,
    /// New risk authority.
    pub risk_authority: Option<Pubkey>,
    /// New pause flag.
    pub paused: Option<bool>,
    /// New liquidation parameters.
    pub liquidation: Option<LiquidationConfig>,
}

/// Accounts of `update_market`.
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    /// The market's current admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(mut, has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
}

/// Applies `params` and emits [`MarketUpdated`]. Errors:
/// [`BallastError::AdminTransferIsTwoStep`] when `params.admin` is set, the
/// liquidation parameters' validation errors.
pub fn handler(ctx: Context<UpdateMarket>, params: UpdateMarketParams) -> Result<()> {
    require!(params.admin.is_none(), BallastError::AdminTransferIsTwoStep);
    if let Some(l) = params.liquidation {
        l.validate()?;
    }
    let mut market = ctx.accounts.market.load_mut()?;
    if let Some(l) = params.liquidation {
        market.liquidation = l;
    }
    if let Some(r) = params.risk_authority {
        market.risk_authority = r;
    }
    if let Some(p) = params.paused {
        market.paused = u8::from(p);
    }
    emit!(MarketUpdated {
        market: ctx.accounts.market.key(),
        admin: market.admin,
        risk_authority: market.risk_authority,
        paused: market.is_paused(),
    });
    Ok(())
}
