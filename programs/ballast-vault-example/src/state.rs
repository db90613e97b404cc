//! The vault's accounts and PDA seeds.

use anchor_lang::prelude::*;

/// Seed of the vault PDA: `[VAULT_SEED, ballast reserve]` (one vault per
/// Ballast reserve). The vault PDA owns the Ballast obligation and the
/// vault's token account, and signs the CPIs.
#[constant]
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of the vault's token account: `[VAULT_TOKENS_SEED, vault]`. It only
/// holds a deposit between the user's transfer and Ballast's `deposit`.
#[constant]
pub const VAULT_TOKENS_SEED: &[u8] = b"vault_tokens";
/// Seed of a user's ledger entry: `[DEPOSITOR_SEED, vault, user]`.
#[constant]
pub const DEPOSITOR_SEED: &[u8] = b"depositor";
/// Index of the vault's Ballast obligation (`[obligation, market, vault,
/// [index]]` in Ballast).
#[constant]
pub const OBLIGATION_INDEX: u8 = 0;

/// A vault over one Ballast reserve.
#[account]
#[derive(InitSpace)]
pub struct Vault {
    /// May change [`Vault::min_coverage_bps`].
    pub admin: Pubkey,
    /// The Ballast market of the reserve.
    pub ballast_market: Pubkey,
    /// The Ballast reserve deposited into.
    pub ballast_reserve: Pubkey,
    /// The reserve's mint.
    pub mint: Pubkey,
    /// The vault's token account (PDA `[VAULT_TOKENS_SEED, vault]`).
    pub token_account: Pubkey,
    /// The vault's Ballast obligation (owned by the vault PDA).
    pub obligation: Pubkey,
    /// Deposits are refused while the reserve's liquidity coverage
    /// (`BalanceSheet::liquidity_coverage_bps`: liquid plus recallable
    /// within the outflow window over the stressed outflow) is below this,
    /// in bps; 0 never refuses.
    pub min_coverage_bps: u32,
    /// Ballast deposit shares held for all users (equals the obligation's
    /// collateral position in the reserve).
    pub total_shares: u64,
    /// Bump of the vault PDA.
    pub bump: u8,
    /// Bump of the token account PDA.
    pub token_account_bump: u8,
}

/// One user's claim on a vault.
#[account]
#[derive(InitSpace)]
pub struct Depositor {
    /// The vault.
    pub vault: Pubkey,
    /// The user.
    pub user: Pubkey,
    /// The user's Ballast deposit shares.
    pub shares: u64,
    /// Bump of the PDA.
    pub bump: u8,
}
