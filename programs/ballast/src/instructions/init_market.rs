//! `init_market`: create a lending market.

use anchor_lang::prelude::*;

use crate::engine::liquidation::LiquidationConfig;
use crate::events::MarketInitialized;
use crate::state::{Market, MARKET_AUTHORITY_SEED};

/// Arguments of `init_market`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitMarketParams {
    /// The key allowed to push volatility for this market's reserves.
    pub risk_authority: Pubkey,
    /// Whether the market starts paused.
    pub paused: bool,
    /// Liquidation parameters.
    pub liquidation: LiquidationConfig,
}

/// Accounts of `init_market`.
#[derive(Accounts)]
pub struct InitMarket<'info> {
    /// The market's admin; pays for the account.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The new market: a fresh keypair account that signs its own creation,
    /// so a second `init_market` on the same address fails.
    #[account(init, payer = admin, space = 8 + Market::SIZE)]
    pub market: AccountLoader<'info, Market>,
    /// The system program.
    pub system_program: Program<'info, System>,
}

/// Writes the market's authorities and pause flag and emits
/// [`MarketInitialized`].
/// Errors: [`crate::errors::BallastError::InvalidLiquidationConfig`].
pub fn handler(ctx: Context<InitMarket>, params: InitMarketParams) -> Result<()> {
    params.liquidation.validate()?;
    let market_key = ctx.accounts.market.key();
    let (_, authority_bump) =
        Pubkey::find_program_address(&[MARKET_AUTHORITY_SEED, market_key.as_ref()], &crate::ID);
    let mut market = ctx.accounts.market.load_init()?;
    market.admin = ctx.accounts.admin.key();
    market.risk_authority = params.risk_authority;
    market.paused = u8::from(params.paused);
    market.authority_bump = authority_bump;
    market.liquidation = params.liquidation;
    emit!(MarketInitialized {
        market: market_key,
        admin: market.admin,
        risk_authority: market.risk_authority,
        paused: params.paused,
    });
    Ok(())
}
