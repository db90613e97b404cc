//! The replay's PNG chart (`--chart OUT.png`): five panels over time
//! (days since the first candle): the collateral price (the file's, and each
//! run's as written, lowered by its liquidators' sales); the keeper's
//! volatility estimate; the collateral reserve's LTV and liquidation
//! threshold per policy; the debt at risk (below the Maintenance requirement
//! after the keeper's tick) per policy; the cumulative bad debt per policy.
//!
//! Text is drawn with `ab_glyph` from the DejaVu Sans font the `dejavu`
//! crate bundles, so no system font library is needed.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::report::{RunResult, StepRecord};
use crate::market::PolicyName;

const WIDTH: u32 = 1_400;
const PANEL_HEIGHT: u32 = 300;

pub(crate) fn register_font() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        )
        .map_err(|_| anyhow!("the bundled DejaVu Sans font did not load"));
    });
    result
}

fn colour(p: PolicyName) -> RGBColor {
    match p {
        PolicyName::Dynamic => RGBColor(0, 114, 178),
        PolicyName::Static => RGBColor(213, 94, 0),
    }
}

fn lt_colour(p: PolicyName) -> RGBColor {
    match p {
        PolicyName::Dynamic => RGBColor(86, 180, 233),
        PolicyName::Static => RGBColor(230, 159, 0),
    }
}

/// Axis numbers short enough not to run into the axis title: 5.2M,
/// 120k, 37.5.
pub(crate) fn compact(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else {
        format!("{v:.1}")
    }
}

type Series<'a> = (String, RGBColor, Vec<(f64, f64)>);

fn panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    x_max: f64,
    series: &[Series<'_>],
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing `{title}`: {e}");
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (_, _, pts) in series {
        for &(_, y) in pts {
            lo = lo.min(y);
            hi = hi.max(y);
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(28)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max.max(1e-9), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    chart
        .configure_mesh()
        .x_desc("days since the first candle")
        .y_desc(y_label)
        .y_label_formatter(&|v| compact(*v))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| err(&e))?;
    // One-pixel lines: plotters joins thick polylines with miters, which
    // shoot far past the data (below zero, outside the panel) where a
    // series zig-zags steeply, as the debt at risk does in a crash.
    for (name, c, pts) in series {
        let c = *c;
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(1)))
            .map_err(|e| err(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| err(&e))?;
    Ok(())
}

/// Draws the chart of `runs` (all over the same window) into `path`.
pub fn draw(path: &Path, title: &str, runs: &[RunResult]) -> Result<()> {
    register_font()?;
    let first = runs
        .first()
        .and_then(|r| r.series.first())
        .ok_or_else(|| anyhow!("nothing to chart"))?;
    let t0 = first.ts;
    let days = |r: &StepRecord| (r.ts - t0) as f64 / 86_400.0;
    let x_max = runs
        .iter()
        .filter_map(|r| r.series.last())
        .map(days)
        .fold(0.0, f64::max);
    let line = |r: &RunResult, f: &dyn Fn(&StepRecord) -> Option<f64>| -> Vec<(f64, f64)> {
        r.series
            .iter()
            .filter_map(|s| f(s).map(|y| (days(s), y)))
            .collect()
    };
    let root = BitMapBackend::new(path, (WIDTH, PANEL_HEIGHT * 5 + 40)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow!("{e}"))?;
    let root = root
        .titled(title, ("sans-serif", 22))
        .map_err(|e| anyhow!("{e}"))?;
    let panels = root.split_evenly((5, 1));
    let r0 = &runs[0];
    // The file's price, and each run's written price (lowered by its
    // liquidators' sales: the permanent impact).
    let mut prices = vec![(
        "file".to_string(),
        BLACK,
        line(r0, &|s| Some(s.historical_price)),
    )];
    for r in runs {
        let p = r.summary.policy;
        prices.push((
            format!("{p} (impact)"),
            colour(p),
            line(r, &|s| Some(s.price)),
        ));
    }
    panel(&panels[0], "collateral price", "USD", x_max, &prices)?;
    panel(
        &panels[1],
        "keeper's volatility estimate (EWMA, annualised)",
        "sigma, %",
        x_max,
        &[(
            "sigma".into(),
            RGBColor(0, 158, 115),
            line(r0, &|s| s.sigma.map(|x| x * 100.0)),
        )],
    )?;
    let mut lt = vec![];
    for r in runs {
        let p = r.summary.policy;
        lt.push((
            format!("{p} LTV"),
            colour(p),
            line(r, &|s| Some(s.ltv_bps as f64 / 100.0)),
        ));
        lt.push((
            format!("{p} LT"),
            lt_colour(p),
            line(r, &|s| Some(s.lt_bps as f64 / 100.0)),
        ));
    }
    panel(&panels[2], "LTV and liquidation threshold", "%", x_max, &lt)?;
    let per_policy = |f: &dyn Fn(&StepRecord) -> Option<f64>| -> Vec<Series<'_>> {
        runs.iter()
            .map(|r| {
                (
                    r.summary.policy.to_string(),
                    colour(r.summary.policy),
                    line(r, f),
                )
            })
            .collect()
    };
    panel(
        &panels[3],
        "debt at risk (below maintenance after the keeper's tick)",
        "USD",
        x_max,
        &per_policy(&|s| Some(s.debt_at_risk_usd)),
    )?;
    panel(
        &panels[4],
        "cumulative bad debt",
        "USD",
        x_max,
        &per_policy(&|s| Some(s.bad_debt_usd)),
    )?;
    root.present()
        .map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn axis_numbers_are_compact() {
        assert_eq!(super::compact(5_200_000.0), "5.2M");
        assert_eq!(super::compact(120_000.0), "120k");
        assert_eq!(super::compact(-2_500_000.0), "-2.5M");
        assert_eq!(super::compact(37.5), "37.5");
    }
}
