//! The keeper's liquidation scan: which obligations of a market can be
//! liquidated now, and the liquidation that pays the most for each.
//!
//! A [`MarketSnapshot`] is built once per pass from the market, its reserves
//! and their oracle accounts at one unix time (read from a chain by
//! [`MarketSnapshot::load`], in [`crate::accounts`]): for every reserve the engine's
//! [`ReserveView`] (index projected to now), the oracle price validated
//! exactly as the program validates it, and the unweighted spot
//! [`UnitPrice`]. [`MarketSnapshot::scan`] then decodes obligation accounts,
//! computes each one's Maintenance health with the program's own
//! [`obligation_health`], and sizes a liquidation for each unhealthy one:
//!
//! * **debt**: the debt position of the largest unweighted spot value;
//! * **collateral**: the position (in another reserve: the program refuses
//!   the same reserve on both sides) whose liquidation pays the liquidator
//!   most (ties: the larger collateral);
//! * **repay, seize, bonus**: the program's own
//!   [`plan_liquidation`](ballast::engine::liquidation::plan_liquidation)
//!   for that pair, over the views `liquidate` reads (the two reserves
//!   accrued to now, the collateral's treasury marked when the snapshot has
//!   its strategy reserve: [`MarketSnapshot::with_strategies`]), so the
//!   seize the keeper expects is the seize the program pays. When the plan
//!   takes the whole collateral position (the program's capped path), the
//!   close-factor allowance is sent as `max_repay` so the program takes the
//!   same path and leaves no collateral dust to block `socialize_bad_debt`.
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
//! Per-reserve data sits in a `Vec` searched linearly. Measured by the `scan`
//! benchmark (`keeper/benches/scan.rs`, release, one thread): a lookup costs
//! about 5 ns for 2 reserves, 8 for 4, 10.5 for 8, 11.7 for 12 and 13 for 16,
//! against a flat 11.6 ns for a std `HashMap`; markets hold a handful of
//! reserves, and at 16 the difference is about 1% of an obligation's score.

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt;

use anchor_lang::prelude::Pubkey;
use ballast::engine::fx::{Fx, BPS, FX_ONE, FX_ZERO};
use ballast::engine::health::{obligation_health, Requirement, ReserveView, UnitPrice};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::oracle::OraclePrice;
use ballast::errors::BallastError;
use ballast::state::{Market, Obligation, PositionKind, Reserve, MAX_POSITIONS};

use crate::accounts::decode_obligation;

mod outcome;
mod sizing;
#[cfg(test)]
mod tests;

pub use outcome::{Assessment, Candidate, NotLiquidatable, ProgramFailure, Reason, ScanReport};
use sizing::size;

/// One reserve as the scan sees it.
#[derive(Clone, Debug)]
struct Entry {
    address: Pubkey,
    view: ReserveView,
    /// The view `liquidate` prices this reserve at when it is one of the
    /// two reserves liquidated: a copy accrued to now, its treasury shares
    /// marked against the strategy reserve when the snapshot has it
    /// ([`liquidation_view`]); `view` when that fails.
    liq_view: ReserveView,
    /// The validated price when `problem` is `None`; otherwise the last price
    /// the oracle carries when `has_price`, else zeroes.
    price: OraclePrice,
    /// Unweighted spot price of one base unit (valid with `price`).
    spot: UnitPrice,
    /// Whether `price` holds a decoded, positive price.
    has_price: bool,
    /// Why the program would refuse this reserve now.
    problem: Option<Reason>,
    /// When the only problem is a stale or too-wide oracle with a last
    /// price: the view with zero weights the program values dust
    /// collateral at in a liquidation (see
    /// `HealthAccounts::load_for_liquidation`).
    dust_view: Option<ReserveView>,
}

/// The view of `reserve` that `liquidate` prices it at when it is one of the
/// two reserves liquidated: a copy accrued to `now` and, when `strategy` (a
/// decoded copy of its treasury strategy reserve) is given and shares are
/// deployed, its treasury marked at the strategy's rate
/// ([`ballast::engine::treasury::mark`]). Nothing is written.
fn liquidation_view(
    reserve: &Reserve,
    strategy: Option<&Reserve>,
    now: i64,
) -> anchor_lang::Result<ReserveView> {
    let mut r = *reserve;
    r.accrue_interest(now)?;
    if let (Some(s), true) = (strategy, r.treasury.deployed_shares > 0) {
        let mut s = *s;
        ballast::engine::treasury::mark(&mut r, &mut s, now)?;
    }
    r.view(now)
}

/// `view` (the book view of `reserve`) as the program's health checks read
/// it: the deployed treasury shares at the lower of their book value and
/// their value at `strategy`'s exchange rate (its interest projected to
/// `now`, rounded down), the supply lowered by the difference, never below
/// zero (`ballast::runtime::health_accounts::marked_deployed`).
fn health_view(
    reserve: &Reserve,
    view: &ReserveView,
    strategy: &Reserve,
    now: i64,
) -> anchor_lang::Result<ReserveView> {
    let mut s = *strategy;
    s.accrue_interest(now)?;
    let marked = ballast::engine::treasury::shares_value(&s, reserve.treasury.deployed_shares)?;
    let mut v = *view;
    v.supply = ballast::engine::treasury::health_supply(
        v.supply,
        reserve.treasury.deployed_amount,
        marked,
    )?;
    Ok(v)
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

/// An obligation's positions valued at spot: its largest debt and its
/// collateral positions in slot order.
struct Positions<'a> {
    debt: Option<Valued<'a>>,
    colls: [Option<Valued<'a>>; MAX_POSITIONS],
    n_colls: usize,
}

impl<'a> Positions<'a> {
    fn collaterals(&self) -> impl Iterator<Item = &Valued<'a>> {
        self.colls[..self.n_colls].iter().flatten()
    }
}

/// A market's reserves, validated prices and liquidation parameters at one
/// unix time, against which obligations are scored.
#[derive(Clone)]
pub struct MarketSnapshot {
    market: Pubkey,
    liquidation: LiquidationConfig,
    now: i64,
    entries: Vec<Entry>,
    /// The decoded reserves the snapshot was built from.
    reserves: Vec<(Pubkey, Reserve)>,
}

impl fmt::Debug for MarketSnapshot {
    /// Everything but the decoded reserves (`Reserve` has no `Debug`; each
    /// entry shows its address, view, price and problem).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarketSnapshot")
            .field("market", &self.market)
            .field("liquidation", &self.liquidation)
            .field("now", &self.now)
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
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
            reserves: reserves.to_vec(),
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
                now,
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
        let unusable_oracle = matches!(&problem, Some(Reason::Oracle { error, .. })
            if error.code == Some(anchor_lang::error::ERROR_CODE_OFFSET + BallastError::OracleStale as u32)
                || error.code == Some(anchor_lang::error::ERROR_CODE_OFFSET + BallastError::OracleConfidenceTooWide as u32));
        let dust_view = (unusable_oracle && has_price).then_some(ReserveView {
            ltv_bps: 0,
            liquidation_threshold_bps: 0,
            ..view
        });
        Entry {
            address: *address,
            liq_view: liquidation_view(reserve, None, now).unwrap_or(view),
            view,
            price,
            spot,
            has_price,
            problem,
            dust_view,
        }
    }

    /// Re-prices each reserve with treasury shares deployed whose strategy
    /// reserve is in `strategies` (address, decoded account), as the program
    /// does: for liquidation, its shares marked at the strategy's rate, as
    /// `liquidate` marks them before pricing the collateral (see
    /// [`liquidation_view`]); for health, its collateral at the lower of the
    /// book value and that mark ([`health_view`], what every health check
    /// reads). Reserves whose strategy is missing keep the book value (the
    /// program then refuses the instruction: the strategy reserve is a
    /// required health account).
    pub fn with_strategies(mut self, strategies: &[(Pubkey, Reserve)]) -> Self {
        for (e, (_, r)) in self.entries.iter_mut().zip(&self.reserves) {
            if r.treasury.deployed_shares == 0 {
                continue;
            }
            let strategy = strategies
                .iter()
                .find(|(k, _)| *k == r.treasury.strategy_reserve)
                .map(|(_, s)| s);
            if let (Some(s), Some(_)) = (strategy, e.problem.is_none().then_some(())) {
                if let Ok(v) = liquidation_view(r, Some(s), self.now) {
                    e.liq_view = v;
                }
                if let Ok(v) = health_view(r, &e.view, s, self.now) {
                    e.view = v;
                    if let Some(d) = e.dust_view.as_mut() {
                        d.supply = v.supply;
                    }
                }
            }
        }
        self
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

    /// The decoded reserves the snapshot was built from (address, account),
    /// in the order given.
    pub fn reserves(&self) -> &[(Pubkey, Reserve)] {
        &self.reserves
    }

    /// The decoded account of `reserve`, if it is in the snapshot.
    pub fn reserve(&self, reserve: &Pubkey) -> Option<&Reserve> {
        self.reserves
            .iter()
            .find(|(k, _)| k == reserve)
            .map(|(_, r)| r)
    }

    /// The view health checks read of `reserve` (index projected to now,
    /// deployed treasury shares at the lower of book and mark once
    /// [`MarketSnapshot::with_strategies`] gave the strategy), if it is in
    /// the snapshot.
    pub fn health_view(&self, reserve: &Pubkey) -> Option<&ReserveView> {
        self.entries
            .iter()
            .find(|e| e.address == *reserve)
            .map(|e| &e.view)
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

    /// The view and price a liquidation of `obligation` values `reserve`
    /// at: its own when usable; zero weights at the last price when the
    /// obligation holds only collateral there, worth at most the dust
    /// value, behind a stale or too-wide oracle (as the program does);
    /// otherwise `None`.
    fn usable_for(
        &self,
        reserve: &Pubkey,
        obligation: &Obligation,
    ) -> Option<(&ReserveView, &OraclePrice)> {
        let e = self.find(reserve)?;
        if e.problem.is_none() {
            return Some((&e.view, &e.price));
        }
        let dust = e.dust_view.as_ref()?;
        if obligation.find(reserve, PositionKind::Debt).is_some() {
            return None;
        }
        let i = obligation.find(reserve, PositionKind::Collateral)?;
        let tokens = e
            .view
            .collateral_tokens(obligation.positions[i].deposit_shares)
            .ok()?;
        let value = e.spot.value_ceil(tokens).ok()?;
        let limit = ballast::engine::fx::fx_u64(self.liquidation.dust_debt_micro_usd);
        (value <= limit).then_some((dust, &e.price))
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
        // Term loans are assessed as the floating debt `convert_term_debt`
        // makes of them (the liquidation task sends the conversions first):
        // the same health, and a debt position the plan can repay.
        let converted;
        let obligation = if obligation.has_term_debt() {
            converted = self.term_converted(obligation);
            &converted
        } else {
            obligation
        };
        let blocked = Cell::new(None::<Pubkey>);
        let health = obligation_health(
            &obligation.positions,
            |r| match self.usable_for(r, obligation) {
                Some(x) => Some(x),
                None => {
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
        let usable = |r: &Pubkey| {
            let e = self.find(r)?;
            e.problem.is_none().then_some(e)
        };
        let positions = self.value_positions(obligation)?;
        let Some(debt) = positions.debt else {
            return Ok(None);
        };
        let colls = positions.collaterals();
        // As `liquidate` reads them: the two reserves liquidated accrued
        // (and the collateral marked), the others projected.
        let debt_reserve = debt.entry.address;
        let liquidated = |coll: &Pubkey, r: &Pubkey| {
            let accrued = *r == debt_reserve || r == coll;
            if !accrued {
                // Dust behind an unusable oracle counts as zero.
                return self.usable_for(r, obligation);
            }
            let e = usable(r)?;
            Some((&e.liq_view, &e.price))
        };
        let Some(sizing) = size(
            &self.liquidation,
            &obligation.positions,
            &debt,
            colls,
            liquidated,
        )?
        else {
            return Ok(None);
        };
        Ok(Some(Candidate {
            obligation: *key,
            health: ratio,
            debt_reserve: debt.entry.address,
            collateral_reserve: sizing.collateral,
            repay: sizing.repay,
            expected_seize: sizing.expected_seize,
            bonus_bps: sizing.bonus_bps,
        }))
    }

    /// `obligation` with each term loan converted as `convert_term_debt`
    /// converts it now: what it owes (face, plus the penalty past maturity)
    /// as debt shares at the reserve's projected index, rounded up, in the
    /// reserve's floating debt position (found, or opened in the first free
    /// slot). A term loan in a reserve the snapshot lacks stays as it is
    /// (its valuation then fails as any unknown reserve's).
    pub fn term_converted(&self, obligation: &Obligation) -> Obligation {
        let mut out = *obligation;
        for i in 0..out.positions.len() {
            let p = out.positions[i];
            if p.kind() != PositionKind::TermDebt {
                continue;
            }
            let Some(entry) = self.find(&p.reserve) else {
                continue;
            };
            let shares = entry.view.term_debt_tokens(&p).and_then(|owed| {
                ballast::engine::shares::debt_shares_for_borrow(owed, entry.view.borrow_index)
            });
            let Ok(shares) = shares else {
                continue;
            };
            out.positions[i] = bytemuck::Zeroable::zeroed();
            if let Ok(j) = out.find_or_open(&p.reserve, PositionKind::Debt) {
                let held = out.positions[j].borrow_shares.get();
                out.positions[j]
                    .borrow_shares
                    .set(held.saturating_add(shares));
            }
        }
        out
    }

    /// The largest debt (first in slot order on a tie) and the collateral
    /// positions of `obligation`, valued at spot; every reserve must be
    /// usable.
    fn value_positions(&self, obligation: &Obligation) -> anchor_lang::Result<Positions<'_>> {
        let mut out = Positions {
            debt: None,
            colls: [None; MAX_POSITIONS],
            n_colls: 0,
        };
        for p in &obligation.positions {
            let kind = p.kind();
            if kind == PositionKind::Empty {
                continue;
            }
            let entry = self
                .find(&p.reserve)
                .ok_or(anchor_lang::error!(BallastError::HealthAccountsMismatch))?;
            if entry.problem.is_some() {
                // Dust behind an unusable oracle: valued at zero, not
                // seizable; anything else blocks.
                if kind == PositionKind::Collateral
                    && self.usable_for(&p.reserve, obligation).is_some()
                {
                    continue;
                }
                return Err(anchor_lang::error!(BallastError::HealthAccountsMismatch));
            }
            if kind == PositionKind::TermDebt {
                // Unconverted (a reserve [`Self::term_converted`] could not
                // value): not repayable by a liquidation.
                return Err(anchor_lang::error!(BallastError::TermDebtOutstanding));
            }
            if kind == PositionKind::Debt {
                let tokens = entry.view.debt_tokens(p.borrow_shares.get())?;
                let value = entry.spot.value_ceil(tokens)?;
                if out.debt.is_none_or(|d| value > d.value) {
                    out.debt = Some(Valued {
                        entry,
                        tokens,
                        value,
                    });
                }
            } else {
                let tokens = entry.view.collateral_tokens(p.deposit_shares)?;
                let value = entry.spot.value_floor(tokens)?;
                out.colls[out.n_colls] = Some(Valued {
                    entry,
                    tokens,
                    value,
                });
                out.n_colls += 1;
            }
        }
        Ok(out)
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
                Assessment::Liquidatable(c) => {
                    report.healths.push((key, c.health));
                    report.candidates.push(c)
                }
                Assessment::NotLiquidatable(n) => report.not_liquidatable.push(n),
                Assessment::NothingToSeize { health } => {
                    report.healths.push((key, health));
                    report.nothing_to_seize.push((key, health))
                }
                Assessment::Healthy { health } => report.healths.push((key, health)),
                Assessment::NoDebt => {}
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
