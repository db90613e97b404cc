//! The replay's synthetic book (feature `embedded`): the market of a
//! definition with a `[replay]` section, populated on the embedded chain
//! with the replay's seeded borrowers and suppliers
//! ([`crate::replay::Replay::new`]: borrowers of log-uniform collateral,
//! each borrowing a random share of its limit of the debt reserve,
//! suppliers funding it), at the collateral's `initial_price_usd`, under
//! the static policy. What `alm --url embedded --population N` reads, so
//! the report has a book to show without a cluster.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::irrbb::Calibration;
use super::report::{market_alm_on_chain, MarketAlm};
use crate::keeper_loop::KeeperConfig;
use crate::market::{MarketDef, PolicyName};
use crate::replay::{
    draw_population, LiquidatorSettings, OracleModel, Replay, ReplayOptions, Window,
};
use crate::volatility::candles::Candle;

/// Unix time the synthetic book is opened at (an hour boundary).
pub const SYNTHETIC_T0: i64 = 1_700_000_000 - 1_700_000_000 % 3_600;

/// The replay population of `n` borrowers drawn with `seed` on the market
/// of definition `def_path`, on the program at `so`, as a [`Replay`] at its
/// first candle (nothing walked).
pub fn replay_book(def_path: &Path, so: &Path, n: usize, seed: u64) -> Result<Replay> {
    let def = MarketDef::load(def_path)?;
    let rp = def
        .replay
        .as_ref()
        .with_context(|| format!("{}: no [replay] section", def_path.display()))?;
    let p0 = def
        .reserve(&rp.collateral)
        .and_then(|r| r.initial_price_usd)
        .with_context(|| {
            format!(
                "{}: the collateral {} has no initial_price_usd",
                def_path.display(),
                rp.collateral
            )
        })?;
    let window = Window {
        path: PathBuf::from("<synthetic>"),
        warmup: vec![],
        candles: vec![Candle {
            ts: SYNTHETIC_T0,
            open: p0,
            high: p0,
            low: p0,
            close: p0,
            volume: 0.0,
        }],
        period_secs: 3_600,
    };
    let opts = ReplayOptions {
        policy: PolicyName::Static,
        liquidators: LiquidatorSettings::default(),
        oracle: OracleModel::default(),
        keeper: KeeperConfig::default(),
        so_path: so.to_path_buf(),
        outage: None,
        arrivals: false,
        term_share: 0.0,
    };
    Replay::new(&def, &window, &draw_population(seed, n), opts)
        .context("populating the synthetic book")
}

/// [`market_alm_on_chain`] of [`replay_book`].
pub fn synthetic_alm(
    def_path: &Path,
    so: &Path,
    n: usize,
    seed: u64,
    cal: &Calibration,
    horizon_days: f64,
) -> Result<MarketAlm> {
    let replay = replay_book(def_path, so, n, seed)?;
    market_alm_on_chain(&replay.chain, &replay.deployment.market, cal, horizon_days)
}
