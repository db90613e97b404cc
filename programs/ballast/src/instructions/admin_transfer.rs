//! Two-step admin transfer: `propose_admin` (the admin names a successor)
//! then `accept_admin` (the successor signs). A typo in the proposal loses
//! nothing: the admin stays in charge and can propose again or cancel.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::{AdminAccepted, AdminProposed};
use crate::state::Market;

/// Accounts of `propose_admin`.
#[derive(Accounts)]
pub struct ProposeAdmin<'info> {
    /// The market's current admin.
    pub admin: Signer<'info>,
    /// The market.
    #[account(mut, has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
}

/// Records `pending_admin` as the market's proposed admin (the default key
/// cancels a pending transfer) and emits [`AdminProposed`]. The admin is
/// unchanged until `accept_admin`. Errors: [`BallastError::NotMarketAdmin`].
pub fn propose(ctx: Context<ProposeAdmin>, pending_admin: Pubkey) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    market.pending_admin = pending_admin;
    emit!(AdminProposed {
        market: ctx.accounts.market.key(),
        admin: market.admin,
        pending_admin,
    });
    Ok(())
}

/// Accounts of `accept_admin`.
#[derive(Accounts)]
pub struct AcceptAdmin<'info> {
    /// The proposed admin, who signs to take over.
    pub pending_admin: Signer<'info>,
    /// The market.
    #[account(mut, has_one = pending_admin @ BallastError::NotPendingAdmin)]
    pub market: AccountLoader<'info, Market>,
}

/// Makes the signer (the pending admin) the admin, clears the proposal and
/// emits [`AdminAccepted`]. Errors: [`BallastError::NotPendingAdmin`] (also
/// when nothing is pending: the default key cannot sign).
pub fn accept(ctx: Context<AcceptAdmin>) -> Result<()> {
    let mut market = ctx.accounts.market.load_mut()?;
    let previous_admin = market.admin;
    market.admin = market.pending_admin;
    market.pending_admin = Pubkey::default();
    emit!(AdminAccepted {
        market: ctx.accounts.market.key(),
        previous_admin,
        admin: market.admin,
    });
    Ok(())
}
