//! The treasury strategy: a reserve deploys liquidity above its buffer band
//! into another Ballast reserve of the same mint (in another market) and
//! recalls it when the buffer runs low.
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
//! the reserve counts them at that book value ([`TreasuryState`]).

use anchor_lang::prelude::*;
use anchor_lang::solana_program::instruction::Instruction;
use anchor_lang::solana_program::program::invoke_signed;
use anchor_lang::{Discriminator, InstructionData, ToAccountMetas};

use crate::engine::fx::*;
use crate::engine::shares::tokens_for_shares_floor;
use crate::errors::BallastError;
use crate::state::*;

/// Index of the treasury obligation among the market authority's
/// obligations in the strategy market.
pub const TREASURY_OBLIGATION_INDEX: u8 = 0;

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

/// Value of `shares` of `strategy` at its exchange rate, base units, rounded
/// down (the strategy's interest must be accrued first).
pub fn shares_value(strategy: &Reserve, shares: u64) -> Result<u64> {
    tokens_for_shares_floor(shares, strategy.supply()?, strategy.deposit_shares)?.to_floor_u64()
}

/// What the strategy could return now: the book value deployed, bounded by
/// the strategy's liquid tokens and by what its outflow limiter still lets
/// out at `now`; base units.
pub fn recallable(reserve: &Reserve, strategy: &Reserve, now: i64) -> u64 {
    recallable_of(reserve.treasury.deployed_amount, strategy, now)
}

/// What the strategy could return now of a deployment worth `value` base
/// units: bounded by its liquid tokens and its outflow limiter at `now`.
pub fn recallable_of(value: u64, strategy: &Reserve, now: i64) -> u64 {
    value
        .min(strategy.available_amount)
        .min(strategy.outflow.remaining(&strategy.config.liquidity, now))
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
    Ok(after as i64 - before as i64)
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

/// Accrues the strategy's interest to `now` and marks `reserve`'s shares at
/// its exchange rate. Returns the change in book value, base units.
pub fn mark(reserve: &mut Reserve, strategy: &mut Reserve, now: i64) -> Result<i64> {
    strategy.accrue_interest(now)?;
    let before = reserve.treasury.deployed_amount;
    let after = shares_value(strategy, reserve.treasury.deployed_shares)?;
    reserve.treasury.deployed_amount = after;
    reserve.treasury.last_mark_ts = now;
    Ok(after as i64 - before as i64)
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
        let marked = mark(&mut r, &mut s, now)?;
        (marked, (s.available_amount, s.deposit_shares))
    };
    accounts.cpi_withdraw(amount)?;
    let s = accounts.strategy()?;
    let tokens = before.0 - s.available_amount;
    let shares = before.1 - s.deposit_shares;
    let mut r = reserve.load_mut()?;
    r.available_amount = r
        .available_amount
        .checked_add(tokens)
        .ok_or(error!(BallastError::MathOverflow))?;
    r.treasury.deployed_shares = r
        .treasury
        .deployed_shares
        .checked_sub(shares)
        .ok_or(error!(BallastError::MathOverflow))?;
    r.treasury.deployed_amount = shares_value(&s, r.treasury.deployed_shares)?;
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
    let shares = s.deposit_shares - before;
    let mut r = reserve.load_mut()?;
    r.available_amount = r
        .available_amount
        .checked_sub(amount)
        .ok_or(error!(BallastError::InsufficientLiquidity))?;
    r.treasury.deployed_shares = r
        .treasury
        .deployed_shares
        .checked_add(shares)
        .ok_or(error!(BallastError::MathOverflow))?;
    r.treasury.deployed_amount = shares_value(&s, r.treasury.deployed_shares)?;
    Ok(shares)
}

/// `x * bps / 10,000` rounded up, for buffer targets.
pub fn bps_of_ceil(x: u64, bps: u16) -> u64 {
    ((x as u128 * bps as u128).div_ceil(BPS as u128)) as u64
}

/// `x * bps / 10,000` rounded down, for caps.
pub fn bps_of_floor(x: u64, bps: u16) -> u64 {
    ((x as u128 * bps as u128) / BPS as u128) as u64
}

/// What a rebalance does: deploy or recall this many base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// Vault to strategy.
    Deploy(u64),
    /// Strategy to vault.
    Recall(u64),
}

/// The rebalance decision for a reserve with `liquid` tokens in its vault,
/// `deposits` of depositors' claims, `deployed` at book value, when the
/// strategy could take at most `strategy_room` more and return at most
/// `recallable`, all base units:
///
/// * liquid share above `buffer_max`: deploy down to `buffer_target`, within
///   `deployed + x <= rehypothecation_cap * deposits` and the strategy's room;
/// * below `buffer_min`: recall up to `buffer_target`, as far as recallable;
/// * otherwise refuse.
///
/// Targets round up (more stays liquid), the cap rounds down. Errors:
/// [`BallastError::InsideBufferBand`], [`BallastError::RehypothecationCapReached`],
/// [`BallastError::NothingRecallable`].
pub fn decide(
    cfg: &crate::engine::liquidity::LiquidityConfig,
    liquid: u64,
    deposits: u64,
    deployed: u64,
    strategy_room: u64,
    recallable: u64,
) -> Result<Move> {
    let l = liquid as u128 * BPS as u128;
    let d = deposits as u128;
    let target = bps_of_ceil(deposits, cfg.buffer_target_bps);
    if l > d * cfg.buffer_max_bps as u128 {
        let excess = liquid.saturating_sub(target);
        let room = bps_of_floor(deposits, cfg.rehypothecation_cap_bps).saturating_sub(deployed);
        let x = excess.min(room).min(strategy_room);
        if x == 0 {
            msg!(
                "deployed {} of a cap of {} (strategy room {})",
                deployed,
                bps_of_floor(deposits, cfg.rehypothecation_cap_bps),
                strategy_room
            );
            return err!(BallastError::RehypothecationCapReached);
        }
        Ok(Move::Deploy(x))
    } else if l < d * cfg.buffer_min_bps as u128 {
        let x = target.saturating_sub(liquid).min(recallable);
        require!(x > 0, BallastError::NothingRecallable);
        Ok(Move::Recall(x))
    } else {
        err!(BallastError::InsideBufferBand)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::liquidity::LiquidityConfig;

    fn band(min: u16, target: u16, max: u16, cap: u16) -> LiquidityConfig {
        LiquidityConfig {
            buffer_min_bps: min,
            buffer_target_bps: target,
            buffer_max_bps: max,
            rehypothecation_cap_bps: cap,
            ..Default::default()
        }
    }

    fn code(e: anchor_lang::error::Error) -> u32 {
        match e {
            anchor_lang::error::Error::AnchorError(a) => a.error_code_number,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn deploys_down_to_target_within_the_cap() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        // 50% liquid of 1,000: deploy 300 to reach the 20% target.
        assert_eq!(
            decide(&c, 500, 1_000, 0, u64::MAX, 0).unwrap(),
            Move::Deploy(300)
        );
        // Cap 50% with 400 already out: only 100 more.
        assert_eq!(
            decide(&c, 500, 1_000, 400, u64::MAX, 0).unwrap(),
            Move::Deploy(100)
        );
        // The strategy's deposit cap binds.
        assert_eq!(decide(&c, 500, 1_000, 0, 7, 0).unwrap(), Move::Deploy(7));
        let e = decide(&c, 500, 1_000, 500, u64::MAX, 0).unwrap_err();
        assert_eq!(
            code(e),
            6000 + BallastError::RehypothecationCapReached as u32
        );
    }

    #[test]
    fn recalls_up_to_target_as_far_as_recallable() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        assert_eq!(
            decide(&c, 50, 1_000, 600, 0, 600).unwrap(),
            Move::Recall(150)
        );
        assert_eq!(decide(&c, 50, 1_000, 600, 0, 40).unwrap(), Move::Recall(40));
        let e = decide(&c, 50, 1_000, 600, 0, 0).unwrap_err();
        assert_eq!(code(e), 6000 + BallastError::NothingRecallable as u32);
    }

    #[test]
    fn inside_the_band_and_on_its_edges_is_refused() {
        let c = band(1_000, 2_000, 3_000, 5_000);
        for liquid in [100, 200, 300] {
            let e = decide(&c, liquid, 1_000, 0, u64::MAX, u64::MAX).unwrap_err();
            assert_eq!(
                code(e),
                6000 + BallastError::InsideBufferBand as u32,
                "{liquid}"
            );
        }
        assert!(decide(&c, 301, 1_000, 0, u64::MAX, 0).is_ok());
        assert!(decide(&c, 99, 1_000, 10, 0, 10).is_ok());
    }

    #[test]
    fn targets_round_toward_liquidity() {
        let c = band(1_000, 2_000, 3_000, 10_000);
        // target = ceil(0.2 * 1,001) = 201: deploy 400 - 201.
        assert_eq!(
            decide(&c, 400, 1_001, 0, u64::MAX, 0).unwrap(),
            Move::Deploy(199)
        );
        assert_eq!(bps_of_ceil(1_001, 2_000), 201);
        assert_eq!(bps_of_floor(1_001, 2_000), 200);
    }
}
