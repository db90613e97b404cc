//! The treasury strategy's accounts and CPIs (its economics are in
//! [`crate::engine::treasury`]): a reserve deploys liquidity above its
//! buffer band into another Ballast reserve of the same mint (in another
//! market) and recalls it when the buffer runs low.
//!
//! Moves are CPIs into this program's own `deposit` and `withdraw`, signed by
//! the market authority PDA, which owns the treasury obligation
//! (`[OBLIGATION_SEED, strategy market, market authority, 0]`). The strategy
//! reserve therefore applies every one of its own checks (deposit cap, pause,
//! outflow limiter, liquidity) to the treasury exactly as to any depositor,
//! and another venue can later take the place of `deposit`/`withdraw` here.
//!
//! Valuation: the shares held are marked at the strategy's exchange rate
//! (its interest accrued to now, rounded down) at every move; between moves
//! the reserve counts them at that book value ([`TreasuryState`]). Here the
//! strategy reserve is read from its account, checked (owner,
//! discriminator, the key configured on the reserve) before any use.

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program::invoke_signed;
use anchor_lang::{Discriminator, InstructionData, ToAccountMetas};

use crate::engine::safe_math::{SafeCast, SafeMath};
use crate::engine::treasury::{mark, shares_value};
use crate::errors::BallastError;
use crate::state::*;

/// Number of trailing remaining accounts of `withdraw` that enable a recall:
/// see [`StrategyAccounts`] for their order.
pub const RECALL_ACCOUNTS: usize = 6;

/// The accounts of a move between a reserve's vault and its strategy.
pub struct StrategyAccounts<'a, 'info> {
    /// This market (its key seeds the authority's signature).
    pub market: Pubkey,
    /// Bump of this market's authority PDA.
    pub authority_bump: u8,
    /// This market's authority PDA (owner of the vault and of the treasury
    /// obligation).
    pub market_authority: &'a AccountInfo<'info>,
    /// The reserve's liquidity vault.
    pub liquidity_vault: &'a AccountInfo<'info>,
    /// The mint.
    pub mint: &'a AccountInfo<'info>,
    /// The mint's token program.
    pub token_program: &'a AccountInfo<'info>,
    /// The strategy's market.
    pub strategy_market: &'a AccountInfo<'info>,
    /// The strategy market's authority PDA (signs the strategy vault's
    /// transfers inside its `withdraw`).
    pub strategy_market_authority: &'a AccountInfo<'info>,
    /// The strategy reserve.
    pub strategy_reserve: &'a AccountInfo<'info>,
    /// The strategy reserve's liquidity vault.
    pub strategy_liquidity_vault: &'a AccountInfo<'info>,
    /// The treasury obligation in the strategy market.
    pub strategy_obligation: &'a AccountInfo<'info>,
    /// This program (the CPI target).
    pub ballast_program: &'a AccountInfo<'info>,
}

impl<'a, 'info> StrategyAccounts<'a, 'info> {
    /// Checks the strategy accounts against `reserve`'s configuration: the
    /// strategy reserve and treasury obligation keys, and that the CPI target
    /// is this program. Everything else (strategy market, vault, mint, token
    /// program, authority seeds) is checked by the strategy's own
    /// `deposit`/`withdraw` constraints. Errors:
    /// [`BallastError::TreasuryAccountsMismatch`].
    pub fn validate(&self, reserve: &Reserve) -> Result<()> {
        let t = &reserve.treasury;
        require!(
            t.has_strategy()
                && *self.strategy_reserve.key == t.strategy_reserve
                && *self.strategy_obligation.key == t.strategy_obligation
                && *self.ballast_program.key == crate::ID,
            BallastError::TreasuryAccountsMismatch
        );
        Ok(())
    }

    fn invoke(&self, ix: Instruction, infos: &[AccountInfo<'info>]) -> Result<()> {
        let bump = [self.authority_bump];
        let seeds: &[&[u8]] = &[MARKET_AUTHORITY_SEED, self.market.as_ref(), &bump];
        invoke_signed(&ix, infos, &[seeds]).map_err(Into::into)
    }

    /// Deposits `amount` base units from the vault into the strategy, by CPI.
    pub fn cpi_deposit(&self, amount: u64) -> Result<()> {
        let accounts = crate::accounts::Deposit {
            owner: *self.market_authority.key,
            market: *self.strategy_market.key,
            reserve: *self.strategy_reserve.key,
            obligation: *self.strategy_obligation.key,
            mint: *self.mint.key,
            liquidity_vault: *self.strategy_liquidity_vault.key,
            user_token_account: *self.liquidity_vault.key,
            token_program: *self.token_program.key,
        };
        let ix = Instruction {
            program_id: crate::ID,
            accounts: accounts.to_account_metas(Some(true)),
            data: crate::instruction::Deposit { amount }.data(),
        };
        self.invoke(
            ix,
            &[
                self.market_authority.clone(),
                self.strategy_market.clone(),
                self.strategy_reserve.clone(),
                self.strategy_obligation.clone(),
                self.mint.clone(),
                self.strategy_liquidity_vault.clone(),
                self.liquidity_vault.clone(),
                self.token_program.clone(),
            ],
        )
    }

    /// Withdraws `amount` base units (`u64::MAX`: every share) from the
    /// strategy into the vault, by CPI. The treasury obligation has no debt,
    /// so no health accounts are needed.
    pub fn cpi_withdraw(&self, amount: u64) -> Result<()> {
        let accounts = crate::accounts::Withdraw {
            owner: *self.market_authority.key,
            market: *self.strategy_market.key,
            market_authority: *self.strategy_market_authority.key,
            reserve: *self.strategy_reserve.key,
            obligation: *self.strategy_obligation.key,
            mint: *self.mint.key,
            liquidity_vault: *self.strategy_liquidity_vault.key,
            user_token_account: *self.liquidity_vault.key,
            token_program: *self.token_program.key,
        };
        let ix = Instruction {
            program_id: crate::ID,
            accounts: accounts.to_account_metas(Some(true)),
            data: crate::instruction::Withdraw { amount }.data(),
        };
        self.invoke(
            ix,
            &[
                self.market_authority.clone(),
                self.strategy_market.clone(),
                self.strategy_market_authority.clone(),
                self.strategy_reserve.clone(),
                self.strategy_obligation.clone(),
                self.mint.clone(),
                self.strategy_liquidity_vault.clone(),
                self.liquidity_vault.clone(),
                self.token_program.clone(),
            ],
        )
    }

    fn check_strategy(&self) -> Result<()> {
        let info = self.strategy_reserve;
        require!(
            *info.owner == crate::ID
                && info.data_len() >= 8 + Reserve::SIZE
                && info.try_borrow_data()?[..8] == *Reserve::DISCRIMINATOR,
            BallastError::TreasuryAccountsMismatch
        );
        Ok(())
    }

    /// The strategy reserve, read-only (owner and discriminator checked).
    pub fn strategy(&self) -> Result<core::cell::Ref<'_, Reserve>> {
        self.check_strategy()?;
        Ok(core::cell::Ref::map(
            self.strategy_reserve.try_borrow_data()?,
            |d| bytemuck::from_bytes(&d[8..8 + Reserve::SIZE]),
        ))
    }

    /// The strategy reserve, writable (owner and discriminator checked).
    pub fn strategy_mut(&self) -> Result<core::cell::RefMut<'_, Reserve>> {
        self.check_strategy()?;
        Ok(core::cell::RefMut::map(
            self.strategy_reserve.try_borrow_mut_data()?,
            |d| bytemuck::from_bytes_mut(&mut d[8..8 + Reserve::SIZE]),
        ))
    }
}

/// Whether the strategy market of `accounts` is paused (a deploy into it
/// would be stuck: its `withdraw`, and so a recall, is refused while paused).
/// An account that is not the strategy reserve's own Ballast `Market` reads
/// as not paused here: the strategy's `deposit` CPI then refuses it with its
/// own error (`WrongMarket`, owner or discriminator), as before.
pub fn strategy_market_paused(accounts: &StrategyAccounts) -> Result<bool> {
    let strategy_market = accounts.strategy().map(|s| s.market)?;
    let info = accounts.strategy_market;
    if !(*info.key == strategy_market
        && *info.owner == crate::ID
        && info.data_len() >= 8 + Market::SIZE
        && info.try_borrow_data()?[..8] == *Market::DISCRIMINATOR)
    {
        return Ok(false);
    }
    let data = info.try_borrow_data()?;
    let m: &Market = bytemuck::from_bytes(&data[8..8 + Market::SIZE]);
    Ok(m.is_paused())
}

/// Calls `f` with the strategy reserve read from `info` (owner,
/// discriminator and key checked against `reserve`'s configuration), its
/// interest projected to `now` on a copy: nothing is written. (A callback
/// rather than a returned copy: moving the 1,464-byte account out costs
/// about 700 CU on sBPF.) Errors: [`BallastError::TreasuryAccountsMismatch`].
#[inline(never)]
pub fn with_projected_strategy<T>(
    reserve: &Reserve,
    info: &AccountInfo,
    now: i64,
    f: impl FnOnce(&Reserve) -> Result<T>,
) -> Result<T> {
    require!(
        reserve.treasury.has_strategy()
            && *info.key == reserve.treasury.strategy_reserve
            && *info.owner == crate::ID
            && info.data_len() >= 8 + Reserve::SIZE,
        BallastError::TreasuryAccountsMismatch
    );
    let data = info.try_borrow_data()?;
    require!(
        data[..8] == *Reserve::DISCRIMINATOR,
        BallastError::TreasuryAccountsMismatch
    );
    let mut s: Reserve = *bytemuck::from_bytes(&data[8..8 + Reserve::SIZE]);
    s.accrue_interest(now)?;
    f(&s)
}

/// Marks `reserve`'s deployed shares at the strategy's exchange rate (its
/// interest projected to `now`), reading the strategy reserve from `info`
/// without writing it. While shares are deployed the account is required
/// (a stale book value would let a depositor enter below, or a withdrawer
/// leave above, the true exchange rate); without deployed shares it is not
/// needed and ignored. Returns the change in book value, base units. Errors:
/// [`BallastError::TreasuryAccountsMismatch`] (missing or not the strategy).
pub fn mark_readonly(reserve: &mut Reserve, info: Option<&AccountInfo>, now: i64) -> Result<i64> {
    if reserve.treasury.deployed_shares == 0 {
        return Ok(0);
    }
    let info = info.ok_or(error!(BallastError::TreasuryAccountsMismatch))?;
    let before = reserve.treasury.deployed_amount;
    let shares = reserve.treasury.deployed_shares;
    let after = with_projected_strategy(reserve, info, now, |s| shares_value(s, shares))?;
    reserve.treasury.deployed_amount = after;
    reserve.treasury.last_mark_ts = now;
    (after as i128 - before as i128).cast()
}

/// `remaining` without its last account when that account is `reserve`'s
/// strategy reserve (the trailing account [`mark_readonly`] reads), and that
/// account.
pub fn split_strategy<'a, 'info>(
    remaining: &'a [AccountInfo<'info>],
    reserve: &Reserve,
) -> (&'a [AccountInfo<'info>], Option<&'a AccountInfo<'info>>) {
    match remaining.split_last() {
        Some((last, rest))
            if reserve.treasury.has_strategy()
                && *last.key == reserve.treasury.strategy_reserve =>
        {
            (rest, Some(last))
        }
        _ => (remaining, None),
    }
}

/// `withdraw`'s remaining accounts, split by [`split_recall`].
pub struct WithdrawTail<'a, 'info> {
    /// The obligation's health accounts.
    pub health: &'a [AccountInfo<'info>],
    /// The six recall accounts ([`RECALL_ACCOUNTS`], in the order of
    /// [`StrategyAccounts`]: strategy market, its authority, strategy
    /// reserve, its vault, treasury obligation, this program), if passed.
    pub recall: Option<&'a [AccountInfo<'info>]>,
    /// Otherwise, a trailing strategy reserve that only marks the treasury.
    pub mark: Option<&'a AccountInfo<'info>>,
}

/// Splits `withdraw`'s remaining accounts for `reserve`. Trailing recall
/// accounts are recognised by the strategy reserve in their third place: a
/// reserve of another market, which can never be a health account of this
/// one. Otherwise a single trailing strategy reserve marks the treasury
/// ([`split_strategy`]).
pub fn split_recall<'a, 'info>(
    remaining: &'a [AccountInfo<'info>],
    reserve: &Reserve,
) -> WithdrawTail<'a, 'info> {
    match remaining.len().checked_sub(RECALL_ACCOUNTS) {
        Some(k)
            if reserve.treasury.has_strategy()
                && *remaining[k + 2].key == reserve.treasury.strategy_reserve =>
        {
            WithdrawTail {
                health: &remaining[..k],
                recall: Some(&remaining[k..]),
                mark: None,
            }
        }
        _ => {
            let (health, mark) = split_strategy(remaining, reserve);
            WithdrawTail {
                health,
                recall: None,
                mark,
            }
        }
    }
}

/// Recalls `amount` base units (`u64::MAX`: everything) from the strategy
/// into the vault: the strategy is accrued and the shares marked, the CPI
/// withdraws, and the reserve's liquid and deployed amounts follow what
/// actually moved (read from the strategy's state before and after). Returns
/// (tokens recalled, shares burned, mark-to-market change). The caller must
/// not hold a borrow of the strategy reserve or the treasury obligation.
pub fn recall(
    reserve: &AccountLoader<Reserve>,
    accounts: &StrategyAccounts,
    amount: u64,
    now: i64,
) -> Result<(u64, u64, i64)> {
    let (marked, before) = {
        let mut r = reserve.load_mut()?;
        let mut s = accounts.strategy_mut()?;
        let marked = mark(&mut *r, &mut *s, now)?;
        (marked, (s.available_amount, s.deposit_shares))
    };
    accounts.cpi_withdraw(amount)?;
    let s = accounts.strategy()?;
    let tokens = before.0.safe_sub(s.available_amount)?;
    let shares = before.1.safe_sub(s.deposit_shares)?;
    let mut r = reserve.load_mut()?;
    r.available_amount = r.available_amount.safe_add(tokens)?;
    r.treasury.deployed_shares = r.treasury.deployed_shares.safe_sub(shares)?;
    r.treasury.deployed_amount = shares_value(&*s, r.treasury.deployed_shares)?;
    Ok((tokens, shares, marked))
}

/// Deploys `amount` base units from the vault to the strategy. Returns the
/// shares minted. Same accounting as [`recall`], in the other direction; the
/// shares must already be marked.
pub fn deploy(
    reserve: &AccountLoader<Reserve>,
    accounts: &StrategyAccounts,
    amount: u64,
) -> Result<u64> {
    let before = accounts.strategy()?.deposit_shares;
    accounts.cpi_deposit(amount)?;
    let s = accounts.strategy()?;
    let shares = s.deposit_shares.safe_sub(before)?;
    let mut r = reserve.load_mut()?;
    r.available_amount = r
        .available_amount
        .checked_sub(amount)
        .ok_or(error!(BallastError::InsufficientLiquidity))?;
    r.treasury.deployed_shares = r.treasury.deployed_shares.safe_add(shares)?;
    r.treasury.deployed_amount = shares_value(&*s, r.treasury.deployed_shares)?;
    Ok(shares)
}
