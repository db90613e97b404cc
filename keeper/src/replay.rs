//! `ballast-keeper replay`: historical prices through the real program on
//! the embedded chain, with a seeded borrower population, under the dynamic
//! and the static collateral policy. The model and its assumptions are in
//! `docs/REPLAY.md`; in short:
//!
//! * **Market**: a definition file ([`crate::market_def`], by default
//!   `migrations/replay-sol-usdc.toml`) applied with the policy of the run.
//! * **Population** ([`draw_population`]): `N` borrowers who deposit the
//!   collateral asset (log-uniform $1,000..$100,000 at the first price) and
//!   borrow the stablecoin at a drawn share (uniform 30%..95%) of their
//!   borrowing power under the LTV in force; [`SUPPLIERS`] suppliers deposit
//!   the stablecoin so that the initial utilisation is
//!   [`TARGET_UTILIZATION`]. Drawn once from the seed, shared by every policy.
//! * **Path** ([`candle_path`]): each candle is four steps, a quarter period
//!   apart: open, the extreme nearer the open, the other extreme, close.
//! * **Oracle** ([`OracleModel`]): at each step the Pyth `PriceUpdateV2`
//!   account gets the price, a confidence of `conf_bps` of it (at most half
//!   the reserve's `oracle_max_conf_bps`) and an EMA of the path with a
//!   half-life of `ema_half_life_secs`, published at the step's time.
//! * **Keeper** ([`Keeper::tick`]): the same loop a live keeper runs, with
//!   its EWMA backfilled with the closes of the warm-up before `--from`.
//! * **Liquidators**: one liquidator able to send `capacity` liquidations
//!   per candle (default [`default_capacity`]: 2% of the borrowers), funded
//!   to repay twice the initial debt.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::events::BalanceSheetReported;
use ballast::state::{Market, Obligation, PositionKind, Reserve};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::Chain;
use crate::embedded::{EmbeddedChain, PythPrice};
use crate::ix;
use crate::keeper_loop::{Keeper, KeeperConfig, TickReport};
use crate::market_def::{
    apply, provision_embedded, DeployedReserve, Deployment, MarketDef, PolicyChoice, PolicyName,
};
use crate::prices::{format_ts, read_prices, Candle, ReadOptions};
use crate::scan::{decode_market, decode_obligation, decode_reserve, Assessment, MarketSnapshot};
use crate::tasks::liquidation::Liquidator;

/// Stablecoin suppliers in the population.
pub const SUPPLIERS: usize = 10;
/// Utilisation of the stablecoin reserve right after the population borrowed
/// (suppliers deposit the planned debt divided by this).
pub const TARGET_UTILIZATION: f64 = 0.75;
/// Least collateral a borrower deposits, USD at the first price.
pub const MIN_COLLATERAL_USD: f64 = 1_000.0;
/// Most collateral a borrower deposits, USD at the first price.
pub const MAX_COLLATERAL_USD: f64 = 100_000.0;
/// Least share of its borrowing power a borrower borrows.
pub const MIN_BORROW_SHARE: f64 = 0.30;
/// Most share of its borrowing power a borrower borrows.
pub const MAX_BORROW_SHARE: f64 = 0.95;
/// Steps per candle (open, nearer extreme, other extreme, close).
pub const STEPS_PER_CANDLE: usize = 4;

/// The default liquidator capacity: 2% of the borrowers (at least 1)
/// liquidations per candle, e.g. 20 for 1,000 borrowers.
pub fn default_capacity(borrowers: usize) -> usize {
    (borrowers / 50).max(1)
}

/// One borrower of the population.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BorrowerSpec {
    /// Seed of the borrower's keypair.
    pub key_seed: [u8; 32],
    /// Collateral deposited, USD at the first price.
    pub collateral_usd: f64,
    /// Share of the borrowing power borrowed, in [MIN_BORROW_SHARE,
    /// MAX_BORROW_SHARE].
    pub borrow_share: f64,
}

/// The seeded population: borrowers plus the seeds of the other actors.
#[derive(Clone, Debug, PartialEq)]
pub struct Population {
    /// The borrowers.
    pub borrowers: Vec<BorrowerSpec>,
    /// Keypair seeds of the suppliers.
    pub supplier_seeds: Vec<[u8; 32]>,
    /// Keypair seed of the liquidator.
    pub liquidator_seed: [u8; 32],
    /// Keypair seed of the market account.
    pub market_seed: [u8; 32],
}

/// Draws `n` borrowers from `seed` (ChaCha8): collateral log-uniform in
/// [MIN_COLLATERAL_USD, MAX_COLLATERAL_USD], borrow share uniform in
/// [MIN_BORROW_SHARE, MAX_BORROW_SHARE]. The same seed gives the same
/// population.
pub fn draw_population(seed: u64, n: usize) -> Population {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (lo, hi) = (MIN_COLLATERAL_USD.ln(), MAX_COLLATERAL_USD.ln());
    let borrowers = (0..n)
        .map(|_| BorrowerSpec {
            key_seed: rng.gen(),
            collateral_usd: rng.gen_range(lo..hi).exp(),
            borrow_share: rng.gen_range(MIN_BORROW_SHARE..MAX_BORROW_SHARE),
        })
        .collect();
    Population {
        borrowers,
        supplier_seeds: (0..SUPPLIERS).map(|_| rng.gen()).collect(),
        liquidator_seed: rng.gen(),
        market_seed: rng.gen(),
    }
}

/// One step of a candle's path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathPoint {
    /// Seconds after the candle's open time.
    pub offset_secs: i64,
    /// Price, quote currency per unit of base.
    pub price: f64,
}

/// The four steps of candle `c` of a series with period `period_secs`:
/// open at +0, the extreme nearer the open at +period/4, the other extreme
/// at +period/2, the close at +3·period/4. When both extremes are as near,
/// the low comes first (the adverse order for collateral).
pub fn candle_path(c: &Candle, period_secs: i64) -> [PathPoint; STEPS_PER_CANDLE] {
    let (first, second) = if c.high - c.open < c.open - c.low {
        (c.high, c.low)
    } else {
        (c.low, c.high)
    };
    let q = period_secs / STEPS_PER_CANDLE as i64;
    [
        PathPoint {
            offset_secs: 0,
            price: c.open,
        },
        PathPoint {
            offset_secs: q,
            price: first,
        },
        PathPoint {
            offset_secs: 2 * q,
            price: second,
        },
        PathPoint {
            offset_secs: 3 * q,
            price: c.close,
        },
    ]
}

/// How the replay writes oracle prices.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct OracleModel {
    /// Confidence interval, bps of the price (bounded to half the reserve's
    /// `oracle_max_conf_bps`).
    pub conf_bps: f64,
    /// Half-life of the EMA price, seconds.
    pub ema_half_life_secs: f64,
}

impl Default for OracleModel {
    /// 10 bps confidence (Pyth's SOL/USD interval is usually a few bps to
    /// 0.1%), EMA half-life one hour.
    fn default() -> Self {
        Self {
            conf_bps: 10.0,
            ema_half_life_secs: 3_600.0,
        }
    }
}

/// The EMA after `dt` seconds at `price`, from `prev`.
pub fn ema_step(prev: f64, price: f64, dt: f64, half_life: f64) -> f64 {
    let keep = 0.5f64.powf(dt.max(0.0) / half_life);
    keep * prev + (1.0 - keep) * price
}

/// A window of a price file: the warm-up before `from` and the candles
/// replayed.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// The file read.
    pub path: PathBuf,
    /// Candles before `from` (at most `warmup_secs` earlier): the keeper's
    /// price history at the start.
    pub warmup: Vec<Candle>,
    /// The candles replayed, `from <= ts <= to`.
    pub candles: Vec<Candle>,
    /// The series' nominal period, seconds.
    pub period_secs: i64,
}

/// Reads `path` and keeps the candles in [`from`, `to`] (unix seconds,
/// inclusive) plus up to `warmup_secs` before. Errors name the problem: the
/// reader's (line-numbered: malformed row, non-monotone timestamp, ...), or
/// an empty window.
pub fn load_window(
    path: &Path,
    from: i64,
    to: i64,
    warmup_secs: i64,
    symbol: Option<String>,
) -> Result<Window> {
    if from > to {
        bail!("--from {} is after --to {}", format_ts(from), format_ts(to));
    }
    let series = read_prices(
        path,
        &ReadOptions {
            symbol,
            from: Some(from - warmup_secs.max(0)),
            to: Some(to),
        },
    )
    .with_context(|| format!("reading prices from {}", path.display()))?;
    let (warmup, candles): (Vec<Candle>, Vec<Candle>) =
        series.candles.into_iter().partition(|c| c.ts < from);
    if candles.is_empty() {
        bail!(
            "empty window: {} has no candle between {} and {}",
            path.display(),
            format_ts(from),
            format_ts(to)
        );
    }
    Ok(Window {
        path: path.to_path_buf(),
        warmup,
        candles,
        period_secs: series.period_seconds,
    })
}

/// Settings of one run.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The collateral policy.
    pub policy: PolicyName,
    /// Liquidations the liquidator can send per candle.
    pub capacity_per_candle: usize,
    /// The oracle model.
    pub oracle: OracleModel,
    /// The keeper's settings.
    pub keeper: KeeperConfig,
    /// The program's sBPF build.
    pub so_path: PathBuf,
}

/// One step's state after the keeper's tick.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepRecord {
    /// Unix seconds.
    pub ts: i64,
    /// Collateral price, USD.
    pub price: f64,
    /// The keeper's volatility estimate, annualised fraction.
    pub sigma: Option<f64>,
    /// LTV of the collateral reserve in force, bps.
    pub ltv_bps: u16,
    /// Liquidation threshold of the collateral reserve in force, bps.
    pub lt_bps: u16,
    /// Debt of the obligations below the Maintenance requirement after the
    /// tick (left by the liquidators' capacity), USD.
    pub debt_at_risk_usd: f64,
    /// Debt outstanding, USD.
    pub total_debt_usd: f64,
    /// Debt not covered by collateral at the spot price, summed over the
    /// obligations still holding collateral (bad debt not yet recognised),
    /// USD.
    pub shortfall_usd: f64,
    /// Bad debt socialised so far, USD.
    pub bad_debt_usd: f64,
    /// Utilisation of the stablecoin reserve, bps (its balance sheet).
    pub utilization_bps: u16,
    /// Liquidity coverage of the stablecoin reserve (its balance sheet);
    /// `None` when no outflow is stressed.
    pub liquidity_coverage: Option<f64>,
}

/// The summary of one run (one object of the `--json` file's `runs`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    /// `dynamic` or `static`.
    pub policy: PolicyName,
    /// Steps walked (4 per candle).
    pub steps: usize,
    /// Borrowers in the population.
    pub borrowers: usize,
    /// Liquidation transactions that went through.
    pub liquidations: usize,
    /// Debt repaid by liquidators, USD.
    pub liquidated_debt_usd: f64,
    /// Debt socialised (left without collateral), USD, insurance cover
    /// included.
    pub bad_debt_usd: f64,
    /// Part of `bad_debt_usd` written down against depositors, USD.
    pub written_off_usd: f64,
    /// Debt not covered by collateral at the last step's spot price, over
    /// the obligations that still hold collateral (a loss not yet
    /// recognised as bad debt when the window ends), USD.
    pub final_shortfall_usd: f64,
    /// Largest such shortfall over the run, USD.
    pub max_shortfall_usd: f64,
    /// Debt right after the population borrowed, USD.
    pub initial_debt_usd: f64,
    /// Time average of the collateral reserve's LTV, bps.
    pub mean_ltv_bps: f64,
    /// Lowest LTV of the collateral reserve, bps.
    pub min_ltv_bps: u16,
    /// Time average of the collateral reserve's liquidation threshold, bps.
    pub mean_lt_bps: f64,
    /// Lowest liquidation threshold, bps.
    pub min_lt_bps: u16,
    /// Highest utilisation of the stablecoin reserve, bps.
    pub max_utilization_bps: u16,
    /// Lowest liquidity coverage of the stablecoin reserve (1.0 = liquid
    /// assets cover the stressed outflow); `None` when none is stressed.
    pub min_liquidity_coverage: Option<f64>,
    /// Largest debt at risk after a tick, USD.
    pub max_debt_at_risk_usd: f64,
    /// Volatility pushes sent.
    pub pushes: usize,
    /// Liquidations the liquidator could send per candle.
    pub liquidator_capacity_per_candle: usize,
    /// Wall-clock time of the run (setup included), seconds.
    pub wall_seconds: f64,
}

/// A finished run: its summary and its step series.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The summary.
    pub summary: RunSummary,
    /// One record per step.
    pub series: Vec<StepRecord>,
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
    capacity_left: usize,
    started: Instant,
    acc: Accumulator,
    series: Vec<StepRecord>,
}

#[derive(Clone, Debug, Default)]
struct Accumulator {
    initial_debt_units: u64,
    liquidations: usize,
    liquidated_units: u128,
    bad_debt_units: u128,
    written_off_units: u128,
    pushes: usize,
    max_debt_at_risk: f64,
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
            capacity_left: opts.capacity_per_candle,
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

        let planned = replay.plan_debt(population)?;
        let total: u64 = planned.iter().sum();
        replay.fund_suppliers(population, total)?;
        let liquidator = replay.fund_liquidator(liquidator_kp, total)?;
        replay.keeper.liquidator = Some(liquidator);
        replay.open_borrowers(population, &planned)?;
        replay.acc.initial_debt_units = total;
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
        let now = self.chain.clock().unix_timestamp;
        let coll = self.reserve_state(&self.collateral)?;
        let debt = self.reserve_state(&self.debt)?;
        let (rc, rd) = (coll.risk_params(now), debt.risk_params(now));
        let p0 = self.window.candles[0].open;
        let asset_price = p0.min(self.ema) * (1.0 - self.conf_bps[0] / 1e4);
        let debt_price = self.debt_price * (1.0 + self.conf_bps[1] / 1e4);
        Ok(population
            .borrowers
            .iter()
            .map(|b| {
                let tokens = (b.collateral_usd / p0 * 1e9).floor() / 1e9;
                let power_usd = tokens * asset_price * rc.ltv_bps as f64
                    / 1e4
                    / (rd.borrow_factor_bps as f64 / 1e4);
                let units =
                    power_usd * b.borrow_share / debt_price * 10f64.powi(self.debt.decimals as i32);
                units.floor() as u64
            })
            .collect())
    }

    fn collateral_units(&self, usd: f64) -> u64 {
        let p0 = self.window.candles[0].open;
        (usd / p0 * 10f64.powi(self.collateral.decimals as i32)).floor() as u64
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
        })
    }

    fn open_borrowers(&mut self, population: &Population, planned: &[u64]) -> Result<()> {
        let (c, d) = (self.collateral.keys, self.debt.keys);
        let payer = self.chain.payer.pubkey();
        let oracle_of = |r: &Address| if *r == c.reserve { c.oracle } else { d.oracle };
        for (i, (b, amount)) in population.borrowers.iter().zip(planned).enumerate() {
            let user = Keypair::new_from_array(b.key_seed);
            let coll_units = self.collateral_units(b.collateral_usd);
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
            if *amount > 0 {
                ixs.push(ix::borrow(
                    &user.pubkey(),
                    &d,
                    &ob,
                    &debt_ta,
                    *amount,
                    health,
                ));
            }
            self.chain.send_ok(&ixs, &[&user]).with_context(|| {
                format!(
                    "borrower {i}: deposit {coll_units} collateral units, borrow {amount} debt units"
                )
            })?;
            self.obligations.push(ob);
        }
        Ok(())
    }

    /// Walks the next step: sets the clock, writes the oracles, runs the
    /// keeper's tick and records the state. `Ok(None)` when the window is
    /// done. A failure the keeper reports (a liquidation or socialisation
    /// that did not go through, an obligation it could not assess) is an
    /// error: the replay never silently continues past one.
    pub fn step(&mut self) -> Result<Option<StepOutcome>> {
        if self.done() {
            return Ok(None);
        }
        let (ci, si) = (self.next / STEPS_PER_CANDLE, self.next % STEPS_PER_CANDLE);
        let candle = self.window.candles[ci];
        let point = candle_path(&candle, self.window.period_secs)[si];
        let ts = candle.ts + point.offset_secs;
        if si == 0 {
            self.capacity_left = self.opts.capacity_per_candle;
        }
        let n = self.next;
        let at = || format!("step {n} ({}, price {})", format_ts(ts), point.price);
        self.chain.set_time(ts);
        self.write_prices(ts, point.price).with_context(at)?;
        let tick = self
            .keeper
            .tick(&mut self.chain, self.capacity_left)
            .with_context(at)?;
        let failures = tick.failures();
        if !failures.is_empty() {
            bail!("{}: {}", at(), failures.join("; "));
        }
        if let Some(l) = &tick.liquidation {
            self.capacity_left = self.capacity_left.saturating_sub(l.liquidated.len());
            self.acc.liquidations += l.liquidated.len();
            self.acc.liquidated_units += l.liquidated.iter().map(|x| x.1 as u128).sum::<u128>();
        }
        for s in &tick.bad_debt.socialized {
            self.acc.bad_debt_units += s.debt as u128;
            self.acc.written_off_units += s.written_off as u128;
        }
        self.acc.pushes += tick.pushes.len();
        let record = self.record(ts, point.price).with_context(at)?;
        self.acc.max_debt_at_risk = self.acc.max_debt_at_risk.max(record.debt_at_risk_usd);
        self.series.push(record);
        self.next += 1;
        Ok(Some(StepOutcome { record, tick }))
    }

    fn record(&mut self, ts: i64, price: f64) -> Result<StepRecord> {
        let chain = &self.chain;
        let market = self.deployment.market;
        let market_state: Market = chain
            .account_data(&market)?
            .as_deref()
            .and_then(decode_market)
            .ok_or_else(|| anyhow!("market {market} missing"))?;
        let reserves: Vec<(Address, Reserve)> = chain
            .ballast_accounts::<Reserve>(&market)?
            .into_iter()
            .filter_map(|(k, d)| decode_reserve(&d).map(|r| (k, r)))
            .collect();
        let mut oracles = std::collections::HashMap::new();
        for (_, r) in &reserves {
            if let Some(d) = Chain::account_data(chain, &r.oracle)? {
                oracles.insert(r.oracle, d);
            }
        }
        let snapshot = MarketSnapshot::new(market, &market_state, &reserves, &oracles, ts);
        let usd_per_debt_unit = self.usd_per_unit(self.debt.decimals, self.debt_price);
        let debt_reserve = reserves
            .iter()
            .find(|(k, _)| *k == self.debt.keys.reserve)
            .map(|(_, r)| *r)
            .ok_or_else(|| anyhow!("debt reserve missing"))?;
        let index = debt_reserve
            .projected_borrow_index(ts)
            .map_err(|e| anyhow!("{e}"))?;
        let coll_view = reserves
            .iter()
            .find(|(k, _)| *k == self.collateral.keys.reserve)
            .ok_or_else(|| anyhow!("collateral reserve missing"))
            .and_then(|(_, r)| r.view(ts).map_err(|e| anyhow!("{e}")))?;
        let usd_per_coll_unit = self.usd_per_unit(self.collateral.decimals, price);
        let (mut at_risk, mut total, mut shortfall) = (0.0, 0.0, 0.0);
        // Sorted, so that the float sums do not depend on the backend's
        // account order.
        let mut obligations = chain.ballast_accounts::<Obligation>(&market)?;
        obligations.sort_unstable_by_key(|(k, _)| *k);
        for (key, data) in obligations {
            let Some(ob) = decode_obligation(&data) else {
                continue;
            };
            let (mut debt_units, mut coll_units) = (0.0, 0.0);
            for p in &ob.positions {
                if p.kind() == PositionKind::Debt && p.reserve == self.debt.keys.reserve {
                    debt_units += (p.borrow_shares.get() * index).to_num::<f64>();
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
            total += usd;
            shortfall += (usd - coll_units * usd_per_coll_unit).max(0.0);
            if matches!(
                snapshot.assess(&key, &ob),
                Assessment::Liquidatable(_) | Assessment::NothingToSeize { .. }
            ) {
                at_risk += usd;
            }
        }
        let coll = reserves
            .iter()
            .find(|(k, _)| *k == self.collateral.keys.reserve)
            .map(|(_, r)| r.risk_params(ts))
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
            debt_at_risk_usd: at_risk,
            total_debt_usd: total,
            shortfall_usd: shortfall,
            bad_debt_usd: self.acc.bad_debt_units as f64 * usd_per_debt_unit,
            utilization_bps: sheet.utilization_bps,
            liquidity_coverage: coverage,
        })
    }

    /// The debt reserve's balance sheet, as the program's `balance_sheet`
    /// instruction reports it.
    pub fn balance_sheet(&mut self) -> Result<BalanceSheet> {
        let sent = Chain::send(&mut self.chain, &[ix::balance_sheet(&self.debt.keys)], &[])
            .context("balance_sheet")?;
        crate::events::events::<BalanceSheetReported>(&sent.logs)
            .pop()
            .map(|e| e.sheet)
            .ok_or_else(|| anyhow!("balance_sheet emitted no BalanceSheetReported event"))
    }

    /// The summary and series so far.
    pub fn finish(self) -> RunResult {
        let s = &self.series;
        let usd = self.usd_per_unit(self.debt.decimals, self.debt_price);
        // Time weights: each step counts until the next one (the last for a
        // quarter period).
        let q = (self.window.period_secs / STEPS_PER_CANDLE as i64) as f64;
        let weights: Vec<f64> = (0..s.len())
            .map(|i| s.get(i + 1).map(|n| (n.ts - s[i].ts) as f64).unwrap_or(q))
            .collect();
        let wsum: f64 = weights.iter().sum::<f64>().max(f64::MIN_POSITIVE);
        let mean = |f: &dyn Fn(&StepRecord) -> f64| {
            s.iter().zip(&weights).map(|(r, w)| f(r) * w).sum::<f64>() / wsum
        };
        let summary = RunSummary {
            policy: self.opts.policy,
            steps: s.len(),
            borrowers: self.population_size,
            liquidations: self.acc.liquidations,
            liquidated_debt_usd: self.acc.liquidated_units as f64 * usd,
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
            liquidator_capacity_per_candle: self.opts.capacity_per_candle,
            wall_seconds: self.started.elapsed().as_secs_f64(),
        };
        RunResult {
            summary,
            series: self.series,
        }
    }
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

/// The `--json` document.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    /// The price file.
    pub prices: String,
    /// First candle replayed, `YYYY-MM-DD HH:MM:SS` UTC.
    pub from: String,
    /// Last candle replayed, `YYYY-MM-DD HH:MM:SS` UTC.
    pub to: String,
    /// Candles replayed.
    pub candles: usize,
    /// Candles of warm-up history given to the keeper.
    pub warmup_candles: usize,
    /// The population's seed.
    pub seed: u64,
    /// The oracle model.
    pub oracle: OracleModel,
    /// One summary per policy.
    pub runs: Vec<RunSummary>,
}

/// The summary table, one row per run.
pub fn summary_table(runs: &[RunSummary]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<8} {:>6} {:>6} {:>14} {:>14} {:>12} {:>12} {:>9} {:>8} {:>8} {:>8} {:>9} {:>8}\n",
        "policy",
        "steps",
        "liqs",
        "liquidated $",
        "initial debt $",
        "bad debt $",
        "shortfall $",
        "mean LTV",
        "min LTV",
        "mean LT",
        "max util",
        "min cover",
        "wall s"
    ));
    for r in runs {
        out.push_str(&format!(
            "{:<8} {:>6} {:>6} {:>14.0} {:>14.0} {:>12.2} {:>12.2} {:>8.2}% {:>7.2}% {:>7.2}% {:>7.2}% {:>9} {:>8.1}\n",
            r.policy.to_string(),
            r.steps,
            r.liquidations,
            r.liquidated_debt_usd,
            r.initial_debt_usd,
            r.bad_debt_usd,
            r.final_shortfall_usd,
            r.mean_ltv_bps / 100.0,
            r.min_ltv_bps as f64 / 100.0,
            r.mean_lt_bps / 100.0,
            r.max_utilization_bps as f64 / 100.0,
            r.min_liquidity_coverage
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "-".into()),
            r.wall_seconds
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candle(open: f64, high: f64, low: f64, close: f64) -> Candle {
        Candle {
            ts: 7_200,
            open,
            high,
            low,
            close,
            volume: 1.0,
        }
    }

    #[test]
    fn path_visits_open_nearer_extreme_other_extreme_close() {
        let prices = |c: &Candle| candle_path(c, 3_600).map(|p| p.price);
        // The high is nearer the open: high first.
        assert_eq!(
            prices(&candle(10.0, 11.0, 5.0, 6.0)),
            [10.0, 11.0, 5.0, 6.0]
        );
        // The low is nearer: low first.
        assert_eq!(
            prices(&candle(10.0, 15.0, 9.5, 14.0)),
            [10.0, 9.5, 15.0, 14.0]
        );
        // A tie visits the low first.
        assert_eq!(
            prices(&candle(10.0, 12.0, 8.0, 11.0)),
            [10.0, 8.0, 12.0, 11.0]
        );
        let offsets = candle_path(&candle(1.0, 1.0, 1.0, 1.0), 3_600).map(|p| p.offset_secs);
        assert_eq!(offsets, [0, 900, 1_800, 2_700]);
        // Every step lies inside the candle's period.
        assert!(offsets.iter().all(|o| (0..3_600).contains(o)));
    }

    #[test]
    fn population_is_determined_by_its_seed() {
        let a = draw_population(7, 200);
        assert_eq!(a, draw_population(7, 200));
        let b = draw_population(8, 200);
        assert_ne!(a.borrowers, b.borrowers);
        // A larger population starts with the same borrowers... no: the
        // other actors' seeds are drawn after the borrowers, so only the
        // borrowers' prefix is shared.
        let c = draw_population(7, 300);
        assert_eq!(a.borrowers[..], c.borrowers[..200]);
        for bo in &a.borrowers {
            assert!((MIN_COLLATERAL_USD..MAX_COLLATERAL_USD).contains(&bo.collateral_usd));
            assert!((MIN_BORROW_SHARE..MAX_BORROW_SHARE).contains(&bo.borrow_share));
        }
        // Distinct keys.
        let keys: std::collections::HashSet<_> = a.borrowers.iter().map(|b| b.key_seed).collect();
        assert_eq!(keys.len(), a.borrowers.len());
    }

    #[test]
    fn ema_halves_the_gap_every_half_life() {
        let e = ema_step(100.0, 50.0, 3_600.0, 3_600.0);
        assert!((e - 75.0).abs() < 1e-12);
        assert_eq!(ema_step(100.0, 50.0, 0.0, 3_600.0), 100.0);
    }

    #[test]
    fn capacity_default_is_two_percent_at_least_one() {
        assert_eq!(default_capacity(1_000), 20);
        assert_eq!(default_capacity(10), 1);
    }
}
