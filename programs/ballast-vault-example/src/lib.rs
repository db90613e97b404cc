//! # An integrator's vault on Ballast (example program)
//!
//! What a program integrating Ballast by CPI looks like. The vault pools its
//! users' deposits of one Ballast reserve into a single Ballast obligation
//! owned by the vault's PDA, and keeps its own per-user ledger:
//!
//! * [`ballast_vault_example::init_vault`] creates the vault (PDA
//!   `[VAULT_SEED, ballast reserve]`), its token account, and opens the
//!   obligation by CPI into Ballast's `init_obligation`, the vault PDA
//!   signing as the obligation's owner.
//! * [`ballast_vault_example::deposit`] first reads the reserve's balance
//!   sheet by CPI into Ballast's `balance_sheet` (return data) and refuses
//!   the deposit while its liquidity coverage is below the vault's stored
//!   threshold ([`state::Vault::min_coverage_bps`]); then it moves the user's
//!   tokens to the vault's token account and deposits them into Ballast by
//!   CPI, the vault PDA signing.
//! * [`ballast_vault_example::withdraw`] withdraws from Ballast by CPI
//!   straight to the user's token account.
//!
//! A user's claim is counted in Ballast's own deposit shares: each deposit
//! credits the user with exactly the shares Ballast credited the vault's
//! obligation (read from the obligation before and after the CPI), and each
//! withdrawal debits the shares Ballast burned. The vault therefore never
//! prices shares itself and cannot drift from Ballast's books: the sum of its
//! users' shares is the obligation's position.
//!
//! Every Ballast account is pinned twice: by Anchor's owner and
//! discriminator checks on Ballast's own account types (`AccountLoader<
//! ballast::state::Reserve>` ...), and by the addresses the vault stored at
//! creation. The Ballast program account must be Ballast's id.
#![allow(unexpected_cfgs)]

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

// `missing_docs` on the modules written by hand only: Anchor's
// `#[program]` and `derive(Accounts)` emit undocumented client items.
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod coverage;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod errors;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod events;
pub mod instructions;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod state;

use instructions::*;

declare_id!("VaUaPFfAZRfDypDQDASzPTaLApqwEo4x5W2bF2BgqKL");

/// The vault's instructions; each forwards to `instructions::<name>::handler`.
#[program]
pub mod ballast_vault_example {
    use super::*;

    /// Creates the vault of one Ballast reserve, its token account, and its
    /// Ballast obligation (index 0, owned by the vault PDA) by CPI. `admin`
    /// signs and pays; it alone may change the threshold later. Emits
    /// [`events::VaultInitialized`].
    pub fn init_vault(ctx: Context<InitVault>, min_coverage_bps: u32) -> Result<()> {
        init_vault::handler(ctx, min_coverage_bps)
    }

    /// Changes the liquidity-coverage threshold below which deposits are
    /// refused (admin only). Emits [`events::MinCoverageSet`].
    pub fn set_min_coverage(ctx: Context<SetMinCoverage>, min_coverage_bps: u32) -> Result<()> {
        set_min_coverage::handler(ctx, min_coverage_bps)
    }

    /// Opens `user`'s ledger entry in the vault (the user signs and pays).
    pub fn join(ctx: Context<Join>) -> Result<()> {
        join::handler(ctx)
    }

    /// Deposits `amount` base units of the user's tokens into Ballast through
    /// the vault, if the reserve's liquidity coverage is at least the
    /// threshold. Emits [`events::VaultDeposited`].
    pub fn deposit<'info>(ctx: Context<'info, VaultDeposit<'info>>, amount: u64) -> Result<()> {
        deposit::handler(ctx, amount)
    }

    /// Withdraws `amount` base units (`u64::MAX`: everything the user's
    /// shares are worth, rounded down) from Ballast to the user's token
    /// account. Emits [`events::VaultWithdrawn`].
    pub fn withdraw<'info>(ctx: Context<'info, VaultWithdraw<'info>>, amount: u64) -> Result<()> {
        withdraw::handler(ctx, amount)
    }
}
