//! The vault's events. Amounts are token base units; shares are Ballast
//! deposit shares.

use anchor_lang::prelude::*;

/// A vault was created.
#[event]
pub struct VaultInitialized {
    /// The vault.
    pub vault: Pubkey,
    /// The Ballast reserve.
    pub ballast_reserve: Pubkey,
    /// The vault's Ballast obligation.
    pub obligation: Pubkey,
    /// The threshold, bps.
    pub min_coverage_bps: u32,
}

/// The threshold changed.
#[event]
pub struct MinCoverageSet {
    /// The vault.
    pub vault: Pubkey,
    /// The new threshold, bps.
    pub min_coverage_bps: u32,
}

/// A user deposited through the vault.
#[event]
pub struct VaultDeposited {
    /// The vault.
    pub vault: Pubkey,
    /// The user.
    pub user: Pubkey,
    /// Tokens deposited.
    pub amount: u64,
    /// Ballast deposit shares credited to the user.
    pub shares: u64,
    /// The reserve's liquidity coverage read before the deposit, bps.
    pub coverage_bps: u32,
}

/// A user withdrew through the vault.
#[event]
pub struct VaultWithdrawn {
    /// The vault.
    pub vault: Pubkey,
    /// The user.
    pub user: Pubkey,
    /// Tokens withdrawn.
    pub amount: u64,
    /// Ballast deposit shares debited from the user.
    pub shares: u64,
}
