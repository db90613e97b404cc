//! `set_min_coverage`: the admin changes the deposit gate's threshold.

use anchor_lang::prelude::*;

use crate::errors::VaultError;
use crate::events::MinCoverageSet;
use crate::state::*;

/// Accounts of `set_min_coverage`.
#[derive(Accounts)]
pub struct SetMinCoverage<'info> {
    /// The vault's admin.
    pub admin: Signer<'info>,
    /// The vault.
    #[account(mut, has_one = admin @ VaultError::NotVaultAdmin)]
    pub vault: Account<'info, Vault>,
}

/// Stores the threshold and emits [`MinCoverageSet`].
pub fn handler(ctx: Context<SetMinCoverage>, min_coverage_bps: u32) -> Result<()> {
    ctx.accounts.vault.min_coverage_bps = min_coverage_bps;
    emit!(MinCoverageSet {
        vault: ctx.accounts.vault.key(),
        min_coverage_bps,
    });
    Ok(())
}
