//! `join`: a user's ledger entry in a vault.

use anchor_lang::prelude::*;

use crate::state::*;

/// Accounts of `join`.
#[derive(Accounts)]
pub struct Join<'info> {
    /// The user; pays for the entry.
    #[account(mut)]
    pub user: Signer<'info>,
    /// The vault.
    pub vault: Account<'info, Vault>,
    /// The new entry.
    #[account(
        init,
        payer = user,
        space = 8 + Depositor::INIT_SPACE,
        seeds = [DEPOSITOR_SEED, vault.key().as_ref(), user.key().as_ref()],
        bump
    )]
    pub depositor: Account<'info, Depositor>,
    /// The system program.
    pub system_program: Program<'info, System>,
}

/// Writes the entry with no shares.
pub fn handler(ctx: Context<Join>) -> Result<()> {
    ctx.accounts.depositor.set_inner(Depositor {
        vault: ctx.accounts.vault.key(),
        user: ctx.accounts.user.key(),
        shares: 0,
        bump: ctx.bumps.depositor,
    });
    Ok(())
}
