//! `set_strategy_approval`: a market's admin approves (or revokes) another
//! market's reserve as a user of one of its reserves as treasury strategy.
//!
//! Why consent: a reserve that is somebody's strategy counts its users
//! (`TreasuryState::strategy_users`) and cannot take a strategy of its own
//! (strategies never chain). Before this, anyone could open a throwaway
//! market, point one of its reserves at a victim and so disable the victim's
//! treasury for good, for the price of the accounts. Consent is an
//! allow-list on the strategy reserve, set by its own market admin in its
//! own transaction (rather than a second signature on
//! `set_treasury_strategy`, which two multisig admins could not easily give
//! in one transaction). `set_treasury_strategy` and every deploy by
//! `rebalance` require the approval; a revoked approval stops new deploys,
//! never a recall, and the user stays counted until it changes strategy.

use anchor_lang::prelude::*;

use crate::errors::BallastError;
use crate::events::StrategyApprovalSet;
use crate::state::*;

/// Accounts of `set_strategy_approval`.
#[derive(Accounts)]
pub struct SetStrategyApproval<'info> {
    /// The admin of the strategy reserve's market.
    pub admin: Signer<'info>,
    /// The strategy reserve's market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The reserve whose users are approved (the strategy).
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub strategy_reserve: AccountLoader<'info, Reserve>,
}

/// Approves `user_reserve` (`approved`) or revokes its approval; emits
/// [`StrategyApprovalSet`]. Approving is idempotent. The user reserve is
/// named by key only (it may not exist yet); `set_treasury_strategy` checks
/// its mint and market.
///
/// Errors: [`BallastError::NotMarketAdmin`], [`BallastError::WrongMarket`],
/// [`BallastError::InvalidTreasuryStrategy`] (the default key, or the
/// strategy reserve itself), [`BallastError::StrategyApprovalsFull`] (at
/// most `MAX_STRATEGY_APPROVALS`), [`BallastError::StrategyNotApproved`]
/// (revoking a reserve that is not approved).
pub fn handler(
    ctx: Context<SetStrategyApproval>,
    user_reserve: Pubkey,
    approved: bool,
) -> Result<()> {
    let strategy_key = ctx.accounts.strategy_reserve.key();
    require!(
        user_reserve != Pubkey::default() && user_reserve != strategy_key,
        BallastError::InvalidTreasuryStrategy
    );
    let mut s = ctx.accounts.strategy_reserve.load_mut()?;
    if approved {
        s.strategy_approvals.approve(user_reserve)?;
    } else {
        s.strategy_approvals.revoke(&user_reserve)?;
    }
    emit!(StrategyApprovalSet {
        strategy_reserve: strategy_key,
        user_reserve,
        approved,
        admin: ctx.accounts.admin.key(),
        strategy_users: s.treasury.strategy_users,
    });
    Ok(())
}
