//! The vault's errors (codes `6000 + position`); Ballast's own errors pass
//! through its CPIs unchanged.

use anchor_lang::prelude::*;

/// Every error the vault raises on its own.
#[error_code]
pub enum VaultError {
    /// The amount is zero.
    #[msg("amount must be greater than zero")]
    ZeroAmount,
    /// The reserve's liquidity coverage is below the vault's threshold; the
    /// program log gives both.
    #[msg("the reserve's liquidity coverage is below the vault's threshold")]
    CoverageBelowThreshold,
    /// A Ballast account is not the one this vault stored.
    #[msg("Ballast account does not belong to this vault")]
    WrongBallastAccount,
    /// `balance_sheet` returned no return data, or not from Ballast, or not
    /// the documented layout, or for another reserve.
    #[msg("Ballast balance sheet could not be read")]
    BalanceSheetUnreadable,
    /// The withdrawal would burn more Ballast shares than the user holds.
    #[msg("withdrawal exceeds the user's shares")]
    InsufficientShares,
    /// The vault's obligation has no collateral position in its reserve.
    #[msg("the vault's obligation holds no position in its reserve")]
    PositionMissing,
    /// The signer is not the vault's admin.
    #[msg("signer is not the vault admin")]
    NotVaultAdmin,
    /// A share or amount counter overflowed.
    #[msg("math overflow")]
    MathOverflow,
}
