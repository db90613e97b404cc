//! One Monte Carlo path: prices step by step, the volatility policy, the
//! liquidators, their price impact, and what is left at the horizon.
//!
//! Each step (1 h by default):
//!
//! The liquidators (capacity, order, impact, profitability) are the shared
//! [`crate::liquidators::LiquidatorModel`], the replay's too.
//!
//! 1. The price model draws the step's log returns ([`PathPrices::next`]).
//!    Each asset's price moves by them and by the **impact** of the
//!    collateral liquidators sold during the previous step: a log price drop
//!    of `k * sigma_day * sqrt(V / depth)` for `V` USD sold against a daily
//!    depth `depth` (the square-root law of market impact: Almgren, Thum,
//!    Hauptmann and Li, "Direct estimation of equity market impact", 2005;
//!    Toth et al., "Anomalous price impact and the critical nature of
//!    liquidity", 2011; `sigma_day` is the step's model volatility scaled to
//!    a day). The impact is permanent, so sales deepen the next step's drop
//!    and cascades can happen.
//! 2. **Policy.** Static: each asset's configured liquidation threshold.
//!    Dynamic: the keeper's EWMA (`lambda = 0.94` per step, annualised) of
//!    the path's own returns, turned into a target by the program's
//!    [`RiskConfig::derive`] and moved toward it by at most the configured
//!    steps, the result checked by the program's [`RiskConfig::step`]. At
//!    the start the dynamic parameters are those of the model's current
//!    volatility ([`converged_params`]).
//! 3. **Scan.** Every obligation's Maintenance health `sum(tokens * price *
//!    LT) / debt` (struct of arrays, `f64`; the debt's borrow factor is 1,
//!    a stablecoin). Those below 1 are liquidated lowest health first while
//!    the liquidators' USD capacity for the step lasts, each piece taken
//!    only when it is profitable to them (`SimConfig::profit`).
//! 4. **Liquidation** follows the program's rules with its own functions:
//!    the bonus is [`LiquidationConfig::bonus_bps`] (`I80F48`, the
//!    strict-improvement cap included), the allowance the larger of
//!    [`LiquidationConfig::max_repay`] (close factor, or all below health
//!    0.95 or at dust) and the repay that restores health to 1, capped by the
//!    collateral position; the liquidator takes the largest collateral that
//!    can improve health. An insolvent obligation (collateral worth no more
//!    than its debt) is closed out at the uncapped bonus and its remaining
//!    debt written off as bad debt. Amounts are `f64` (a path visits 10^4
//!    obligations 168 times; `I80F48` arithmetic on each would be two orders
//!    slower) and are not rounded to base units: an error of under a
//!    micro-USD per liquidation against dollars of bad debt.
//!
//! **Term loans** ([`Book::term_face`]) are valued as the program's health
//! values them: at their face until maturity, then at the face grown by
//! the penalty APR fixed in the loan (`ballast::engine::term::owed`,
//! [`term_owed`]); nobody repays or converts a loan that stays healthy, so
//! a path past a loan's maturity charges it the penalty from maturity on.
//! An obligation the liquidators take has its term loan converted first,
//! as the keeper's liquidation transaction does (`convert_term_debt`): the
//! owed amount at that step becomes floating debt, liquidated (and written
//! off) as any. A term-only obligation before its maturity is therefore
//! the floating obligation whose debt is the face.
//!
//! At the horizon, debt above its obligation's collateral value at spot
//! (insolvent, not yet liquidated; a term loan at what it owes then) counts
//! as bad debt too: the report's loss is the debt the protocol cannot
//! recover at the horizon's prices. Floating debt does not accrue interest
//! and no obligation opens or repays in a path.

use ballast::engine::fx::Fx;
use ballast::engine::risk::{RiskConfig, RiskParams};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::book::{converged_params, Book};
use super::prices::{PathPrices, PriceModel, ShockModel, SECONDS_PER_YEAR};
use crate::liquidators::{LiquidatorModel, ProfitRule, Step};

/// The keeper's EWMA decay at the step (its default on hourly candles).
pub const KEEPER_LAMBDA: f64 = 0.94;

/// Initial-health buckets of the contribution report (Maintenance health at
/// the start under the static thresholds): upper bounds, the last open.
pub const BUCKET_UPPER: [f64; 5] = [1.1, 1.25, 1.5, 2.0, f64::INFINITY];

/// The collateral policy a path runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Policy {
    /// Configured LTV / liquidation threshold.
    Static,
    /// The keeper's EWMA volatility through the program's bounded steps.
    Dynamic,
}

/// What a run simulates.
#[derive(Clone, Debug, PartialEq)]
pub struct SimConfig {
    /// Paths.
    pub paths: usize,
    /// Steps per path.
    pub steps: usize,
    /// Seconds per step.
    pub step_secs: i64,
    /// Seed: path `p` uses ChaCha8 seeded with it on stream `p`.
    pub seed: u64,
    /// How shocks are drawn.
    pub shocks: ShockModel,
    /// Correlation stress in [0, 1].
    pub corr_stress: f64,
    /// Debt liquidators repay per step, market-wide, USD.
    pub capacity_usd_per_step: f64,
    /// Square-root impact coefficient.
    pub impact_k: f64,
    /// The liquidators' profitability threshold ([`crate::liquidators`]);
    /// `None`: they take every liquidation the capacity allows.
    pub profit: Option<ProfitRule>,
    /// Keep each step's prices and debt at risk (for the fan charts).
    pub record: bool,
}

/// The outcome of one path.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PathOutcome {
    /// Bad debt, USD: written off when an insolvent obligation's collateral
    /// ran out, plus insolvent debt left at the horizon.
    pub bad_debt: f64,
    /// Debt repaid by liquidators, USD.
    pub liquidated_debt: f64,
    /// Face of the term loans converted (before their liquidation), USD.
    pub term_converted_face: f64,
    /// What those loans owed when converted (the face, plus the penalty
    /// past maturity), USD: floating debt from then on.
    pub term_converted_debt: f64,
    /// Bonus borrowers paid to liquidators, USD.
    pub bonus_paid: f64,
    /// Bad debt by collateral asset (each obligation's bad debt split by its
    /// collateral's value shares at the start), USD.
    pub bad_debt_by_asset: Vec<f64>,
    /// Bad debt by initial-health bucket ([`BUCKET_UPPER`]), USD.
    pub bad_debt_by_bucket: [f64; 5],
    /// Prices at the horizon, USD.
    pub terminal_prices: Vec<f64>,
    /// Largest debt below the Maintenance requirement after a step's
    /// liquidations, USD.
    pub peak_debt_at_risk: f64,
    /// Debt outstanding at the horizon, USD.
    pub terminal_debt: f64,
    /// Borrowing power at the horizon (collateral x LTV in force), USD.
    pub terminal_borrowing_power: f64,
    /// Liquid debt-asset at the horizon over the stressed outflow of the
    /// deposits left (`None` without a stressed outflow).
    pub liquidity_coverage: Option<f64>,
    /// Per step (0..=steps): each asset's price (row-major, `record` only).
    #[serde(skip)]
    pub price_path: Vec<f32>,
    /// Per step (1..=steps): debt below the Maintenance requirement after
    /// the step's liquidations, USD (`record` only).
    #[serde(skip)]
    pub debt_at_risk_path: Vec<f32>,
}

/// The bounded move of a dynamic reserve's parameters from `old` toward
/// `target`: the liquidation threshold and borrow factor by at most
/// `max_lt_step_bps`, the LTV loosening by at most `max_ltv_step_bps`
/// (tightening at once), accepted by the program's [`RiskConfig::step`]
/// (`old` kept if it refused).
pub fn bounded_step(cfg: &RiskConfig, old: RiskParams, target: RiskParams) -> RiskParams {
    let s = cfg.max_lt_step_bps as i64;
    let lt = (target.liquidation_threshold_bps as i64).clamp(
        old.liquidation_threshold_bps as i64 - s,
        old.liquidation_threshold_bps as i64 + s,
    );
    let bf = (target.borrow_factor_bps as i64).clamp(
        old.borrow_factor_bps as i64 - s,
        old.borrow_factor_bps as i64 + s,
    );
    let ltv = target
        .ltv_bps
        .min(old.ltv_bps.saturating_add(cfg.max_ltv_step_bps));
    let t = RiskParams {
        ltv_bps: ltv,
        liquidation_threshold_bps: lt as u16,
        borrow_factor_bps: bf as u32,
    };
    cfg.step(old, t).unwrap_or(old)
}

/// What a term loan of `face` USD maturing at `maturity` (seconds from the
/// book's start) with a penalty of `penalty_bps` a year owes at `t`
/// (seconds from the start): its face until maturity, then the face times
/// the program's own growth `ballast::engine::term::owed(1e12, ..) / 1e12`
/// (continuous compounding over a 365-day year; the program rounds up, a
/// relative 1e-12 here). 0 for `face` 0.
pub fn term_owed(face: f64, maturity: i64, penalty_bps: u16, t: i64) -> f64 {
    if face <= 0.0 || t <= maturity || penalty_bps == 0 {
        return face;
    }
    const UNIT: u64 = 1_000_000_000_000;
    let owed = ballast::engine::term::owed(UNIT, maturity, penalty_bps, t)
        .map(|x| x.to_num::<f64>())
        .unwrap_or(f64::INFINITY);
    face * owed / UNIT as f64
}

/// Each obligation's initial-health bucket (static thresholds).
pub fn buckets(book: &Book) -> Vec<u8> {
    (0..book.len())
        .map(|i| {
            let w: f64 = (0..book.assets.len())
                .map(|a| {
                    book.collateral[a][i]
                        * book.assets[a].price
                        * book.assets[a].static_params.liquidation_threshold_bps as f64
                        / 1e4
                })
                .sum();
            let d = book.debt_at_start(i);
            let h = if d > 0.0 { w / d } else { f64::INFINITY };
            BUCKET_UPPER.iter().position(|u| h < *u).unwrap_or(4) as u8
        })
        .collect()
}

struct State<'a> {
    book: &'a Book,
    bucket: &'a [u8],
    s: Vec<f64>,
    lt: Vec<f64>,
    q: Vec<Vec<f64>>,
    d: Vec<f64>,
    /// Face of each unconverted term loan, USD (0: none, or converted).
    tf: Vec<f64>,
    /// Seconds since the path's start.
    t: i64,
    model: LiquidatorModel,
    liq: Step,
    sigma_day: Vec<f64>,
    out: PathOutcome,
}

impl State<'_> {
    /// Obligation `i`'s unconverted term loan at the current time, USD.
    fn term(&self, i: usize) -> f64 {
        if self.tf[i] <= 0.0 {
            return 0.0;
        }
        term_owed(
            self.tf[i],
            self.book.term_maturity_secs[i],
            self.book.term_penalty_bps[i],
            self.t,
        )
    }

    /// Converts obligation `i`'s term loan into floating debt of what it
    /// owes now (`convert_term_debt`, sent before the liquidation).
    fn convert(&mut self, i: usize) {
        if self.tf[i] > 0.0 {
            let owed = self.term(i);
            self.d[i] += owed;
            self.out.term_converted_face += self.tf[i];
            self.out.term_converted_debt += owed;
            self.tf[i] = 0.0;
        }
    }

    fn write_off(&mut self, i: usize, amount: f64) {
        if amount <= 0.0 {
            return;
        }
        self.out.bad_debt += amount;
        self.out.bad_debt_by_bucket[self.bucket[i] as usize] += amount;
        let b = self.book;
        let v0 = b.collateral_value(i, &b.assets.iter().map(|a| a.price).collect::<Vec<_>>());
        for a in 0..b.assets.len() {
            let share = if v0 > 0.0 {
                b.collateral[a][i] * b.assets[a].price / v0
            } else {
                1.0 / b.assets.len() as f64
            };
            self.out.bad_debt_by_asset[a] += amount * share;
        }
    }

    /// Liquidates obligation `i` (module doc, step 4) within the capacity.
    fn liquidate(&mut self, i: usize) {
        let n = self.s.len();
        let liq = self.book.liquidation;
        for _ in 0..=n {
            let d = self.d[i] + self.term(i);
            if d <= 0.0 || self.liq.capacity_left <= 0.0 {
                return;
            }
            let mut v = 0.0;
            let mut w = 0.0;
            for a in 0..n {
                let c = self.q[a][i] * self.s[a];
                v += c;
                w += c * self.lt[a];
            }
            if w >= d {
                return;
            }
            let h = w / d;
            let hfx = Fx::from_num(h);
            if v <= d {
                // Insolvent: closed out at the uncapped bonus.
                let b = liq
                    .bonus_bps(hfx, false, 0, 10_000)
                    .unwrap_or(liq.bonus_max_bps) as f64
                    / 1e4;
                let full = v / (1.0 + b);
                let repay = full.min(self.liq.capacity_left);
                let f = if full > 0.0 { repay / full } else { 1.0 };
                let sales: Vec<(usize, f64)> =
                    (0..n).map(|a| (a, f * self.q[a][i] * self.s[a])).collect();
                if !self
                    .model
                    .profitable(&self.liq, repay, b, &sales, &self.sigma_day)
                {
                    self.liq.unprofitable.push(i);
                    return;
                }
                self.convert(i);
                for (a, usd) in sales {
                    self.liq.sold_usd[a] += usd;
                    self.q[a][i] *= 1.0 - f;
                }
                self.d[i] -= repay;
                self.liq.capacity_left -= repay;
                self.out.liquidated_debt += repay;
                self.out.bonus_paid += repay * b;
                if f >= 1.0 {
                    for a in 0..n {
                        self.q[a][i] = 0.0;
                    }
                    let rest = self.d[i];
                    self.d[i] = 0.0;
                    self.write_off(i, rest);
                }
                return;
            }
            // Solvent: the largest collateral whose bonus improves health.
            let mut pick: Option<(usize, f64)> = None;
            for a in 0..n {
                let c = self.q[a][i] * self.s[a];
                if c <= 0.0 || pick.is_some_and(|(_, pc)| pc >= c) {
                    continue;
                }
                let lt_bps = (self.lt[a] * 1e4).round() as u16;
                if let Ok(bps) = liq.bonus_bps(hfx, true, lt_bps, 10_000) {
                    pick = Some((a, c));
                    let _ = bps;
                }
            }
            let Some((a, c)) = pick else { return };
            let lt_bps = (self.lt[a] * 1e4).round() as u16;
            let b = liq.bonus_bps(hfx, true, lt_bps, 10_000).unwrap_or(0) as f64 / 1e4;
            let dmu = Fx::from_num(d * 1e6);
            let max = liq
                .max_repay(dmu, dmu, hfx)
                .map(|x| x.to_num::<f64>() / 1e6)
                .unwrap_or(d);
            let denom = 1.0 - (1.0 + b) * self.lt[a];
            let restore = if denom > 0.0 { (d - w) / denom } else { d };
            let mut repay = max.max(restore).min(d);
            if repay * (1.0 + b) > c {
                repay = c / (1.0 + b);
            }
            repay = repay.min(self.liq.capacity_left);
            if repay <= 0.0 {
                return;
            }
            let seized = repay * (1.0 + b);
            if !self
                .model
                .profitable(&self.liq, repay, b, &[(a, seized)], &self.sigma_day)
            {
                self.liq.unprofitable.push(i);
                return;
            }
            self.convert(i);
            self.q[a][i] = (self.q[a][i] - seized / self.s[a]).max(0.0);
            self.liq.sold_usd[a] += seized;
            self.d[i] -= repay;
            self.liq.capacity_left -= repay;
            self.out.liquidated_debt += repay;
            self.out.bonus_paid += repay * b;
        }
    }
}

/// Runs path `path` of `cfg` on `book` under `policy` (module doc). The
/// model's assets are the book's, in order. Deterministic in (`cfg.seed`,
/// `path`): the shocks come from ChaCha8 stream `path` and do not depend on
/// the policy or the book, so runs compared on the same path index share
/// their shocks (common random numbers).
pub fn run_path(
    book: &Book,
    bucket: &[u8],
    model: &PriceModel,
    cfg: &SimConfig,
    policy: Policy,
    path: u64,
) -> PathOutcome {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    rng.set_stream(path);
    simulate(book, bucket, model, cfg, policy, |pp| {
        pp.next(model, &mut rng)
    })
}

/// A path whose log returns are given (`returns[step][asset]`, e.g. a
/// historical window): `cfg.steps` is taken as `returns.len()`; the model's
/// covariance still sets the impact's volatility and the dynamic policy's
/// starting volatility.
pub fn run_scripted(
    book: &Book,
    model: &PriceModel,
    cfg: &SimConfig,
    policy: Policy,
    returns: &[Vec<f64>],
) -> PathOutcome {
    let bucket = buckets(book);
    let cfg = SimConfig {
        steps: returns.len(),
        ..cfg.clone()
    };
    let mut k = 0;
    simulate(book, &bucket, model, &cfg, policy, |pp| {
        pp.r.copy_from_slice(&returns[k]);
        k += 1;
    })
}

fn simulate(
    book: &Book,
    bucket: &[u8],
    model: &PriceModel,
    cfg: &SimConfig,
    policy: Policy,
    mut draw: impl FnMut(&mut PathPrices),
) -> PathOutcome {
    let n = book.assets.len();
    let m = book.len();
    assert_eq!(model.n(), n, "the model's assets are the book's");
    let mut pp = PathPrices::new(model, cfg.step_secs, cfg.shocks, cfg.corr_stress);
    let year_steps = SECONDS_PER_YEAR / cfg.step_secs as f64;
    let day_steps = 86_400.0 / cfg.step_secs as f64;
    let mut params: Vec<RiskParams> = Vec::with_capacity(n);
    let mut keeper_var = Vec::with_capacity(n);
    for (a, asset) in book.assets.iter().enumerate() {
        let sigma = model.sigma_annual(a);
        keeper_var.push(sigma * sigma);
        params.push(match (policy, &asset.dynamic) {
            (Policy::Dynamic, Some(c)) => converged_params(c, sigma).unwrap_or(asset.static_params),
            _ => asset.static_params,
        });
    }
    let model = LiquidatorModel {
        capacity_usd_per_step: cfg.capacity_usd_per_step,
        impact_k: cfg.impact_k,
        depth_usd: book.assets.iter().map(|a| a.depth_usd).collect(),
        profit: cfg.profit,
    };
    let mut st = State {
        book,
        bucket,
        s: book.assets.iter().map(|a| a.price).collect(),
        lt: params
            .iter()
            .map(|p| p.liquidation_threshold_bps as f64 / 1e4)
            .collect(),
        q: book.collateral.clone(),
        d: book.debt.clone(),
        tf: book.term_face.clone(),
        t: 0,
        liq: model.step(),
        model,
        sigma_day: vec![0.0; n],
        out: PathOutcome {
            bad_debt: 0.0,
            liquidated_debt: 0.0,
            term_converted_face: 0.0,
            term_converted_debt: 0.0,
            bonus_paid: 0.0,
            bad_debt_by_asset: vec![0.0; n],
            bad_debt_by_bucket: [0.0; 5],
            terminal_prices: Vec::new(),
            peak_debt_at_risk: 0.0,
            terminal_debt: 0.0,
            terminal_borrowing_power: 0.0,
            liquidity_coverage: None,
            price_path: Vec::new(),
            debt_at_risk_path: Vec::new(),
        },
    };
    if cfg.record {
        st.out.price_path.extend(st.s.iter().map(|&x| x as f32));
    }
    let mut w = vec![0.0; m];
    // Each obligation's debt at the step: floating plus unconverted term.
    let mut debt = st.d.clone();
    let mut cand: Vec<(f64, usize)> = Vec::new();
    for step in 0..cfg.steps {
        st.t = (step as i64 + 1) * cfg.step_secs;
        draw(&mut pp);
        for a in 0..n {
            st.sigma_day[a] = (pp.var_step(a) * day_steps).sqrt();
            let impact = st.model.impact(a, st.liq.sold_usd[a], st.sigma_day[a]);
            let ret = pp.r[a] - impact;
            st.s[a] *= ret.exp();
            keeper_var[a] =
                KEEPER_LAMBDA * keeper_var[a] + (1.0 - KEEPER_LAMBDA) * ret * ret * year_steps;
            if policy == Policy::Dynamic {
                if let Some(c) = &book.assets[a].dynamic {
                    if let Ok(target) = converged_params(c, keeper_var[a].sqrt()) {
                        params[a] = bounded_step(c, params[a], target);
                        st.lt[a] = params[a].liquidation_threshold_bps as f64 / 1e4;
                    }
                }
            }
        }
        // Scan (struct of arrays: one pass per asset, then the compare).
        w.iter_mut().for_each(|x| *x = 0.0);
        for a in 0..n {
            let c = st.s[a] * st.lt[a];
            for (wi, qi) in w.iter_mut().zip(&st.q[a]) {
                *wi += qi * c;
            }
        }
        for (i, x) in debt.iter_mut().enumerate() {
            *x = st.d[i] + st.term(i);
        }
        cand.clear();
        for (i, (wi, di)) in w.iter().zip(&debt).enumerate() {
            if *wi < *di {
                cand.push((wi / di, i));
            }
        }
        LiquidatorModel::order(&mut cand);
        st.liq = st.model.step();
        for &(_, i) in &cand {
            if st.liq.capacity_left <= 0.0 {
                break;
            }
            st.liquidate(i);
        }
        let mut at_risk = 0.0;
        for &(_, i) in &cand {
            let wi: f64 = (0..n).map(|a| st.q[a][i] * st.s[a] * st.lt[a]).sum();
            let di = st.d[i] + st.term(i);
            if wi < di {
                at_risk += di;
            }
        }
        st.out.peak_debt_at_risk = st.out.peak_debt_at_risk.max(at_risk);
        if cfg.record {
            st.out.price_path.extend(st.s.iter().map(|&x| x as f32));
            st.out.debt_at_risk_path.push(at_risk as f32);
        }
    }
    // The horizon: insolvent debt left is bad debt.
    let mut power = 0.0;
    for i in 0..m {
        let mut v = 0.0;
        for (a, p) in params.iter().enumerate() {
            let c = st.q[a][i] * st.s[a];
            v += c;
            power += c * p.ltv_bps as f64 / 1e4;
        }
        let di = st.d[i] + st.term(i);
        if di > v {
            st.write_off(i, di - v);
        }
    }
    let debt0 = book.total_debt_at_start();
    st.out.terminal_debt = (0..m).map(|i| st.d[i] + st.term(i)).sum();
    st.out.terminal_borrowing_power = power;
    st.out.terminal_prices = st.s.clone();
    st.out.liquidity_coverage = (book.stress_outflow_bps > 0).then(|| {
        let liquid = book.debt_deposits_usd - debt0 + st.out.liquidated_debt;
        let deposits = (book.debt_deposits_usd - st.out.bad_debt).max(0.0);
        liquid / (deposits * book.stress_outflow_bps as f64 / 1e4)
    });
    st.out
}
