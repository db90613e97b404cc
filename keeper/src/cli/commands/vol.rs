//! `ballast-keeper vol`: a volatility estimate per row of a price file, as
//! csv or json on stdout.

use std::io::Write;

use anyhow::{Context, Result};

use crate::cli::args::{OutputFormat, VolArgs};
use crate::volatility::candles::{format_ts, read_prices, ReadOptions};
use crate::volatility::estimators::estimate;

pub(super) fn vol(args: &VolArgs) -> Result<()> {
    let series = read_prices(
        &args.prices,
        &ReadOptions {
            symbol: args.symbol.clone(),
            from: args.from,
            to: args.to,
        },
    )
    .with_context(|| format!("reading prices from {}", args.prices.display()))?;
    let method = args.method(&series.candles, series.period_seconds)?;
    let rows = estimate(&series.candles, series.period_seconds, &method)?;
    tracing::info!(
        "{}: {} rows from {} to {}, period {} s, {:?}",
        args.prices.display(),
        rows.len(),
        format_ts(series.candles[0].ts),
        format_ts(series.candles[series.candles.len() - 1].ts),
        series.period_seconds,
        method
    );

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = (|| -> std::io::Result<()> {
        match args.format {
            OutputFormat::Csv => {
                writeln!(out, "timestamp,close,sigma,sigma_annual")?;
                let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
                for r in &rows {
                    writeln!(
                        out,
                        "{},{},{},{}",
                        format_ts(r.ts),
                        r.close,
                        opt(r.sigma),
                        opt(r.sigma_annual)
                    )?;
                }
            }
            OutputFormat::Json => {
                #[derive(serde::Serialize)]
                struct JsonRow {
                    timestamp: String,
                    close: f64,
                    sigma: Option<f64>,
                    sigma_annual: Option<f64>,
                }
                writeln!(out, "[")?;
                for (i, r) in rows.iter().enumerate() {
                    let row = JsonRow {
                        timestamp: format_ts(r.ts),
                        close: r.close,
                        sigma: r.sigma,
                        sigma_annual: r.sigma_annual,
                    };
                    let sep = if i + 1 < rows.len() { "," } else { "" };
                    writeln!(out, "  {}{sep}", serde_json::to_string(&row)?)?;
                }
                writeln!(out, "]")?;
            }
        }
        out.flush()
    })();
    match written {
        // `| head` closed the pipe: not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other.context("writing to stdout")?),
    }
}
