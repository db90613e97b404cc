//! # Ballast's margin engine in WebAssembly
//!
//! The numbers a UI shows, computed by the program's own code
//! (`ballast::engine`, `ballast::state`) from the same bytes the chain
//! reads: reserve and obligation account data, Pyth `PriceUpdateV2`
//! account data, and the chain's unix time. Nothing is re-implemented:
//!
//! * health under both requirements ([`MarketState::health`]): the
//!   program's `obligation_health` over reserves projected to `now`
//!   (`Reserve::view_for`) and prices validated as the program validates
//!   them (`oracle::read_price_fields` + `engine::oracle::validate_price`);
//! * max borrow and max withdraw ([`MarketState::max_borrow`],
//!   [`MarketState::max_withdraw`]): the largest amount the instruction
//!   would accept, found by bisection over a simulation that applies the
//!   handler's own steps (accrual, caps, liquidity, outflow limiter, max
//!   utilisation, share math, the Initial requirement);
//! * the liquidation price of a collateral ([`MarketState::liquidation_price`]):
//!   the lowest oracle price (in the oracle's own integer units) at which the
//!   obligation meets its Maintenance requirement, by bisection over the
//!   program's health;
//! * a liquidation preview ([`MarketState::liquidation_preview`]): the
//!   program's own `plan_liquidation`, which `liquidate` books as it is.
//!
//! Limits: withdrawals are simulated without the treasury (a reserve with
//! shares deployed to its strategy is marked on chain first; the recall of
//! a shortfall is not simulated), and the market's pause flag is not read.
#![deny(missing_docs)]

use anchor_lang::prelude::Pubkey;
use anchor_lang::Discriminator;
use ballast::engine::fx::*;
use ballast::engine::health::{obligation_health, Health, Requirement, ReserveView};
use ballast::engine::liquidation::plan_liquidation;
use ballast::engine::oracle::OraclePrice;
use ballast::engine::rates::utilization;
use ballast::engine::shares::{debt_shares_for_borrow, shares_for_withdraw_ceil};
use ballast::state::{Market, Obligation, PositionKind, Reserve};
use wasm_bindgen::prelude::*;

/// Decodes a zero-copy account's data (8-byte discriminator first).
fn decode<T: bytemuck::Pod + Discriminator>(data: &[u8], what: &str) -> Result<T, JsError> {
    let size = core::mem::size_of::<T>();
    if data.len() < 8 + size || data[..8] != *T::DISCRIMINATOR {
        return Err(JsError::new(&format!(
            "not a Ballast {what} account ({} bytes)",
            data.len()
        )));
    }
    Ok(bytemuck::pod_read_unaligned(&data[8..8 + size]))
}

fn key(bytes: &[u8]) -> Result<Pubkey, JsError> {
    <[u8; 32]>::try_from(bytes)
        .map(Pubkey::new_from_array)
        .map_err(|_| JsError::new("an address is 32 bytes"))
}

fn js(e: anchor_lang::error::Error) -> JsError {
    JsError::new(&e.to_string())
}

/// Health of an obligation under one requirement. Values are I80F48 raw
/// bits (`to_bits()`) as decimal strings, exact: the TS layer turns them
/// into fixed-point values.
#[wasm_bindgen(getter_with_clone)]
pub struct HealthReport {
    /// Weighted collateral (rounded down), micro-USD.
    pub collateral: String,
    /// Weighted debt (rounded up), micro-USD.
    pub debt: String,
    /// `collateral / debt` (rounded down); empty without debt.
    pub ratio: String,
    /// Whether the requirement holds (`debt <= collateral`).
    pub satisfied: bool,
}

impl From<Health> for HealthReport {
    fn from(h: Health) -> Self {
        Self {
            collateral: h.collateral.to_bits().to_string(),
            debt: h.debt.to_bits().to_string(),
            ratio: h
                .ratio()
                .map(|r| r.to_bits().to_string())
                .unwrap_or_default(),
            satisfied: h.is_satisfied(),
        }
    }
}

/// What a liquidation would move (the program's `LiquidationPlan`): token
/// amounts in base units, the bonus in bps, the health before as I80F48 bits.
#[wasm_bindgen(getter_with_clone)]
pub struct LiquidationPreview {
    /// Debt tokens the liquidator pays.
    pub repay: u64,
    /// Collateral tokens taken from the position (the liquidator's and the
    /// insurance's).
    pub seize: u64,
    /// Collateral tokens to the liquidator (`seize - protocol_cut`).
    pub to_liquidator: u64,
    /// The protocol's share of the bonus, to the insurance vault.
    pub protocol_cut: u64,
    /// The bonus, bps of the repaid value.
    pub bonus_bps: u16,
    /// Maintenance health before, I80F48 bits.
    pub health_before: String,
}

/// The market, reserves and oracle accounts at one unix time.
#[wasm_bindgen]
pub struct MarketState {
    now: i64,
    market: Option<Market>,
    reserves: Vec<(Pubkey, Reserve)>,
    oracles: Vec<(Pubkey, Vec<u8>)>,
}

#[wasm_bindgen]
impl MarketState {
    /// An empty state at unix time `now` (seconds: the chain's clock).
    #[wasm_bindgen(constructor)]
    pub fn new(now: i64) -> MarketState {
        MarketState {
            now,
            market: None,
            reserves: Vec::new(),
            oracles: Vec::new(),
        }
    }

    /// Sets the market (its account data: the liquidation parameters).
    #[wasm_bindgen(js_name = setMarket)]
    pub fn set_market(&mut self, data: &[u8]) -> Result<(), JsError> {
        self.market = Some(decode(data, "market")?);
        Ok(())
    }

    /// What `liquidate` would do now with `max_repay` (base units;
    /// `u64::MAX`: as much as allowed) of the debt in `debt_reserve`,
    /// seizing from `collateral_reserve`: the program's `plan_liquidation`.
    /// Errors as the instruction's (`ObligationHealthy`, ...).
    #[wasm_bindgen(js_name = liquidationPreview)]
    pub fn liquidation_preview(
        &self,
        obligation: &[u8],
        debt_reserve: &[u8],
        collateral_reserve: &[u8],
        max_repay: u64,
    ) -> Result<LiquidationPreview, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        let m = self
            .market
            .as_ref()
            .ok_or_else(|| JsError::new("setMarket first"))?;
        let loaded = self.loaded(&o, None).map_err(js)?;
        let plan = plan_liquidation(
            &m.liquidation,
            &o.positions,
            &key(debt_reserve)?,
            &key(collateral_reserve)?,
            |k| {
                loaded
                    .iter()
                    .find(|(a, _, _)| a == k)
                    .map(|(_, v, p)| (v, p))
            },
            max_repay,
        )
        .map_err(js)?;
        Ok(LiquidationPreview {
            repay: plan.repay,
            seize: plan.seize,
            to_liquidator: plan.to_liquidator().map_err(js)?,
            protocol_cut: plan.protocol_cut,
            bonus_bps: plan.bonus_bps,
            health_before: plan.health_before.to_bits().to_string(),
        })
    }

    /// Adds a reserve: its address and account data.
    #[wasm_bindgen(js_name = addReserve)]
    pub fn add_reserve(&mut self, address: &[u8], data: &[u8]) -> Result<(), JsError> {
        let r: Reserve = decode(data, "reserve")?;
        self.reserves.push((key(address)?, r));
        Ok(())
    }

    /// Adds an oracle account: its address and data (a `PriceUpdateV2`).
    #[wasm_bindgen(js_name = addOracle)]
    pub fn add_oracle(&mut self, address: &[u8], data: &[u8]) -> Result<(), JsError> {
        self.oracles.push((key(address)?, data.to_vec()));
        Ok(())
    }

    /// Health of `obligation` (account data) under the Initial requirement
    /// (LTV, assets at the low price and debt at the high one: what gates
    /// borrow and withdraw).
    #[wasm_bindgen(js_name = healthInitial)]
    pub fn health_initial(&self, obligation: &[u8]) -> Result<HealthReport, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        Ok(self
            .health(&o, Requirement::Initial, None)
            .map_err(js)?
            .into())
    }

    /// Health under the Maintenance requirement (liquidation threshold, spot
    /// prices: below 1 the obligation can be liquidated).
    #[wasm_bindgen(js_name = healthMaintenance)]
    pub fn health_maintenance(&self, obligation: &[u8]) -> Result<HealthReport, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        Ok(self
            .health(&o, Requirement::Maintenance, None)
            .map_err(js)?
            .into())
    }

    /// Borrowing power left: Initial weighted collateral minus weighted debt,
    /// micro-USD, I80F48 bits (negative when the Initial requirement is not met).
    #[wasm_bindgen(js_name = borrowingPower)]
    pub fn borrowing_power(&self, obligation: &[u8]) -> Result<String, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        let h = self.health(&o, Requirement::Initial, None).map_err(js)?;
        Ok(h.collateral.sub_(h.debt).map_err(js)?.to_bits().to_string())
    }

    /// The largest `amount` (base units) `borrow` from `reserve` would accept
    /// for `obligation` now; 0 when none.
    #[wasm_bindgen(js_name = maxBorrow)]
    pub fn max_borrow(&self, obligation: &[u8], reserve: &[u8]) -> Result<u64, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        let k = key(reserve)?;
        let available = self.reserve(&k)?.available_amount;
        Ok(largest(available, |a| self.borrow_ok(&o, &k, a)))
    }

    /// The largest `amount` (base units) `withdraw` from `reserve` would
    /// accept for `obligation` now; 0 when none.
    #[wasm_bindgen(js_name = maxWithdraw)]
    pub fn max_withdraw(&self, obligation: &[u8], reserve: &[u8]) -> Result<u64, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        let k = key(reserve)?;
        let available = self.reserve(&k)?.available_amount;
        Ok(largest(available, |a| self.withdraw_ok(&o, &k, a)))
    }

    /// The liquidation price of `collateral` (a reserve of the obligation):
    /// the lowest price, in the oracle's integer units (`price * 10^exponent`
    /// USD, spot and EMA set to it, confidence kept), at which the
    /// obligation meets its Maintenance requirement. One unit below it the
    /// obligation can be liquidated; at it and above it cannot (other prices
    /// fixed). 0 when no positive price makes it liquidatable; an error when
    /// no price up to 2^62 makes it healthy.
    #[wasm_bindgen(js_name = liquidationPrice)]
    pub fn liquidation_price(&self, obligation: &[u8], collateral: &[u8]) -> Result<i64, JsError> {
        let o: Obligation = decode(obligation, "obligation")?;
        let k = key(collateral)?;
        let r = self.reserve(&k)?;
        let base = self.price(r).map_err(js)?;
        let healthy = |p: i64| -> bool {
            let price = OraclePrice {
                price: p,
                ema_price: p,
                ..base
            };
            self.health(&o, Requirement::Maintenance, Some((&k, None, Some(price))))
                .map(|h| h.is_satisfied())
                .unwrap_or(false)
        };
        if healthy(1) {
            return Ok(0);
        }
        let hi = 1i64 << 62;
        if !healthy(hi) {
            return Err(JsError::new("no price makes the obligation healthy"));
        }
        // healthy(lo) false, healthy(hi) true.
        let (mut lo, mut hi) = (1i64, hi);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if healthy(mid) {
                hi = mid
            } else {
                lo = mid
            }
        }
        Ok(hi)
    }
}

/// The largest `a` in `1..=upper` with `ok(a)`, assuming `ok` holds below
/// some bound and fails above it; 0 if `ok(1)` fails.
fn largest(upper: u64, ok: impl Fn(u64) -> bool) -> u64 {
    if upper == 0 || !ok(1) {
        return 0;
    }
    if ok(upper) {
        return upper;
    }
    let (mut lo, mut hi) = (1u64, upper);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            lo = mid
        } else {
            hi = mid
        }
    }
    lo
}

/// A reserve replaced for one computation, and/or its price.
type Override<'a> = (&'a Pubkey, Option<&'a Reserve>, Option<OraclePrice>);

impl MarketState {
    fn reserve(&self, k: &Pubkey) -> Result<&Reserve, JsError> {
        self.reserves
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, r)| r)
            .ok_or_else(|| JsError::new(&format!("reserve {k} not added")))
    }

    /// The reserve's oracle price, checked as the program checks it.
    fn price(&self, r: &Reserve) -> anchor_lang::Result<OraclePrice> {
        let data = self
            .oracles
            .iter()
            .find(|(a, _)| *a == r.oracle)
            .map(|(_, d)| d)
            .ok_or_else(|| {
                anchor_lang::error!(ballast::errors::BallastError::OracleAccountMismatch)
            })?;
        let update = ballast::runtime::oracle_account::read_price_fields(data)?;
        ballast::engine::oracle::validate_price(
            &update,
            &ballast::runtime::oracle_account::limits(r),
            self.now,
        )
    }

    /// The program's health computation over this state, with one reserve
    /// (and/or its price) replaced.
    fn health(
        &self,
        o: &Obligation,
        req: Requirement,
        ov: Option<Override>,
    ) -> anchor_lang::Result<Health> {
        let loaded = self.loaded(o, ov)?;
        obligation_health(
            &o.positions,
            |k| {
                loaded
                    .iter()
                    .find(|(a, _, _)| a == k)
                    .map(|(_, v, p)| (v, p))
            },
            req,
        )
    }

    /// The (view, price) of every reserve of the obligation, as the health
    /// accounts give them on chain.
    fn loaded(
        &self,
        o: &Obligation,
        ov: Option<Override>,
    ) -> anchor_lang::Result<Vec<(Pubkey, ReserveView, OraclePrice)>> {
        let (keys, kinds, n) = o.health_reserves_with_kinds();
        let mut loaded: Vec<(Pubkey, ReserveView, OraclePrice)> = Vec::with_capacity(n);
        for i in 0..n {
            let k = keys[i];
            let (r_over, p_over) = match ov {
                Some((ok, r, p)) if *ok == k => (r, p),
                _ => (None, None),
            };
            let r = match r_over {
                Some(r) => r,
                None => self.reserve(&k).map_err(|_| {
                    anchor_lang::error!(ballast::errors::BallastError::HealthReserveInvalid)
                })?,
            };
            let price = match p_over {
                Some(p) => p,
                None => self.price(r)?,
            };
            let mut view = r.view_for(self.now, kinds[i] & 1 != 0, kinds[i] & 2 != 0)?;
            // As the program's health checks: deployed treasury shares at
            // the lower of book and their value at the strategy's rate
            // (when the snapshot holds the strategy reserve).
            let t = &r.treasury;
            if kinds[i] & 1 != 0 && t.deployed_shares > 0 {
                if let Ok(s) = self.reserve(&t.strategy_reserve) {
                    let mut s = *s;
                    s.accrue_interest(self.now)?;
                    let marked = ballast::engine::treasury::shares_value(&s, t.deployed_shares)?;
                    view.supply = ballast::engine::treasury::health_supply(
                        view.supply,
                        t.deployed_amount,
                        marked,
                    )?;
                }
            }
            loaded.push((k, view, price));
        }
        Ok(loaded)
    }

    /// `borrow`'s handler steps on copies (instructions/borrow.rs).
    fn borrow_ok(&self, o: &Obligation, k: &Pubkey, amount: u64) -> bool {
        let run = || -> anchor_lang::Result<bool> {
            let mut r = *self.reserve(k).map_err(|_| {
                anchor_lang::error!(ballast::errors::BallastError::HealthReserveInvalid)
            })?;
            r.accrue_interest(self.now)?;
            let borrowed_after = r.borrowed()?.add_(fx_u64(amount))?;
            if borrowed_after > fx_u64(r.config.borrow_cap) || amount > r.available_amount {
                return Ok(false);
            }
            let limits = r.config.liquidity;
            r.outflow.record(&limits, self.now, amount)?;
            if utilization(borrowed_after, r.supply()?)?
                > fx_bps_floor(r.config.max_utilization_bps as u64)?
            {
                return Ok(false);
            }
            let shares = debt_shares_for_borrow(amount, r.borrow_index.get())?;
            r.borrow_shares.set(r.borrow_shares.get().add_(shares)?);
            r.available_amount -= amount;
            let mut o = *o;
            let i = o.find_or_open(k, PositionKind::Debt)?;
            let held = o.positions[i].borrow_shares.get().add_(shares)?;
            o.positions[i].borrow_shares.set(held);
            Ok(self
                .health(&o, Requirement::Initial, Some((k, Some(&r), None)))?
                .is_satisfied())
        };
        amount > 0 && run().unwrap_or(false)
    }

    /// `withdraw`'s handler steps on copies (instructions/withdraw.rs),
    /// without the treasury.
    fn withdraw_ok(&self, o: &Obligation, k: &Pubkey, amount: u64) -> bool {
        let run = || -> anchor_lang::Result<bool> {
            let mut r = *self.reserve(k).map_err(|_| {
                anchor_lang::error!(ballast::errors::BallastError::HealthReserveInvalid)
            })?;
            r.accrue_interest(self.now)?;
            let Some(i) = o.find(k, PositionKind::Collateral) else {
                return Ok(false);
            };
            let held = o.positions[i].deposit_shares;
            let shares = shares_for_withdraw_ceil(amount, r.supply()?, r.deposit_shares)?;
            if shares > held || amount > r.available_amount {
                return Ok(false);
            }
            let limits = r.config.liquidity;
            r.outflow.record(&limits, self.now, amount)?;
            r.available_amount -= amount;
            r.deposit_shares -= shares;
            let mut o = *o;
            o.positions[i].deposit_shares -= shares;
            if !o.has_debt() {
                return Ok(true);
            }
            Ok(self
                .health(&o, Requirement::Initial, Some((k, Some(&r), None)))?
                .is_satisfied())
        };
        amount > 0 && run().unwrap_or(false)
    }
}
