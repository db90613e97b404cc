//! The `ballast-keeper` command line: parsing (clap) and dispatch. Global
//! options follow the Solana CLI's habits (`--url`, `--keypair`, default
//! keypair `~/.config/solana/id.json`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::embedded::EmbeddedChain;

/// Ballast keeper: pushes volatility, liquidates, rebalances and accrues
/// interest for a Ballast lending market; replays historical crashes on an
/// embedded chain.
#[derive(Parser, Debug)]
#[command(name = "ballast-keeper", version, about)]
pub struct Cli {
    /// RPC URL of the cluster, or `embedded` for an in-process LiteSVM chain
    /// running target/deploy/ballast.so.
    #[arg(
        short = 'u',
        long,
        global = true,
        default_value = "embedded",
        env = "BALLAST_URL"
    )]
    pub url: String,
    /// Keypair file of the keeper (fee payer, signer).
    #[arg(short = 'k', long, global = true, env = "BALLAST_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Path of the program's sBPF build for the embedded chain.
    #[arg(long, global = true, env = "BALLAST_SO")]
    pub program_so: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Deploys the program into an embedded chain, creates a market and
    /// prints what it cost (a smoke run of the embedded backend).
    Demo,
    /// Estimates volatility over a price file and prints, for every row in
    /// [--from, --to], the timestamp, close, per-period sigma and annualised
    /// sigma. The estimator starts at the first row kept (EWMA and GARCH are
    /// seeded there); the first row has no return, so its sigmas are empty
    /// (csv) or null (json).
    Vol(VolArgs),
}

/// Arguments of `ballast-keeper vol`.
#[derive(clap::Args, Debug)]
pub struct VolArgs {
    /// Price file: CSV with a header (timestamp,open,high,low,close,volume,
    /// optionally symbol; timestamp `YYYY-MM-DD HH:MM:SS` UTC) or a Binance
    /// kline dump without header (open time in ms or µs first).
    #[arg(long, value_name = "FILE")]
    pub prices: PathBuf,
    /// First row kept, inclusive: `YYYY-MM-DD` (00:00) or `YYYY-MM-DD
    /// HH:MM[:SS]`, UTC. Unix seconds once parsed.
    #[arg(long, value_name = "T", value_parser = parse_bound)]
    pub from: Option<i64>,
    /// Last row kept, inclusive (an instant: a bare date means its 00:00).
    /// Unix seconds once parsed.
    #[arg(long, value_name = "T", value_parser = parse_bound)]
    pub to: Option<i64>,
    /// Estimator.
    #[arg(long, value_enum, default_value_t = VolMethod::Ewma)]
    pub method: VolMethod,
    /// EWMA decay, in [0, 1) [default: 0.94]. Only with `--method ewma`.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Rolling window, in returns [default: 24]. Only with `--method
    /// realized`.
    #[arg(long, value_name = "N")]
    pub window: Option<usize>,
    /// GARCH omega, variance per period [default: variance targeting,
    /// (1 - alpha - beta) * mean(r^2/k) over the rows kept]. Only with
    /// `--method garch`.
    #[arg(long)]
    pub omega: Option<f64>,
    /// GARCH alpha [default: 0.06]. Only with `--method garch`.
    #[arg(long)]
    pub alpha: Option<f64>,
    /// GARCH beta [default: 0.92]. Only with `--method garch`.
    #[arg(long)]
    pub beta: Option<f64>,
    /// Symbol to keep, for files with a `symbol` column (required when the
    /// file holds several).
    #[arg(long)]
    pub symbol: Option<String>,
    /// Output format: csv with a header line, or a json array of objects.
    #[arg(long, value_enum, default_value_t = OutputFormat::Csv)]
    pub format: OutputFormat,
}

/// Volatility estimators of `ballast-keeper vol` (see [`crate::vol`]).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum VolMethod {
    /// RiskMetrics EWMA (`--lambda`).
    Ewma,
    /// Rolling realised volatility (`--window`).
    #[value(alias = "realised")]
    Realized,
    /// GARCH(1,1) filter (`--omega`, `--alpha`, `--beta`).
    Garch,
}

/// Output formats of `ballast-keeper vol`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// `timestamp,close,sigma,sigma_annual` with a header line.
    Csv,
    /// An array of `{"timestamp", "close", "sigma", "sigma_annual"}` objects.
    Json,
}

fn parse_bound(s: &str) -> std::result::Result<i64, String> {
    crate::prices::parse_time_bound(s).map_err(|e| e.to_string())
}

impl Cli {
    /// The keypair path: `--keypair`, else `~/.config/solana/id.json`.
    pub fn keypair_path(&self) -> PathBuf {
        self.keypair.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_default();
            home.join(".config/solana/id.json")
        })
    }

    fn program_so(&self) -> PathBuf {
        self.program_so
            .clone()
            .unwrap_or_else(EmbeddedChain::default_so_path)
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo => demo(&cli),
        Command::Vol(ref args) => vol(args),
    }
}

impl VolArgs {
    /// The estimator and its parameters, given the candles kept (GARCH's
    /// default omega is variance-targeted on them). Refuses a parameter of
    /// another method.
    pub fn method(
        &self,
        candles: &[crate::prices::Candle],
        period_seconds: i64,
    ) -> Result<crate::vol::Method> {
        use crate::vol::{self, GarchParams, Method};

        let misplaced = |flag: &str, given: bool, method: &str| -> Result<()> {
            if given {
                anyhow::bail!("{flag} applies to --method {method} only");
            }
            Ok(())
        };
        let is = |m: VolMethod| self.method == m;
        misplaced(
            "--lambda",
            self.lambda.is_some() && !is(VolMethod::Ewma),
            "ewma",
        )?;
        misplaced(
            "--window",
            self.window.is_some() && !is(VolMethod::Realized),
            "realized",
        )?;
        for (flag, v) in [
            ("--omega", self.omega),
            ("--alpha", self.alpha),
            ("--beta", self.beta),
        ] {
            misplaced(flag, v.is_some() && !is(VolMethod::Garch), "garch")?;
        }
        Ok(match self.method {
            VolMethod::Ewma => Method::Ewma {
                lambda: self.lambda.unwrap_or(vol::DEFAULT_LAMBDA),
            },
            VolMethod::Realized => Method::Realized {
                window: self.window.unwrap_or(vol::DEFAULT_WINDOW),
            },
            VolMethod::Garch => {
                let alpha = self.alpha.unwrap_or(vol::DEFAULT_GARCH_ALPHA);
                let beta = self.beta.unwrap_or(vol::DEFAULT_GARCH_BETA);
                Method::Garch(match self.omega {
                    Some(omega) => GarchParams { omega, alpha, beta },
                    None => GarchParams::targeting_series(candles, period_seconds, alpha, beta)
                        .context("variance targeting for the default GARCH omega")?,
                })
            }
        })
    }
}

fn vol(args: &VolArgs) -> Result<()> {
    use std::io::Write;

    use crate::prices::{format_ts, read_prices, ReadOptions};

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
    let rows = crate::vol::estimate(&series.candles, series.period_seconds, &method)?;
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

fn demo(cli: &Cli) -> Result<()> {
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    let so = cli.program_so();
    let mut chain = EmbeddedChain::new(&so)
        .with_context(|| format!("starting the embedded chain with {}", so.display()))?;
    println!(
        "embedded chain: {} loaded as program {}",
        so.display(),
        ballast::ID
    );
    let market = Keypair::new();
    let admin = chain.payer.insecure_clone();
    let ix = crate::ix::init_market(
        &admin.pubkey(),
        &market.pubkey(),
        ballast::instructions::InitMarketParams {
            risk_authority: admin.pubkey(),
            paused: false,
            liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
        },
    );
    let meta = chain.send_ok(&[ix], &[&market])?;
    println!(
        "init_market: market {} created, {} compute units",
        market.pubkey(),
        meta.compute_units_consumed
    );
    println!(
        "(the crash replay, `ballast-keeper replay`, becomes the main job with the keeper loop and liquidity controls)"
    );
    Ok(())
}
