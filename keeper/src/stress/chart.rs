//! `stress --chart DIR`: `loss.png`, the bad-debt distribution of each
//! policy with its VaR95, VaR99 and ES99 marked; `fan.png`, the 5/25/50/75/95
//! percentile bands over time of each asset's price and of each policy's
//! debt at risk (below the Maintenance requirement after the step's
//! liquidations).

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::report::{quantile, sorted, PolicyReport};
use super::sim::{PathOutcome, Policy};
use crate::replay::chart::{compact, register_font};

fn colour(p: Policy) -> RGBColor {
    match p {
        Policy::Dynamic => RGBColor(0, 114, 178),
        Policy::Static => RGBColor(213, 94, 0),
    }
}

/// One policy's paths and report.
pub type Run<'a> = (&'a [PathOutcome], &'a PolicyReport);

/// Draws `loss.png` and `fan.png` into `dir` (created if missing). The
/// outcomes must carry their recorded paths for the fan chart.
pub fn draw(dir: &Path, symbols: &[String], step_hours: f64, runs: &[Run<'_>]) -> Result<()> {
    register_font()?;
    std::fs::create_dir_all(dir).map_err(|e| anyhow!("creating {}: {e}", dir.display()))?;
    loss_chart(&dir.join("loss.png"), runs)?;
    fan_chart(&dir.join("fan.png"), symbols, step_hours, runs)
}

fn loss_chart(path: &Path, runs: &[Run<'_>]) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing {}: {e}", path.display());
    let root = BitMapBackend::new(path, (1_200, 420 * runs.len() as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let areas = root.split_evenly((runs.len(), 1));
    for (area, (outs, rep)) in areas.iter().zip(runs) {
        let losses = sorted(outs.iter().map(|o| o.bad_debt).collect());
        let hi = losses.last().copied().unwrap_or(0.0).max(1.0);
        const BINS: usize = 50;
        let w = hi / BINS as f64;
        let mut counts = [0usize; BINS];
        for l in &losses {
            counts[((l / w) as usize).min(BINS - 1)] += 1;
        }
        let ymax = (*counts.iter().max().unwrap_or(&1)).max(1) as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "{:?}: bad debt over {} paths (log count)",
                    rep.policy,
                    outs.len()
                ),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..hi, (0.5..ymax * 1.5).log_scale())
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("bad debt, USD")
            .y_desc("paths")
            .x_label_formatter(&|v| compact(*v))
            .draw()
            .map_err(|e| err(&e))?;
        let c = colour(rep.policy);
        chart
            .draw_series(
                counts
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n > 0)
                    .map(|(k, n)| {
                        Rectangle::new(
                            [(k as f64 * w, 0.5), ((k + 1) as f64 * w, *n as f64)],
                            c.mix(0.6).filled(),
                        )
                    }),
            )
            .map_err(|e| err(&e))?;
        for (name, x, col) in [
            ("VaR95", rep.bad_debt.var95, BLACK),
            ("VaR99", rep.bad_debt.var99, RGBColor(204, 121, 167)),
            ("ES99", rep.bad_debt.es99, RED),
        ] {
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.5), (x, ymax * 1.5)],
                    col.stroke_width(2),
                ))
                .map_err(|e| err(&e))?
                .label(format!("{name} {}", compact(x)))
                .legend(move |(a, b)| {
                    PathElement::new(vec![(a, b), (a + 18, b)], col.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))
}

/// Percentile bands (5, 25, 50, 75, 95) of `series[path][step]`.
fn bands(series: &[Vec<f64>]) -> Vec<[f64; 5]> {
    let steps = series.iter().map(|s| s.len()).min().unwrap_or(0);
    (0..steps)
        .map(|t| {
            let col = sorted(series.iter().map(|s| s[t]).collect());
            [0.05, 0.25, 0.5, 0.75, 0.95].map(|q| quantile(&col, q))
        })
        .collect()
}

fn fan_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    step_days: f64,
    b: &[[f64; 5]],
    c: RGBColor,
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing `{title}`: {e}");
    let lo = b.iter().map(|x| x[0]).fold(f64::INFINITY, f64::min);
    let mut hi = b.iter().map(|x| x[4]).fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return Ok(());
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let x_max = (b.len().max(2) - 1) as f64 * step_days;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, lo..hi)
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("days")
        .y_label_formatter(&|v| compact(*v))
        .draw()
        .map_err(|e| err(&e))?;
    let x = |k: usize| k as f64 * step_days;
    for (lo_k, hi_k, alpha) in [(0, 4, 0.2), (1, 3, 0.4)] {
        let mut poly: Vec<(f64, f64)> =
            b.iter().enumerate().map(|(k, v)| (x(k), v[hi_k])).collect();
        poly.extend(b.iter().enumerate().rev().map(|(k, v)| (x(k), v[lo_k])));
        chart
            .draw_series(std::iter::once(Polygon::new(poly, c.mix(alpha).filled())))
            .map_err(|e| err(&e))?;
    }
    chart
        .draw_series(LineSeries::new(
            b.iter().enumerate().map(|(k, v)| (x(k), v[2])),
            c.stroke_width(1),
        ))
        .map_err(|e| err(&e))?;
    Ok(())
}

fn fan_chart(path: &Path, symbols: &[String], step_hours: f64, runs: &[Run<'_>]) -> Result<()> {
    let n = symbols.len();
    let panels = n + runs.len();
    let root = BitMapBackend::new(path, (1_200, 320 * panels as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let areas = root.split_evenly((panels, 1));
    let step_days = step_hours / 24.0;
    if let Some((outs, rep)) = runs.first() {
        for (a, sym) in symbols.iter().enumerate() {
            let series: Vec<Vec<f64>> = outs
                .iter()
                .map(|o| {
                    o.price_path
                        .iter()
                        .skip(a)
                        .step_by(n)
                        .map(|&p| p as f64)
                        .collect()
                })
                .collect();
            fan_panel(
                &areas[a],
                &format!(
                    "{sym} price, USD (5-95% and 25-75% bands, median; {:?} run)",
                    rep.policy
                ),
                step_days,
                &bands(&series),
                RGBColor(0, 158, 115),
            )?;
        }
    }
    for (k, (outs, rep)) in runs.iter().enumerate() {
        let series: Vec<Vec<f64>> = outs
            .iter()
            .map(|o| {
                std::iter::once(0.0)
                    .chain(o.debt_at_risk_path.iter().map(|&p| p as f64))
                    .collect()
            })
            .collect();
        fan_panel(
            &areas[n + k],
            &format!("{:?}: debt at risk, USD", rep.policy),
            step_days,
            &bands(&series),
            colour(rep.policy),
        )?;
    }
    root.present()
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))
}
