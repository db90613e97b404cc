//! `init_obligation`: open an obligation for `owner`, which may be a wallet
//! or a program's PDA (signing by CPI); a separate `payer` funds it.

use anchor_lang::prelude::*;

use crate::events::ObligationInitialized;
use crate::state::*;

/// Accounts of `init_obligation`.
#[derive(Accounts)]
#[instruction(index: u8)]
pub struct InitObligation<'info> {
    /// Pays for the account.
    #[account(mut)]
    pub payer: Signer<'info>,
    /// The owner; must sign so nobody opens obligations in another's name.
    pub owner: Signer<'info>,
    /// The market.
    pub market: AccountLoader<'info, Market>,
    /// The new obligation.
    #[account(
        init,
        payer = payer,
        space = 8 + Obligation::SIZE,
        seeds = [OBLIGATION_SEED, market.key().as_ref(), owner.key().as_ref(), &index.to_le_bytes()],
        bump
    )]
    pub obligation: AccountLoader<'info, Obligation>,
    /// The system program.
    pub system_program: Program<'info, System>,
}

/// Writes the obligation's header and emits [`ObligationInitialized`].
pub fn handler(ctx: Context<InitObligation>, index: u8) -> Result<()> {
    let mut o = ctx.accounts.obligation.load_init()?;
    o.market = ctx.accounts.market.key();
    o.owner = ctx.accounts.owner.key();
    o.index = index;
    o.bump = ctx.bumps.obligation;
    emit!(ObligationInitialized {
        market: o.market,
        obligation: ctx.accounts.obligation.key(),
        owner: o.owner,
        index,
    });
    Ok(())
}
