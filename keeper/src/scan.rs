//! The keeper's liquidation scan: which obligations of a market can be
//! liquidated now, and the liquidation that pays the most for each.
//!
//! A [`MarketSnapshot`] is built once per pass from the market, its reserves
//! and their oracle accounts at one unix time: for every reserve the engine's
//! [`ReserveView`] (index projected to now), the oracle price validated
//! exactly as the program validates it, and the unweighted spot
//! [`UnitPrice`]. [`MarketSnapshot::scan`] then decodes obligation accounts,
//! computes each one's Maintenance health with the program's own
//! [`obligation_health`], and sizes a liquidation for each unhealthy one:
//!
//! * **debt**: the debt position of the largest unweighted spot value;
//! * **collateral**: the position (in another reserve: the program refuses
//!   the same reserve on both sides) that pays the liquidator most, i.e. the
//!   largest `min(seizable value, repay value * (1 + bonus)) * bonus` with
//!   the bonus of [`LiquidationConfig::bonus_bps`] (ties: the larger
//!   collateral);
//! * **repay**: [`LiquidationConfig::max_repay`]; when the collateral seized
//!   for it ([`seize_for_repay`]) would exceed the position, the program's
//!   capped path repays what the position covers and takes all of it, so no
//!   unliquidatable dust is left to block `socialize_bad_debt`.
//!
//! A reserve whose oracle the program would refuse now (stale, confidence too
//! wide, wrong feed, undecodable...) stays in the snapshot with the reason, so
//! obligations touching it come out as [`NotLiquidatable`] ("not liquidatable
//! now: oracle X ...") rather than disappearing.
//!
//! Units: token amounts in base units of their mint, values in micro-USD
//! ([`ballast::engine::health::VALUE_DECIMALS`]), health as a plain ratio
//! (`Fx`, 1.0 = exactly at the requirement), bonus in bps.
//!
//! Solvency (for the bonus cap) is the program's own `spot_values`; sizing
//! follows the program's `liquidate` (debt valued up, collateral down, the
//! same proportional cut), so the keeper proposes what the program accepts.
//!
//! Per-reserve data sits in a `Vec` searched linearly. Measured by the `scan`
//! benchmark (`keeper/benches/scan.rs`, release, one thread): a lookup costs
//! about 5 ns for 2 reserves, 8 for 4, 10.5 for 8, 11.7 for 12 and 13 for 16,
//! against a flat 11.6 ns for a std `HashMap`; markets hold a handful of
//! reserves, and at 16 the difference is about 1% of an obligation's score.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use ballast::engine::fx::{fx_u64, Fx, FxExt, BPS, FX_ONE, FX_ZERO};
use ballast::engine::health::{
    obligation_health, spot_values, Requirement, ReserveView, UnitPrice,
};
use ballast::engine::liquidation::{seize_for_repay, LiquidationConfig};
use ballast::engine::oracle::OraclePrice;
use ballast::errors::BallastError;
use ballast::state::{Market, Obligation, PositionKind, Reserve, MAX_POSITIONS};
use bytemuck::Pod;

/// Decodes a zero-copy account of type `T`: the 8-byte Anchor discriminator of
/// `T`, then at least `size_of::<T>()` bytes (extra bytes are ignored, as
/// Anchor's `AccountLoader` ignores them). `None` for another type or a
/// short account.
fn decode_account<T: Pod + Discriminator>(data: &[u8]) -> Option<T> {
    let body = data.strip_prefix(T::DISCRIMINATOR)?;
    body.get(..core::mem::size_of::<T>())
        .map(bytemuck::pod_read_unaligned)
}

/// Decodes an [`Obligation`] account's bytes (discriminator first).
pub fn decode_obligation(data: &[u8]) -> Option<Obligation> {
    decode_account(data)
}

/// Decodes a [`Reserve`] account's bytes (discriminator first).
pub fn decode_reserve(data: &[u8]) -> Option<Reserve> {
    decode_account(data)
}

/// Decodes a [`Market`] account's bytes (discriminator first).
pub fn decode_market(data: &[u8]) -> Option<Market> {
    decode_account(data)
}

/// The bytes of a zero-copy account holding `value`: discriminator, then the
/// `Pod` bytes (what the program writes; for tests, fixtures and benches).
pub fn encode_account<T: Pod + Discriminator>(value: &T) -> Vec<u8> {
    let mut data = Vec::with_capacity(T::DISCRIMINATOR.len() + core::mem::size_of::<T>());
    data.extend_from_slice(T::DISCRIMINATOR);
    data.extend_from_slice(bytemuck::bytes_of(value));
    data
}

/// A program error as the keeper reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramFailure {
    /// Anchor error code (`6000 + position` for [`BallastError`]), when the
    /// error is an Anchor error.
    pub code: Option<u32>,
    /// Error name, e.g. `OracleStale`.
    pub name: String,
    /// Error message, e.g. `oracle price is stale`.
    pub message: String,
}

impl ProgramFailure {
    fn from_error(e: &anchor_lang::error::Error) -> Self {
        match e {
            anchor_lang::error::Error::AnchorError(a) => Self {
                code: Some(a.error_code_number),
                name: a.error_name.clone(),
                message: a.error_msg.clone(),
            },
            anchor_lang::error::Error::ProgramError(p) => Self {
                code: None,
                name: format!("{:?}", p.program_error),
                message: p.program_error.to_string(),
            },
        }
    }

    /// Whether this is `e`.
    pub fn is(&self, e: BallastError) -> bool {
        self.code == Some(u32::from(e))
    }
}

impl fmt::Display for ProgramFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.name)
    }
}

/// Why an obligation cannot be liquidated now although it may be unhealthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The reserve's oracle account was not given to the snapshot.
    OracleMissing {
        /// The reserve's configured oracle account.
        oracle: Pubkey,
    },
    /// The program would refuse the reserve's oracle now
    /// (`ballast::runtime::oracle_account::decode_bytes` or `validate_price` failed: stale,
    /// confidence too wide, wrong feed, not fully verified, undecodable...).
    Oracle {
        /// The reserve's configured oracle account.
        oracle: Pubkey,
        /// The program's error.
        error: ProgramFailure,
    },
    /// The reserve belongs to another market (the program's health check
    /// refuses it).
    ReserveOfOtherMarket,
    /// The reserve's state could not be projected to now
    /// (`Reserve::view` failed).
    ReserveState(ProgramFailure),
    /// A position's reserve is not in the snapshot.
    UnknownReserve,
    /// Valuing or sizing failed (overflow, invalid price).
    Valuation(ProgramFailure),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::OracleMissing { oracle } => write!(f, "oracle {oracle}: account not loaded"),
            Reason::Oracle { oracle, error } => write!(f, "oracle {oracle}: {error}"),
            Reason::ReserveOfOtherMarket => write!(f, "reserve of another market"),
            Reason::ReserveState(e) => write!(f, "reserve state: {e}"),
            Reason::UnknownReserve => write!(f, "reserve not in the snapshot"),
            Reason::Valuation(e) => write!(f, "valuation: {e}"),
        }
    }
}

/// An obligation the keeper cannot liquidate now, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotLiquidatable {
    /// The obligation account.
    pub obligation: Pubkey,
    /// The reserve at fault, when one is.
    pub reserve: Option<Pubkey>,
    /// Why.
    pub reason: Reason,
    /// Maintenance health (collateral / debt ratio) at the last prices the
    /// oracles carry, unvalidated: an indication of whether it will be
    /// liquidatable once the oracle is fresh. `None` when a price is missing
    /// or undecodable, or there is no debt.
    pub last_health: Option<Fx>,
}

impl fmt::Display for NotLiquidatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "obligation {} not liquidatable now: ", self.obligation)?;
        if let Some(r) = &self.reserve {
            write!(f, "reserve {r}: ")?;
        }
        write!(f, "{}", self.reason)?;
        if let Some(h) = self.last_health {
            write!(f, " (health {h:.4} at the last prices)")?;
        }
        Ok(())
    }
}

/// A liquidation the keeper can send now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The obligation account.
    pub obligation: Pubkey,
    /// Maintenance health: weighted collateral / weighted debt, rounded down
    /// (< 1).
    pub health: Fx,
    /// The reserve of the debt to repay.
    pub debt_reserve: Pubkey,
    /// The reserve of the collateral to seize.
    pub collateral_reserve: Pubkey,
    /// Debt to repay, base units of the debt mint (rounded down): the
    /// `max_repay` argument of `liquidate`. When the collateral position
    /// cannot pay for it, the program repays less (what the position covers,
    /// rounded up) and seizes the whole position; the `Liquidated` event
    /// says what was repaid.
    pub repay: u64,
    /// Collateral the program will seize for `repay` at the snapshot's
    /// prices, base units of the collateral mint (rounded down; the whole
    /// position when it cannot pay for `repay`).
    pub expected_seize: u64,
    /// The liquidation bonus, bps of the repaid value.
    pub bonus_bps: u16,
}

/// What the scan makes of one obligation.
#[derive(Clone, Debug, PartialEq)]
pub enum Assessment {
    /// No debt.
    NoDebt,
    /// The Maintenance requirement holds.
    Healthy {
        /// Weighted collateral / weighted debt (>= 1).
        health: Fx,
    },
    /// Unhealthy and liquidatable now.
    Liquidatable(Candidate),
    /// Unhealthy, but no collateral position (in a reserve other than the
    /// debt's) can pay for a non-zero repay: left to the bad-debt path.
    NothingToSeize {
        /// Weighted collateral / weighted debt (< 1).
        health: Fx,
    },
    /// Its health cannot be established or acted on now.
    NotLiquidatable(NotLiquidatable),
}

/// The outcome of [`MarketSnapshot::scan_report`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanReport {
    /// Liquidations, worst health first.
    pub candidates: Vec<Candidate>,
    /// Obligations that touch a reserve unusable now, or whose valuation
    /// failed, in input order.
    pub not_liquidatable: Vec<NotLiquidatable>,
    /// Unhealthy obligations with nothing to seize (bad-debt path).
    pub nothing_to_seize: Vec<(Pubkey, Fx)>,
    /// Obligations of this market that were assessed.
    pub assessed: usize,
    /// Obligations of other markets, skipped.
    pub other_market: usize,
    /// Accounts that are not obligations (discriminator or length), skipped.
    pub undecodable: usize,
}

/// One reserve as the scan sees it.
#[derive(Clone, Debug)]
struct Entry {
    address: Pubkey,
    view: ReserveView,
    /// The validated price when `problem` is `None`; otherwise the last price
    /// the oracle carries when `has_price`, else zeroes.
    price: OraclePrice,
    /// Unweighted spot price of one base unit (valid with `price`).
    spot: UnitPrice,
    /// Whether `price` holds a decoded, positive price.
    has_price: bool,
    /// Why the program would refuse this reserve now.
    problem: Option<Reason>,
}

/// A debt or collateral position with its tokens and unweighted spot value.
#[derive(Clone, Copy)]
struct Valued<'a> {
    entry: &'a Entry,
    /// Base units (debt rounded up, collateral down).
    tokens: Fx,
    /// micro-USD (debt rounded up, collateral down).
    value: Fx,
}

/// A market's reserves, validated prices and liquidation parameters at one
/// unix time, against which obligations are scored.
#[derive(Clone, Debug)]
pub struct MarketSnapshot {
    market: Pubkey,
    liquidation: LiquidationConfig,
    now: i64,
    entries: Vec<Entry>,
}

impl MarketSnapshot {
    /// Builds the snapshot of market `market_key` at unix time `now`
    /// (seconds) from the decoded `market`, its `reserves` (address, decoded
    /// account) and `oracles`: the account bytes of each reserve's
    /// `PriceUpdateV2` keyed by oracle address. Prices are validated with the
    /// program's own `validate_price` and the reserve's limits; a reserve that
    /// fails (or whose oracle is missing, or that belongs to another market)
    /// is kept with its [`Reason`].
    pub fn new<D: AsRef<[u8]>>(
        market_key: Pubkey,
        market: &Market,
        reserves: &[(Pubkey, Reserve)],
        oracles: &HashMap<Pubkey, D>,
        now: i64,
    ) -> Self {
        let entries = reserves
            .iter()
            .map(|(address, reserve)| Self::entry(&market_key, address, reserve, oracles, now))
            .collect();
        Self {
            market: market_key,
            liquidation: market.liquidation,
            now,
            entries,
        }
    }

    fn entry<D: AsRef<[u8]>>(
        market_key: &Pubkey,
        address: &Pubkey,
        reserve: &Reserve,
        oracles: &HashMap<Pubkey, D>,
        now: i64,
    ) -> Entry {
        let mut problem = None;
        if reserve.market != *market_key {
            problem = Some(Reason::ReserveOfOtherMarket);
        }
        let mut view_ok = true;
        let view = reserve.view(now).unwrap_or_else(|e| {
            view_ok = false;
            problem.get_or_insert(Reason::ReserveState(ProgramFailure::from_error(&e)));
            let risk = reserve.risk_params(now);
            ReserveView {
                decimals: reserve.mint_decimals,
                supply: FX_ZERO,
                deposit_shares: 0,
                borrow_index: FX_ONE,
                ltv_bps: risk.ltv_bps,
                liquidation_threshold_bps: risk.liquidation_threshold_bps,
                borrow_factor_bps: risk.borrow_factor_bps,
            }
        });
        let oracle = reserve.oracle;
        let mut price = None;
        match oracles.get(&oracle) {
            None => {
                problem.get_or_insert(Reason::OracleMissing { oracle });
            }
            Some(data) => match ballast::runtime::oracle_account::decode_bytes(data.as_ref()) {
                Err(e) => {
                    problem.get_or_insert(Reason::Oracle {
                        oracle,
                        error: ProgramFailure::from_error(&e),
                    });
                }
                Ok(update) => {
                    let limits = ballast::runtime::oracle_account::limits(reserve);
                    match ballast::engine::oracle::validate_price(&update, &limits, now) {
                        Ok(p) => price = Some(p),
                        Err(e) => {
                            problem.get_or_insert(Reason::Oracle {
                                oracle,
                                error: ProgramFailure::from_error(&e),
                            });
                            // The last price, for an indicative health only.
                            let m = &update.price_message;
                            price = (m.price > 0).then_some(OraclePrice {
                                price: m.price,
                                conf: m.conf,
                                ema_price: m.ema_price,
                                ema_conf: m.ema_conf,
                                exponent: m.exponent,
                            });
                        }
                    }
                }
            },
        }
        let spot =
            price.map(|p| UnitPrice::new(p.price as i128, BPS, reserve.mint_decimals, p.exponent));
        let (price, spot, has_price) = match (price, spot) {
            (Some(p), Some(Ok(s))) => (p, s, view_ok),
            (_, Some(Err(e))) => {
                problem.get_or_insert(Reason::Valuation(ProgramFailure::from_error(&e)));
                (zero_price(), zero_unit(), false)
            }
            _ => (zero_price(), zero_unit(), false),
        };
        Entry {
            address: *address,
            view,
            price,
            spot,
            has_price,
            problem,
        }
    }

    /// The market's address.
    pub fn market(&self) -> &Pubkey {
        &self.market
    }

    /// The market's liquidation parameters.
    pub fn liquidation(&self) -> &LiquidationConfig {
        &self.liquidation
    }

    /// The unix time (seconds) the snapshot was taken at.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// The validated price of `reserve`, or why it cannot be used now;
    /// `None` for a reserve not in the snapshot.
    pub fn price(&self, reserve: &Pubkey) -> Option<Result<&OraclePrice, &Reason>> {
        let e = self.find(reserve)?;
        Some(match &e.problem {
            None => Ok(&e.price),
            Some(r) => Err(r),
        })
    }

    /// The reserves unusable now, with why.
    pub fn unusable_reserves(&self) -> impl Iterator<Item = (&Pubkey, &Reason)> {
        self.entries
            .iter()
            .filter_map(|e| e.problem.as_ref().map(|r| (&e.address, r)))
    }

    #[inline]
    fn find(&self, reserve: &Pubkey) -> Option<&Entry> {
        self.entries.iter().find(|e| e.address == *reserve)
    }

    /// The liquidation to send for `obligation` (account `key`) now, if it is
    /// unhealthy and liquidatable; see [`MarketSnapshot::assess`] for why
    /// not.
    pub fn score(&self, key: &Pubkey, obligation: &Obligation) -> Option<Candidate> {
        match self.assess(key, obligation) {
            Assessment::Liquidatable(c) => Some(c),
            _ => None,
        }
    }

    /// Assesses `obligation` (account `key`): Maintenance health with the
    /// program's `obligation_health` at the validated prices, and for an
    /// unhealthy one the liquidation that pays the most (module docs).
    pub fn assess(&self, key: &Pubkey, obligation: &Obligation) -> Assessment {
        let blocked = Cell::new(None::<Pubkey>);
        let health = obligation_health(
            &obligation.positions,
            |r| match self.find(r) {
                Some(e) if e.problem.is_none() => Some((&e.view, &e.price)),
                _ => {
                    blocked.set(Some(*r));
                    None
                }
            },
            Requirement::Maintenance,
        );
        let health = match health {
            Ok(h) => h,
            Err(e) => {
                let (reserve, reason) = match blocked.get() {
                    Some(r) => {
                        let reason = match self.find(&r) {
                            Some(entry) => entry.problem.clone().unwrap_or(Reason::UnknownReserve),
                            None => Reason::UnknownReserve,
                        };
                        (Some(r), reason)
                    }
                    None => (None, Reason::Valuation(ProgramFailure::from_error(&e))),
                };
                return Assessment::NotLiquidatable(NotLiquidatable {
                    obligation: *key,
                    reserve,
                    reason,
                    last_health: self.last_health(obligation),
                });
            }
        };
        let Some(ratio) = health.ratio() else {
            return Assessment::NoDebt;
        };
        if health.is_satisfied() {
            return Assessment::Healthy { health: ratio };
        }
        match self.liquidation_for(key, obligation, ratio) {
            Ok(Some(c)) => Assessment::Liquidatable(c),
            Ok(None) => Assessment::NothingToSeize { health: ratio },
            Err(e) => Assessment::NotLiquidatable(NotLiquidatable {
                obligation: *key,
                reserve: None,
                reason: Reason::Valuation(ProgramFailure::from_error(&e)),
                last_health: Some(ratio),
            }),
        }
    }

    /// Maintenance health at the last prices, validated or not.
    fn last_health(&self, obligation: &Obligation) -> Option<Fx> {
        obligation_health(
            &obligation.positions,
            |r| {
                let e = self.find(r)?;
                e.has_price.then_some((&e.view, &e.price))
            },
            Requirement::Maintenance,
        )
        .ok()?
        .ratio()
    }

    /// Sizes the liquidation of an unhealthy obligation of health `ratio`
    /// whose every reserve is usable. `None` when nothing can be seized.
    fn liquidation_for(
        &self,
        key: &Pubkey,
        obligation: &Obligation,
        ratio: Fx,
    ) -> anchor_lang::Result<Option<Candidate>> {
        let cfg = &self.liquidation;
        let usable = |r: &Pubkey| {
            let e = self.find(r)?;
            e.problem.is_none().then_some(e)
        };
        let (coll_value, debt_value) = spot_values(&obligation.positions, |r| {
            usable(r).map(|e| (&e.view, &e.price))
        })?;
        let solvent = coll_value >= debt_value;

        // The largest debt (first in slot order on a tie), and the
        // collateral positions, valued at spot.
        let mut debt: Option<Valued> = None;
        let mut colls = [None::<Valued>; MAX_POSITIONS];
        let mut n_colls = 0;
        for p in &obligation.positions {
            let kind = p.kind();
            if kind == PositionKind::Empty {
                continue;
            }
            let entry = usable(&p.reserve)
                .ok_or(anchor_lang::error!(BallastError::HealthAccountsMismatch))?;
            if kind == PositionKind::Debt {
                let tokens = entry.view.debt_tokens(p.borrow_shares.get())?;
                let value = entry.spot.value_ceil(tokens)?;
                if debt.is_none_or(|d| value > d.value) {
                    debt = Some(Valued {
                        entry,
                        tokens,
                        value,
                    });
                }
            } else {
                let tokens = entry.view.collateral_tokens(p.deposit_shares)?;
                let value = entry.spot.value_floor(tokens)?;
                colls[n_colls] = Some(Valued {
                    entry,
                    tokens,
                    value,
                });
                n_colls += 1;
            }
        }
        let Some(debt) = debt else {
            return Ok(None);
        };
        let max_repay = cfg
            .max_repay(debt.tokens, debt.value, ratio)?
            .to_floor_u64()?;
        let repay_value = debt.entry.spot.value_floor(fx_u64(max_repay))?;

        // The collateral that pays the most.
        let mut best: Option<(Valued, u16, Fx)> = None;
        for c in colls[..n_colls].iter().flatten() {
            if c.entry.address == debt.entry.address {
                continue;
            }
            let bonus = cfg.bonus_bps(
                ratio,
                solvent,
                c.entry.view.liquidation_threshold_bps,
                debt.entry.view.borrow_factor_bps,
            )?;
            let paid = repay_value
                .mul_div_int_floor(BPS as i128 + bonus as i128, BPS as i128)?
                .min(c.value)
                .mul_div_int_floor(bonus as i128, BPS as i128)?;
            let better = match &best {
                None => true,
                Some((b, _, best_paid)) => {
                    paid > *best_paid || (paid == *best_paid && c.value > b.value)
                }
            };
            if better {
                best = Some((*c, bonus, paid));
            }
        }
        let Some((coll, bonus_bps, _)) = best else {
            return Ok(None);
        };

        let seize = |repay: u64| -> anchor_lang::Result<Fx> {
            Ok(seize_for_repay(fx_u64(repay), &debt.entry.spot, &coll.entry.spot, bonus_bps)?.0)
        };
        let repay = max_repay;
        let mut seized = seize(repay)?;
        if seized > coll.tokens {
            // The position cannot pay for the whole allowance: send the
            // allowance and let the program take its capped path, which
            // seizes the whole position for the repay it covers (rounded up,
            // at most the allowance). Sizing the repay down here instead
            // would leave a few base units of collateral behind, too little
            // to liquidate and enough to block `socialize_bad_debt`.
            seized = coll.tokens;
            return Ok(Some(Candidate {
                obligation: *key,
                health: ratio,
                debt_reserve: debt.entry.address,
                collateral_reserve: coll.entry.address,
                repay,
                expected_seize: seized.to_floor_u64()?,
                bonus_bps,
            }));
        }
        if repay == 0 {
            return Ok(None);
        }
        Ok(Some(Candidate {
            obligation: *key,
            health: ratio,
            debt_reserve: debt.entry.address,
            collateral_reserve: coll.entry.address,
            repay,
            expected_seize: seized.to_floor_u64()?,
            bonus_bps,
        }))
    }

    /// Decodes and scores `obligations` (account address, account bytes):
    /// the liquidations to send now, worst health first. Accounts that are
    /// not obligations, and obligations of other markets, are skipped; see
    /// [`MarketSnapshot::scan_report`] for what else the pass found.
    pub fn scan<'a>(
        &self,
        obligations: impl IntoIterator<Item = (Pubkey, &'a [u8])>,
    ) -> Vec<Candidate> {
        self.scan_report(obligations).candidates
    }

    /// [`MarketSnapshot::scan`] with everything the pass found: also the
    /// obligations not liquidatable now (with the reason), those left to the
    /// bad-debt path, and counts.
    pub fn scan_report<'a>(
        &self,
        obligations: impl IntoIterator<Item = (Pubkey, &'a [u8])>,
    ) -> ScanReport {
        let mut report = ScanReport::default();
        for (key, data) in obligations {
            let Some(obligation) = decode_obligation(data) else {
                report.undecodable += 1;
                continue;
            };
            if obligation.market != self.market {
                report.other_market += 1;
                continue;
            }
            report.assessed += 1;
            match self.assess(&key, &obligation) {
                Assessment::Liquidatable(c) => report.candidates.push(c),
                Assessment::NotLiquidatable(n) => report.not_liquidatable.push(n),
                Assessment::NothingToSeize { health } => {
                    report.nothing_to_seize.push((key, health))
                }
                Assessment::NoDebt | Assessment::Healthy { .. } => {}
            }
        }
        report.candidates.sort_unstable_by(|a, b| {
            a.health
                .cmp(&b.health)
                .then_with(|| a.obligation.cmp(&b.obligation))
        });
        report
    }
}

fn zero_price() -> OraclePrice {
    OraclePrice {
        price: 0,
        conf: 0,
        ema_price: 0,
        ema_conf: 0,
        exponent: 0,
    }
}

fn zero_unit() -> UnitPrice {
    UnitPrice { num: 0, den: 1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embedded::PythPrice;
    use ballast::engine::fx::WrappedFx;
    use ballast::engine::rates::RateCurve;
    use ballast::state::{Position, ReserveConfig};
    use bytemuck::Zeroable;
    use rand::{Rng, SeedableRng};

    const NOW: i64 = 1_700_000_000;
    const MARKET: Pubkey = Pubkey::new_from_array([1; 32]);
    const SOL: Pubkey = Pubkey::new_from_array([11; 32]);
    const USDC: Pubkey = Pubkey::new_from_array([12; 32]);
    const ETH: Pubkey = Pubkey::new_from_array([13; 32]);
    const BTC: Pubkey = Pubkey::new_from_array([14; 32]);
    /// Base units of each reserve's supply and deposit shares (1:1).
    const SUPPLY: u64 = 100_000_000_000_000_000;

    fn oracle_of(reserve: &Pubkey) -> Pubkey {
        let mut b = reserve.to_bytes();
        b[0] = b[0].wrapping_add(100);
        Pubkey::new_from_array(b)
    }

    fn feed_of(reserve: &Pubkey) -> [u8; 32] {
        let mut b = reserve.to_bytes();
        b[1] = 0xfe;
        b
    }

    /// tests/src/lib.rs `test_config`: LTV 75%, LT 80%, BF 1, max age 60 s,
    /// max confidence 2%.
    fn config(feed_id: [u8; 32]) -> ReserveConfig {
        let mut c = ReserveConfig::zeroed();
        c.oracle_feed_id = feed_id;
        c.deposit_cap = u64::MAX / 4;
        c.borrow_cap = u64::MAX / 4;
        c.oracle_max_age_secs = 60;
        c.borrow_factor_bps = 10_000;
        c.oracle_max_conf_bps = 200;
        c.loan_to_value_bps = 7_500;
        c.liquidation_threshold_bps = 8_000;
        c.reserve_factor_bps = 1_000;
        c.max_utilization_bps = 9_500;
        c.rate_curve = RateCurve::from_points(&[(0, 50), (8_000, 850), (10_000, 6_850)]);
        c
    }

    fn reserve(address: &Pubkey, decimals: u8) -> Reserve {
        let mut r = Reserve::zeroed();
        r.market = MARKET;
        r.mint = *address;
        r.oracle = oracle_of(address);
        r.mint_decimals = decimals;
        r.available_amount = SUPPLY;
        r.deposit_shares = SUPPLY;
        r.borrow_index = WrappedFx::new(FX_ONE);
        r.last_update_ts = NOW;
        r.config = config(feed_of(address));
        r
    }

    /// Close factor 50% above health 0.95, full below; bonus 5%..10%.
    const LIQ: LiquidationConfig = LiquidationConfig {
        dust_debt_micro_usd: 1_000_000,
        close_factor_bps: 5_000,
        full_liquidation_health_bps: 9_500,
        bonus_min_bps: 500,
        bonus_max_bps: 1_000,
        protocol_bonus_share_bps: 0,
        _padding: [0; 6],
    };

    /// SOL $20 (9 dp), USDC $1 (6 dp), ETH $2,000 (8 dp), BTC $60,000 (8 dp),
    /// all published now.
    struct Setup {
        market: Market,
        reserves: Vec<(Pubkey, Reserve)>,
        oracles: HashMap<Pubkey, Vec<u8>>,
    }

    impl Setup {
        fn new() -> Self {
            let mut market = Market::zeroed();
            market.liquidation = LIQ;
            let mut s = Setup {
                market,
                reserves: vec![],
                oracles: HashMap::new(),
            };
            for (k, dp, usd) in [
                (SOL, 9, 20.0),
                (USDC, 6, 1.0),
                (ETH, 8, 2_000.0),
                (BTC, 8, 60_000.0),
            ] {
                s.reserves.push((k, reserve(&k, dp)));
                s.set_price(&k, PythPrice::usd(feed_of(&k), usd, NOW));
            }
            s
        }

        fn set_price(&mut self, reserve: &Pubkey, p: PythPrice) {
            self.oracles.insert(oracle_of(reserve), p.to_account_data());
        }

        fn reserve_mut(&mut self, k: &Pubkey) -> &mut Reserve {
            &mut self.reserves.iter_mut().find(|(a, _)| a == k).unwrap().1
        }

        fn snapshot(&self) -> MarketSnapshot {
            MarketSnapshot::new(MARKET, &self.market, &self.reserves, &self.oracles, NOW)
        }
    }

    fn coll(reserve: Pubkey, tokens: u64) -> (Pubkey, PositionKind, u64) {
        (reserve, PositionKind::Collateral, tokens)
    }

    fn debt(reserve: Pubkey, tokens: u64) -> (Pubkey, PositionKind, u64) {
        (reserve, PositionKind::Debt, tokens)
    }

    /// Shares equal tokens: supply = shares and index = 1.
    fn obligation(positions: &[(Pubkey, PositionKind, u64)]) -> Obligation {
        let mut o = Obligation::zeroed();
        o.market = MARKET;
        for (slot, (reserve, kind, amount)) in o.positions.iter_mut().zip(positions) {
            *slot = Position::zeroed();
            slot.reserve = *reserve;
            slot.kind = *kind as u8;
            match kind {
                PositionKind::Collateral => slot.deposit_shares = *amount,
                PositionKind::Debt => slot.borrow_shares = WrappedFx::new(fx_u64(*amount)),
                PositionKind::Empty => {}
            }
        }
        o
    }

    fn key(b: u8) -> Pubkey {
        Pubkey::new_from_array([b; 32])
    }

    fn close(h: Fx, expected: f64) -> bool {
        (h.to_num::<f64>() - expected).abs() < 1e-9
    }

    #[test]
    fn decodes_accounts_by_discriminator_and_length() {
        let o = obligation(&[coll(SOL, 5), debt(USDC, 7)]);
        let bytes = encode_account(&o);
        assert_eq!(bytes.len(), 8 + Obligation::SIZE);
        let back = decode_obligation(&bytes).unwrap();
        assert_eq!(back.positions, o.positions);
        assert_eq!(back.market, MARKET);
        assert!(
            decode_obligation(&bytes[..bytes.len() - 1]).is_none(),
            "short"
        );
        assert!(decode_obligation(&[]).is_none());
        let r = encode_account(&reserve(&SOL, 9));
        assert!(
            decode_obligation(&r).is_none(),
            "a reserve is not an obligation"
        );
        assert_eq!(decode_reserve(&r).unwrap().mint_decimals, 9);
        assert!(decode_reserve(&bytes).is_none());
        let m = encode_account(&Setup::new().market);
        assert_eq!(decode_market(&m).unwrap().liquidation, LIQ);
        assert!(decode_market(&r).is_none());
    }

    #[test]
    fn healthy_and_debt_free_obligations_are_not_candidates() {
        let snap = Setup::new().snapshot();
        // 10 SOL ($200, $160 at LT 80%) against 100 USDC: health 1.6.
        let healthy = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 100_000_000)]);
        assert!(snap.score(&key(50), &healthy).is_none());
        match snap.assess(&key(50), &healthy) {
            Assessment::Healthy { health } => assert!(close(health, 1.6), "{health}"),
            other => panic!("{other:?}"),
        }
        // Exactly at the requirement ($160 against $160) is satisfied.
        let edge = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 160_000_000)]);
        assert!(snap.score(&key(51), &edge).is_none());
        let no_debt = obligation(&[coll(SOL, 10_000_000_000)]);
        assert_eq!(snap.assess(&key(52), &no_debt), Assessment::NoDebt);
    }

    #[test]
    fn close_factor_above_the_deep_threshold() {
        let snap = Setup::new().snapshot();
        // $160 weighted against 165 USDC: health 0.9697 > 0.95.
        let o = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 165_000_000)]);
        let c = snap.score(&key(60), &o).expect("unhealthy");
        assert!(close(c.health, 160.0 / 165.0), "{}", c.health);
        assert_eq!((c.debt_reserve, c.collateral_reserve), (USDC, SOL));
        // Solvent ($200 >= $165): bonus 5% + floor(1 - h) = 8.03%, under the
        // no-worsening cap h / LT - 1 = 21.2%.
        assert_eq!(c.bonus_bps, 803);
        // Half the debt: 82.5 USDC, for 82.5 * 1.0803 / 20 SOL.
        assert_eq!(c.repay, 82_500_000);
        assert_eq!(c.expected_seize, 4_456_237_500);
    }

    #[test]
    fn full_debt_below_the_deep_threshold() {
        let snap = Setup::new().snapshot();
        // $160 weighted against 180 USDC: health 0.889 < 0.95.
        let o = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 180_000_000)]);
        let c = snap.score(&key(61), &o).expect("unhealthy");
        assert_eq!(c.repay, 180_000_000, "all of it");
        // Bonus min(5% + 11.1%, 10%) = 10%, under the cap 0.889 / 0.8 - 1.
        assert_eq!(c.bonus_bps, 1_000);
        assert_eq!(c.expected_seize, 9_900_000_000);
    }

    #[test]
    fn an_uncoverable_repay_is_sent_whole_and_takes_the_whole_position() {
        let snap = Setup::new().snapshot();
        // 210 USDC against $200 of SOL: insolvent, full repay at 10% would
        // seize 11.55 SOL from a position of 10.
        let o = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 210_000_000)]);
        let c = snap.score(&key(62), &o).expect("unhealthy");
        assert_eq!(c.bonus_bps, 1_000);
        // The allowance goes to the program, whose capped path repays what
        // the position covers (about 181.82 USDC) for all 10 SOL: nothing
        // is left behind to block socialize_bad_debt.
        assert_eq!(c.repay, 210_000_000);
        assert_eq!(c.expected_seize, 10_000_000_000);
    }

    #[test]
    fn picks_the_largest_debt_and_the_collateral_that_pays_most() {
        let mut s = Setup::new();
        s.reserve_mut(&BTC).config.loan_to_value_bps = 5_500;
        s.reserve_mut(&BTC).config.liquidation_threshold_bps = 6_000;
        let snap = s.snapshot();
        // Collateral 20 SOL ($400, LT 80%) and 0.005 BTC ($300, LT 60%):
        // $500 weighted. Debt 30 USDC, then 0.3 ETH ($600): health 0.794,
        // solvent ($700 >= $630).
        let o = obligation(&[
            debt(USDC, 30_000_000),
            coll(SOL, 20_000_000_000),
            debt(ETH, 30_000_000),
            coll(BTC, 500_000),
        ]);
        let c = snap.score(&key(63), &o).expect("unhealthy");
        assert!(close(c.health, 500.0 / 630.0), "{}", c.health);
        assert_eq!(c.debt_reserve, ETH, "largest debt");
        // SOL's no-worsening cap is h / 0.8 - 1 < 0: no bonus, pays nothing;
        // BTC's is h / 0.6 - 1 = 32%: the 10% bonus on min($300, $660).
        assert_eq!(
            c.collateral_reserve, BTC,
            "the smaller collateral pays more"
        );
        assert_eq!(c.bonus_bps, 1_000);
        // Full repay (0.3 ETH) would seize $660 of BTC; the position holds
        // $300: the program repays 0.3 * 300 / 660 ETH for all of it.
        assert_eq!(c.repay, 30_000_000);
        assert_eq!(c.expected_seize, 500_000);
    }

    #[test]
    fn equal_pay_goes_to_the_larger_collateral() {
        let snap = Setup::new().snapshot();
        // 1 ETH ($2,000) and 110 SOL ($2,200) against 3,500 USDC: health
        // 0.96, bonus 9%; both cover 50% * $3,500 * 1.09 = $1,907.5: equal
        // pay, and SOL is the larger.
        let o = obligation(&[
            coll(ETH, 100_000_000),
            coll(SOL, 110_000_000_000),
            debt(USDC, 3_500_000_000),
        ]);
        let c = snap.score(&key(64), &o).expect("unhealthy");
        assert_eq!(c.bonus_bps, 900);
        assert_eq!(c.collateral_reserve, SOL);
        assert_eq!(c.repay, 1_750_000_000);
        assert_eq!(c.expected_seize, 95_375_000_000);
        // Same reserve on both sides is never proposed.
        let same = obligation(&[
            coll(USDC, 1_000_000_000),
            coll(SOL, 1_000_000_000),
            debt(USDC, 1_000_000_000),
        ]);
        let c = snap.score(&key(65), &same).expect("unhealthy");
        assert_eq!((c.debt_reserve, c.collateral_reserve), (USDC, SOL));
    }

    #[test]
    fn scan_orders_worst_first_and_skips_other_markets() {
        let snap = Setup::new().snapshot();
        let sol = 10_000_000_000;
        let mut other = obligation(&[coll(SOL, sol), debt(USDC, 300_000_000)]);
        other.market = key(99);
        let accounts: Vec<(Pubkey, Vec<u8>)> = vec![
            (
                key(70),
                obligation(&[coll(SOL, sol), debt(USDC, 165_000_000)]),
            ),
            (
                key(71),
                obligation(&[coll(SOL, sol), debt(USDC, 100_000_000)]),
            ),
            (
                key(72),
                obligation(&[coll(SOL, sol), debt(USDC, 210_000_000)]),
            ),
            (key(73), other),
            (
                key(74),
                obligation(&[coll(SOL, sol), debt(USDC, 180_000_000)]),
            ),
            (key(75), obligation(&[coll(SOL, sol)])),
        ]
        .into_iter()
        .map(|(k, o)| (k, encode_account(&o)))
        .chain([(key(76), vec![0u8; 1_016])])
        .collect();
        let iter = || accounts.iter().map(|(k, d)| (*k, d.as_slice()));
        let found: Vec<Pubkey> = snap.scan(iter()).iter().map(|c| c.obligation).collect();
        assert_eq!(found, vec![key(72), key(74), key(70)]);
        let report = snap.scan_report(iter());
        assert!(report
            .candidates
            .windows(2)
            .all(|w| w[0].health <= w[1].health));
        assert_eq!(report.other_market, 1);
        assert_eq!(report.undecodable, 1);
        assert_eq!(report.assessed, 5);
        assert!(report.not_liquidatable.is_empty());
    }

    #[test]
    fn a_stale_oracle_makes_its_obligations_not_liquidatable_with_the_reason() {
        let mut s = Setup::new();
        s.set_price(&SOL, PythPrice::usd(feed_of(&SOL), 20.0, NOW - 61));
        let mut wide = PythPrice::usd(feed_of(&ETH), 2_000.0, NOW);
        wide.conf = wide.price as u64 / 40; // 2.5% > 2%
        s.set_price(&ETH, wide);
        s.oracles.remove(&oracle_of(&BTC));
        let snap = s.snapshot();
        assert_eq!(snap.unusable_reserves().count(), 3);
        assert!(snap.price(&USDC).unwrap().is_ok());

        let o = obligation(&[debt(USDC, 165_000_000), coll(SOL, 10_000_000_000)]);
        assert!(snap.score(&key(80), &o).is_none());
        let Assessment::NotLiquidatable(n) = snap.assess(&key(80), &o) else {
            panic!("expected not liquidatable");
        };
        assert_eq!(n.reserve, Some(SOL));
        match &n.reason {
            Reason::Oracle { oracle, error } => {
                assert_eq!(*oracle, oracle_of(&SOL));
                assert!(error.is(BallastError::OracleStale), "{error:?}");
            }
            other => panic!("{other:?}"),
        }
        // Unhealthy at the last price: worth a look once it is fresh.
        assert!(close(n.last_health.unwrap(), 160.0 / 165.0));
        let text = n.to_string();
        assert!(text.contains("not liquidatable now"), "{text}");
        assert!(
            text.contains(&format!("oracle {}", oracle_of(&SOL))),
            "{text}"
        );
        assert!(text.contains("OracleStale"), "{text}");

        let eth = obligation(&[coll(ETH, 10_000_000), debt(USDC, 1_000_000_000)]);
        let Assessment::NotLiquidatable(n) = snap.assess(&key(81), &eth) else {
            panic!("expected not liquidatable");
        };
        let Reason::Oracle { error, .. } = &n.reason else {
            panic!("{:?}", n.reason)
        };
        assert!(error.is(BallastError::OracleConfidenceTooWide), "{error:?}");

        let btc = obligation(&[coll(BTC, 1_000_000), debt(USDC, 1_000_000_000)]);
        let Assessment::NotLiquidatable(n) = snap.assess(&key(82), &btc) else {
            panic!("expected not liquidatable");
        };
        assert_eq!(
            n.reason,
            Reason::OracleMissing {
                oracle: oracle_of(&BTC)
            }
        );
        assert_eq!(n.last_health, None);

        // Unknown reserves are reported too; the USDC-only one is scored.
        let unknown = obligation(&[coll(key(90), 1), debt(USDC, 1)]);
        let Assessment::NotLiquidatable(n) = snap.assess(&key(83), &unknown) else {
            panic!("expected not liquidatable");
        };
        assert_eq!(n.reason, Reason::UnknownReserve);
        let fine = obligation(&[coll(USDC, 100_000_000), debt(USDC, 90_000_000)]);
        let accounts = [
            (key(80), encode_account(&o)),
            (key(84), encode_account(&fine)),
        ];
        let report = snap.scan_report(accounts.iter().map(|(k, d)| (*k, d.as_slice())));
        assert!(report.candidates.is_empty());
        assert_eq!(report.not_liquidatable.len(), 1);
        assert_eq!(report.not_liquidatable[0].obligation, key(80));
        // 100 USDC against 90 at LT 80%: unhealthy, but the only collateral is
        // in the debt's reserve.
        assert_eq!(report.nothing_to_seize.len(), 1);
    }

    #[test]
    fn random_candidates_never_seize_more_than_the_position() {
        let snap = Setup::new().snapshot();
        let reserves = [SOL, USDC, ETH, BTC];
        let unit_usd = [20e-9, 1e-6, 2_000e-8, 60_000e-8];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut found = 0;
        for i in 0..2_000u32 {
            let mut positions = vec![];
            for (j, r) in reserves.iter().enumerate() {
                let usd: f64 = rng.gen_range(1.0..100_000.0);
                let tokens = (usd / unit_usd[j]) as u64;
                match rng.gen_range(0..3) {
                    0 => positions.push(coll(*r, tokens)),
                    1 => positions.push(debt(*r, tokens)),
                    _ => {}
                }
            }
            let o = obligation(&positions);
            let k = Pubkey::new_from_array([(i % 256) as u8; 32]);
            let Some(c) = snap.score(&k, &o) else {
                continue;
            };
            found += 1;
            assert!(c.health < FX_ONE);
            let held = |r: &Pubkey, kind: PositionKind| {
                positions
                    .iter()
                    .find(|(a, k, _)| a == r && *k == kind)
                    .unwrap()
                    .2
            };
            assert!(c.repay > 0);
            assert!(c.repay <= held(&c.debt_reserve, PositionKind::Debt));
            assert!(c.expected_seize <= held(&c.collateral_reserve, PositionKind::Collateral));
            assert_ne!(c.debt_reserve, c.collateral_reserve);
        }
        assert!(found > 100, "{found}");
    }
}
