//! `set_treasury_strategy`: the admin points a reserve's treasury at another
//! Ballast reserve of the same mint, in another market, and opens (by CPI,
//! signed by the market authority PDA) the obligation that will hold the
//! receipt shares. The strategy can only change while nothing of value is
//! deployed, and strategies never chain (see `TreasuryState::strategy_users`).
//!
//! Consent: the strategy reserve's market admin must first approve this
//! reserve as a user (`set_strategy_approval`).
//!
//! Control: the strategy market's admin controls the deployed funds as much
//! as this market's admin does. It can pause the strategy market (every
//! recall, being a `withdraw` there, then fails and `rebalance` refuses to
//! deploy), and change the strategy reserve's configuration (deposit cap,
//! outflow limiter, rate curve) and so how much of the treasury can come back
//! and how fast, and revoke its approval (which stops deploys). Choose a
//! strategy whose market admin you trust. While the strategy market is not
//! paused, this market's admin can take everything back at once with
//! `recall_treasury`.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program::invoke_signed;
use anchor_lang::{Discriminator, InstructionData, ToAccountMetas};

use crate::engine::safe_math::SafeMath;
use crate::errors::BallastError;
use crate::events::TreasuryStrategySet;
use crate::runtime::treasury_cpi;
use crate::state::*;

/// Accounts of `set_treasury_strategy`.
#[derive(Accounts)]
pub struct SetTreasuryStrategy<'info> {
    /// The market's admin; pays for the treasury obligation.
    #[account(mut)]
    pub admin: Signer<'info>,
    /// The market.
    #[account(has_one = admin @ BallastError::NotMarketAdmin)]
    pub market: AccountLoader<'info, Market>,
    /// The market authority PDA, checked by its seeds and stored bump.
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(seeds = [MARKET_AUTHORITY_SEED, market.key().as_ref()], bump = market.load()?.authority_bump)]
    pub market_authority: UncheckedAccount<'info>,
    /// The reserve whose treasury is configured.
    #[account(mut, has_one = market @ BallastError::WrongMarket)]
    pub reserve: AccountLoader<'info, Reserve>,
    /// The strategy reserve: same mint, another market, without a strategy
    /// of its own. Its count of users goes up by one.
    #[account(
        mut,
        constraint = strategy_reserve.key() != reserve.key() @ BallastError::InvalidTreasuryStrategy
    )]
    pub strategy_reserve: AccountLoader<'info, Reserve>,
    /// The strategy reserve's market.
    pub strategy_market: AccountLoader<'info, Market>,
    /// The treasury obligation PDA `[OBLIGATION_SEED, strategy market,
    /// market authority, 0]`; created here by CPI unless it exists already
    /// (another reserve of this market may use the same strategy market).
    /// CHECK: as documented above (the IDL keeps the lines above).
    #[account(
        mut,
        seeds = [OBLIGATION_SEED, strategy_market.key().as_ref(), market_authority.key().as_ref(), &TREASURY_OBLIGATION_INDEX_SEED],
        bump
    )]
    pub strategy_obligation: UncheckedAccount<'info>,
    /// The system program.
    pub system_program: Program<'info, System>,
    /// This program (the CPI target of `init_obligation`).
    pub ballast_program: Program<'info, crate::program::Ballast>,
}

/// Sets the strategy; emits [`TreasuryStrategySet`].
///
/// Remaining accounts: when a strategy is already set, that strategy
/// reserve (writable unless it is the new one too).
///
/// Errors: [`BallastError::NotMarketAdmin`], [`BallastError::WrongMarket`],
/// [`BallastError::InvalidTreasuryStrategy`] (different mint, same market,
/// the strategy has a strategy of its own, this reserve is another's
/// strategy, or value is still deployed to the current strategy),
/// [`BallastError::TreasuryAccountsMismatch`] (current strategy missing),
/// [`BallastError::StrategyNotApproved`] (the strategy reserve's market admin
/// has not approved this reserve: `set_strategy_approval`).
pub fn handler<'info>(ctx: Context<'info, SetTreasuryStrategy<'info>>) -> Result<()> {
    let a = &ctx.accounts;
    let market_key = a.market.key();
    let now = Clock::get()?.unix_timestamp;
    let previous = check_strategy(a, ctx.remaining_accounts, now)?;
    // Consent, checked last: the strategy's market admin approved this
    // reserve (`set_strategy_approval`), so nobody can make a reserve their
    // strategy, and so disable its own treasury, against its admin's will.
    require!(
        a.strategy_reserve
            .load()?
            .strategy_approvals
            .contains(&a.reserve.key()),
        BallastError::StrategyNotApproved
    );
    if let Some(old) = previous {
        release_previous(a, old)?;
    }
    {
        let mut s = a.strategy_reserve.load_mut()?;
        s.treasury.strategy_users = s.treasury.strategy_users.safe_add(1)?;
    }
    if a.strategy_obligation.data_is_empty() {
        open_treasury_obligation(a, &market_key)?;
    } else {
        check_treasury_obligation(a)?;
    }
    let mut r = a.reserve.load_mut()?;
    r.treasury = TreasuryState {
        strategy_reserve: a.strategy_reserve.key(),
        strategy_obligation: a.strategy_obligation.key(),
        deployed_shares: 0,
        deployed_amount: 0,
        last_mark_ts: now,
        strategy_users: r.treasury.strategy_users,
        _padding: [0; 4],
    };
    emit!(TreasuryStrategySet {
        reserve: a.reserve.key(),
        strategy_reserve: r.treasury.strategy_reserve,
        strategy_obligation: r.treasury.strategy_obligation,
    });
    Ok(())
}

/// Checks the new strategy against the reserve (same mint, the strategy's
/// market, another market, no chains: the strategy has no strategy, and a
/// reserve that is somebody's strategy takes none; only approved reserves
/// become users, so only they count). When a strategy is set
/// already, it may only change (or be reset) once nothing of value is
/// deployed there, marked from the current strategy reserve (the first
/// remaining account), which is returned. Errors:
/// [`BallastError::InvalidTreasuryStrategy`],
/// [`BallastError::TreasuryAccountsMismatch`].
fn check_strategy<'a, 'info>(
    a: &SetTreasuryStrategy<'info>,
    remaining: &'a [AccountInfo<'info>],
    now: i64,
) -> Result<Option<&'a AccountInfo<'info>>> {
    let s = a.strategy_reserve.load()?;
    let mut r = a.reserve.load_mut()?;
    require!(
        s.mint == r.mint
            && s.market == a.strategy_market.key()
            && s.market != a.market.key()
            && !s.treasury.has_strategy()
            && r.treasury.strategy_users == 0,
        BallastError::InvalidTreasuryStrategy
    );
    if !r.treasury.has_strategy() {
        return Ok(None);
    }
    let old = remaining
        .first()
        .ok_or(error!(BallastError::TreasuryAccountsMismatch))?;
    require_keys_eq!(
        *old.key,
        r.treasury.strategy_reserve,
        BallastError::TreasuryAccountsMismatch
    );
    treasury_cpi::mark_readonly(&mut r, Some(old), now)?;
    require!(
        r.treasury.deployed_amount == 0,
        BallastError::InvalidTreasuryStrategy
    );
    Ok(Some(old))
}

/// Counts one user less on the previous strategy reserve `old` (already
/// checked to be the reserve's configured one): through the account itself,
/// which must then be writable, unless it is the new strategy too.
fn release_previous(a: &SetTreasuryStrategy, old: &AccountInfo) -> Result<()> {
    if *old.key == a.strategy_reserve.key() {
        let mut s = a.strategy_reserve.load_mut()?;
        s.treasury.strategy_users = s.treasury.strategy_users.saturating_sub(1);
        return Ok(());
    }
    require!(old.is_writable, BallastError::TreasuryAccountsMismatch);
    let mut data = old.try_borrow_mut_data()?;
    let o: &mut Reserve = bytemuck::from_bytes_mut(&mut data[8..8 + Reserve::SIZE]);
    o.treasury.strategy_users = o.treasury.strategy_users.saturating_sub(1);
    Ok(())
}

/// Opens the treasury obligation by CPI into `init_obligation`, the admin
/// paying and the market authority PDA signing as its owner.
fn open_treasury_obligation(a: &SetTreasuryStrategy, market_key: &Pubkey) -> Result<()> {
    let accounts = crate::accounts::InitObligation {
        payer: a.admin.key(),
        owner: a.market_authority.key(),
        market: a.strategy_market.key(),
        obligation: a.strategy_obligation.key(),
        system_program: a.system_program.key(),
    };
    let ix = Instruction {
        program_id: crate::ID,
        accounts: accounts.to_account_metas(Some(true)),
        data: crate::instruction::InitObligation {
            index: TREASURY_OBLIGATION_INDEX,
        }
        .data(),
    };
    let bump = [a.market.load()?.authority_bump];
    let seeds: &[&[u8]] = &[MARKET_AUTHORITY_SEED, market_key.as_ref(), &bump];
    invoke_signed(
        &ix,
        &[
            a.admin.to_account_info(),
            a.market_authority.to_account_info(),
            a.strategy_market.to_account_info(),
            a.strategy_obligation.to_account_info(),
            a.system_program.to_account_info(),
        ],
        &[seeds],
    )?;
    Ok(())
}

/// Checks an existing account at the treasury obligation's PDA: it can only
/// be this program's obligation of the market authority in the strategy
/// market (nobody else can sign for it). Errors:
/// [`BallastError::InvalidTreasuryStrategy`].
fn check_treasury_obligation(a: &SetTreasuryStrategy) -> Result<()> {
    let info = a.strategy_obligation.to_account_info();
    require_keys_eq!(
        *info.owner,
        crate::ID,
        BallastError::InvalidTreasuryStrategy
    );
    let data = info.try_borrow_data()?;
    require!(
        data.len() >= 8 + Obligation::SIZE && data[..8] == *Obligation::DISCRIMINATOR,
        BallastError::InvalidTreasuryStrategy
    );
    let o: &Obligation = bytemuck::from_bytes(&data[8..8 + Obligation::SIZE]);
    require!(
        o.owner == a.market_authority.key() && o.market == a.strategy_market.key(),
        BallastError::InvalidTreasuryStrategy
    );
    Ok(())
}
