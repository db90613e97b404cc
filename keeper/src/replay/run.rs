//! One replay run: deploys the program into a fresh embedded chain, applies
//! the market under one policy, creates the population, then walks the
//! window step by step, running the keeper's tick at each.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::engine::fx::FxExt;
use ballast::state::{Obligation, PositionKind, Reserve};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::model::{
    candle_path, ema_step, supplier_income_usd, time_weighted_mean, LiquidatorSettings,
    OracleModel, Population, Window, DEFAULT_CAPACITY_SHARE_PER_HOUR, DEFAULT_DEPTH_USD,
    STEPS_PER_CANDLE, TARGET_UTILIZATION,
};
use super::report::{RunResult, RunSummary, StepRecord};
use crate::accounts::{decode_obligation, PythPrice};
use crate::chain::embedded::EmbeddedChain;
use crate::chain::Chain;
use crate::ix;
use crate::keeper_loop::{Keeper, KeeperConfig, TickReport};
use crate::liquidators::{LiquidatorModel, Offer, Step};
use crate::market::{
    apply, provision_embedded, DeployedReserve, Deployment, MarketDef, PolicyChoice, PolicyName,
};
use crate::scan::{Assessment, Candidate, MarketSnapshot};
use crate::tasks::liquidation::Liquidator;
use crate::volatility::candles::format_ts;

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The collateral policy.
    pub policy: PolicyName,
    /// The liquidators ([`crate::liquidators`]): USD capacity, impact,
    /// profitability.
    pub liquidators: LiquidatorSettings,
    /// The oracle model.
    pub oracle: OracleModel,
    /// The keeper's settings.
    pub keeper: KeeperConfig,
    /// The program's sBPF build.
    pub so_path: PathBuf,
    /// A keeper outage: unix times `[start, end)` during which the keeper
    /// pushes no volatility (its other tasks and the liquidator go on).
    /// Liquidations from `start` until the first push after the outage are
    /// checked against the last pushed values (see
    /// [`RunSummary::outage_healthy_liquidated`]).
    pub outage: Option<(i64, i64)>,
    /// The book builds up over the window: borrower `i` of `n` opens its
    /// position at step `floor(i * steps / n)` at the price, EMA and LTV
    /// then in force (collateral of `collateral_usd` at that price), instead
    /// of all at the first price. Suppliers still deposit at the start, for
    /// the debt the population would take at the first price.
    pub arrivals: bool,
    /// Share of the borrowers, in [0, 1], that borrow at term
    /// (`borrow_term`) instead of floating: each borrower is drawn by
    /// [`term_choice`] from its own key seed, so the population and its
    /// amounts are those of the floating-only run; a term borrower owes as
    /// face the amount its floating twin borrows (the same health: the
    /// program values term debt at its face) and receives its zero-coupon
    /// price. Needs the debt reserve's `[reserves.term]`.
    pub term_share: f64,
}

/// Whether borrower `b` borrows at term when a `share` of the population
/// does, and at which of `tenors` tenors (index into the debt reserve's
/// term configuration): ChaCha8 seeded with the borrower's key seed, on
/// stream 1, draws `u` and `k` uniform in [0, 1); at term when `u < share`,
/// at tenor `floor(k * tenors)`. Deterministic in the population's seed,
/// and independent of everything else the replay draws.
pub fn term_choice(b: &crate::replay::BorrowerSpec, share: f64, tenors: usize) -> Option<u8> {
    use rand::{Rng, SeedableRng};
    if share <= 0.0 || tenors == 0 {
        return None;
    }
    let mut rng = rand_chacha::ChaCha8Rng::from_seed(b.key_seed);
    rng.set_stream(1);
    let (u, k) = (rng.gen::<f64>(), rng.gen::<f64>());
    (u < share).then(|| ((k * tenors as f64) as usize).min(tenors - 1) as u8)
}

/// A term loan the population opened, followed to the end of the run.
#[derive(Clone, Copy, Debug, Default)]
struct TermTrack {
    face: u64,
    principal: u64,
    maturity: i64,
    penalty_bps: u16,
    /// When `convert_term_debt` went through (seen on chain after a
    /// step), with the debt it booked (the program's `owed` then).
    converted: Option<(i64, u64)>,
    /// Debt repaid by liquidations of the obligation after (or with) its
    /// conversion, base units.
    liquidated_units: u128,
    liquidated: bool,
    /// Debt of the obligation socialised after its conversion, base units.
    bad_debt_units: u128,
}

/// A borrower that opened its position during the window (`--arrivals`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Arrival {
    /// When, unix seconds.
    pub ts: i64,
    /// The collateral reserve's LTV in force then, bps.
    pub ltv_bps: u16,
    /// The collateral price then, USD.
    pub price: f64,
    /// Collateral deposited, USD at `price`.
    pub collateral_usd: f64,
    /// The borrower's drawn share of its borrowing power.
    pub borrow_share: f64,
    /// Debt taken, USD (0 when the program refused the borrow).
    pub debt_usd: f64,
}

/// One step's outcome, for callers that check invariants as it goes.
#[derive(Debug)]
pub struct StepOutcome {
    /// The recorded state.
    pub record: StepRecord,
    /// What the keeper did.
    pub tick: TickReport,
}

/// A run in progress: the chain, the keeper and the accumulated metrics.
pub struct Replay {
    /// The embedded chain of this run.
    pub chain: EmbeddedChain,
    /// The keeper.
    pub keeper: Keeper,
    /// The market's accounts.
    pub deployment: Deployment,
    /// The collateral reserve (the replayed price).
    pub collateral: DeployedReserve,
    /// The borrowed reserve.
    pub debt: DeployedReserve,
    /// Every obligation the population opened (borrowers, then suppliers).
    pub obligations: Vec<Address>,
    opts: ReplayOptions,
    debt_price: f64,
    conf_bps: [f64; 2],
    window: Window,
    population_size: usize,
    next: usize,
    ema: f64,
    last_ts: i64,
    liq_model: LiquidatorModel,
    capacity_usd_per_hour: f64,
    cum_impact: f64,
    /// The market's variance for the impact (annualised): an EWMA of the
    /// written candle closes, the replay's own (a keeper outage does not
    /// freeze it). `last_close`: the previous candle's written close.
    impact_var: f64,
    last_close: f64,
    liabilities_start: u64,
    /// Tenors the debt reserve offers (0: term loans off).
    term_tenors: usize,
    /// With arrivals: the borrowers not yet opened, (step, borrower).
    pending: std::collections::VecDeque<(usize, crate::replay::BorrowerSpec)>,
    started: Instant,
    acc: Accumulator,
    series: Vec<StepRecord>,
}

/// Debt of the population at one step, USD (see [`Replay::exposure`]).
#[derive(Clone, Copy, Debug, Default)]
struct Exposure {
    at_risk: f64,
    total: f64,
    shortfall: f64,
}

#[derive(Clone, Debug, Default)]
struct Accumulator {
    initial_debt_units: u64,
    liquidations: usize,
    bonus_usd: f64,
    /// Obligations a liquidator skipped as unprofitable, with their debt
    /// (USD) when last skipped.
    unprofitable: std::collections::BTreeMap<Address, f64>,
    liquidated_units: u128,
    bad_debt_units: u128,
    written_off_units: u128,
    pushes: usize,
    max_debt_at_risk: f64,
    /// Obligations whose liquidation or socialisation the program refused,
    /// with their debt (base units) at the last refusal and its message.
    unrecoverable: std::collections::BTreeMap<Address, (f64, String)>,
    outage_liquidations: usize,
    outage_healthy_liquidated: usize,
    outage_healthy_by_hour: Vec<usize>,
    outage_over: bool,
    arrivals: Vec<Arrival>,
    /// Arrivals whose deposit and borrow the program refused, with the
    /// message of the last.
    arrivals_refused: usize,
    last_arrival_refusal: Option<String>,
    /// The term loans opened, by obligation.
    term: std::collections::BTreeMap<Address, TermTrack>,
}

impl Replay {
    /// Deploys the program into a fresh embedded chain at the window's first
    /// candle, applies `def` under `opts.policy`, backfills the keeper with
    /// the warm-up closes, runs a first tick (so the dynamic policy has its
    /// first push in force), then creates the population.
    pub fn new(
        def: &MarketDef,
        window: &Window,
        population: &Population,
        opts: ReplayOptions,
    ) -> Result<Self> {
        let started = Instant::now();
        let rp = def
            .replay
            .clone()
            .ok_or_else(|| anyhow!("the market definition has no [replay] section"))?;
        let t0 = window.candles[0].ts;
        let p0 = window.candles[0].open;
        let mut chain = EmbeddedChain::new(&opts.so_path).with_context(|| {
            format!(
                "starting the embedded chain with {}",
                opts.so_path.display()
            )
        })?;
        // Signatures are not what the replay measures: skip their checks
        // (the program still sees every signer flag).
        chain.svm = std::mem::take(&mut chain.svm).with_sigverify(false);
        chain.set_time(t0);

        let admin = chain.payer.insecure_clone();
        let market_kp = Keypair::new_from_array(population.market_seed);
        let deployment = provision_embedded(&mut chain, def, market_kp.pubkey())
            .context("creating the market's mints and oracles")?;
        let choice = match opts.policy {
            PolicyName::Static => PolicyChoice::Static,
            PolicyName::Dynamic => PolicyChoice::Dynamic,
        };
        apply(
            &mut chain,
            &admin,
            Some(&market_kp),
            def,
            &deployment,
            choice,
        )
        .context("applying the market definition")?;
        let collateral = deployment
            .reserve(&rp.collateral)
            .cloned()
            .ok_or_else(|| anyhow!("no reserve {}", rp.collateral))?;
        let debt = deployment
            .reserve(&rp.debt)
            .cloned()
            .ok_or_else(|| anyhow!("no reserve {}", rp.debt))?;
        let max_conf = |s: &str| {
            def.reserve(s)
                .map(|r| r.oracle_max_conf_bps as f64 / 2.0)
                .unwrap_or(0.0)
        };
        let conf_bps = [
            opts.oracle.conf_bps.min(max_conf(&rp.collateral)),
            opts.oracle.conf_bps.min(max_conf(&rp.debt)),
        ];

        let term_tenors = def
            .reserve(&rp.debt)
            .map(|r| r.term_config())
            .transpose()?
            .map_or(0, |c| c.tenors_secs.iter().filter(|t| **t > 0).count());
        if !(0.0..=1.0).contains(&opts.term_share) {
            bail!("the term share {} must be in [0, 1]", opts.term_share);
        }
        if opts.term_share > 0.0 && term_tenors == 0 {
            bail!(
                "a term share needs a [reserves.term] section in the debt reserve {}",
                rp.debt
            );
        }
        let liquidator_kp = Keypair::new_from_array(population.liquidator_seed);
        let keeper = Keeper::new(deployment.market, admin.insecure_clone(), None, opts.keeper);
        let mut replay = Self {
            chain,
            keeper,
            deployment,
            collateral,
            debt,
            obligations: vec![],
            debt_price: rp.debt_price_usd,
            conf_bps,
            window: window.clone(),
            population_size: population.borrowers.len(),
            next: 0,
            ema: p0,
            last_ts: t0,
            liq_model: LiquidatorModel {
                capacity_usd_per_step: 0.0,
                impact_k: opts.liquidators.impact_k.or(rp.impact_k).unwrap_or(1.0),
                depth_usd: vec![opts
                    .liquidators
                    .depth_usd
                    .or(rp.depth_usd)
                    .unwrap_or(DEFAULT_DEPTH_USD)],
                profit: opts.liquidators.profit,
            },
            capacity_usd_per_hour: 0.0,
            term_tenors,
            cum_impact: 0.0,
            impact_var: 0.0,
            last_close: p0,
            liabilities_start: 0,
            pending: Default::default(),
            started,
            acc: Accumulator::default(),
            series: vec![],
            opts,
        };
        replay.write_prices(t0, p0)?;
        let history: Vec<(i64, f64)> = window
            .warmup
            .iter()
            .map(|c| (c.ts + window.period_secs, c.close))
            .filter(|(ts, _)| *ts <= t0)
            .collect();
        let coll_reserve = replay.collateral.keys.reserve;
        replay
            .keeper
            .seed_history(&coll_reserve, &history)
            .context("backfilling the keeper's price history")?;
        let first = replay
            .keeper
            .tick(&mut replay.chain, 0)
            .context("the keeper's first tick")?;
        replay.acc.pushes += first.pushes.len();
        // The impact's volatility starts at the keeper's backfilled
        // estimate.
        replay.impact_var = replay.keeper.sigma(&coll_reserve).unwrap_or(0.0).powi(2);

        let planned = replay.plan_debt(population)?;
        let total: u64 = planned.iter().sum();
        replay.fund_suppliers(population, total)?;
        let liquidator = replay.fund_liquidator(liquidator_kp, total)?;
        replay.keeper.liquidator = Some(liquidator);
        if replay.opts.arrivals {
            let (n, steps) = (population.borrowers.len(), replay.total_steps());
            replay.pending = population
                .borrowers
                .iter()
                .enumerate()
                .map(|(i, b)| (i * steps / n.max(1), *b))
                .collect();
        } else {
            let p0 = replay.window.candles[0].open;
            let pairs: Vec<_> = population.borrowers.iter().copied().zip(planned).collect();
            replay.open_borrowers(&pairs, p0, 0)?;
        }
        replay.acc.initial_debt_units = total;
        let debt_usd = replay.usd_per_unit(replay.debt.decimals, replay.debt_price) * total as f64;
        replay.capacity_usd_per_hour = replay
            .opts
            .liquidators
            .capacity_usd_per_hour
            .unwrap_or(debt_usd * DEFAULT_CAPACITY_SHARE_PER_HOUR);
        replay.liq_model.capacity_usd_per_step = replay.capacity_usd_per_hour
            * (replay.window.period_secs / STEPS_PER_CANDLE as i64) as f64
            / 3_600.0;
        replay.liabilities_start = replay.balance_sheet()?.liabilities;
        Ok(replay)
    }

    /// Steps in the window.
    pub fn total_steps(&self) -> usize {
        self.window.candles.len() * STEPS_PER_CANDLE
    }

    /// Whether every step was walked.
    pub fn done(&self) -> bool {
        self.next >= self.total_steps()
    }

    /// The collateral and debt prices in USD and their mints' decimals.
    fn usd_per_unit(&self, decimals: u8, price: f64) -> f64 {
        price / 10f64.powi(decimals as i32)
    }

    fn write_prices(&mut self, ts: i64, price: f64) -> Result<()> {
        let dt = (ts - self.last_ts) as f64;
        self.ema = ema_step(self.ema, price, dt, self.opts.oracle.ema_half_life_secs);
        self.last_ts = ts;
        let mut p = PythPrice::usd(self.collateral.feed_id, price, ts);
        p.ema_price = (self.ema * 1e8).round() as i64;
        p.conf = (p.price as f64 * self.conf_bps[0] / 1e4).floor() as u64;
        p.ema_conf = (p.ema_price as f64 * self.conf_bps[0] / 1e4).floor() as u64;
        self.chain
            .set_pyth_price(&self.collateral.keys.oracle, &p)
            .context("writing the collateral oracle")?;
        let mut d = PythPrice::usd(self.debt.feed_id, self.debt_price, ts);
        d.conf = (d.price as f64 * self.conf_bps[1] / 1e4).floor() as u64;
        d.ema_conf = d.conf;
        self.chain
            .set_pyth_price(&self.debt.keys.oracle, &d)
            .context("writing the debt oracle")?;
        Ok(())
    }

    fn reserve_state(&self, r: &DeployedReserve) -> Result<Reserve> {
        self.chain
            .zero_copy::<Reserve>(&r.keys.reserve)
            .with_context(|| format!("reading reserve {}", r.symbol))
    }

    /// Each borrower's debt, base units of the debt mint: its drawn share of
    /// the borrowing power under the Initial requirement at the first
    /// price (collateral at min(spot, EMA) - conf times the LTV in force,
    /// debt at spot + conf times its borrow factor).
    fn plan_debt(&self, population: &Population) -> Result<Vec<u64>> {
        self.plan_debt_at(&population.borrowers, self.window.candles[0].open)
    }

    /// Each borrower's debt at collateral `price` now: see [`plan_debt`].
    fn plan_debt_at(
        &self,
        borrowers: &[crate::replay::BorrowerSpec],
        price: f64,
    ) -> Result<Vec<u64>> {
        let now = self.chain.clock().unix_timestamp;
        let coll = self.reserve_state(&self.collateral)?;
        let debt = self.reserve_state(&self.debt)?;
        let (rc, rd) = (coll.risk_params(now), debt.risk_params(now));
        let asset_price = price.min(self.ema) * (1.0 - self.conf_bps[0] / 1e4);
        let debt_price = self.debt_price * (1.0 + self.conf_bps[1] / 1e4);
        Ok(borrowers
            .iter()
            .map(|b| {
                let tokens = (b.collateral_usd / price * 1e9).floor() / 1e9;
                let power_usd = tokens * asset_price * rc.ltv_bps as f64
                    / 1e4
                    / (rd.borrow_factor_bps as f64 / 1e4);
                let units =
                    power_usd * b.borrow_share / debt_price * 10f64.powi(self.debt.decimals as i32);
                units.floor() as u64
            })
            .collect())
    }

    fn collateral_units(&self, usd: f64, price: f64) -> u64 {
        (usd / price * 10f64.powi(self.collateral.decimals as i32)).floor() as u64
    }

    fn fund_suppliers(&mut self, population: &Population, planned_debt: u64) -> Result<()> {
        let n = population.supplier_seeds.len().max(1) as u64;
        let each = ((planned_debt as f64 / TARGET_UTILIZATION) as u64 / n).max(1);
        let d = self.debt.keys;
        let payer = self.chain.payer.pubkey();
        for (i, seed) in population.supplier_seeds.iter().enumerate() {
            let user = Keypair::new_from_array(*seed);
            let ta = self.chain.create_token_account(&d.mint, &user.pubkey())?;
            self.chain.mint_to(&d.mint, &ta, each)?;
            let ob = ix::obligation_address(&d.market, &user.pubkey(), 0);
            self.chain
                .send_ok(
                    &[
                        ix::init_obligation(&payer, &user.pubkey(), &d.market, 0),
                        ix::deposit(&user.pubkey(), &d, &ob, &ta, each),
                    ],
                    &[&user],
                )
                .with_context(|| format!("supplier {i} deposit"))?;
            self.obligations.push(ob);
        }
        Ok(())
    }

    fn fund_liquidator(&mut self, kp: Keypair, planned_debt: u64) -> Result<Liquidator> {
        let (c, d) = (self.collateral.keys, self.debt.keys);
        let debt_ta = self.chain.create_token_account(&d.mint, &kp.pubkey())?;
        self.chain
            .mint_to(&d.mint, &debt_ta, planned_debt.saturating_mul(2).max(1))?;
        let coll_ta = self.chain.create_token_account(&c.mint, &kp.pubkey())?;
        Ok(Liquidator {
            keypair: kp,
            token_accounts: [(d.mint, debt_ta), (c.mint, coll_ta)].into_iter().collect(),
            obligation: None,
        })
    }

    /// Opens `borrowers` (spec, debt units) with collateral worth their
    /// `collateral_usd` at `price`; `first` numbers them in messages.
    fn open_borrowers(
        &mut self,
        borrowers: &[(crate::replay::BorrowerSpec, u64)],
        price: f64,
        first: usize,
    ) -> Result<()> {
        let (c, d) = (self.collateral.keys, self.debt.keys);
        let payer = self.chain.payer.pubkey();
        // The replay's reserves have no treasury strategy.
        let oracle_of = |r: &Address| {
            let oracle = if *r == c.reserve { c.oracle } else { d.oracle };
            (oracle, Address::default())
        };
        for (k, (b, amount)) in borrowers.iter().enumerate() {
            let i = first + k;
            let user = Keypair::new_from_array(b.key_seed);
            let coll_units = self.collateral_units(b.collateral_usd, price);
            let coll_ta = self.chain.create_token_account(&c.mint, &user.pubkey())?;
            self.chain.mint_to(&c.mint, &coll_ta, coll_units)?;
            let debt_ta = self.chain.create_token_account(&d.mint, &user.pubkey())?;
            let ob = ix::obligation_address(&d.market, &user.pubkey(), 0);
            let mut after: Obligation = bytemuck::Zeroable::zeroed();
            after
                .find_or_open(&c.reserve, PositionKind::Collateral)
                .map_err(|e| anyhow!("{e}"))?;
            let health = ix::health_accounts(&after, Some(&d.reserve), oracle_of);
            let mut ixs = vec![
                ix::init_obligation(&payer, &user.pubkey(), &d.market, 0),
                ix::deposit(&user.pubkey(), &c, &ob, &coll_ta, coll_units),
            ];
            let term = term_choice(b, self.opts.term_share, self.term_tenors);
            match term {
                _ if *amount == 0 => {}
                // The face is the floating twin's amount; any price the
                // program quotes is accepted (min_proceeds 1).
                Some(k) => ixs.push(ix::borrow_term(
                    &user.pubkey(),
                    &d,
                    &ob,
                    &debt_ta,
                    k,
                    *amount,
                    1,
                    health,
                )),
                None => ixs.push(ix::borrow(
                    &user.pubkey(),
                    &d,
                    &ob,
                    &debt_ta,
                    *amount,
                    health,
                )),
            }
            let how = if term.is_some() {
                "borrow_term face"
            } else {
                "borrow"
            };
            self.chain.send_ok(&ixs, &[&user]).with_context(|| {
                format!(
                    "borrower {i}: deposit {coll_units} collateral units, {how} {amount} debt units"
                )
            })?;
            self.obligations.push(ob);
            if term.is_some() && *amount > 0 {
                let o: Obligation = self.chain.zero_copy(&ob)?;
                let t = o
                    .find(&d.reserve, PositionKind::TermDebt)
                    .map(|j| o.positions[j].term())
                    .ok_or_else(|| anyhow!("borrower {i}: no term position after borrow_term"))?;
                self.acc.term.insert(
                    ob,
                    TermTrack {
                        face: t.face,
                        principal: t.principal,
                        maturity: t.maturity,
                        penalty_bps: t.penalty_bps,
                        ..Default::default()
                    },
                );
            }
        }
        Ok(())
    }

    /// Walks the next step: sets the clock, writes the oracles, runs the
    /// keeper's tick and records the state. `Ok(None)` when the window is
    /// done. A liquidation or socialisation that did not go through (or an
    /// obligation the keeper could not assess) does not stop the run: the
    /// obligation's debt is counted as unrecoverable
    /// ([`RunSummary::unrecoverable_debt_usd`], the last refusal's message in
    /// [`RunSummary::unrecoverable`]) and the replay goes on, as a market
    /// would. Any other keeper failure (a rebalance) is an error.
    pub fn step(&mut self) -> Result<Option<StepOutcome>> {
        if self.done() {
            return Ok(None);
        }
        let (ci, si) = (self.next / STEPS_PER_CANDLE, self.next % STEPS_PER_CANDLE);
        let candle = self.window.candles[ci];
        let point = candle_path(&candle, self.window.period_secs)[si];
        let ts = candle.ts + point.offset_secs;
        // The historical price lowered by the liquidators' sales so far
        // (permanent impact).
        let price = point.price * (-self.cum_impact).exp();
        let n = self.next;
        let at = || format!("step {n} ({}, price {price})", format_ts(ts));
        self.chain.set_time(ts);
        self.write_prices(ts, price).with_context(at)?;
        self.open_arrivals(n, ts, price).with_context(at)?;
        let in_outage = self.opts.outage.is_some_and(|(a, b)| ts >= a && ts < b);
        self.keeper.pushes_paused = in_outage;
        // From the outage's start until the first push after it: the
        // obligations healthy under the last pushed values.
        let watched = match self.opts.outage {
            Some((a, _)) if ts >= a && !self.acc.outage_over => {
                Some(self.healthy_under_last_push(ts).with_context(at)?)
            }
            _ => None,
        };
        // The market's daily volatility before this step's sales.
        let sigma_day = self.sigma_day();
        let mut liq_step = self.liq_model.step();
        let model = &self.liq_model;
        let mut offered: Vec<(Address, f64)> = vec![];
        let tick = self
            .keeper
            .tick_with(&mut self.chain, &mut |snap, cands| {
                let (chosen, offers) = select(model, &mut liq_step, snap, cands, sigma_day);
                offered = cands
                    .iter()
                    .zip(&offers)
                    .map(|(c, o)| (c.obligation, o.repay_usd))
                    .collect();
                chosen
            })
            .with_context(at)?;
        for &i in &liq_step.unprofitable {
            let (o, _) = offered[i];
            let debt = self.debt_units(&o).with_context(at)?
                * self.usd_per_unit(self.debt.decimals, self.debt_price);
            self.acc.unprofitable.insert(o, debt);
        }
        let mut refused: Vec<(Address, String)> = vec![];
        if let Some(l) = &tick.liquidation {
            refused.extend(l.failed.iter().chain(&l.blocked).cloned());
        }
        refused.extend(tick.bad_debt.failed.iter().map(|(o, _, m)| (*o, m.clone())));
        for (o, m) in refused {
            let debt = self.debt_units(&o).with_context(at)?;
            self.acc
                .unrecoverable
                .insert(o, (debt, format!("{}: {m}", at())));
        }
        let fatal: Vec<String> = tick
            .failures()
            .into_iter()
            .filter(|f| f.starts_with("rebalance"))
            .collect();
        if !fatal.is_empty() {
            bail!("{}: {}", at(), fatal.join("; "));
        }
        let mut sold_usd = 0.0;
        if let Some(l) = &tick.liquidation {
            self.acc.liquidations += l.liquidated.len();
            self.acc.bonus_usd += l.seized_usd - l.liquidated_usd;
            sold_usd = l.seized_usd;
            self.acc.liquidated_units += l.liquidated.iter().map(|x| x.1 as u128).sum::<u128>();
        }
        let in_liquidations = tick.liquidation.iter().flat_map(|l| &l.written_off);
        for s in tick.bad_debt.socialized.iter().chain(in_liquidations) {
            self.acc.bad_debt_units += s.debt as u128;
            self.acc.written_off_units += s.written_off as u128;
        }
        self.track_term(ts, &tick).with_context(at)?;
        if let Some(healthy) = &watched {
            if let Some(l) = &tick.liquidation {
                self.acc.outage_liquidations += l.liquidated.len();
                let n = l
                    .liquidated
                    .iter()
                    .filter(|x| healthy.contains(&x.0))
                    .count();
                self.acc.outage_healthy_liquidated += n;
                if n > 0 {
                    let start = self.opts.outage.map_or(ts, |(a, _)| a);
                    let hour = usize::try_from((ts - start) / 3600).unwrap_or(0);
                    let by_hour = &mut self.acc.outage_healthy_by_hour;
                    if by_hour.len() <= hour {
                        by_hour.resize(hour + 1, 0);
                    }
                    by_hour[hour] += n;
                }
            }
            if !in_outage && !tick.pushes.is_empty() {
                self.acc.outage_over = true;
            }
        }
        self.acc.pushes += tick.pushes.len();
        // The seized collateral is sold this step: the next steps' prices
        // fall by the square-root law.
        self.cum_impact += self.liq_model.impact(0, sold_usd, sigma_day);
        if si == STEPS_PER_CANDLE - 1 {
            self.update_impact_var(price);
        }
        let mut record = self.record(ts, price).with_context(at)?;
        record.impact_sigma_day = sigma_day;
        record.historical_price = point.price;
        record.sold_usd = sold_usd;
        record.cum_impact = self.cum_impact;
        self.acc.max_debt_at_risk = self.acc.max_debt_at_risk.max(record.debt_at_risk_usd);
        self.series.push(record);
        self.next += 1;
        Ok(Some(StepOutcome { record, tick }))
    }

    /// Follows the term loans after a step's tick: a loan whose position is
    /// gone was converted (by the liquidation or write-off the keeper sent
    /// with `convert_term_debt` first) at `ts`, booking the program's
    /// `owed` then; the step's liquidations and socialisations of converted
    /// obligations are counted against them.
    fn track_term(&mut self, ts: i64, tick: &TickReport) -> Result<()> {
        if self.acc.term.is_empty() {
            return Ok(());
        }
        let reserve = self.debt.keys.reserve;
        let open: Vec<Address> = self
            .acc
            .term
            .iter()
            .filter(|(_, t)| t.converted.is_none())
            .map(|(k, _)| *k)
            .collect();
        for k in open {
            let o: Obligation = self.chain.zero_copy(&k)?;
            if o.find(&reserve, PositionKind::TermDebt).is_none() {
                let t = self.acc.term.get_mut(&k).expect("listed");
                let owed = ballast::engine::term::owed(t.face, t.maturity, t.penalty_bps, ts)?
                    .to_ceil_u64()?;
                t.converted = Some((ts, owed));
            }
        }
        if let Some(l) = &tick.liquidation {
            for (o, repaid, _) in &l.liquidated {
                if let Some(t) = self.acc.term.get_mut(o).filter(|t| t.converted.is_some()) {
                    t.liquidated = true;
                    t.liquidated_units += *repaid as u128;
                }
            }
        }
        let in_liquidations = tick.liquidation.iter().flat_map(|l| &l.written_off);
        for s in tick.bad_debt.socialized.iter().chain(in_liquidations) {
            if let Some(t) = self.acc.term.get_mut(&s.obligation) {
                t.bad_debt_units += s.debt as u128;
            }
        }
        Ok(())
    }

    /// The obligations that are not liquidatable at `ts` when the values
    /// the collateral reserve's last push set are in force (its
    /// `last_push_ts` moved to `ts`, so neither staleness nor decay applies).
    fn healthy_under_last_push(&self, ts: i64) -> Result<std::collections::HashSet<Address>> {
        use crate::accounts::{load_market, load_oracles, load_reserves};
        let market = &self.deployment.market;
        let market_state = load_market(&self.chain, market)?;
        let mut reserves = load_reserves(&self.chain, market)?;
        let oracles = load_oracles(&self.chain, &reserves)?;
        for (k, r) in &mut reserves {
            if *k == self.collateral.keys.reserve && r.risk.last_push_ts != 0 {
                r.risk.last_push_ts = ts;
            }
        }
        let snap = MarketSnapshot::new(*market, &market_state, &reserves, &oracles, ts);
        let mut healthy = std::collections::HashSet::new();
        for o in &self.obligations {
            let Some(ob) = self
                .chain
                .account_data(o)?
                .as_deref()
                .and_then(decode_obligation)
            else {
                continue;
            };
            if snap.score(o, &ob).is_none() {
                healthy.insert(*o);
            }
        }
        Ok(healthy)
    }

    fn record(&mut self, ts: i64, price: f64) -> Result<StepRecord> {
        let snapshot = MarketSnapshot::load(&self.chain, &self.deployment.market, ts)?;
        let usd_per_debt_unit = self.usd_per_unit(self.debt.decimals, self.debt_price);
        let exposure = self.exposure(&snapshot, price, usd_per_debt_unit)?;
        let coll = snapshot
            .reserve(&self.collateral.keys.reserve)
            .map(|r| r.risk_params(ts))
            .ok_or_else(|| anyhow!("collateral reserve missing"))?;
        let sheet = self.balance_sheet()?;
        let coverage = (sheet.liquidity_coverage_bps != u32::MAX)
            .then_some(sheet.liquidity_coverage_bps as f64 / 1e4);
        Ok(StepRecord {
            ts,
            price,
            sigma: self.keeper.sigma(&self.collateral.keys.reserve),
            ltv_bps: coll.ltv_bps,
            lt_bps: coll.liquidation_threshold_bps,
            debt_at_risk_usd: exposure.at_risk,
            total_debt_usd: exposure.total,
            shortfall_usd: exposure.shortfall,
            bad_debt_usd: self.acc.bad_debt_units as f64 * usd_per_debt_unit,
            utilization_bps: sheet.utilization_bps,
            liquidity_coverage: coverage,
            historical_price: price,
            sold_usd: 0.0,
            cum_impact: self.cum_impact,
            impact_sigma_day: 0.0,
        })
    }

    /// With arrivals: opens the borrowers due at step `n` at `price` and
    /// the LTV in force (see [`ReplayOptions::arrivals`]); a refused one is
    /// counted and the walk goes on.
    fn open_arrivals(&mut self, n: usize, ts: i64, price: f64) -> Result<()> {
        let mut due = vec![];
        while self.pending.front().is_some_and(|(s, _)| *s <= n) {
            due.extend(self.pending.pop_front().map(|(_, b)| b));
        }
        if due.is_empty() {
            return Ok(());
        }
        let planned = self.plan_debt_at(&due, price)?;
        let ltv_bps = self
            .reserve_state(&self.collateral)?
            .risk_params(ts)
            .ltv_bps;
        let usd = self.usd_per_unit(self.debt.decimals, self.debt_price);
        for (b, amount) in due.into_iter().zip(planned) {
            let first = self.acc.arrivals.len();
            let debt_usd = match self.open_borrowers(&[(b, amount)], price, first) {
                Ok(()) => amount as f64 * usd,
                Err(e) => {
                    self.acc.arrivals_refused += 1;
                    self.acc.last_arrival_refusal = Some(format!("{e:#}"));
                    0.0
                }
            };
            self.acc.arrivals.push(Arrival {
                ts,
                ltv_bps,
                price,
                collateral_usd: b.collateral_usd,
                borrow_share: b.borrow_share,
                debt_usd,
            });
        }
        Ok(())
    }

    /// The borrowers that opened during the window so far (`arrivals`).
    pub fn arrivals(&self) -> &[Arrival] {
        &self.acc.arrivals
    }

    /// The market's volatility the impact is scaled by, as a daily
    /// fraction: `sqrt(impact_var * day / year)` (the estimator's 365-day
    /// year).
    pub fn sigma_day(&self) -> f64 {
        use crate::volatility::estimators::SECONDS_PER_YEAR;
        (self.impact_var * 86_400.0 / SECONDS_PER_YEAR).sqrt()
    }

    /// The impact's EWMA at a candle's close `close` (the written price):
    /// RiskMetrics, `lambda` = [`IMPACT_LAMBDA`] per candle, the squared log
    /// return from the previous close annualised by the candle period.
    fn update_impact_var(&mut self, close: f64) {
        use crate::volatility::estimators::SECONDS_PER_YEAR;
        if self.last_close > 0.0 && close > 0.0 {
            let r = (close / self.last_close).ln();
            let per_year = SECONDS_PER_YEAR / self.window.period_secs as f64;
            self.impact_var =
                IMPACT_LAMBDA * self.impact_var + (1.0 - IMPACT_LAMBDA) * r * r * per_year;
        }
        self.last_close = close;
    }

    /// The liquidators' USD capacity per hour this run resolved to.
    pub fn capacity_usd_per_hour(&self) -> f64 {
        self.capacity_usd_per_hour
    }

    /// The liquidator model of this run (capacity per step resolved).
    pub fn liquidator_model(&self) -> &LiquidatorModel {
        &self.liq_model
    }

    /// The population's debt, USD, at the snapshot's time and the collateral
    /// `price`: in total, below the Maintenance requirement, and not covered
    /// by collateral.
    fn exposure(
        &self,
        snapshot: &MarketSnapshot,
        price: f64,
        usd_per_debt_unit: f64,
    ) -> Result<Exposure> {
        let ts = snapshot.now();
        let debt_reserve = snapshot
            .reserve(&self.debt.keys.reserve)
            .ok_or_else(|| anyhow!("debt reserve missing"))?;
        let index = debt_reserve
            .projected_borrow_index(ts)
            .map_err(|e| anyhow!("{e}"))?;
        let coll_view = snapshot
            .reserve(&self.collateral.keys.reserve)
            .ok_or_else(|| anyhow!("collateral reserve missing"))
            .and_then(|r| r.view(ts).map_err(|e| anyhow!("{e}")))?;
        let usd_per_coll_unit = self.usd_per_unit(self.collateral.decimals, price);
        let mut out = Exposure::default();
        // Sorted, so that the float sums do not depend on the backend's
        // account order.
        let mut obligations = self
            .chain
            .ballast_accounts::<Obligation>(&self.deployment.market)?;
        obligations.sort_unstable_by_key(|(k, _)| *k);
        for (key, data) in obligations {
            let Some(ob) = decode_obligation(&data) else {
                continue;
            };
            let (mut debt_units, mut coll_units) = (0.0, 0.0);
            for p in &ob.positions {
                if p.kind() == PositionKind::Debt && p.reserve == self.debt.keys.reserve {
                    debt_units += (p.borrow_shares.get() * index).to_num::<f64>();
                } else if p.kind() == PositionKind::TermDebt && p.reserve == self.debt.keys.reserve
                {
                    debt_units += term_owed_units(p, ts)?;
                } else if p.kind() == PositionKind::Collateral
                    && p.reserve == self.collateral.keys.reserve
                {
                    coll_units += coll_view
                        .collateral_tokens(p.deposit_shares)
                        .map_err(|e| anyhow!("{e}"))?
                        .to_num::<f64>();
                }
            }
            let usd = debt_units * usd_per_debt_unit;
            out.total += usd;
            out.shortfall += (usd - coll_units * usd_per_coll_unit).max(0.0);
            if matches!(
                snapshot.assess(&key, &ob),
                Assessment::Liquidatable(_) | Assessment::NothingToSeize { .. }
            ) {
                out.at_risk += usd;
            }
        }
        Ok(out)
    }

    /// The debt obligation `o` owes the debt reserve now, base units
    /// (floating debt, and a term loan at what it owes: its face, plus the
    /// penalty past maturity).
    fn debt_units(&self, o: &Address) -> Result<f64> {
        let now = self.chain.clock().unix_timestamp;
        let index = self
            .reserve_state(&self.debt)?
            .projected_borrow_index(now)
            .map_err(|e| anyhow!("{e}"))?;
        let Some(ob) = self.chain.zero_copy::<Obligation>(o).ok() else {
            return Ok(0.0);
        };
        let mut units = 0.0;
        for p in ob
            .positions
            .iter()
            .filter(|p| p.reserve == self.debt.keys.reserve)
        {
            match p.kind() {
                PositionKind::Debt => units += (p.borrow_shares.get() * index).to_num::<f64>(),
                PositionKind::TermDebt => units += term_owed_units(p, now)?,
                _ => {}
            }
        }
        Ok(units)
    }

    /// The debt reserve's balance sheet at the chain's clock, computed by the
    /// program's own [`ballast::engine::balance_sheet::balance_sheet`] from
    /// the reserve, its strategy reserve (accrued to now on a copy) and its
    /// insurance vault, read from the chain: what the `balance_sheet`
    /// instruction returns, without a transaction per step.
    pub fn balance_sheet(&self) -> Result<BalanceSheet> {
        let now = self.chain.clock().unix_timestamp;
        let keys = self.debt.keys;
        let reserve = self.reserve_state(&self.debt)?;
        let strategy = if reserve.treasury.has_strategy() {
            let mut s = self
                .chain
                .zero_copy::<Reserve>(&reserve.treasury.strategy_reserve)
                .context("reading the strategy reserve")?;
            s.accrue_interest(now)?;
            Some(s)
        } else {
            None
        };
        let insurance = self.chain.token_balance(&keys.insurance_vault)?;
        let paused = self
            .chain
            .zero_copy::<ballast::state::Market>(&keys.market)
            .context("reading the market")?
            .paused;
        Ok(ballast::engine::balance_sheet::balance_sheet(
            keys.reserve,
            &reserve,
            strategy.as_ref(),
            insurance,
            paused,
            now,
        )?)
    }

    /// The term loans' summary at the chain's clock (`None` without term
    /// loans).
    fn term_summary(&self, usd: f64) -> Option<super::report::TermSummary> {
        let t = &self.acc.term;
        if t.is_empty() {
            return None;
        }
        let now = self.chain.clock().unix_timestamp;
        let sum = |f: &dyn Fn(&TermTrack) -> u128| t.values().map(f).sum::<u128>() as f64 * usd;
        let open = |x: &TermTrack| x.converted.is_none();
        Some(super::report::TermSummary {
            loans: t.len(),
            face_usd: sum(&|x| x.face as u128),
            proceeds_usd: sum(&|x| x.principal as u128),
            face_outstanding_usd: sum(&|x| if open(x) { x.face as u128 } else { 0 }),
            matured_unconverted: t.values().filter(|x| open(x) && x.maturity <= now).count(),
            converted: t.values().filter(|x| !open(x)).count(),
            converted_debt_usd: sum(&|x| x.converted.map_or(0, |c| c.1 as u128)),
            liquidated_after_conversion: t.values().filter(|x| x.liquidated).count(),
            liquidated_debt_usd: sum(&|x| x.liquidated_units),
            bad_debt_usd: sum(&|x| x.bad_debt_units),
        })
    }

    /// The summary and series so far.
    pub fn finish(self) -> RunResult {
        let s = &self.series;
        let usd = self.usd_per_unit(self.debt.decimals, self.debt_price);
        // Time weights: each step counts until the next one (the last for a
        // quarter period).
        let q = (self.window.period_secs / STEPS_PER_CANDLE as i64) as f64;
        let ts: Vec<i64> = s.iter().map(|r| r.ts).collect();
        let mean = |f: &dyn Fn(&StepRecord) -> f64| {
            time_weighted_mean(&ts, &s.iter().map(f).collect::<Vec<_>>(), q)
        };
        let liabilities_end = self.balance_sheet().map_or(0, |b| b.liabilities);
        let unprofitable_open_debt_usd: f64 = self
            .acc
            .unprofitable
            .keys()
            .map(|o| self.debt_units(o).unwrap_or(0.0) * usd)
            .sum::<f64>()
            + 0.0;
        let summary = RunSummary {
            policy: self.opts.policy,
            steps: s.len(),
            borrowers: self.population_size,
            liquidations: self.acc.liquidations,
            outage_liquidations: self.opts.outage.map(|_| self.acc.outage_liquidations),
            outage_healthy_liquidated: self.opts.outage.map(|_| self.acc.outage_healthy_liquidated),
            outage_healthy_by_hour: self
                .opts
                .outage
                .map(|_| self.acc.outage_healthy_by_hour.clone()),
            arrivals: self.opts.arrivals.then_some(self.acc.arrivals.len()),
            arrivals_refused: self.opts.arrivals.then_some(self.acc.arrivals_refused),
            liquidated_debt_usd: self.acc.liquidated_units as f64 * usd,
            bonus_paid_usd: self.acc.bonus_usd,
            debt_lent_usd: mean(&|r| r.total_debt_usd),
            supplier_income_usd: supplier_income_usd(self.liabilities_start, liabilities_end, usd),
            unprofitable_obligations: self.acc.unprofitable.len(),
            // `+ 0.0`: an empty sum is -0.0.
            unprofitable_debt_usd: self.acc.unprofitable.values().sum::<f64>() + 0.0,
            unprofitable_open_debt_usd,
            final_impact: 1.0 - (-self.cum_impact).exp(),
            bad_debt_usd: self.acc.bad_debt_units as f64 * usd,
            written_off_usd: self.acc.written_off_units as f64 * usd,
            final_shortfall_usd: s.last().map_or(0.0, |r| r.shortfall_usd),
            max_shortfall_usd: s.iter().map(|r| r.shortfall_usd).fold(0.0, f64::max),
            initial_debt_usd: self.acc.initial_debt_units as f64 * usd,
            mean_ltv_bps: mean(&|r| r.ltv_bps as f64),
            min_ltv_bps: s.iter().map(|r| r.ltv_bps).min().unwrap_or(0),
            mean_lt_bps: mean(&|r| r.lt_bps as f64),
            min_lt_bps: s.iter().map(|r| r.lt_bps).min().unwrap_or(0),
            max_utilization_bps: s.iter().map(|r| r.utilization_bps).max().unwrap_or(0),
            min_liquidity_coverage: s
                .iter()
                .filter_map(|r| r.liquidity_coverage)
                .min_by(f64::total_cmp),
            max_debt_at_risk_usd: self.acc.max_debt_at_risk,
            pushes: self.acc.pushes,
            capacity_usd_per_hour: self.capacity_usd_per_hour,
            depth_usd: self.liq_model.depth_usd[0],
            unrecoverable_obligations: self.acc.unrecoverable.len(),
            unrecoverable_debt_usd: self
                .acc
                .unrecoverable
                .values()
                .fold(0.0, |a, (d, _)| a + d * usd),
            unrecoverable: self
                .acc
                .unrecoverable
                .iter()
                .map(|(o, (_, m))| format!("{o}: {m}"))
                .collect(),
            term: self.term_summary(usd),
            wall_seconds: self.started.elapsed().as_secs_f64(),
        };
        RunResult {
            summary,
            series: self.series,
        }
    }
}

/// What term-loan position `p` owes at `ts`, base units (the program's
/// `owed`: the face, plus the penalty past maturity).
fn term_owed_units(p: &ballast::state::Position, ts: i64) -> Result<f64> {
    Ok(
        ballast::engine::term::owed(p.term_face(), p.term_maturity(), p.term_penalty_bps(), ts)?
            .to_num::<f64>(),
    )
}

/// Runs one policy over the whole window, calling `on_step` after each step
/// (progress bars, invariant checks).
pub fn run_policy(
    def: &MarketDef,
    window: &Window,
    population: &Population,
    opts: ReplayOptions,
    mut on_step: impl FnMut(&Replay, &StepOutcome) -> Result<()>,
) -> Result<RunResult> {
    let policy = opts.policy;
    let mut replay = Replay::new(def, window, population, opts)
        .with_context(|| format!("setting up the {policy} run"))?;
    while let Some(outcome) = replay.step().with_context(|| format!("{policy} run"))? {
        on_step(&replay, &outcome)?;
    }
    Ok(replay.finish())
}

/// The decay of the impact's volatility EWMA per candle (RiskMetrics).
pub const IMPACT_LAMBDA: f64 = 0.94;

/// The liquidations of one tick: the scan's candidates priced in USD at the
/// snapshot's oracle prices (repay, bonus, health) and passed to the shared
/// [`LiquidatorModel::select`]; a candidate cut by the capacity is sent with
/// its `repay` and `expected_seize` scaled down (rounded down). Returns the
/// candidates to send and the offers (aligned with `cands`).
pub fn select(
    model: &LiquidatorModel,
    step: &mut Step,
    snap: &MarketSnapshot,
    cands: &[Candidate],
    sigma_day: f64,
) -> (Vec<Candidate>, Vec<Offer>) {
    use crate::tasks::liquidation::usd;
    let offers: Vec<Offer> = cands
        .iter()
        .map(|c| {
            let bonus = c.bonus_bps as f64 / 1e4;
            // What the liquidation repays: `repay`, or less when the
            // collateral position cannot pay for it (an insolvent close-out).
            let repay_usd = usd(snap, &c.debt_reserve, c.repay)
                .min(usd(snap, &c.collateral_reserve, c.expected_seize) / (1.0 + bonus));
            Offer {
                health: c.health.to_num::<f64>(),
                repay_usd,
                bonus,
                asset: 0,
            }
        })
        .collect();
    let chosen = model
        .select(step, &offers, &[sigma_day])
        .into_iter()
        .filter_map(|t| {
            let (c, o) = (cands[t.index], offers[t.index]);
            if t.repay_usd >= o.repay_usd {
                return Some(c);
            }
            // Cut to the capacity: `repay` to the USD granted, the
            // collateral seized in proportion.
            let full = usd(snap, &c.debt_reserve, c.repay);
            let cut = Candidate {
                repay: (c.repay as f64 * t.repay_usd / full).floor() as u64,
                expected_seize: (c.expected_seize as f64 * t.repay_usd / o.repay_usd).floor()
                    as u64,
                ..c
            };
            (cut.repay > 0).then_some(cut)
        })
        .collect();
    (chosen, offers)
}
