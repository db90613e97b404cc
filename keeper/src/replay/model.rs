//! The replay's model: the seeded borrower population, the path a candle's
//! price takes, how oracle prices are written, and the window of a price
//! file that is replayed.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::liquidators::ProfitRule;
use crate::volatility::candles::{format_ts, read_prices, Candle, ReadOptions};

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

/// The default liquidator capacity: debt repaid per hour as a share of the
/// population's initial debt (2%). Chosen to match the count the replay
/// used before its liquidators had a USD capacity: 20 liquidations a
/// candle on `make demo`'s FTX window repaid $11.26M in 1,153 liquidations
/// ($9.8k each), i.e. about $195k an hour, 1.7% of the $11.25M initial
/// debt. (The stress definition's $1M an hour is 1% of its book's debt.)
pub const DEFAULT_CAPACITY_SHARE_PER_HOUR: f64 = 0.02;

/// The default depth of the collateral asset against which the
/// liquidators' sales are measured, USD a day: the stress definition's
/// SOL depth (`migrations/stress-multi.toml`), so that both tools assume
/// the same market. Read as this book's share of the whole market's depth:
/// SOL traded $1-3B a day in 2022 across venues, and every lender's
/// liquidators sell into it in a crash, this book (about $21M of
/// collateral) being one of them.
pub const DEFAULT_DEPTH_USD: f64 = 300_000_000.0;

/// The default profitability rule: $0.50 a liquidation (base and priority
/// fee in a congested crash block, and the swap's fees) and $1 of least
/// profit: with the 5% bonus, a liquidation repaying less than $30 is not
/// taken.
pub const DEFAULT_PROFIT: ProfitRule = ProfitRule {
    fixed_cost_usd: 0.5,
    min_profit_usd: 1.0,
};

/// The replay's liquidators: the shared [`crate::liquidators`] model's
/// settings, before the capacity is resolved against the population's debt.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LiquidatorSettings {
    /// Debt they repay per hour, all together, USD; `None`:
    /// [`DEFAULT_CAPACITY_SHARE_PER_HOUR`] of the initial debt.
    pub capacity_usd_per_hour: Option<f64>,
    /// Square-root impact coefficient `k` (dimensionless); `None`: the
    /// definition's `[replay] impact_k`, else 1.
    pub impact_k: Option<f64>,
    /// Daily depth of the collateral asset, USD; `None`: the definition's
    /// `[replay] depth_usd`, else [`DEFAULT_DEPTH_USD`].
    pub depth_usd: Option<f64>,
    /// The profitability rule; `None`: every liquidation the capacity
    /// allows is taken.
    #[serde(skip)]
    pub profit: Option<ProfitRule>,
}

impl Default for LiquidatorSettings {
    fn default() -> Self {
        Self {
            capacity_usd_per_hour: None,
            impact_k: None,
            depth_usd: None,
            profit: Some(DEFAULT_PROFIT),
        }
    }
}

/// The time-weighted mean of `values` observed at `ts` (sorted): each value
/// counts until the next observation, the last for `last_secs` (0 when
/// there is nothing to weigh).
pub fn time_weighted_mean(ts: &[i64], values: &[f64], last_secs: f64) -> f64 {
    let weights: Vec<f64> = (0..ts.len())
        .map(|i| {
            ts.get(i + 1)
                .map(|n| (n - ts[i]) as f64)
                .unwrap_or(last_secs)
        })
        .collect();
    let wsum: f64 = weights.iter().sum();
    if wsum <= 0.0 {
        return 0.0;
    }
    values.iter().zip(&weights).map(|(v, w)| v * w).sum::<f64>() / wsum
}

/// What suppliers earned over a run, USD: the growth of what the debt
/// reserve owes its depositors (its balance sheet's `liabilities`: deposit
/// shares times the exchange rate), from `liabilities_start` to
/// `liabilities_end` (base units), at `usd_per_unit`. Net of bad debt
/// written down against them (negative when the write-offs exceed the
/// interest); the suppliers are the reserve's only depositors.
pub fn supplier_income_usd(liabilities_start: u64, liabilities_end: u64, usd_per_unit: f64) -> f64 {
    (liabilities_end as f64 - liabilities_start as f64) * usd_per_unit
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

    /// A hand case: debt of 100 for an hour, 300 for two hours, 0 for the
    /// last step's quarter hour: (100 * 1 + 300 * 2 + 0 * 0.25) / 3.25.
    #[test]
    fn debt_lent_is_the_time_weighted_mean() {
        let ts = [0, 3_600, 10_800];
        let m = time_weighted_mean(&ts, &[100.0, 300.0, 0.0], 900.0);
        assert!((m - 700.0 / 3.25).abs() < 1e-9, "{m}");
        // Uneven spacing matters: the plain mean would be 133.3.
        assert!((time_weighted_mean(&[0], &[5.0], 900.0) - 5.0).abs() < 1e-12);
        assert_eq!(time_weighted_mean(&[], &[], 900.0), 0.0);
    }

    /// A hand case: suppliers deposited 1,000,000 USDC (6 decimals); the
    /// reserve owes them 1,000,002.50 at the end: $2.50 earned; after a
    /// write-off larger than the interest, a loss.
    #[test]
    fn supplier_income_is_the_growth_of_the_depositors_claim() {
        let usd = 1.0 / 1e6;
        let inc = supplier_income_usd(1_000_000_000_000, 1_000_002_500_000, usd);
        assert!((inc - 2.5).abs() < 1e-9, "{inc}");
        let loss = supplier_income_usd(1_000_000_000_000, 999_990_000_000, usd);
        assert!((loss + 10.0).abs() < 1e-9, "{loss}");
    }
}
