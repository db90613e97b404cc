//! `withdraw`: Ballast's `withdraw` by CPI, the vault PDA signing as the
//! obligation's owner, straight to the user's token account; the user is
//! debited the deposit shares Ballast burned.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};
use ballast::engine::fx::FxExt;
use ballast::engine::shares::tokens_for_shares_floor;
use ballast::program::Ballast;
use ballast::state::{Market, Obligation, Reserve};

use crate::errors::VaultError;
use crate::events::VaultWithdrawn;
use crate::instructions::deposit::position_shares;
use crate::state::*;

/// Accounts of `withdraw`. Remaining accounts are passed to Ballast's
/// `withdraw` after the (empty) health accounts: the strategy reserve, or
/// the six recall accounts, while the reserve has shares deployed to its
/// treasury strategy. The vault's obligation never has debt, so it needs no
/// oracle.
#[derive(Accounts)]
pub struct VaultWithdraw<'info> {
    /// The user.
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
    /// Destination of the tokens (any account of the mint).
    #[account(mut, token::mint = mint, token::token_program = token_program)]
    pub user_token_account: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The reserve's mint.
    pub mint: Box<InterfaceAccount<'info, Mint>>,
    /// The Ballast market.
    pub ballast_market: AccountLoader<'info, Market>,
    /// CHECK: the market's authority PDA; Ballast's `withdraw` checks its
    /// seeds and bump.
    pub market_authority: UncheckedAccount<'info>,
    /// The Ballast reserve.
    #[account(mut)]
    pub ballast_reserve: AccountLoader<'info, Reserve>,
    /// The vault's Ballast obligation.
    #[account(mut)]
    pub obligation: AccountLoader<'info, Obligation>,
    /// CHECK: the reserve's liquidity vault; Ballast's `withdraw` checks it
    /// against the reserve (`has_one`).
    #[account(mut)]
    pub liquidity_vault: UncheckedAccount<'info>,
    /// The Ballast program.
    pub ballast_program: Program<'info, Ballast>,
    /// The mint's token program.
    pub token_program: Interface<'info, TokenInterface>,
}

/// Withdraws `amount` base units (`u64::MAX`: the user's shares at the
/// reserve's exchange rate with interest accrued to now, rounded down; with
/// shares deployed to a treasury strategy, Ballast marks them first, and a
/// mark that lowers the rate makes this fail with
/// [`VaultError::InsufficientShares`]: withdraw a smaller amount) and emits
/// [`VaultWithdrawn`].
///
/// Errors: [`VaultError::ZeroAmount`] (also for `u64::MAX` worth nothing),
/// [`VaultError::InsufficientShares`], the account checks, and Ballast's
/// own (paused market, liquidity, outflow limiter, substituted accounts).
pub fn handler<'info>(ctx: Context<'info, VaultWithdraw<'info>>, amount: u64) -> Result<()> {
    require!(amount > 0, VaultError::ZeroAmount);
    let a = &ctx.accounts;
    let reserve_key = a.ballast_reserve.key();
    let tokens = if amount == u64::MAX {
        let now = Clock::get()?.unix_timestamp;
        // A copy of the reserve with its interest accrued to now, as
        // Ballast's withdraw will see it (Box: 1.4 KB off the stack).
        let mut r = Box::new(*a.ballast_reserve.load()?);
        r.accrue_interest(now)?;
        tokens_for_shares_floor(a.depositor.shares, r.supply()?, r.deposit_shares)?
            .to_floor_u64()?
    } else {
        amount
    };
    require!(tokens > 0, VaultError::ZeroAmount);

    let before = position_shares(&a.obligation, &reserve_key)?;
    let bump = [a.vault.bump];
    let seeds: &[&[u8]] = &[VAULT_SEED, reserve_key.as_ref(), &bump];
    ballast::cpi::withdraw(
        CpiContext::new_with_signer(
            ballast::ID,
            ballast::cpi::accounts::Withdraw {
                owner: a.vault.to_account_info(),
                market: a.ballast_market.to_account_info(),
                market_authority: a.market_authority.to_account_info(),
                reserve: a.ballast_reserve.to_account_info(),
                obligation: a.obligation.to_account_info(),
                mint: a.mint.to_account_info(),
                liquidity_vault: a.liquidity_vault.to_account_info(),
                user_token_account: a.user_token_account.to_account_info(),
                token_program: a.token_program.to_account_info(),
            },
            &[seeds],
        )
        .with_remaining_accounts(ctx.remaining_accounts.to_vec()),
        tokens,
    )?;
    let after = position_shares(&a.obligation, &reserve_key)?;
    let burned = before
        .checked_sub(after)
        .ok_or(error!(VaultError::MathOverflow))?;
    require!(burned <= a.depositor.shares, VaultError::InsufficientShares);

    let user = ctx.accounts.user.key();
    ctx.accounts.depositor.shares -= burned;
    let v = &mut ctx.accounts.vault;
    v.total_shares = v
        .total_shares
        .checked_sub(burned)
        .ok_or(error!(VaultError::MathOverflow))?;
    emit!(VaultWithdrawn {
        vault: v.key(),
        user,
        amount: tokens,
        shares: burned,
    });
    Ok(())
}
