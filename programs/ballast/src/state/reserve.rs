//! A reserve: one mint's pool within a market, its balance sheet and its
//! risk configuration.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use crate::engine::book::ReserveBook;
use crate::engine::bounds;
use crate::engine::fx::*;
use crate::engine::health::ReserveView;
use crate::engine::liquidity::{LiquidityConfig, OutflowState};
use crate::engine::rates::{grown_index, utilization, RateCurve};
pub use crate::engine::risk::RiskState;
use crate::engine::risk::{params_in_force, RiskConfig, RiskParams, RiskPolicy};
pub use crate::engine::term::{TermBucket, TermConfig, TermState};
pub use crate::engine::term_deposit::TermDepositTotals;
pub use crate::engine::treasury::{StrategyApprovals, TreasuryState};
use crate::errors::{check_field, BallastError};
use core::mem::size_of;

/// Seed of a reserve PDA: `[RESERVE_SEED, market, mint]` (one reserve per mint).
#[constant]
pub const RESERVE_SEED: &[u8] = b"reserve";
/// Seed of a reserve's liquidity vault: `[LIQUIDITY_VAULT_SEED, reserve]`.
#[constant]
pub const LIQUIDITY_VAULT_SEED: &[u8] = b"liquidity";
/// Seed of a reserve's insurance vault: `[INSURANCE_VAULT_SEED, reserve]`.
#[constant]
pub const INSURANCE_VAULT_SEED: &[u8] = b"insurance";
/// The Pyth pull-oracle receiver program: the owner of every
/// `PriceUpdateV2` account a reserve's oracle may be.
#[constant]
pub const PYTH_RECEIVER_PROGRAM_ID: Pubkey = pyth_solana_receiver_sdk::ID;
/// The Pyth push oracle program (`pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT`):
/// a reserve's oracle must be its price-feed account of the reserve's feed
/// id, the PDA `[PUSH_FEED_SHARD.to_le_bytes(), feed id]` of this program
/// (`crate::runtime::oracle_account::push_feed_address`).
#[constant]
pub const PYTH_PUSH_ORACLE_PROGRAM_ID: Pubkey = pyth_solana_receiver_sdk::PYTH_PUSH_ORACLE_ID;
/// The push-oracle shard whose price-feed accounts reserves read: 0, the
/// one Pyth's own pushers keep fresh for the feeds they sponsor.
#[constant]
pub const PUSH_FEED_SHARD: u16 = 0;

pub use crate::engine::bounds::{MAX_BORROW_FACTOR_BPS, MAX_ORACLE_AGE_SECS};

/// The admin's configuration of a reserve. Also the argument of
/// `init_reserve` and `update_reserve_config`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize)]
#[repr(C)]
pub struct ReserveConfig {
    /// Pyth feed id the oracle account must carry.
    pub oracle_feed_id: [u8; 32],
    /// Deposit cap: the most the reserve's supply may reach by deposits, token
    /// base units (0 disables deposits).
    pub deposit_cap: u64,
    /// Borrow cap: the most the reserve's total debt may reach by borrows,
    /// token base units (0 disables borrows).
    pub borrow_cap: u64,
    /// Oldest acceptable oracle price, seconds (1..=86,400).
    pub oracle_max_age_secs: u32,
    /// Borrow factor, bps (10,000..=50,000): debt in this reserve counts
    /// `borrow_factor / 10,000` times its value under both requirements.
    pub borrow_factor_bps: u32,
    /// Widest acceptable oracle confidence, bps of price (1..=10,000).
    pub oracle_max_conf_bps: u16,
    /// Loan-to-value, bps (0..liquidation threshold): Initial collateral weight.
    pub loan_to_value_bps: u16,
    /// Liquidation threshold, bps (LTV..10,000): Maintenance collateral weight.
    pub liquidation_threshold_bps: u16,
    /// Share of interest that goes to the protocol, bps (0..=10,000).
    pub reserve_factor_bps: u16,
    /// Highest utilisation a new borrow may leave, bps (1..=10,000).
    pub max_utilization_bps: u16,
    /// Padding; zero.
    pub _padding: [u8; 6],
    /// Utilisation -> borrow APR curve.
    pub rate_curve: RateCurve,
    /// Dynamic collateral requirements; under the static policy the three
    /// fields above (LTV, liquidation threshold, borrow factor) apply.
    pub risk: RiskConfig,
    /// Padding; zero.
    pub _padding2: [u8; 4],
    /// Buffer band, rehypothecation cap, outflow limiter, stress run rate.
    pub liquidity: LiquidityConfig,
}

impl ReserveConfig {
    /// Checks every field's range (the constants of [`crate::engine::bounds`]).
    /// Errors: [`BallastError::InvalidRateCurve`] for the curve,
    /// [`BallastError::InvalidReserveConfig`] otherwise, then those of
    /// [`LiquidityConfig::validate`] and [`RiskConfig::validate`].
    pub fn validate(&self) -> Result<()> {
        self.rate_curve.validate()?;
        let e = BallastError::InvalidReserveConfig;
        check_field(
            bounds::ORACLE_MAX_AGE_SECS.contains(&self.oracle_max_age_secs),
            "oracle_max_age_secs",
            e,
        )?;
        check_field(
            bounds::ORACLE_MAX_CONF_BPS.contains(&self.oracle_max_conf_bps),
            "oracle_max_conf_bps",
            e,
        )?;
        check_field(
            self.loan_to_value_bps < self.liquidation_threshold_bps,
            "loan_to_value_bps",
            e,
        )?;
        check_field(
            bounds::LIQUIDATION_THRESHOLD_BPS.contains(&self.liquidation_threshold_bps),
            "liquidation_threshold_bps",
            e,
        )?;
        check_field(
            bounds::BORROW_FACTOR_BPS.contains(&self.borrow_factor_bps),
            "borrow_factor_bps",
            e,
        )?;
        check_field(
            bounds::RESERVE_FACTOR_BPS.contains(&self.reserve_factor_bps),
            "reserve_factor_bps",
            e,
        )?;
        check_field(
            bounds::MAX_UTILIZATION_BPS.contains(&self.max_utilization_bps),
            "max_utilization_bps",
            e,
        )?;
        check_field(self._padding == [0; 6], "_padding", e)?;
        check_field(self._padding2 == [0; 4], "_padding2", e)?;
        self.liquidity.validate()?;
        self.risk.validate()
    }
}

/// A reserve. Zero-copy; 8-byte discriminator + [`Reserve::SIZE`].
///
/// Balance sheet, in token base units:
/// * assets = `available_amount` (the liquidity vault's balance, exactly) +
///   borrowed (`borrow_shares * borrow_index`);
/// * liabilities = depositors' claims = `supply()` = assets - protocol fees,
///   spread over `deposit_shares`;
/// * equity = `protocol_fees` + the insurance vault.
///
/// Only `init_reserve` creates accounts of this type, and only at the PDA
/// `[RESERVE_SEED, market, mint]`; so instructions pin a reserve by owner,
/// discriminator and `has_one = market` without re-deriving its seeds (which
/// would cost about 1,500 CU per reserve on every health check).
#[account(zero_copy)]
#[repr(C)]
pub struct Reserve {
    /// The market this reserve belongs to.
    pub market: Pubkey,
    /// The token mint.
    pub mint: Pubkey,
    /// The mint's token program (SPL Token or Token-2022).
    pub token_program: Pubkey,
    /// Liquidity vault (PDA `[LIQUIDITY_VAULT_SEED, reserve]`, owned by the
    /// market authority).
    pub liquidity_vault: Pubkey,
    /// Insurance vault (PDA `[INSURANCE_VAULT_SEED, reserve]`).
    pub insurance_vault: Pubkey,
    /// The Pyth `PriceUpdateV2` account for this mint.
    pub oracle: Pubkey,
    /// Tokens in the liquidity vault, base units. Equal to the vault's balance
    /// (donations to the vault are ignored: they cannot move the exchange rate).
    pub available_amount: u64,
    /// Deposit shares outstanding (sum over all obligations).
    pub deposit_shares: u64,
    /// Debt shares outstanding (sum over all obligations): debt = shares * index.
    pub borrow_shares: WrappedFx,
    /// Cumulative borrow index, 1 at creation, grows by continuous compounding.
    pub borrow_index: WrappedFx,
    /// Interest owed to the protocol, token base units (fractional).
    pub protocol_fees: WrappedFx,
    /// Unix time (seconds) of the last interest accrual.
    pub last_update_ts: i64,
    /// Decimals of the mint.
    pub mint_decimals: u8,
    /// Bump of this reserve's PDA.
    pub bump: u8,
    /// Bump of the liquidity vault PDA.
    pub liquidity_vault_bump: u8,
    /// Bump of the insurance vault PDA.
    pub insurance_vault_bump: u8,
    /// Padding; zero.
    pub _padding0: [u8; 4],
    /// The admin's configuration.
    pub config: ReserveConfig,
    /// Volatility and the requirements derived from it (dynamic policy).
    pub risk: RiskState,
    /// Outflow limiter buckets.
    pub outflow: OutflowState,
    /// The treasury strategy and what is deployed to it.
    pub treasury: TreasuryState,
    /// The reserves this one's market admin lets use it as their treasury
    /// strategy (`set_strategy_approval`).
    pub strategy_approvals: StrategyApprovals,
    /// Fixed-rate term loans: tenors, curve, cap, penalty
    /// (`set_term_config`; all zero: disabled). 32 bytes.
    pub term_config: TermConfig,
    /// The term book: maturity buckets of face and unearned interest.
    /// 544 bytes.
    pub term: TermState,
    /// Term deposits' aggregates: shares locked, face owed, the earliest
    /// maturity ([`crate::engine::term_deposit`]). 32 bytes (the former
    /// reserved bytes: zero on reserves created before).
    pub term_deposits: TermDepositTotals,
}

impl Reserve {
    /// Size of the account data after the discriminator, in bytes: the
    /// sum of the fields' sizes, in declaration order (pinned below).
    pub const SIZE: usize = 6 * size_of::<Pubkey>()
        + 2 * size_of::<u64>()
        + 3 * size_of::<WrappedFx>()
        + size_of::<i64>()
        + 4 * size_of::<u8>()
        + 4
        + size_of::<ReserveConfig>()
        + size_of::<RiskState>()
        + size_of::<OutflowState>()
        + size_of::<TreasuryState>()
        + size_of::<StrategyApprovals>()
        + size_of::<TermConfig>()
        + size_of::<TermState>()
        + size_of::<TermDepositTotals>();

    /// Debt outstanding, base units, rounded up.
    pub fn borrowed(&self) -> Result<Fx> {
        let shares = self.borrow_shares.get();
        if shares == FX_ZERO {
            return Ok(FX_ZERO);
        }
        shares.mul_ceil(self.borrow_index.get())
    }

    /// Tokens held outside loans: in the liquidity vault plus deployed to the
    /// treasury strategy at book value, base units.
    pub fn cash(&self) -> Fx {
        fx_u64(self.available_amount).saturating_add(fx_u64(self.treasury.deployed_amount))
    }

    /// Depositors' claims (supply), base units: available + deployed (book
    /// value) + borrowed + the term book - protocol fees, never negative. Borrowed is rounded
    /// down here: the claims side of the balance sheet is valued low.
    pub fn supply(&self) -> Result<Fx> {
        let borrowed = self.borrowed_floor()?.add_(self.term.book()?)?;
        let s = self.cash().add_(borrowed)?.sub_(self.protocol_fees.get())?;
        Ok(s.max(FX_ZERO))
    }

    /// Book value of the term loans, base units: face outstanding minus
    /// interest not yet earned, as of the last accrual
    /// ([`crate::engine::term`]).
    pub fn term_book(&self) -> Result<Fx> {
        self.term.book()
    }

    /// All loans, base units: floating debt (rounded up) plus the term book.
    pub fn total_borrowed(&self) -> Result<Fx> {
        self.borrowed()?.add_(self.term.book()?)
    }

    /// [`Reserve::supply`] as it will be once interest is accrued to `now`
    /// ([`Reserve::accrue_interest`] then `supply()`, to the bit), computed
    /// without writing or copying the reserve: a health check reading a
    /// strategy reserve's exchange rate saves the 1,464-byte copy.
    pub fn projected_supply(&self, now: i64) -> Result<Fx> {
        let before = self.borrowed_floor()?;
        let shares = self.borrow_shares.get();
        let after = if shares == FX_ZERO {
            FX_ZERO
        } else {
            shares.mul_floor(self.projected_borrow_index(now)?)?
        };
        let interest = after.sub_(before)?.max(FX_ZERO);
        let mut fees = self.protocol_fees.get();
        let dt = now.saturating_sub(self.last_update_ts).max(0);
        if dt > 0 && interest > FX_ZERO {
            let fee = interest.mul_ceil(fx_bps_ceil(self.config.reserve_factor_bps as u64)?)?;
            fees = fees.add_(fee.min(interest))?;
        }
        // The term book, its unearned interest decayed to `now`, with the
        // protocol's share of what it earned (as `accrue_interest`).
        let mut term_book = self.term.book()?;
        if now > self.term.last_update_ts {
            let unearned = self.term.projected_unearned(now)?;
            let earned = self.term.total_unearned.get().sub_(unearned)?.max(FX_ZERO);
            term_book = fx_u64(self.term.total_face).sub_(unearned)?.max(FX_ZERO);
            if earned > FX_ZERO {
                let fee = earned.mul_ceil(fx_bps_ceil(self.config.reserve_factor_bps as u64)?)?;
                fees = fees.add_(fee.min(earned))?;
            }
        }
        let s = self.cash().add_(after)?.add_(term_book)?.sub_(fees)?;
        Ok(s.max(FX_ZERO))
    }

    /// Utilisation = borrowed / (available + deployed + borrowed - fees),
    /// rounded up; borrowed counts floating debt and the term book.
    pub fn utilization(&self) -> Result<Fx> {
        let borrowed = self.total_borrowed()?;
        let supply = self.cash().add_(borrowed)?.sub_(self.protocol_fees.get())?;
        utilization(borrowed, supply)
    }

    /// Borrow APR at the current utilisation (fraction per year).
    pub fn borrow_rate(&self) -> Result<Fx> {
        self.config.rate_curve.borrow_rate(self.utilization()?)
    }

    /// The borrow index projected to `now` without writing it
    /// ([`grown_index`]: saturates instead of overflowing).
    pub fn projected_borrow_index(&self, now: i64) -> Result<Fx> {
        let dt = now.saturating_sub(self.last_update_ts).max(0) as u64;
        let index = self.borrow_index.get();
        if dt == 0 || self.borrow_shares.get() == FX_ZERO {
            return Ok(index);
        }
        grown_index(index, self.borrow_rate()?, dt, self.borrow_shares.get())
    }

    /// Accrues interest up to `now` (unix seconds): grows the borrow index,
    /// credits `reserve_factor` of the new interest to the protocol (rounded
    /// up) and the rest to depositors. Returns the new interest, base units.
    pub fn accrue_interest(&mut self, now: i64) -> Result<Fx> {
        let dt = now.saturating_sub(self.last_update_ts).max(0) as u64;
        if dt == 0 {
            return self.accrue_term(now);
        }
        // Interest is measured on the basis `supply()` uses (debt rounded
        // down), so the protocol's share can never exceed the supply's gain.
        let before = self.borrowed_floor()?;
        let new_index = self.projected_borrow_index(now)?;
        self.borrow_index.set(new_index);
        self.last_update_ts = now;
        let interest = self.borrowed_floor()?.sub_(before)?.max(FX_ZERO);
        if interest > FX_ZERO {
            let fee = interest.mul_ceil(fx_bps_ceil(self.config.reserve_factor_bps as u64)?)?;
            self.protocol_fees
                .set(self.protocol_fees.get().add_(fee.min(interest))?);
        }
        let term = self.accrue_term(now)?;
        interest.add_(term)
    }

    /// Decays the term book's unearned interest to `now`
    /// ([`TermState::accrue`]) and credits `reserve_factor` of what it
    /// earned to the protocol (rounded up), the rest to depositors. Run
    /// after the floating accrual, whose rate reads the term book as of the
    /// last accrual (it is part of utilisation), as `projected_borrow_index`
    /// and `projected_supply` do.
    /// Returns the term interest earned, base units.
    fn accrue_term(&mut self, now: i64) -> Result<Fx> {
        if now <= self.term.last_update_ts {
            return Ok(FX_ZERO);
        }
        let earned = self.term.accrue(now)?;
        if earned > FX_ZERO {
            let fee = earned.mul_ceil(fx_bps_ceil(self.config.reserve_factor_bps as u64)?)?;
            self.protocol_fees
                .set(self.protocol_fees.get().add_(fee.min(earned))?);
        }
        Ok(earned)
    }

    /// Debt outstanding rounded down (the claims side of the balance sheet),
    /// base units.
    pub fn borrowed_floor(&self) -> Result<Fx> {
        let shares = self.borrow_shares.get();
        if shares == FX_ZERO {
            return Ok(FX_ZERO);
        }
        shares.mul_floor(self.borrow_index.get())
    }

    /// The LTV, liquidation threshold and borrow factor in force at `now`:
    /// the configured ones under the static policy; under the dynamic policy
    /// [`crate::engine::risk::params_in_force`]: the last push's, the most
    /// conservative ones before the first push, and past `max_age_secs` a
    /// conservative LTV with the liquidation threshold and borrow factor
    /// decaying one step per `min_update_interval` toward conservative.
    pub fn risk_params(&self, now: i64) -> RiskParams {
        let risk = &self.config.risk;
        match risk.policy() {
            RiskPolicy::Static => self.risk_params_static(),
            RiskPolicy::Dynamic => params_in_force(risk, &self.risk, now),
        }
    }

    /// The configured (static-policy) LTV, liquidation threshold and borrow
    /// factor, whatever the policy.
    pub fn risk_params_static(&self) -> RiskParams {
        RiskParams {
            ltv_bps: self.config.loan_to_value_bps,
            liquidation_threshold_bps: self.config.liquidation_threshold_bps,
            borrow_factor_bps: self.config.borrow_factor_bps,
        }
    }

    /// The engine's view of this reserve with its index projected to `now`.
    ///
    /// The debt side is projected (the borrow index grown to `now`); the
    /// supply is the stored one ([`Reserve::supply`]): depositors' interest
    /// since the last accrual is left out until an instruction accrues the
    /// reserve. So a health check values collateral in a reserve it has not
    /// accrued low by at most (supply APR x seconds since the last accrual
    /// / one year) of its value, the protocol's favour; `liquidate` accrues
    /// both reserves of its pair first, and the keeper's interest task
    /// accrues every reserve at its interval, which bounds the gap for the
    /// other reserves of an obligation.
    pub fn view(&self, now: i64) -> Result<ReserveView> {
        self.view_for(now, true, true)
    }

    /// [`Reserve::view`] computing only what valuing collateral
    /// (`collateral`: the supply) or debt (`debt`: the projected borrow
    /// index) in this reserve needs; a part not asked for is left at zero
    /// (supply) or at the stored index. Health checks ask for what the
    /// obligation's positions in the reserve use, which saves the interest
    /// projection (an exponential) for a reserve held only as collateral.
    // On every health check's path: inlined whatever its other call sites
    // (called, the health helpers cost ~240 CU more a position: README).
    #[inline(always)]
    pub fn view_for(&self, now: i64, collateral: bool, debt: bool) -> Result<ReserveView> {
        let risk = self.risk_params(now);
        let supply = if collateral { self.supply()? } else { FX_ZERO };
        let borrow_index = if debt {
            self.projected_borrow_index(now)?
        } else {
            self.borrow_index.get()
        };
        Ok(ReserveView {
            decimals: self.mint_decimals,
            supply,
            deposit_shares: self.deposit_shares,
            borrow_index,
            ltv_bps: risk.ltv_bps,
            liquidation_threshold_bps: risk.liquidation_threshold_bps,
            borrow_factor_bps: risk.borrow_factor_bps,
            now,
        })
    }
}

/// The books the engine's treasury and balance-sheet functions read and
/// move ([`crate::engine::treasury`], [`crate::engine::balance_sheet`]).
impl ReserveBook for Reserve {
    fn liquid(&self) -> u64 {
        self.available_amount
    }
    fn deposit_shares(&self) -> u64 {
        self.deposit_shares
    }
    fn claims(&self) -> Result<Fx> {
        self.supply()
    }
    fn debt_at(&self, now: i64) -> Result<Fx> {
        // Floating debt projected to `now` plus the term book with its
        // unearned interest decayed to `now`.
        let term = fx_u64(self.term.total_face)
            .sub_(self.term.projected_unearned(now)?)?
            .max(FX_ZERO);
        self.borrow_shares
            .get()
            .mul_ceil(self.projected_borrow_index(now)?)?
            .add_(term)
    }
    fn protocol_fees(&self) -> Fx {
        self.protocol_fees.get()
    }
    fn deposit_cap(&self) -> u64 {
        self.config.deposit_cap
    }
    fn liquidity(&self) -> &LiquidityConfig {
        &self.config.liquidity
    }
    fn outflow_remaining(&self, now: i64) -> u64 {
        self.outflow.remaining(&self.config.liquidity, now)
    }
    fn locked_shares_until(&self, at: i64) -> u64 {
        self.term_deposits.locked_until(at)
    }
    fn treasury(&self) -> &TreasuryState {
        &self.treasury
    }
    fn treasury_mut(&mut self) -> &mut TreasuryState {
        &mut self.treasury
    }
    fn accrue(&mut self, now: i64) -> Result<()> {
        self.accrue_interest(now).map(|_| ())
    }
}

const _: () = assert!(size_of::<Reserve>() == Reserve::SIZE);
const _: () = assert!(
    core::mem::size_of::<ReserveConfig>() == 32 + 8 + 8 + 4 + 4 + 5 * 2 + 6 + 96 + 92 + 4 + 24
);
const _: () = assert!(core::mem::size_of::<RiskState>() == 48);
const _: () = assert!(core::mem::size_of::<TreasuryState>() == 96);
const _: () = assert!(core::mem::size_of::<StrategyApprovals>() == 128);
const _: () =
    assert!(core::mem::size_of::<TermConfig>() + core::mem::size_of::<TermState>() + 32 == 608);
const _: () = assert!(core::mem::size_of::<TermDepositTotals>() == 32);
// The layout is pinned: new fields come out of `_reserved`.
const _: () = assert!(Reserve::SIZE == 1_464);
const _: () = assert!(core::mem::size_of::<RateCurve>() == 96);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fx::fx_u64;

    /// `projected_supply` is what accruing then `supply()` gives, to the
    /// bit, across utilisations, fees and elapsed times (dt = 0 included).
    #[test]
    fn projected_supply_is_accrue_then_supply() {
        for (avail, borrowed, fees, dt) in [
            (1_000_000u64, 0u64, 0u64, 3_600i64),
            (1_000_000, 500_000, 0, 0),
            (1_000_000, 500_000, 7, 1),
            (5_000_000_000, 9_000_000_000, 12_345, 3_600),
            (1, 10_000_000_000, 0, 365 * 86_400),
            (0, 1_000_000, 2_000_000, 86_400),
        ] {
            let mut r: Reserve = Zeroable::zeroed();
            r.config = crate::fixtures::reserve_config([0; 32]);
            r.available_amount = avail;
            r.deposit_shares = avail + borrowed;
            r.borrow_index = WrappedFx::new(FX_ONE);
            r.borrow_shares = WrappedFx::new(fx_u64(borrowed));
            r.protocol_fees = WrappedFx::new(fx_u64(fees));
            r.treasury.deployed_amount = 77;
            r.last_update_ts = 1_000;
            let now = 1_000 + dt;
            let projected = r.projected_supply(now).unwrap();
            // With term loans too: two maturities, one passed before `now`.
            let mut t = r;
            t.term.last_update_ts = 1_000;
            t.term.add_loan(1_000 + 86_400, 700_000, 690_000).unwrap();
            t.term.add_loan(1_000 + 2, 5_000, 4_999).unwrap();
            let projected_t = t.projected_supply(now).unwrap();
            let mut b = t;
            b.accrue_interest(now).unwrap();
            assert_eq!(
                projected_t,
                b.supply().unwrap(),
                "term: {avail} {borrowed} {fees} {dt}"
            );
            assert_eq!(b.term.last_update_ts, now.max(1_000));
            let mut a = r;
            a.accrue_interest(now).unwrap();
            assert_eq!(
                projected,
                a.supply().unwrap(),
                "{avail} {borrowed} {fees} {dt}"
            );
        }
    }
}
