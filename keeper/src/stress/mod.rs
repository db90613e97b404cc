//! `stress`: a Monte Carlo of the lending book's balance sheet (issue 17).
//!
//! * [`prices`]: correlated log returns, EWMA covariance, filtered
//!   historical simulation or Gaussian shocks, correlation stress.
//! * [`book`]: the obligations (struct of arrays), from a market definition
//!   and a seeded population or from decoded chain state.
//! * [`sim`]: one path: prices, the volatility policy, liquidators with a
//!   capacity and square-root price impact feeding back into prices.
//! * [`report`]: VaR, expected shortfall, LaR, borrow usage, contributions.
//! * [`greeks`]: delta, gamma, vega, theta of expected bad debt by
//!   common-random-number finite differences, the delta hedge, and the
//!   Black-Scholes check.
//!
//! Paths run in parallel (rayon); each path's shocks come from its own
//! ChaCha8 stream, so a run is bit-for-bit the same whatever the number of
//! threads.

pub mod book;
pub mod chart;
pub mod greeks;
pub mod prices;
pub mod report;
pub mod scenarios;
pub mod sim;

#[cfg(test)]
mod legacy_sim;
#[cfg(test)]
mod tests;

use rayon::prelude::*;

use book::Book;
use prices::PriceModel;
use sim::{buckets, run_path, PathOutcome, Policy, SimConfig};

/// Runs every path of `cfg` on `book` under `policy`, in path order.
/// `progress` is advanced by one per path.
pub fn run_paths(
    book: &Book,
    model: &PriceModel,
    cfg: &SimConfig,
    policy: Policy,
    progress: Option<&indicatif::ProgressBar>,
) -> Vec<PathOutcome> {
    let bucket = buckets(book);
    (0..cfg.paths as u64)
        .into_par_iter()
        .map(|p| {
            let o = run_path(book, &bucket, model, cfg, policy, p);
            if let Some(pb) = progress {
                pb.inc(1);
            }
            o
        })
        .collect()
}
