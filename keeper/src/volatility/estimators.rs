//! Volatility estimators over a candle series: RiskMetrics EWMA, rolling
//! realised volatility and a GARCH(1,1) filter.
//!
//! # Conventions (all estimators)
//!
//! * **Returns.** `r_i = ln(close_i / close_{i-1})`, the log return from row
//!   `i - 1` to row `i` (closes in any price unit: the ratio is unitless).
//! * **Gaps.** A return that spans `k = (ts_i - ts_{i-1}) / period` nominal
//!   periods (k = 2 when one hourly candle is missing) enters every estimator
//!   as its per-period variance `x_i = r_i^2 / k` (`k` is a real number, so a
//!   step that is not a whole multiple of the period is prorated too). Each
//!   estimator steps once per observed return: nothing is added for the
//!   missing periods themselves.
//! * **Rows.** Every estimator returns one [`VolRow`] per input candle, in the
//!   same order. The value on row `i` uses the returns up to and including
//!   `r_i` (the close of row `i`): it is the estimate available at that close,
//!   i.e. the forecast for the next period. Row 0 has no return and so no
//!   sigma: its [`VolRow::sigma`] is `None`; the rolling estimator also gives
//!   `None` until it has a full window.
//! * **Units.** `sigma` is the standard deviation of a one-period log return
//!   (a fraction: 0.01 is 1% per period); `sigma_annual` is
//!   `sigma * sqrt(SECONDS_PER_YEAR / period_seconds)` with a 365-day year
//!   (`sqrt(8760)` for hourly candles), see [`annualisation_factor`].
//!
//! The estimators start at the first candle they are given: to estimate
//! over a window, give them that window (the EWMA and GARCH are then seeded
//! inside it).

use serde::Serialize;

use super::candles::Candle;

/// Seconds in a 365-day year, the year used for annualisation.
pub const SECONDS_PER_YEAR: f64 = 365.0 * 24.0 * 3600.0;

/// Default EWMA decay `lambda` (RiskMetrics' value for daily data, also used
/// here for any period).
pub const DEFAULT_LAMBDA: f64 = 0.94;

/// Default window of the rolling realised volatility, in returns (one day of
/// hourly candles).
pub const DEFAULT_WINDOW: usize = 24;

/// Default GARCH(1,1) `alpha` (weight of the last squared return).
pub const DEFAULT_GARCH_ALPHA: f64 = 0.06;

/// Default GARCH(1,1) `beta` (weight of the last variance). With
/// [`DEFAULT_GARCH_ALPHA`] the persistence `alpha + beta` is 0.98.
pub const DEFAULT_GARCH_BETA: f64 = 0.92;

/// The factor that turns a per-period sigma into an annual one:
/// `sqrt(SECONDS_PER_YEAR / period_seconds)` (`sqrt(8760)` ≈ 93.59 for
/// hourly candles, `sqrt(2190)` for 4-hour ones). Returns NaN for a
/// non-positive period.
pub fn annualisation_factor(period_seconds: i64) -> f64 {
    if period_seconds <= 0 {
        return f64::NAN;
    }
    (SECONDS_PER_YEAR / period_seconds as f64).sqrt()
}

/// One output row: a candle's time and close, and the volatility estimate
/// available at that close.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VolRow {
    /// Open time of the candle, Unix seconds (UTC).
    pub ts: i64,
    /// Close of the candle, quote currency per unit of base.
    pub close: f64,
    /// Standard deviation of a one-period log return (a fraction per nominal
    /// period). `None` on the first row (no return yet) and, for the rolling
    /// estimator, until a full window of returns is available.
    pub sigma: Option<f64>,
    /// `sigma` annualised (fraction per year, 365-day year): `sigma *
    /// annualisation_factor(period_seconds)`. `None` exactly when `sigma` is.
    pub sigma_annual: Option<f64>,
}

/// The log return between two consecutive candles and the number of nominal
/// periods it spans.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodReturn {
    /// Open time of the later candle, Unix seconds.
    pub ts: i64,
    /// `ln(close / previous close)`, unitless.
    pub log_return: f64,
    /// Nominal periods spanned, `(ts - previous ts) / period_seconds` (1.0
    /// without a gap).
    pub periods: f64,
}

impl PeriodReturn {
    /// The per-period variance this return carries, `log_return^2 / periods`
    /// (fraction squared per period).
    pub fn variance(&self) -> f64 {
        self.log_return * self.log_return / self.periods
    }
}

/// GARCH(1,1) parameters, per nominal period of the series:
/// `var_t = omega + alpha * x_{t-1} + beta * var_{t-1}` with `x` the
/// per-period squared return (see [`garch`] for the timing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GarchParams {
    /// Constant term, variance per period (fraction squared). Must be `>= 0`.
    pub omega: f64,
    /// Weight of the last squared return, unitless, `>= 0`.
    pub alpha: f64,
    /// Weight of the last variance, unitless, `>= 0`; `alpha + beta <= 1`.
    pub beta: f64,
}

impl GarchParams {
    /// Parameters with `omega` set by variance targeting: `omega = (1 - alpha
    /// - beta) * long_run_variance`, so that the filter reverts to
    /// `long_run_variance` (per period, fraction squared).
    pub fn targeting(alpha: f64, beta: f64, long_run_variance: f64) -> Self {
        GarchParams {
            omega: (1.0 - alpha - beta) * long_run_variance,
            alpha,
            beta,
        }
    }

    /// Variance targeting on a series: the long-run variance is the mean
    /// per-period squared return `mean(r^2 / k)` of `candles`. The default
    /// `omega` of the `vol` command (with [`DEFAULT_GARCH_ALPHA`] and
    /// [`DEFAULT_GARCH_BETA`] unless given). Note that this uses the whole
    /// series, so in a backtest the early rows see a little of the future.
    pub fn targeting_series(
        candles: &[Candle],
        period_seconds: i64,
        alpha: f64,
        beta: f64,
    ) -> Result<Self, VolError> {
        let returns = period_returns(candles, period_seconds)?;
        if returns.is_empty() {
            return Err(VolError::TooShort {
                candles: candles.len(),
            });
        }
        let mean = returns.iter().map(PeriodReturn::variance).sum::<f64>() / returns.len() as f64;
        Ok(Self::targeting(alpha, beta, mean))
    }

    /// The long-run (unconditional) variance per period, `omega / (1 - alpha
    /// - beta)`; `None` when `alpha + beta >= 1`.
    pub fn long_run_variance(&self) -> Option<f64> {
        let p = self.alpha + self.beta;
        (p < 1.0).then(|| self.omega / (1.0 - p))
    }

    fn validate(&self) -> Result<(), VolError> {
        let ok = self.omega.is_finite()
            && self.alpha.is_finite()
            && self.beta.is_finite()
            && self.omega >= 0.0
            && self.alpha >= 0.0
            && self.beta >= 0.0
            && self.alpha + self.beta <= 1.0;
        if ok {
            Ok(())
        } else {
            Err(VolError::InvalidGarch(*self))
        }
    }
}

/// An estimator and its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// RiskMetrics EWMA with decay `lambda` (see [`ewma`]).
    Ewma {
        /// Decay, `0 <= lambda < 1` (0.94 is RiskMetrics').
        lambda: f64,
    },
    /// Rolling realised volatility over `window` returns (see [`realized`]).
    Realized {
        /// Returns per window, `>= 1`.
        window: usize,
    },
    /// GARCH(1,1) filter (see [`garch`]).
    Garch(GarchParams),
}

/// Why an estimate could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum VolError {
    /// `lambda` outside `[0, 1)`.
    #[error("lambda {0} is outside [0, 1)")]
    InvalidLambda(f64),
    /// A window of zero returns.
    #[error("the window must hold at least one return")]
    InvalidWindow,
    /// GARCH parameters that are negative, not finite, or with
    /// `alpha + beta > 1`.
    #[error(
        "invalid GARCH(1,1) parameters {0:?}: need omega, alpha, beta >= 0 and alpha + beta <= 1"
    )]
    InvalidGarch(GarchParams),
    /// A non-positive nominal period.
    #[error("the period must be positive, got {0} s")]
    InvalidPeriod(i64),
    /// Candles whose open times are not strictly increasing.
    #[error("candle {index} (ts {ts}) is not after the previous one")]
    NotIncreasing {
        /// 0-based index of the candle.
        index: usize,
        /// Its open time, Unix seconds.
        ts: i64,
    },
    /// A close that is not a positive finite number.
    #[error("candle {index} has close {close}, not a positive price")]
    BadClose {
        /// 0-based index of the candle.
        index: usize,
        /// The close found.
        close: f64,
    },
    /// Not enough candles for a return.
    #[error("{candles} candle(s): at least 2 are needed for a return")]
    TooShort {
        /// Candles given.
        candles: usize,
    },
}

/// The returns of a series, one per consecutive pair of candles (so
/// `candles.len() - 1` of them), with the periods each spans.
pub fn period_returns(
    candles: &[Candle],
    period_seconds: i64,
) -> Result<Vec<PeriodReturn>, VolError> {
    if period_seconds <= 0 {
        return Err(VolError::InvalidPeriod(period_seconds));
    }
    for (index, c) in candles.iter().enumerate() {
        if !(c.close.is_finite() && c.close > 0.0) {
            return Err(VolError::BadClose {
                index,
                close: c.close,
            });
        }
    }
    candles
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let dt = w[1].ts - w[0].ts;
            if dt <= 0 {
                return Err(VolError::NotIncreasing {
                    index: i + 1,
                    ts: w[1].ts,
                });
            }
            Ok(PeriodReturn {
                ts: w[1].ts,
                log_return: (w[1].close / w[0].close).ln(),
                periods: dt as f64 / period_seconds as f64,
            })
        })
        .collect()
}

/// Builds the rows from per-return variances (`variances[i]` belongs to
/// candle `i + 1`).
fn rows(candles: &[Candle], period_seconds: i64, variances: &[Option<f64>]) -> Vec<VolRow> {
    let factor = annualisation_factor(period_seconds);
    candles
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let sigma = i
                .checked_sub(1)
                .and_then(|j| variances[j])
                .map(|v| v.sqrt());
            VolRow {
                ts: c.ts,
                close: c.close,
                sigma,
                sigma_annual: sigma.map(|s| s * factor),
            }
        })
        .collect()
}

/// RiskMetrics EWMA volatility.
///
/// `var_1 = x_1`, then `var_i = lambda * var_{i-1} + (1 - lambda) * x_i`,
/// where `x_i = r_i^2 / k_i` is the per-period squared log return of row `i`
/// (see the module documentation for gaps). Row `i` shows `sqrt(var_i)`; row
/// 0 shows `None`. Equal to pandas'
/// `(r**2 / k).ewm(alpha=1 - lambda, adjust=False).mean()` over rows 1...
pub fn ewma(candles: &[Candle], period_seconds: i64, lambda: f64) -> Result<Vec<VolRow>, VolError> {
    if !(0.0..1.0).contains(&lambda) {
        return Err(VolError::InvalidLambda(lambda));
    }
    let returns = period_returns(candles, period_seconds)?;
    let mut var: Option<f64> = None;
    let variances: Vec<Option<f64>> = returns
        .iter()
        .map(|r| {
            let x = r.variance();
            let v = match var {
                None => x,
                Some(prev) => lambda * prev + (1.0 - lambda) * x,
            };
            var = Some(v);
            var
        })
        .collect();
    Ok(rows(candles, period_seconds, &variances))
}

/// Rolling realised volatility over the last `window` returns.
///
/// Row `i` (with `i >= window`) shows `sqrt(mean(x_{i-window+1} ..= x_i))`,
/// `x_j = r_j^2 / k_j`: the sample standard deviation of per-period returns
/// taken around a mean of zero (no mean is subtracted, and the divisor is
/// `window`, not `window - 1`), the usual choice for high-frequency returns
/// whose mean is negligible. Rows with fewer than `window` returns behind them
/// show `None` (like pandas' `rolling(window).mean()`).
pub fn realized(
    candles: &[Candle],
    period_seconds: i64,
    window: usize,
) -> Result<Vec<VolRow>, VolError> {
    if window == 0 {
        return Err(VolError::InvalidWindow);
    }
    let x: Vec<f64> = period_returns(candles, period_seconds)?
        .iter()
        .map(PeriodReturn::variance)
        .collect();
    let variances: Vec<Option<f64>> = (0..x.len())
        .map(|j| {
            (j + 1 >= window).then(|| x[j + 1 - window..=j].iter().sum::<f64>() / window as f64)
        })
        .collect();
    Ok(rows(candles, period_seconds, &variances))
}

/// GARCH(1,1) filter with fixed parameters (no fitting).
///
/// Timing: `var_t` is the variance of the return `r_t` (row `t`) given the
/// returns before it: `var_1 = x_1` (the seed, the first per-period squared
/// return), `var_{t+1} = omega + alpha * x_t + beta * var_t` with
/// `x_t = r_t^2 / k_t`. Row `t` (t >= 1) shows `sqrt(var_{t+1})`, the
/// forecast made at row `t`'s close for the next return, so that, like the
/// other estimators, row `t` uses the returns up to and including `r_t`.
/// Row 1 thus shows `sqrt(omega + (alpha + beta) * x_1)`, and with
/// `omega = 0, alpha = 1 - lambda, beta = lambda` the filter equals [`ewma`].
pub fn garch(
    candles: &[Candle],
    period_seconds: i64,
    params: GarchParams,
) -> Result<Vec<VolRow>, VolError> {
    params.validate()?;
    let GarchParams { omega, alpha, beta } = params;
    let returns = period_returns(candles, period_seconds)?;
    let mut var: Option<f64> = None; // var_t, the variance of the current return
    let variances: Vec<Option<f64>> = returns
        .iter()
        .map(|r| {
            let x = r.variance();
            let var_t = var.unwrap_or(x);
            let next = omega + alpha * x + beta * var_t;
            var = Some(next);
            var
        })
        .collect();
    Ok(rows(candles, period_seconds, &variances))
}

/// Runs the estimator `method` (see [`ewma`], [`realized`], [`garch`]).
pub fn estimate(
    candles: &[Candle],
    period_seconds: i64,
    method: &Method,
) -> Result<Vec<VolRow>, VolError> {
    match *method {
        Method::Ewma { lambda } => ewma(candles, period_seconds, lambda),
        Method::Realized { window } => realized(candles, period_seconds, window),
        Method::Garch(p) => garch(candles, period_seconds, p),
    }
}

/// The current annualised sigma of a series: [`VolRow::sigma_annual`] of the
/// last row of [`estimate`] (fraction per year), the value the keeper's
/// volatility task pushes (`crate::tasks::volatility`). `Ok(None)` when the last row has no
/// estimate (fewer than two candles, or fewer returns than the window).
pub fn latest_sigma(
    candles: &[Candle],
    period_seconds: i64,
    method: &Method,
) -> Result<Option<f64>, VolError> {
    Ok(estimate(candles, period_seconds, method)?
        .last()
        .and_then(|r| r.sigma_annual))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::volatility::candles::{parse_time_bound, read_prices, ReadOptions};

    fn candle(ts: i64, close: f64) -> Candle {
        Candle {
            ts,
            open: close,
            high: close,
            low: close,
            close,
            volume: 1.0,
        }
    }

    fn sol() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/SOLUSDT_1h.csv")
    }

    #[test]
    fn reference_ftx_value() {
        let series = read_prices(
            &sol(),
            &ReadOptions {
                from: Some(parse_time_bound("2022-10-01").unwrap()),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        assert_eq!(series.period_seconds, 3600);
        let rows = ewma(&series.candles, series.period_seconds, 0.94).unwrap();
        assert_eq!(rows[0].sigma, None);
        let at = parse_time_bound("2022-11-09 23:00").unwrap();
        let row = rows.iter().find(|r| r.ts == at).unwrap();
        assert_eq!(row.close, 14.08);
        let s = row.sigma.unwrap();
        let a = row.sigma_annual.unwrap();
        assert!((s - 0.06358237).abs() < 1e-8, "{s}");
        assert!((a - 5.95098336).abs() < 1e-8, "{a}");
    }

    #[test]
    fn estimator_is_seeded_at_the_first_candle_given() {
        let from = parse_time_bound("2022-11-09 00:00").unwrap();
        let window = read_prices(
            &sol(),
            &ReadOptions {
                from: Some(from),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let c = &window.candles;
        assert_eq!(c[0].ts, from);
        let rows = ewma(c, 3600, 0.94).unwrap();
        assert_eq!(rows[0].sigma, None);
        let r1 = (c[1].close / c[0].close).ln().abs();
        assert_eq!(rows[1].sigma, Some(r1));
        // Over the whole file the same row carries history from before.
        let all = read_prices(&sol(), &ReadOptions::default()).unwrap();
        let full = ewma(&all.candles, 3600, 0.94).unwrap();
        let same = full.iter().find(|r| r.ts == c[1].ts).unwrap();
        assert!((same.sigma.unwrap() - r1).abs() > 1e-4);
    }

    #[test]
    fn annualisation() {
        assert_eq!(SECONDS_PER_YEAR, 31_536_000.0);
        assert!((annualisation_factor(3600) - 8760f64.sqrt()).abs() < 1e-12);
        assert!((annualisation_factor(4 * 3600) - 2190f64.sqrt()).abs() < 1e-12);
        assert!((annualisation_factor(86_400) - 365f64.sqrt()).abs() < 1e-12);
        assert!(annualisation_factor(0).is_nan());
        let c = [candle(0, 100.0), candle(3600, 101.0)];
        let r = &ewma(&c, 3600, 0.94).unwrap()[1];
        assert_eq!(r.sigma_annual.unwrap(), r.sigma.unwrap() * 8760f64.sqrt());
    }

    #[test]
    fn first_row_has_no_sigma_and_seed_is_first_squared_return() {
        let c = [candle(0, 100.0), candle(3600, 110.0), candle(7200, 99.0)];
        let rows = ewma(&c, 3600, 0.9).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].sigma, None);
        assert_eq!(rows[0].sigma_annual, None);
        let r1 = (110f64 / 100.0).ln();
        let r2 = (99f64 / 110.0).ln();
        assert!((rows[1].sigma.unwrap() - r1.abs()).abs() < 1e-15);
        let v2 = 0.9 * r1 * r1 + 0.1 * r2 * r2;
        assert!((rows[2].sigma.unwrap() - v2.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn gap_enters_as_per_period_variance() {
        // Hour 3 is missing: the return from hour 2 to hour 4 spans k = 2.
        let c = [
            candle(0, 100.0),
            candle(3600, 102.0),
            candle(7200, 101.0),
            candle(4 * 3600, 106.0),
            candle(5 * 3600, 105.0),
        ];
        let r: Vec<f64> = c
            .windows(2)
            .map(|w| (w[1].close / w[0].close).ln())
            .collect();
        let x = [r[0] * r[0], r[1] * r[1], r[2] * r[2] / 2.0, r[3] * r[3]];
        let rets = period_returns(&c, 3600).unwrap();
        assert_eq!(
            rets.iter().map(|r| r.periods).collect::<Vec<_>>(),
            [1.0, 1.0, 2.0, 1.0]
        );

        let lambda = 0.94;
        let mut v = x[0];
        let mut expected = vec![v];
        for xi in &x[1..] {
            v = lambda * v + (1.0 - lambda) * xi;
            expected.push(v);
        }
        let rows = ewma(&c, 3600, lambda).unwrap();
        for (row, e) in rows[1..].iter().zip(&expected) {
            assert!((row.sigma.unwrap() - e.sqrt()).abs() < 1e-15);
        }
        // Not what ignoring the gap would give.
        let naive = lambda * expected[1] + (1.0 - lambda) * r[2] * r[2];
        assert!((rows[3].sigma.unwrap() - naive.sqrt()).abs() > 1e-5);

        let rows = realized(&c, 3600, 2).unwrap();
        assert_eq!(rows[1].sigma, None);
        assert!((rows[3].sigma.unwrap() - ((x[1] + x[2]) / 2.0).sqrt()).abs() < 1e-15);
        assert!((rows[4].sigma.unwrap() - ((x[2] + x[3]) / 2.0).sqrt()).abs() < 1e-15);

        let p = GarchParams {
            omega: 1e-6,
            alpha: 0.1,
            beta: 0.85,
        };
        let rows = garch(&c, 3600, p).unwrap();
        let mut var = x[0];
        for (i, xi) in x.iter().enumerate() {
            var = p.omega + p.alpha * xi + p.beta * var;
            assert!((rows[i + 1].sigma.unwrap() - var.sqrt()).abs() < 1e-15);
        }
    }

    #[test]
    fn realized_window() {
        let closes = [100.0, 101.0, 99.5, 102.0, 103.5, 101.0];
        let c: Vec<Candle> = closes
            .iter()
            .enumerate()
            .map(|(i, &p)| candle(i as i64 * 60, p))
            .collect();
        let rows = realized(&c, 60, 3).unwrap();
        assert!(rows[..3].iter().all(|r| r.sigma.is_none()));
        let r: Vec<f64> = closes.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        for i in 3..6 {
            let m = (r[i - 3].powi(2) + r[i - 2].powi(2) + r[i - 1].powi(2)) / 3.0;
            assert!((rows[i].sigma.unwrap() - m.sqrt()).abs() < 1e-15);
        }
        let one = realized(&c, 60, 1).unwrap();
        assert!((one[2].sigma.unwrap() - r[1].abs()).abs() < 1e-15);
        assert_eq!(realized(&c, 60, 0), Err(VolError::InvalidWindow));
    }

    #[test]
    fn garch_with_ewma_parameters_is_ewma() {
        let series = read_prices(
            &sol(),
            &ReadOptions {
                from: Some(parse_time_bound("2021-04-01").unwrap()),
                to: Some(parse_time_bound("2021-05-01").unwrap()),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let e = ewma(&series.candles, 3600, 0.94).unwrap();
        let g = garch(
            &series.candles,
            3600,
            GarchParams {
                omega: 0.0,
                alpha: 0.06,
                beta: 0.94,
            },
        )
        .unwrap();
        for (a, b) in e.iter().zip(&g) {
            match (a.sigma, b.sigma) {
                (None, None) => {}
                (Some(x), Some(y)) => assert!((x - y).abs() < 1e-14, "{x} {y}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn garch_first_row_and_targeting() {
        let c = [candle(0, 100.0), candle(3600, 103.0), candle(7200, 102.0)];
        let p = GarchParams::targeting(0.1, 0.8, 2e-4);
        assert!((p.omega - 2e-5).abs() < 1e-18);
        assert!((p.long_run_variance().unwrap() - 2e-4).abs() < 1e-15);
        let rows = garch(&c, 3600, p).unwrap();
        let x1 = (103f64 / 100.0).ln().powi(2);
        let v2 = p.omega + 0.9 * x1;
        assert!((rows[1].sigma.unwrap() - v2.sqrt()).abs() < 1e-15);
        let t = GarchParams::targeting_series(&c, 3600, 0.1, 0.8).unwrap();
        let x2 = (102f64 / 103.0).ln().powi(2);
        assert!((t.omega - 0.1 * (x1 + x2) / 2.0).abs() < 1e-18);
    }

    #[test]
    fn bad_parameters_are_refused() {
        let c = [candle(0, 100.0), candle(3600, 101.0)];
        assert_eq!(ewma(&c, 3600, 1.0), Err(VolError::InvalidLambda(1.0)));
        assert_eq!(ewma(&c, 3600, -0.1), Err(VolError::InvalidLambda(-0.1)));
        assert_eq!(ewma(&c, 0, 0.94), Err(VolError::InvalidPeriod(0)));
        let bad = GarchParams {
            omega: 1e-6,
            alpha: 0.2,
            beta: 0.9,
        };
        assert_eq!(garch(&c, 3600, bad), Err(VolError::InvalidGarch(bad)));
        let back = [candle(3600, 100.0), candle(0, 101.0)];
        assert_eq!(
            ewma(&back, 3600, 0.94),
            Err(VolError::NotIncreasing { index: 1, ts: 0 })
        );
        let zero = [candle(0, 100.0), candle(3600, 0.0)];
        assert!(matches!(
            ewma(&zero, 3600, 0.94),
            Err(VolError::BadClose { index: 1, .. })
        ));
    }

    #[test]
    fn latest_sigma_is_last_row() {
        let series = read_prices(
            &sol(),
            &ReadOptions {
                from: Some(parse_time_bound("2022-10-01").unwrap()),
                to: Some(parse_time_bound("2022-11-09 23:00").unwrap()),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let m = Method::Ewma { lambda: 0.94 };
        let s = latest_sigma(&series.candles, series.period_seconds, &m)
            .unwrap()
            .unwrap();
        assert!((s - 5.95098336).abs() < 1e-8, "{s}");
        let one = &series.candles[..1];
        assert_eq!(latest_sigma(one, 3600, &m), Ok(None));
        let long = Method::Realized { window: 100_000 };
        assert_eq!(latest_sigma(&series.candles, 3600, &long), Ok(None));
        assert_eq!(
            latest_sigma(one, 3600, &Method::Ewma { lambda: 2.0 }),
            Err(VolError::InvalidLambda(2.0))
        );
    }

    #[test]
    fn calm_may_2023_is_about_fifty_percent() {
        // README: annualised realised vol of hourly returns in May 2023 is
        // about 50-56%.
        let series = read_prices(
            &sol(),
            &ReadOptions {
                from: Some(parse_time_bound("2023-05-01").unwrap()),
                to: Some(parse_time_bound("2023-05-31 23:00").unwrap()),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let n = series.candles.len() - 1;
        let s = latest_sigma(&series.candles, 3600, &Method::Realized { window: n })
            .unwrap()
            .unwrap();
        assert!((0.45..0.60).contains(&s), "{s}");
    }
}
