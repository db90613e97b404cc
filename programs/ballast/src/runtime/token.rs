//! Token movements by CPI (`transfer_checked`, which SPL Token and Token-2022
//! both implement), into a reserve vault from a user, and out of a vault
//! signed by the market authority PDA.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::state::MARKET_AUTHORITY_SEED;

/// Moves `amount` base units from `from` (signed by `authority`) to `to`.
pub fn transfer_in<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    to: &InterfaceAccount<'info, TokenAccount>,
    authority: &Signer<'info>,
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority: authority.to_account_info(),
    };
    token_interface::transfer_checked(
        CpiContext::new(token_program.key(), accounts),
        amount,
        mint.decimals,
    )
}

/// Moves `amount` base units out of a vault owned by the market authority
/// PDA `[MARKET_AUTHORITY_SEED, market, bump]`.
#[allow(clippy::too_many_arguments)]
pub fn transfer_out<'info>(
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    to: &InterfaceAccount<'info, TokenAccount>,
    market_authority: &AccountInfo<'info>,
    market: &Pubkey,
    authority_bump: u8,
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority: market_authority.clone(),
    };
    let bump = [authority_bump];
    let seeds: &[&[u8]] = &[MARKET_AUTHORITY_SEED, market.as_ref(), &bump];
    let signer = &[seeds];
    token_interface::transfer_checked(
        CpiContext::new_with_signer(token_program.key(), accounts, signer),
        amount,
        mint.decimals,
    )
}
