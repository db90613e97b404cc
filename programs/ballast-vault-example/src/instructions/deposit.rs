//! `deposit`: the coverage gate (Ballast's `balance_sheet` by CPI), then the
//! user's tokens to the vault's token account and into Ballast by CPI, the
//! vault PDA signing as the obligation's owner.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};
use ballast::program::Ballast;
use ballast::state::{Market, Obligation, Reserve};

use crate::coverage::{read_balance_sheet, require_coverage};
use crate::errors::VaultError;
use crate::events::VaultDeposited;
use crate::state::*;

/// Accounts of `deposit`. Remaining accounts are passed to Ballast's
/// `balance_sheet` and `deposit`: the reserve's treasury strategy reserve
/// while it has shares deployed (see Ballast's `deposit`), else none.
#[derive(Accounts)]
pub struct VaultDeposit<'info> {
    /// The user; signs the transfer from `user_token_account`.
    pub user: Signer<'info>,
    /// The vault; every Ballast account below must be the one it stored.
    #[account(
        mut,
        has_one = ballast_market @ VaultError::WrongBallastAccount,
        has_one = ballast_reserve @ VaultError::WrongBallastAccount,
        has_one = obligation @ VaultError::WrongBallastAccount,
        has_one = mint @ VaultError::WrongBallastAccount
    )]
    pub vault: Box<Account<'info, Vault>>,
    /// The user's entry in the vault.
    #[account(
        mut,
        seeds = [DEPOSITOR_SEED, vault.key().as_ref(), user.key().as_ref()],
        bump = depositor.bump
    )]
    pub depositor: Box<Account<'info, Depositor>>,
    /// Source of the tokens.
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The vault's token account (between the two transfers).
    #[account(mut, address = vault.token_account @ VaultError::WrongBallastAccount)]
    pub vault_token_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's mint.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The Ballast market.
    pub ballast_market: AccountLoader<'info, Market>,
    /// The Ballast reserve.
    #[account(mut)]
    pub ballast_reserve: AccountLoader<'info, Reserve>,
    /// The vault's Ballast obligation.
    #[account(mut)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// CHECK: the reserve's liquidity vault; Ballast's `deposit` checks it
    /// against the reserve (`has_one`).
    #[account(mut)]
    pub liquidity_vault: UncheckedAccount<'info>,
    /// CHECK: the reserve's insurance vault; Ballast's `balance_sheet`
    /// checks it against the reserve (`has_one`).
    pub insurance_vault: UncheckedAccount<'info>,
    /// The Ballast program.
    pub ballast_program: Program<'info, Ballast>,
    /// The mint's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Deposits `amount` base units for the user and emits [`VaultDeposited`].
///
/// Errors: [`VaultError::ZeroAmount`], [`VaultError::CoverageBelowThreshold`],
/// [`VaultError::BalanceSheetUnreadable`], [`VaultError::PositionMissing`],
/// [`VaultError::MathOverflow`], the vault's account checks
/// ([`VaultError::WrongBallastAccount`], Anchor's owner and seed checks), and
/// Ballast's own errors from `balance_sheet` and `deposit` (cap, too small,
/// substituted vaults).
pub fn handler<'info>(ctx: Context<'info, VaultDeposit<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, VaultError::ZeroAmount);
    let a = &ctx.accounts;
    let reserve_key = a.ballast_reserve.key();
    let sheet = read_balance_sheet(
        &a.ballast_market.to_account_info(),
        &a.ballast_reserve.to_account_info(),
        &a.insurance_vault.to_account_info(),
        ctx.remaining_accounts,
    )?;
    require_coverage(sheet.liquidity_coverage_bps, a.vault.min_coverage_bps)?;

    let before = position_shares(&a.obligation, &reserve_key)?;
    token_interface::transfer_checked(
        CpiContext::new(
            a.token_program.key(),
            TransferChecked {
                from: a.user_token_account.to_account_info(),
                mint: a.mint.to_account_info(),
                to: a.vault_token_account.to_account_info(),
                authority: a.user.to_account_info(),
            },
        ),
        amount,
        a.mint.decimals,
    )?;
    let bump = [a.vault.bump];
    let seeds: &[&[u8]] = &[VAULT_SEED, reserve_key.as_ref(), &bump];
    ballast::cpi::deposit(
        CpiContext::new_with_signer(
            ballast::ID,
            ballast::cpi::accounts::Deposit {
                owner: a.vault.to_account_info(),
                market: a.ballast_market.to_account_info(),
                reserve: a.ballast_reserve.to_account_info(),
                obligation: a.obligation.to_account_info(),
                mint: a.mint.to_account_info(),
                liquidity_vault: a.liquidity_vault.to_account_info(),
                user_token_account: a.vault_token_account.to_account_info(),
                token_program: a.token_program.to_account_info(),
            },
            &[seeds],
        )
        .with_remaining_accounts(ctx.remaining_accounts.to_vec()),
        amount,
    )?;
    let after = position_shares(&a.obligation, &reserve_key)?;
    let shares = after
        .checked_sub(before)
        .ok_or(error!(VaultError::MathOverflow))?;
    require!(after > 0, VaultError::PositionMissing);

    let user = ctx.accounts.user.key();
    let d = &mut ctx.accounts.depositor;
    d.shares = d
        .shares
        .checked_add(shares)
        .ok_or(error!(VaultError::MathOverflow))?;
    let v = &mut ctx.accounts.vault;
    v.total_shares = v
        .total_shares
        .checked_add(shares)
        .ok_or(error!(VaultError::MathOverflow))?;
    emit!(VaultDeposited {
        vault: v.key(),
        user,
        amount,
        shares,
        coverage_bps: sheet.liquidity_coverage_bps,
    });
    Ok(())
}

/// The Ballast deposit shares of the obligation's collateral position in
/// `reserve` (0 when it has none).
pub fn position_shares(obligation: &AccountLoader<Obligation>, reserve: &Pubkey) -> Result<u64> {
    let o = obligation.load()?;
    Ok(o.find(reserve, ballast::state::PositionKind::Collateral)
        .map_or(0, |i| o.positions[i].deposit_shares))
}
