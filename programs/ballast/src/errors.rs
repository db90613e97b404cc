//! Error codes of the Ballast program. Each failure mode has its own code and
//! message so that clients and tests can tell them apart.

use anchor_lang::prelude::*;

/// Every error the Ballast program raises on its own (Anchor's account
/// constraint errors come in addition).
#[error_code]
pub enum BallastError {
    /// The signer is not the market's admin.
    #[msg("signer is not the market admin")]
    NotMarketAdmin,
    /// The market is paused: borrow and withdraw are refused; repay and
    /// deposit still work.
    #[msg("market is paused")]
    MarketPaused,
    /// A math operation overflowed or divided by zero.
    #[msg("math overflow")]
    MathOverflow,
}
