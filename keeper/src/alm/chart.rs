//! `alm --chart OUT.png`: the maturity ladder of the market's total, one
//! group per bucket: rate-sensitive assets as a bar up, liabilities
//! repricing as a bar down, liabilities that can leave as a thin bar down
//! beside it, the cumulative repricing gap as a line with points, and the
//! cumulative liquidity gap (cash in by then minus what can leave by then)
//! as a red line.

use std::path::Path;

use anyhow::{anyhow, Result};
use plotters::prelude::*;

use super::analysis::Ladder;
use crate::replay::chart::{compact, register_font};

/// Draws `ladder` (USD) into `path`, titled `title`.
pub fn draw(path: &Path, title: &str, ladder: &Ladder) -> Result<()> {
    register_font()?;
    let err = |e: &dyn std::fmt::Display| anyhow!("drawing the ladder chart: {e}");
    let n = ladder.rows.len();
    let mut hi = 0f64;
    let mut lo = 0f64;
    for r in &ladder.rows {
        hi = hi
            .max(r.assets)
            .max(r.cumulative_gap)
            .max(r.cumulative_liquidity_gap);
        lo = lo
            .min(-r.liabilities)
            .min(-r.can_leave)
            .min(r.cumulative_gap)
            .min(r.cumulative_liquidity_gap);
    }
    if hi - lo < 1e-9 {
        hi = 1.0;
        lo = -1.0;
    }
    let pad = (hi - lo) * 0.08;
    let root = BitMapBackend::new(path, (1_000, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(80)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), (lo - pad)..(hi + pad))
        .map_err(|e| err(&e))?;
    let names: Vec<String> = ladder.rows.iter().map(|r| r.bucket.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            }
        })
        .y_desc("USD")
        .y_label_formatter(&|v| compact(*v))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| err(&e))?;
    let blue = RGBColor(0, 114, 178);
    let orange = RGBColor(213, 94, 0);
    let grey = RGBColor(120, 120, 120);
    let bar = |x: f64, w: f64, top: f64, bottom: f64, c: RGBColor| {
        Rectangle::new([(x - w, bottom), (x + w, top)], c.filled())
    };
    chart
        .draw_series(
            ladder
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| bar(i as f64 - 0.12, 0.12, r.assets, 0.0, blue)),
        )
        .map_err(|e| err(&e))?
        .label("assets repricing")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], blue.filled()));
    chart
        .draw_series(
            ladder
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| bar(i as f64 + 0.12, 0.12, 0.0, -r.liabilities, orange)),
        )
        .map_err(|e| err(&e))?
        .label("liabilities repricing")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], orange.filled()));
    chart
        .draw_series(
            ladder
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| bar(i as f64 + 0.3, 0.04, 0.0, -r.can_leave, grey)),
        )
        .map_err(|e| err(&e))?
        .label("liabilities that can leave")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], grey.filled()));
    let line: Vec<(f64, f64)> = ladder
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i as f64, r.cumulative_gap))
        .collect();
    chart
        .draw_series(LineSeries::new(line.clone(), BLACK.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("cumulative repricing gap")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
    chart
        .draw_series(line.into_iter().map(|p| Circle::new(p, 4, BLACK.filled())))
        .map_err(|e| err(&e))?;
    let red = RGBColor(204, 0, 0);
    let liq: Vec<(f64, f64)> = ladder
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (i as f64, r.cumulative_liquidity_gap))
        .collect();
    chart
        .draw_series(LineSeries::new(liq, red.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("cumulative liquidity gap")
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], red.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
