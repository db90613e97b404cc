//! The risk figures of a set of paths.
//!
//! Definitions (losses are bad debt in USD, `n` paths sorted ascending):
//!
//! * `VaR_q`: the `q` quantile of bad debt, the `ceil(q n)`-th smallest.
//! * `ES_q` (expected shortfall, CVaR): the mean of the `n - floor(q n)`
//!   largest losses (those at or beyond `VaR_q`).
//! * `LaR_q` (liquidations at risk, Gauntlet): the `q` quantile of debt
//!   repaid by liquidators over the horizon.
//! * Borrowing power (Gauntlet): the sum over collateral of its value times
//!   its LTV (collateral factor); borrow usage: total borrows over borrowing
//!   power.
//! * Liquidity coverage under stress: the debt asset's liquid amount at the
//!   horizon (deposits minus borrows at the start, plus debt repaid by
//!   liquidators) over the reserve's stressed outflow (its
//!   `stress_outflow_bps` of the deposits left after bad debt); reported at
//!   the 5th percentile (the stressed tail).
//! * Standard error of the mean: the sample standard deviation over
//!   `sqrt(n)`.

use serde::Serialize;

use super::book::{converged_params, Book};
use super::prices::PriceModel;
use super::sim::{PathOutcome, Policy, BUCKET_UPPER};

/// The `q` quantile of ascending `sorted` (the `ceil(q n)`-th smallest).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// The mean of the `n - floor(q n)` largest of ascending `sorted`.
pub fn expected_shortfall(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((q * sorted.len() as f64).floor() as usize).min(sorted.len() - 1);
    let tail = &sorted[k..];
    tail.iter().sum::<f64>() / tail.len() as f64
}

/// Mean and standard error of the mean.
pub fn mean_se(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    if x.is_empty() {
        return (0.0, 0.0);
    }
    let m = x.iter().sum::<f64>() / n;
    if x.len() < 2 {
        return (m, 0.0);
    }
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, (v / n).sqrt())
}

/// Ascending copy.
pub fn sorted(mut x: Vec<f64>) -> Vec<f64> {
    x.sort_by(f64::total_cmp);
    x
}

/// VaR and ES of one loss distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Tail {
    /// Mean loss, USD.
    pub mean: f64,
    /// Standard error of the mean, USD.
    pub mean_se: f64,
    /// VaR 95%, USD.
    pub var95: f64,
    /// VaR 99%, USD.
    pub var99: f64,
    /// ES 95%, USD.
    pub es95: f64,
    /// ES 99%, USD.
    pub es99: f64,
}

impl Tail {
    /// The figures of `losses`.
    pub fn of(losses: &[f64]) -> Self {
        let (mean, mean_se) = mean_se(losses);
        let s = sorted(losses.to_vec());
        Self {
            mean,
            mean_se,
            var95: quantile(&s, 0.95),
            var99: quantile(&s, 0.99),
            es95: expected_shortfall(&s, 0.95),
            es99: expected_shortfall(&s, 0.99),
        }
    }
}

/// The report of one policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PolicyReport {
    /// The policy.
    pub policy: Policy,
    /// Paths.
    pub paths: usize,
    /// Bad debt.
    pub bad_debt: Tail,
    /// Probability of any bad debt (over a cent).
    pub p_bad_debt: f64,
    /// LaR 95: 95th percentile of debt liquidated, USD.
    pub lar95: f64,
    /// LaR 99, USD.
    pub lar99: f64,
    /// Mean debt liquidated, USD.
    pub mean_liquidated: f64,
    /// Mean bonus paid by borrowers, USD.
    pub mean_bonus: f64,
    /// Mean face of the term loans converted before their liquidation, USD.
    pub mean_term_converted_face: f64,
    /// Mean of what they owed when converted (face plus penalty), USD.
    pub mean_term_converted_debt: f64,
    /// The worst path: index, bad debt, terminal prices.
    pub worst_path: (usize, f64, Vec<f64>),
    /// Borrowing power at the start under this policy's LTV, USD.
    pub borrowing_power_start: f64,
    /// Borrow usage at the start.
    pub borrow_usage_start: f64,
    /// Borrow usage at the horizon, 95th percentile over paths.
    pub borrow_usage_horizon_p95: f64,
    /// Largest debt at risk in a path, 95th percentile, USD.
    pub peak_debt_at_risk_p95: f64,
    /// Liquidity coverage under stress, 5th percentile.
    pub liquidity_coverage_p5: Option<f64>,
    /// Mean bad debt by collateral asset, USD.
    pub bad_debt_by_asset: Vec<(String, f64)>,
    /// Mean bad debt by initial-health bucket (upper bound), USD.
    pub bad_debt_by_bucket: Vec<(String, f64)>,
}

/// The book at the start.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BookSummary {
    /// Obligations.
    pub obligations: usize,
    /// Collateral value by asset, USD.
    pub collateral_usd: Vec<(String, f64)>,
    /// Debt, USD (floating plus term loans at what they owe at the start).
    pub debt_usd: f64,
    /// Face of the term loans, USD (part of `debt_usd`).
    pub term_face_usd: f64,
    /// Obligations with a term loan.
    pub term_obligations: usize,
    /// Debt-asset deposits, USD.
    pub deposits_usd: f64,
    /// Annualised volatility by asset (the model's current EWMA).
    pub sigma_annual: Vec<(String, f64)>,
    /// Correlation matrix of the model (row-major).
    pub correlation: Vec<f64>,
}

impl BookSummary {
    /// The summary of `book` under `model`.
    pub fn of(book: &Book, model: &PriceModel) -> Self {
        let n = model.n();
        Self {
            obligations: book.len(),
            collateral_usd: book
                .assets
                .iter()
                .enumerate()
                .map(|(a, x)| {
                    (
                        x.symbol.clone(),
                        book.collateral[a].iter().sum::<f64>() * x.price,
                    )
                })
                .collect(),
            debt_usd: book.total_debt_at_start(),
            term_face_usd: book.term_face_usd(),
            term_obligations: book.term_face.iter().filter(|f| **f > 0.0).count(),
            deposits_usd: book.debt_deposits_usd,
            sigma_annual: (0..n)
                .map(|a| (model.symbols[a].clone(), model.sigma_annual(a)))
                .collect(),
            correlation: (0..n * n)
                .map(|k| model.correlation(k / n, k % n))
                .collect(),
        }
    }
}

/// The borrowing power of `book` at the start under `policy`, USD.
pub fn borrowing_power(book: &Book, model: &PriceModel, policy: Policy) -> f64 {
    book.assets
        .iter()
        .enumerate()
        .map(|(a, x)| {
            let ltv = match (policy, &x.dynamic) {
                (Policy::Dynamic, Some(c)) => converged_params(c, model.sigma_annual(a))
                    .map(|p| p.ltv_bps)
                    .unwrap_or(x.static_params.ltv_bps),
                _ => x.static_params.ltv_bps,
            };
            book.collateral[a].iter().sum::<f64>() * x.price * ltv as f64 / 1e4
        })
        .sum()
}

impl PolicyReport {
    /// The report of `outs`, paths of `book` under `policy`.
    pub fn of(book: &Book, model: &PriceModel, policy: Policy, outs: &[PathOutcome]) -> Self {
        let n = outs.len().max(1) as f64;
        let bd: Vec<f64> = outs.iter().map(|o| o.bad_debt).collect();
        let liq = sorted(outs.iter().map(|o| o.liquidated_debt).collect());
        let (wi, wo) = outs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.bad_debt.total_cmp(&b.1.bad_debt).then(b.0.cmp(&a.0)))
            .expect("at least one path");
        let power = borrowing_power(book, model, policy);
        let debt = book.total_debt_at_start();
        let usage = sorted(
            outs.iter()
                .map(|o| o.terminal_debt / o.terminal_borrowing_power.max(1e-9))
                .collect(),
        );
        let cov: Vec<f64> = outs.iter().filter_map(|o| o.liquidity_coverage).collect();
        let assets = book.assets.len();
        Self {
            policy,
            paths: outs.len(),
            bad_debt: Tail::of(&bd),
            p_bad_debt: bd.iter().filter(|&&x| x > 0.01).count() as f64 / n,
            lar95: quantile(&liq, 0.95),
            lar99: quantile(&liq, 0.99),
            mean_liquidated: liq.iter().sum::<f64>() / n,
            mean_bonus: outs.iter().map(|o| o.bonus_paid).sum::<f64>() / n,
            mean_term_converted_face: outs.iter().map(|o| o.term_converted_face).sum::<f64>() / n,
            mean_term_converted_debt: outs.iter().map(|o| o.term_converted_debt).sum::<f64>() / n,
            worst_path: (wi, wo.bad_debt, wo.terminal_prices.clone()),
            borrowing_power_start: power,
            borrow_usage_start: debt / power.max(1e-9),
            borrow_usage_horizon_p95: quantile(&usage, 0.95),
            peak_debt_at_risk_p95: quantile(
                &sorted(outs.iter().map(|o| o.peak_debt_at_risk).collect()),
                0.95,
            ),
            liquidity_coverage_p5: (!cov.is_empty()).then(|| quantile(&sorted(cov), 0.05)),
            bad_debt_by_asset: (0..assets)
                .map(|a| {
                    (
                        book.assets[a].symbol.clone(),
                        outs.iter().map(|o| o.bad_debt_by_asset[a]).sum::<f64>() / n,
                    )
                })
                .collect(),
            bad_debt_by_bucket: BUCKET_UPPER
                .iter()
                .enumerate()
                .map(|(k, u)| {
                    (
                        format!("health < {u}"),
                        outs.iter().map(|o| o.bad_debt_by_bucket[k]).sum::<f64>() / n,
                    )
                })
                .collect(),
        }
    }
}

/// `$1.23M`, `$45.6k`, `$789`.
pub fn usd(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("${:.2}M", v / 1e6)
    } else if a >= 1e3 {
        format!("${:.1}k", v / 1e3)
    } else {
        format!("${v:.0}")
    }
}

/// The terminal table comparing policies.
pub fn table(reports: &[PolicyReport]) -> String {
    let mut s = String::new();
    let row = |s: &mut String, name: &str, f: &dyn Fn(&PolicyReport) -> String| {
        s.push_str(&format!("{name:<34}"));
        for r in reports {
            s.push_str(&format!("{:>18}", f(r)));
        }
        s.push('\n');
    };
    row(&mut s, "", &|r| format!("{:?}", r.policy).to_lowercase());
    row(&mut s, "expected bad debt (se)", &|r| {
        format!("{} ({})", usd(r.bad_debt.mean), usd(r.bad_debt.mean_se))
    });
    row(&mut s, "VaR95 bad debt", &|r| usd(r.bad_debt.var95));
    row(&mut s, "VaR99 bad debt", &|r| usd(r.bad_debt.var99));
    row(&mut s, "ES95 bad debt", &|r| usd(r.bad_debt.es95));
    row(&mut s, "ES99 bad debt", &|r| usd(r.bad_debt.es99));
    row(&mut s, "P(any bad debt)", &|r| {
        format!("{:.2}%", r.p_bad_debt * 100.0)
    });
    row(&mut s, "worst path (bad debt)", &|r| {
        format!("#{} {}", r.worst_path.0, usd(r.worst_path.1))
    });
    row(&mut s, "LaR95 (debt liquidated)", &|r| usd(r.lar95));
    row(&mut s, "LaR99", &|r| usd(r.lar99));
    row(&mut s, "mean debt liquidated", &|r| usd(r.mean_liquidated));
    row(&mut s, "mean term face converted", &|r| {
        usd(r.mean_term_converted_face)
    });
    row(&mut s, "mean bonus paid by borrowers", &|r| {
        usd(r.mean_bonus)
    });
    row(&mut s, "borrowing power at start", &|r| {
        usd(r.borrowing_power_start)
    });
    row(&mut s, "borrow usage at start", &|r| {
        format!("{:.1}%", r.borrow_usage_start * 100.0)
    });
    row(&mut s, "borrow usage at horizon (p95)", &|r| {
        format!("{:.1}%", r.borrow_usage_horizon_p95 * 100.0)
    });
    row(&mut s, "peak debt at risk (p95)", &|r| {
        usd(r.peak_debt_at_risk_p95)
    });
    row(&mut s, "liquidity coverage (p5)", &|r| {
        r.liquidity_coverage_p5
            .map(|c| format!("{c:.2}x"))
            .unwrap_or_else(|| "-".into())
    });
    if let Some(r0) = reports.first() {
        for k in 0..r0.bad_debt_by_asset.len() {
            let name = format!("bad debt from {} collateral", r0.bad_debt_by_asset[k].0);
            row(&mut s, &name, &|r| usd(r.bad_debt_by_asset[k].1));
        }
        for k in 0..r0.bad_debt_by_bucket.len() {
            let name = format!("bad debt, start {}", r0.bad_debt_by_bucket[k].0);
            row(&mut s, &name, &|r| usd(r.bad_debt_by_bucket[k].1));
        }
    }
    s
}
