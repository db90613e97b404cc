//! The price model: correlated log returns of the collateral assets.
//!
//! * **Data.** Each asset's price file is read with the keeper's reader
//!   ([`read_prices`]: errors name the file's line) and its closes are
//!   aligned on the common close times that fall on the estimation period
//!   (4 h for `../shared/data`, BTC's file being 4 h). A return is taken
//!   between two consecutive common closes exactly one period apart; a gap
//!   (an exchange outage in either file) drops that return rather than
//!   spreading it.
//! * **Covariance.** RiskMetrics EWMA at the estimation period, `lambda =
//!   0.94` (J.P. Morgan/Reuters, *RiskMetrics Technical Document*, 1996):
//!   `S_t = lambda S_{t-1} + (1 - lambda) r_{t-1} r_{t-1}^T`, seeded with the
//!   sample covariance of the first [`SEED_RETURNS`] returns. The forecast
//!   after the last return is the model's current covariance. At a step
//!   `dt` shorter than the period it is scaled by `dt / period`
//!   (square-root-of-time) and its decay becomes `lambda^(dt / period)`.
//! * **Fat tails: filtered historical simulation** (Barone-Adesi, Giannopoulos
//!   and Vosper 1999). Each historical return vector is whitened by the
//!   Cholesky factor of the covariance forecast made before it, `e_t =
//!   L_{t-1}^{-1} r_t`, and the residual vectors are then re-standardised to
//!   mean 0 and identity covariance exactly. A simulated step draws one date
//!   and uses *that date's whole vector* `e`, so the returns are `L e`:
//!   volatility and correlation come from the current (or stressed)
//!   covariance, the shape of the tails and their co-movement (SOL and BTC
//!   crashing on the same 4 h) from history. A Student-t copula would need a
//!   single degrees-of-freedom parameter to carry both the marginal tails and
//!   the tail dependence, and it is symmetric; bootstrapping by date keeps the
//!   empirical joint tail (crashes larger than rallies, together) without
//!   fitting it. In a path the covariance follows the same EWMA recursion on
//!   the simulated returns, so volatility clusters after a shock.
//! * **Gaussian mode**: `e ~ N(0, I)` and a constant covariance: a
//!   multivariate geometric Brownian motion, for closed-form checks.
//! * Every step's log return carries the drift `-sigma_i^2 dt / 2`, so each
//!   price is a martingale (no expected trend in a 7-day stress).
//! * **Correlation stress** `x` in [0, 1]: the correlation matrix `R` of each
//!   step's covariance becomes `(1 - x) R + x 11^T`, positive semi-definite
//!   as a convex combination of two PSD matrices; volatilities are kept.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use rand::Rng;

use crate::volatility::candles::{read_prices, ReadOptions};

/// RiskMetrics decay at the estimation period.
pub const LAMBDA: f64 = 0.94;
/// Returns whose sample covariance seeds the EWMA.
pub const SEED_RETURNS: usize = 30;
/// Residuals dropped at the start (the EWMA's burn-in).
pub const BURN_IN: usize = 60;

/// Aligned closes of several assets.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// Asset symbols, in column order.
    pub symbols: Vec<String>,
    /// Common close times, Unix seconds, increasing.
    pub ts: Vec<i64>,
    /// Closes, `closes[t][asset]`, USD per token.
    pub closes: Vec<Vec<f64>>,
    /// The alignment period, seconds.
    pub period_secs: i64,
}

/// One price file of [`load_history`].
#[derive(Clone, Debug, PartialEq)]
pub struct PriceFile {
    /// Asset symbol in the model.
    pub symbol: String,
    /// The file.
    pub path: PathBuf,
    /// The file's `symbol` column value, if it has one.
    pub file_symbol: Option<String>,
}

/// Reads each file and keeps the closes at the close times common to all
/// files that are multiples of `period_secs`. Errors name the file (and the
/// reader names the line), or say that the files share too few closes.
pub fn load_history(files: &[PriceFile], period_secs: i64) -> Result<History> {
    if files.is_empty() {
        bail!("no price file");
    }
    let mut maps: Vec<BTreeMap<i64, f64>> = Vec::new();
    for f in files {
        let series = read_prices(
            &f.path,
            &ReadOptions {
                symbol: f.file_symbol.clone(),
                from: None,
                to: None,
            },
        )
        .with_context(|| format!("{} prices from {}", f.symbol, f.path.display()))?;
        let p = series.period_seconds;
        maps.push(
            series
                .candles
                .iter()
                .map(|c| (c.ts + p, c.close))
                .filter(|(t, _)| t % period_secs == 0)
                .collect(),
        );
    }
    let mut ts = Vec::new();
    let mut closes = Vec::new();
    for (&t, &c0) in &maps[0] {
        let mut row = vec![c0];
        for m in &maps[1..] {
            match m.get(&t) {
                Some(&c) => row.push(c),
                None => break,
            }
        }
        if row.len() == files.len() {
            ts.push(t);
            closes.push(row);
        }
    }
    if ts.len() < SEED_RETURNS + BURN_IN + 2 {
        bail!(
            "the price files share {} closes at a {period_secs} s period; at least {} are needed",
            ts.len(),
            SEED_RETURNS + BURN_IN + 2
        );
    }
    Ok(History {
        symbols: files.iter().map(|f| f.symbol.clone()).collect(),
        ts,
        closes,
        period_secs,
    })
}

impl History {
    /// Log returns between consecutive closes exactly one period apart,
    /// with the close time of their end.
    pub fn returns(&self) -> Vec<(i64, Vec<f64>)> {
        (1..self.ts.len())
            .filter(|&t| self.ts[t] - self.ts[t - 1] == self.period_secs)
            .map(|t| {
                let r = (0..self.symbols.len())
                    .map(|a| (self.closes[t][a] / self.closes[t - 1][a]).ln())
                    .collect();
                (self.ts[t], r)
            })
            .collect()
    }
}

/// A symmetric `n x n` matrix, row-major.
pub type Mat = Vec<f64>;

/// Lower Cholesky factor of a positive semi-definite `n x n` matrix. A
/// pivot at or below zero (a singular direction: correlation stress at 1)
/// gives a zero column instead of an error.
pub fn cholesky(m: &[f64], n: usize) -> Mat {
    let mut l = vec![0.0; n * n];
    for j in 0..n {
        let mut d = m[j * n + j];
        for k in 0..j {
            d -= l[j * n + k] * l[j * n + k];
        }
        let ljj = if d > 1e-300 { d.sqrt() } else { 0.0 };
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let mut s = m[i * n + j];
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            l[i * n + j] = if ljj > 0.0 { s / ljj } else { 0.0 };
        }
    }
    l
}

/// `L^{-1} r` for a lower-triangular `L` (zero pivots give zero).
fn forward_solve(l: &[f64], n: usize, r: &[f64]) -> Vec<f64> {
    let mut e = vec![0.0; n];
    for i in 0..n {
        let mut s = r[i];
        for k in 0..i {
            s -= l[i * n + k] * e[k];
        }
        e[i] = if l[i * n + i] > 0.0 {
            s / l[i * n + i]
        } else {
            0.0
        };
    }
    e
}

/// The covariance `cov` with its correlation blended toward all-ones by
/// `x` (module doc); volatilities unchanged.
pub fn stress_correlation(cov: &[f64], n: usize, x: f64) -> Mat {
    if x == 0.0 {
        return cov.to_vec();
    }
    let sd: Vec<f64> = (0..n).map(|i| cov[i * n + i].max(0.0).sqrt()).collect();
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = if i == j {
                cov[i * n + i]
            } else {
                (1.0 - x) * cov[i * n + j] + x * sd[i] * sd[j]
            };
        }
    }
    out
}

/// How a step's standardised shock is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ShockModel {
    /// Filtered historical simulation: a historical date's residual vector,
    /// with the EWMA recursion inside the path.
    Fhs,
    /// Independent standard normals, constant covariance (GBM).
    Gaussian,
}

/// The fitted model.
#[derive(Clone, Debug, PartialEq)]
pub struct PriceModel {
    /// Asset symbols.
    pub symbols: Vec<String>,
    /// Current prices (the last aligned closes), USD per token.
    pub s0: Vec<f64>,
    /// Covariance forecast of one estimation period's log returns.
    pub cov: Mat,
    /// The estimation period, seconds.
    pub period_secs: i64,
    /// Standardised residual vectors (mean 0, identity covariance), one per
    /// historical date.
    pub residuals: Vec<Vec<f64>>,
}

impl PriceModel {
    /// Number of assets.
    pub fn n(&self) -> usize {
        self.symbols.len()
    }

    /// Fits the EWMA covariance and the residuals to `h` (module doc).
    pub fn fit(h: &History) -> Result<Self> {
        let n = h.symbols.len();
        let rets = h.returns();
        if rets.len() < SEED_RETURNS + BURN_IN + 1 {
            bail!(
                "{} returns at a {} s period; at least {} are needed",
                rets.len(),
                h.period_secs,
                SEED_RETURNS + BURN_IN + 1
            );
        }
        let mut cov = vec![0.0; n * n];
        for (_, r) in &rets[..SEED_RETURNS] {
            for i in 0..n {
                for j in 0..n {
                    cov[i * n + j] += r[i] * r[j] / SEED_RETURNS as f64;
                }
            }
        }
        let mut raw = Vec::new();
        for (k, (_, r)) in rets.iter().enumerate().skip(SEED_RETURNS) {
            let l = cholesky(&cov, n);
            if k >= SEED_RETURNS + BURN_IN {
                raw.push(forward_solve(&l, n, r));
            }
            for i in 0..n {
                for j in 0..n {
                    cov[i * n + j] = LAMBDA * cov[i * n + j] + (1.0 - LAMBDA) * r[i] * r[j];
                }
            }
        }
        let residuals = standardise(raw, n);
        Ok(Self {
            symbols: h.symbols.clone(),
            s0: h.closes.last().expect("non-empty").clone(),
            cov,
            period_secs: h.period_secs,
            residuals,
        })
    }

    /// A Gaussian model from annualised volatilities and a correlation
    /// matrix (row-major), with no residuals: for closed-form checks and
    /// tests.
    pub fn gaussian(symbols: &[&str], s0: &[f64], sigma_annual: &[f64], corr: &[f64]) -> Self {
        let n = symbols.len();
        let period_secs = 14_400;
        let per = period_secs as f64 / SECONDS_PER_YEAR;
        let mut cov = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] = corr[i * n + j] * sigma_annual[i] * sigma_annual[j] * per;
            }
        }
        Self {
            symbols: symbols.iter().map(|s| s.to_string()).collect(),
            s0: s0.to_vec(),
            cov,
            period_secs,
            residuals: Vec::new(),
        }
    }

    /// Annualised volatility of asset `i` under the current covariance.
    pub fn sigma_annual(&self, i: usize) -> f64 {
        let n = self.n();
        (self.cov[i * n + i] * SECONDS_PER_YEAR / self.period_secs as f64).sqrt()
    }

    /// Correlation of assets `i` and `j` under the current covariance.
    pub fn correlation(&self, i: usize, j: usize) -> f64 {
        let n = self.n();
        self.cov[i * n + j] / (self.cov[i * n + i] * self.cov[j * n + j]).sqrt()
    }

    /// The covariance with asset `i`'s volatility multiplied by `f` (for
    /// vega).
    pub fn scale_vol(&mut self, i: usize, f: f64) {
        let n = self.n();
        for j in 0..n {
            self.cov[i * n + j] *= f;
            self.cov[j * n + i] *= f;
        }
    }
}

/// Seconds in a 365-day year.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 86_400.0;

/// Re-standardises residual vectors to sample mean 0 and identity sample
/// covariance (whitening by the Cholesky factor of their own covariance).
fn standardise(raw: Vec<Vec<f64>>, n: usize) -> Vec<Vec<f64>> {
    let m = raw.len() as f64;
    let mut mean = vec![0.0; n];
    for e in &raw {
        for i in 0..n {
            mean[i] += e[i] / m;
        }
    }
    let mut cov = vec![0.0; n * n];
    for e in &raw {
        for i in 0..n {
            for j in 0..n {
                cov[i * n + j] += (e[i] - mean[i]) * (e[j] - mean[j]) / m;
            }
        }
    }
    let l = cholesky(&cov, n);
    raw.iter()
        .map(|e| {
            let c: Vec<f64> = (0..n).map(|i| e[i] - mean[i]).collect();
            forward_solve(&l, n, &c)
        })
        .collect()
}

/// Two independent standard normals (Box-Muller on two uniforms in (0, 1]).
pub fn normal_pair<R: Rng>(rng: &mut R) -> (f64, f64) {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen::<f64>();
    let r = (-2.0 * u1.ln()).sqrt();
    let t = std::f64::consts::TAU * u2;
    (r * t.cos(), r * t.sin())
}

/// The per-path state of the price process.
#[derive(Clone, Debug)]
pub struct PathPrices {
    n: usize,
    /// Covariance of one step's log returns (evolves under FHS).
    cov_step: Mat,
    /// Cholesky factor of the (stressed) step covariance.
    chol: Mat,
    lambda_step: f64,
    corr_stress: f64,
    shocks: ShockModel,
    e: Vec<f64>,
    /// The step's log returns (diffusion and drift, before impact).
    pub r: Vec<f64>,
}

impl PathPrices {
    /// The process at step `step_secs` from `model`.
    pub fn new(model: &PriceModel, step_secs: i64, shocks: ShockModel, corr_stress: f64) -> Self {
        let n = model.n();
        let f = step_secs as f64 / model.period_secs as f64;
        let cov_step: Mat = model.cov.iter().map(|c| c * f).collect();
        let chol = cholesky(&stress_correlation(&cov_step, n, corr_stress), n);
        Self {
            n,
            cov_step,
            chol,
            lambda_step: LAMBDA.powf(f),
            corr_stress,
            shocks,
            e: vec![0.0; n],
            r: vec![0.0; n],
        }
    }

    /// Variance of one step's log return of asset `i` now.
    pub fn var_step(&self, i: usize) -> f64 {
        self.cov_step[i * self.n + i]
    }

    /// Draws the next step's log returns into [`PathPrices::r`]. The draws
    /// taken from `rng` do not depend on the state, so two policies (or two
    /// bumped books) on the same stream see the same shocks.
    pub fn next<R: Rng>(&mut self, model: &PriceModel, rng: &mut R) {
        let n = self.n;
        match self.shocks {
            ShockModel::Gaussian => {
                let mut i = 0;
                while i < n {
                    let (a, b) = normal_pair(rng);
                    self.e[i] = a;
                    if i + 1 < n {
                        self.e[i + 1] = b;
                    }
                    i += 2;
                }
            }
            ShockModel::Fhs => {
                let k = rng.gen_range(0..model.residuals.len());
                self.e.copy_from_slice(&model.residuals[k]);
            }
        }
        for i in 0..n {
            let mut s = 0.0;
            for k in 0..=i {
                s += self.chol[i * n + k] * self.e[k];
            }
            // `e` now holds the diffusion part, `r` the log return.
            self.r[i] = s - 0.5 * self.cov_step[i * n + i];
        }
        for i in 0..n {
            self.e[i] = self.r[i] + 0.5 * self.cov_step[i * n + i];
        }
        if self.shocks == ShockModel::Fhs {
            let lam = self.lambda_step;
            for i in 0..n {
                for j in 0..n {
                    self.cov_step[i * n + j] =
                        lam * self.cov_step[i * n + j] + (1.0 - lam) * self.e[i] * self.e[j];
                }
            }
            self.chol = cholesky(&stress_correlation(&self.cov_step, n, self.corr_stress), n);
        }
    }
}
