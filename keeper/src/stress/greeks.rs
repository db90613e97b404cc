//! The Greeks of expected bad debt and the delta hedge.
//!
//! A lender is short a put on each borrower's collateral: at the horizon it
//! loses `max(D - C, 0)`. With the liquidation process in between there is
//! no closed form, so the sensitivities of `V = E[bad debt]` are taken by
//! central finite differences on common random numbers (every bumped run
//! uses the same path streams, so the differences' noise is that of the
//! bump, not of two independent samples):
//!
//! * delta of asset `a`: `(V(S_a (1 + h)) - V(S_a (1 - h))) / (2 h S_a)`,
//!   USD of expected bad debt per USD of price (negative: bad debt falls as
//!   the price rises); `h` = 1%.
//! * gamma: `(V(+h) - 2 V + V(-h)) / (h S_a)^2`.
//! * vega: the asset's volatility scaled by `1 +- h_v` (`h_v` = 5%,
//!   correlations kept), per volatility point (0.01 annualised).
//! * theta: `V(T - 1 day) - V(T)`, the option convention (the change as a
//!   day passes with the horizon date fixed), USD per day.
//!
//! Each figure's standard error is that of the per-path differences.
//!
//! The delta hedge holds `delta_a` units of asset `a` (a short when delta is
//! negative): its P&L `delta_a (S_T - S_0)` offsets the first-order change of
//! the loss, so the hedged loss is `bad debt - delta_a (S_T - S_0)` per path.

use serde::Serialize;

use super::book::Book;
use super::prices::PriceModel;
use super::report::{mean_se, Tail};
use super::run_paths;
use super::sim::{PathOutcome, Policy, SimConfig};

/// Relative price bump.
pub const PRICE_BUMP: f64 = 0.01;
/// Relative volatility bump.
pub const VOL_BUMP: f64 = 0.05;

/// One asset's Greeks.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssetGreeks {
    /// Asset.
    pub asset: String,
    /// dV/dS, USD per USD of price, and its standard error.
    pub delta: (f64, f64),
    /// Delta times the price: USD of expected bad debt per 100% move (per
    /// 1% move: divide by 100).
    pub dollar_delta: f64,
    /// d2V/dS2, per USD^2, and its standard error.
    pub gamma: (f64, f64),
    /// dV per volatility point (0.01), USD, and its standard error.
    pub vega: (f64, f64),
    /// V(T - 1 day) - V(T), USD, and its standard error.
    pub theta: (f64, f64),
    /// Units of the asset the hedge holds (negative: short).
    pub hedge_units: f64,
    /// The hedge's notional, USD (negative: short).
    pub hedge_notional_usd: f64,
}

/// The Greeks of a book and the loss tails before and after the hedge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GreeksReport {
    /// Policy.
    pub policy: Policy,
    /// Whether liquidators act (false: the gross short put, no liquidation
    /// before the horizon, where the policy does not matter).
    pub liquidation: bool,
    /// Paths per bumped run.
    pub paths: usize,
    /// Expected bad debt (and se) of the unbumped run.
    pub expected_bad_debt: (f64, f64),
    /// Per asset.
    pub assets: Vec<AssetGreeks>,
    /// Bad debt tail without a hedge.
    pub unhedged: Tail,
    /// Hedged loss tail.
    pub hedged: Tail,
}

fn losses(o: &[PathOutcome]) -> Vec<f64> {
    o.iter().map(|x| x.bad_debt).collect()
}

fn diff(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| f(*x, *y)).collect()
}

/// The Greeks of `book` under `policy` over `cfg.paths` paths.
pub fn greeks(book: &Book, model: &PriceModel, cfg: &SimConfig, policy: Policy) -> GreeksReport {
    let run = |b: &Book, m: &PriceModel, c: &SimConfig| losses(&run_paths(b, m, c, policy, None));
    let base_out = run_paths(book, model, cfg, policy, None);
    let base = losses(&base_out);
    let mut assets = Vec::new();
    let day = (86_400 / cfg.step_secs).max(1) as usize;
    let short = SimConfig {
        steps: cfg.steps.saturating_sub(day),
        ..cfg.clone()
    };
    let theta_runs = run(book, model, &short);
    for a in 0..book.assets.len() {
        let s = book.assets[a].price;
        let bumped = |f: f64| {
            let mut b = book.clone();
            b.assets[a].price = s * f;
            run(&b, model, cfg)
        };
        let up = bumped(1.0 + PRICE_BUMP);
        let dn = bumped(1.0 - PRICE_BUMP);
        let hs = PRICE_BUMP * s;
        let delta = mean_se(&diff(&up, &dn, |u, d| (u - d) / (2.0 * hs)));
        let g: Vec<f64> = up
            .iter()
            .zip(&dn)
            .zip(&base)
            .map(|((u, d), v)| (u - 2.0 * v + d) / (hs * hs))
            .collect();
        let gamma = mean_se(&g);
        let sigma = model.sigma_annual(a);
        let vol = |f: f64| {
            let mut m = model.clone();
            m.scale_vol(a, f);
            run(book, &m, cfg)
        };
        let vu = vol(1.0 + VOL_BUMP);
        let vd = vol(1.0 - VOL_BUMP);
        let vega = mean_se(&diff(&vu, &vd, |u, d| {
            (u - d) / (2.0 * VOL_BUMP * sigma) * 0.01
        }));
        let theta = mean_se(&diff(&theta_runs, &base, |t, b| t - b));
        assets.push(AssetGreeks {
            asset: book.assets[a].symbol.clone(),
            delta,
            dollar_delta: delta.0 * s,
            gamma,
            vega,
            theta,
            hedge_units: delta.0,
            hedge_notional_usd: delta.0 * s,
        });
    }
    let hedged: Vec<f64> = base_out
        .iter()
        .map(|o| {
            o.bad_debt
                - assets
                    .iter()
                    .enumerate()
                    .map(|(a, g)| g.hedge_units * (o.terminal_prices[a] - book.assets[a].price))
                    .sum::<f64>()
        })
        .collect();
    GreeksReport {
        policy,
        liquidation: cfg.capacity_usd_per_step > 0.0,
        paths: cfg.paths,
        expected_bad_debt: mean_se(&base),
        assets,
        unhedged: Tail::of(&base),
        hedged: Tail::of(&hedged),
    }
}

/// The standard normal CDF (`erfc` by W. J. Cody's rational approximation
/// as in Numerical Recipes' `erfcc`, relative error < 1.2e-7).
pub fn norm_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        1.0 - 0.5 * r
    } else {
        0.5 * r
    }
}

/// The standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Black-Scholes put at zero rate (Merton's value of the lender's short
/// put: `E[max(K - S_T, 0)]` for a martingale lognormal `S_T`): value,
/// delta, gamma, vega (per unit of sigma).
pub fn bs_put(s: f64, k: f64, sigma: f64, t_years: f64) -> (f64, f64, f64, f64) {
    let v = sigma * t_years.sqrt();
    let d1 = ((s / k).ln() + 0.5 * v * v) / v;
    let d2 = d1 - v;
    let price = k * norm_cdf(-d2) - s * norm_cdf(-d1);
    (
        price,
        norm_cdf(d1) - 1.0,
        norm_pdf(d1) / (s * v),
        s * norm_pdf(d1) * t_years.sqrt(),
    )
}
