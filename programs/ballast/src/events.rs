//! Events emitted by the Ballast program, one for every state change.

use anchor_lang::prelude::*;

/// A market was created.
#[event]
pub struct MarketInitialized {
    /// The new market account.
    pub market: Pubkey,
    /// The admin key (reserve configuration, pause).
    pub admin: Pubkey,
    /// The risk authority key (volatility pushes).
    pub risk_authority: Pubkey,
    /// Whether the market starts paused.
    pub paused: bool,
}
