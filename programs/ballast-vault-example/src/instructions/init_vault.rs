//! `init_vault`: the vault PDA, its token account, and its Ballast
//! obligation opened by CPI with the vault PDA signing as owner.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use ballast::program::Ballast;
use ballast::state::{Market, Reserve};

use crate::errors::VaultError;
use crate::events::VaultInitialized;
use crate::state::*;

/// Accounts of `init_vault`.
#[derive(Accounts)]
pub struct InitVault<'info> {
    /// Pays for the vault, its token account and the Ballast obligation; the
    /// vault's admin.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The Ballast market (owner and discriminator checked by the loader).
    pub ballast_market: AccountLoader<'info, Market>,
    /// The Ballast reserve the vault deposits into; must be of that market.
    #[account(constraint = ballast_reserve.load()?.market == ballast_market.key() @ VaultError::WrongBallastAccount)]
    pub ballast_reserve: AccountLoader<'info, Reserve>,
    /// The reserve's mint.
    #[account(address = ballast_reserve.load()?.mint @ VaultError::WrongBallastAccount)]
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The new vault.
    #[account(
        init,
        payer = admin,
        space = 8 + Vault::INIT_SPACE,
        seeds = [VAULT_SEED, ballast_reserve.key().as_ref()],
        bump
    )]
    pub vault: Box<Account<'info, Vault>>,
    /// The vault's token account, owned by the vault PDA.
    #[account(
        init,
        payer = admin,
        seeds = [VAULT_TOKENS_SEED, vault.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = vault,
        token::token_program = token_program
    )]
    pub vault_token_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// CHECK: the vault's Ballast obligation, created by Ballast's
    /// `init_obligation`, which checks its seeds `[obligation, market,
    /// vault, [OBLIGATION_INDEX]]`.
    #[account(mut)]
    pub obligation: UncheckedAccount<'info>,
    /// The Ballast program.
    pub ballast_program: Program<'info, Ballast>,
    /// The mint's token program.
    pub token_program: Interface<'info, TokenInterface>,
    /// The system program.
    pub system_program: Program<'info, System>,
}

/// Writes the vault, opens its obligation by CPI and emits
/// [`VaultInitialized`]. Any threshold is accepted (0: never refuse;
/// `u32::MAX`: refuse unless no outflow is stressed).
pub fn handler(ctx: Context<InitVault>, min_coverage_bps: u32) -> Result<()> {
    let a = &ctx.accounts;
    let reserve_key = a.ballast_reserve.key();
    let bump = ctx.bumps.vault;
    let seeds: &[&[u8]] = &[VAULT_SEED, reserve_key.as_ref(), &[bump]];
    ballast::cpi::init_obligation(
        CpiContext::new_with_signer(
            ballast::ID,
            ballast::cpi::accounts::InitObligation {
                payer: a.admin.to_account_info(),
                owner: a.vault.to_account_info(),
                market: a.ballast_market.to_account_info(),
                obligation: a.obligation.to_account_info(),
                system_program: a.system_program.to_account_info(),
            },
            &[seeds],
        ),
        OBLIGATION_INDEX,
    )?;
    let vault = &mut ctx.accounts.vault;
    vault.set_inner(Vault {
        admin: ctx.accounts.admin.key(),
        ballast_market: ctx.accounts.ballast_market.key(),
        ballast_reserve: reserve_key,
        mint: ctx.accounts.mint.key(),
        token_account: ctx.accounts.vault_token_account.key(),
        obligation: ctx.accounts.obligation.key(),
        min_coverage_bps,
        total_shares: 0,
        bump,
        token_account_bump: ctx.bumps.vault_token_account,
    });
    emit!(VaultInitialized {
        vault: vault.key(),
        ballast_reserve: reserve_key,
        obligation: vault.obligation,
        min_coverage_bps,
    });
    Ok(())
}
