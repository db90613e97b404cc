//! Historical scenarios: for each asset, the window of `k` days of the
//! aligned history over which its close fell the most (log return, close to
//! close, over consecutive periods without a gap), replayed jointly (every
//! asset's returns of those dates) on the current book at the estimation
//! period's step.

use serde::Serialize;

use super::prices::History;

/// One historical window.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scenario {
    /// The asset whose worst window it is.
    pub asset: String,
    /// First close of the window, `YYYY-MM-DD HH:MM:SS` UTC.
    pub from: String,
    /// Last close.
    pub to: String,
    /// Each asset's return over the window, fraction.
    pub moves: Vec<f64>,
    /// The window's log returns, `[step][asset]`.
    #[serde(skip)]
    pub returns: Vec<Vec<f64>>,
}

/// The worst `days`-day window of each asset of `h`.
pub fn worst_windows(h: &History, days: i64) -> Vec<Scenario> {
    let len = (days * 86_400 / h.period_secs).max(1) as usize;
    let n = h.symbols.len();
    let mut out = Vec::new();
    for a in 0..n {
        let mut best: Option<(f64, usize)> = None;
        // `run` counts the consecutive gap-free periods ending at t.
        let mut run = 0usize;
        for t in 1..h.ts.len() {
            if h.ts[t] - h.ts[t - 1] == h.period_secs {
                run += 1;
            } else {
                run = 0;
            }
            if run >= len {
                let r = (h.closes[t][a] / h.closes[t - len][a]).ln();
                if best.is_none_or(|(b, _)| r < b) {
                    best = Some((r, t));
                }
            }
        }
        let Some((_, end)) = best else { continue };
        let start = end - len;
        let returns = (start + 1..=end)
            .map(|t| {
                (0..n)
                    .map(|k| (h.closes[t][k] / h.closes[t - 1][k]).ln())
                    .collect()
            })
            .collect();
        out.push(Scenario {
            asset: h.symbols[a].clone(),
            from: crate::volatility::candles::format_ts(h.ts[start]),
            to: crate::volatility::candles::format_ts(h.ts[end]),
            moves: (0..n)
                .map(|k| h.closes[end][k] / h.closes[start][k] - 1.0)
                .collect(),
            returns,
        });
    }
    out
}
