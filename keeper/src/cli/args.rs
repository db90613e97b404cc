//! The command line's grammar (clap): global options, subcommands and their
//! arguments.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::volatility::candles::{parse_time_bound, Candle};
use crate::volatility::estimators::{self as vol, GarchParams, Method};

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
    /// Log format on stderr: `text`, or `json` (one object a line, for log
    /// collectors). The level comes from RUST_LOG (default `info`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "BALLAST_LOG_FORMAT")]
    pub log_format: LogFormat,
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
    /// Market definitions (`migrations/*.toml`).
    Market {
        /// What to do with the definition.
        #[command(subcommand)]
        command: MarketCommand,
    },
    /// Replays a price file through the real program on an embedded chain:
    /// deploys it, applies the market, creates a seeded borrower population
    /// and walks the candles (open, nearer extreme, other extreme, close),
    /// running the keeper loop at each step; reports liquidations, bad debt
    /// and capital efficiency per policy. See docs/REPLAY.md.
    Replay(ReplayArgs),
    /// Runs the keeper loop (volatility push, interest accrual, liquidation,
    /// bad debt, treasury rebalance) against `--url`, a Solana RPC cluster,
    /// with `--keypair` as fee payer, risk authority and liquidator (paying
    /// from and receiving into its associated token accounts). Every tick
    /// reads the chain afresh, so a restart resumes from chain state.
    Run(RunArgs),
    /// Shows a market at a glance: each reserve's LTV / liquidation
    /// threshold / borrow factor in force, last pushed volatility and its
    /// age, utilisation, liquidity coverage, liquid and deployed treasury
    /// tokens, and the distribution of the obligations' health. On
    /// `--url embedded` (fresh at each run) `--market` is a market
    /// definition, applied first.
    Status(StatusArgs),
    /// Writes every account of a market (market, reserves, obligations,
    /// oracles, strategy reserves) with the slot and unix time to one JSON
    /// file, so a stress run or an investigation needs no RPC (format:
    /// docs/DESIGN.md, "Market snapshots"). On `--url embedded` (fresh at
    /// each run) `--market` is a market definition, applied first.
    Snapshot(SnapshotArgs),
    /// Monte Carlo stress test of a book (issue 17): correlated price paths
    /// (EWMA covariance of the price files, filtered historical simulation
    /// or Gaussian shocks), the liquidation process in each path (liquidator
    /// capacity, square-root price impact feeding back into prices), static
    /// and dynamic policies on the same paths; reports VaR, ES, LaR, borrow
    /// usage, contributions, the Greeks of expected bad debt and the delta
    /// hedge. See README.md, "Stress testing".
    Stress(StressArgs),
    /// Duration risk (issue 19): the maturity ladder and repricing gap,
    /// the durations of assets and liabilities and the duration gap, zero
    /// and forward rates, and delta-EVE / delta-NII under the six IRRBB
    /// shock scenarios of BCBS 368, per reserve and for the market. Reads
    /// `--market` on `--url` (a market definition on `--url embedded`), or
    /// a `--snapshot` file. See README.md, "Duration risk: `alm`".
    Alm(AlmArgs),
}

/// Arguments of `ballast-keeper snapshot`.
#[derive(clap::Args, Debug)]
pub struct SnapshotArgs {
    /// The market's address (a market definition file on `--url
    /// embedded`).
    #[arg(long, value_name = "ADDRESS")]
    pub market: String,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Format of the summary printed after writing.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// `--output`, as the Solana CLI spells it.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A table for people.
    Text,
    /// JSON for programs.
    Json,
}

/// Arguments of `ballast-keeper status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The market's address (a market definition file on `--url
    /// embedded`).
    #[arg(long, value_name = "ADDRESS")]
    pub market: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// `--log-format`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line (`timestamp`, `level`, `fields`, `target`).
    Json,
}

/// Arguments of `ballast-keeper run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The market's address.
    #[arg(long, value_name = "ADDRESS")]
    pub market: String,
    /// Seconds between ticks.
    #[arg(long, default_value_t = 30)]
    pub interval: u64,
    /// Most liquidations sent per tick.
    #[arg(long, default_value_t = 10)]
    pub capacity: usize,
    /// Do not liquidate (push, accrue, socialize and rebalance only).
    #[arg(long)]
    pub no_liquidate: bool,
    /// Stop after this many ticks [default: run until killed].
    #[arg(long, value_name = "N")]
    pub ticks: Option<u64>,
    /// Do not push volatility (prices are still sampled). Pushes are
    /// skipped anyway, with a warning, when --keypair is not the market's
    /// risk authority.
    #[arg(long)]
    pub no_push: bool,
    /// Push a reserve's volatility when its last push is this close to the
    /// reserve's max age, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub push_age_margin: u32,
    /// Backfill a reserve's price history at start from a price file (the
    /// forms `vol` reads, candles as far apart as the keeper samples:
    /// hourly): `RESERVE_OR_MINT=FILE`, repeatable. The estimator is seeded
    /// from the volatility last pushed on chain in any case.
    #[arg(long, value_name = "ADDRESS=FILE")]
    pub history: Vec<String>,
    /// Serve Prometheus metrics at http://ADDR/metrics (e.g.
    /// 127.0.0.1:9464).
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Timeout of one RPC request, seconds (transient faults are retried
    /// with backoff).
    #[arg(long, value_name = "SECS", default_value_t = 10)]
    pub rpc_timeout: u64,
}

/// `ballast-keeper market ...`.
#[derive(Subcommand, Debug)]
pub enum MarketCommand {
    /// Creates the market, mints, oracles and reserves of a definition, or
    /// updates the reserve configurations that differ from it; sends nothing
    /// when the chain already matches. On the embedded chain (state lives
    /// for the process) it applies twice and shows that the second apply
    /// sends nothing.
    Apply(MarketApplyArgs),
}

/// Arguments of `ballast-keeper market apply`.
#[derive(clap::Args, Debug)]
pub struct MarketApplyArgs {
    /// The market definition (TOML).
    #[arg(long, value_name = "FILE")]
    pub market: PathBuf,
    /// Override every reserve's `risk.policy` [default: as written].
    #[arg(long, value_enum)]
    pub policy: Option<crate::market::PolicyName>,
    /// On a cluster: keypair of a market to create (its address becomes the
    /// market's); not needed when `[market] address` exists already.
    #[arg(long, value_name = "FILE")]
    pub market_keypair: Option<PathBuf>,
}

/// Which policies `replay` runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyArg {
    /// The dynamic policy, then the static baseline, on separate chains.
    Both,
    /// Volatility-driven LTV and liquidation threshold.
    Dynamic,
    /// The fixed LTV and liquidation threshold of the definition.
    Static,
}

/// Arguments of `ballast-keeper replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Price file: the `shared/data` CSV form or a Binance kline dump (see
    /// `vol --help`).
    #[arg(long, value_name = "FILE")]
    pub prices: PathBuf,
    /// First candle replayed (inclusive): `YYYY-MM-DD` or `YYYY-MM-DD
    /// HH:MM[:SS]`, UTC.
    #[arg(long, value_name = "T", value_parser = parse_bound)]
    pub from: i64,
    /// Last candle replayed (inclusive, an instant: a bare date is its 00:00).
    #[arg(long, value_name = "T", value_parser = parse_bound)]
    pub to: i64,
    /// Policies to run.
    #[arg(long, value_enum, default_value_t = PolicyArg::Both)]
    pub policy: PolicyArg,
    /// Borrowers in the population.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    pub borrowers: usize,
    /// Seed of the population.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub seed: u64,
    /// Hours of price history before --from given to the keeper's
    /// volatility estimator.
    #[arg(long, value_name = "H", default_value_t = 168)]
    pub warmup_hours: i64,
    /// Oracle confidence interval, bps of price (capped at half the
    /// reserve's max confidence).
    #[arg(long, value_name = "BPS", default_value_t = 10.0)]
    pub conf_bps: f64,
    /// Half-life of the oracle's EMA price, seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3_600.0)]
    pub ema_half_life: f64,
    /// Market definition [default: migrations/replay-sol-usdc.toml, compiled
    /// in].
    #[arg(long, value_name = "FILE")]
    pub market: Option<PathBuf>,
    /// Symbol to keep, for price files with a `symbol` column.
    #[arg(long)]
    pub symbol: Option<String>,
    /// Writes the summaries as JSON (`{"runs": [...]}`).
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Writes a PNG chart: price, sigma, LTV and LT, debt at risk and
    /// cumulative bad debt over time.
    #[arg(long, value_name = "OUT.png")]
    pub chart: Option<PathBuf>,
    /// Injects a keeper outage: no volatility push from START (inclusive)
    /// to END (exclusive), each `YYYY-MM-DD[ HH:MM[:SS]]` UTC; the
    /// liquidator goes on. The summary then counts the liquidations from
    /// START to the first push after END whose obligation was healthy under
    /// the last pushed values.
    #[arg(long, value_name = "START..END", value_parser = parse_outage)]
    pub outage: Option<(i64, i64)>,
    /// Debt the liquidators can repay per hour, all together, USD (it
    /// replaces the former count, `--liquidator-capacity`) [default: 2% of
    /// the population's initial debt].
    #[arg(long, value_name = "USD")]
    pub capacity_usd: Option<f64>,
    /// Daily depth of the collateral the liquidators' sales are measured
    /// against (square-root impact), USD [default: the definition's
    /// `[replay] depth_usd`, else 3,000,000].
    #[arg(long, value_name = "USD")]
    pub depth_usd: Option<f64>,
    /// A liquidator's fixed cost per liquidation (fees), USD.
    #[arg(long, value_name = "USD", default_value_t = 0.5)]
    pub fixed_cost_usd: f64,
    /// Least profit (bonus minus fixed and impact cost) for which a
    /// liquidator takes a liquidation, USD.
    #[arg(long, value_name = "USD", default_value_t = 1.0)]
    pub min_profit_usd: f64,
    /// The book builds up over the window: borrowers open their positions
    /// spread evenly over it, each at the price and LTV then in force,
    /// instead of all at the first candle.
    #[arg(long)]
    pub arrivals: bool,
    /// Share of the borrowers that borrow at term (`borrow_term`, a tenor
    /// of the debt reserve's `[reserves.term]` drawn from the seed) for the
    /// face their floating twin would borrow, in [0, 1].
    #[arg(long, value_name = "X", default_value_t = 0.0, value_parser = parse_unit_interval)]
    pub term_share: f64,
}

/// `START..END` (two [`parse_bound`] instants, START < END).
fn parse_outage(s: &str) -> Result<(i64, i64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("expected START..END, got {s:?}"))?;
    let (a, b) = (parse_bound(a.trim())?, parse_bound(b.trim())?);
    if a >= b {
        return Err(format!("the outage must end after it starts: {s:?}"));
    }
    Ok((a, b))
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

/// Volatility estimators of `ballast-keeper vol` (see
/// [`crate::volatility::estimators`]).
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
    parse_time_bound(s).map_err(|e| e.to_string())
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
}

impl VolArgs {
    /// The estimator and its parameters, given the candles kept (GARCH's
    /// default omega is variance-targeted on them). Refuses a parameter of
    /// another method.
    pub fn method(&self, candles: &[Candle], period_seconds: i64) -> Result<Method> {
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

/// A duration: a number followed by `s`, `m`, `h` or `d` (`7d`, `1h`).
fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.len().saturating_sub(1));
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "expected a number and s, m, h or d (7d, 1h), got {s:?}"
            ))
        }
    };
    let n: i64 = num
        .parse()
        .map_err(|_| format!("expected a whole number before the unit, got {s:?}"))?;
    if n <= 0 {
        return Err(format!("the duration must be positive, got {s:?}"));
    }
    Ok(n * mult)
}

/// A fraction in [0, 1].
fn parse_unit_interval(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .parse()
        .map_err(|_| format!("expected a number, got {s:?}"))?;
    if !(0.0..=1.0).contains(&x) {
        return Err(format!("expected a value in [0, 1], got {x}"));
    }
    Ok(x)
}

/// Shock model of `stress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StressShocks {
    /// Filtered historical simulation: a historical date's standardised
    /// residual vector per step, EWMA covariance recursion in the path.
    Fhs,
    /// Independent normals and a constant covariance (GBM).
    Gaussian,
}

/// Output form of `stress`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StressOutput {
    /// The terminal table.
    Table,
    /// The whole report as JSON on stdout.
    Json,
}

/// Arguments of `ballast-keeper stress`.
#[derive(clap::Args, Debug)]
pub struct StressArgs {
    /// Market definition with a `[stress]` section (the synthetic book).
    #[arg(
        long,
        value_name = "FILE",
        default_value = "migrations/stress-multi.toml"
    )]
    pub book: PathBuf,
    /// Monte Carlo paths.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub paths: usize,
    /// Horizon of a path (`7d`, `36h`).
    #[arg(long, value_name = "DUR", default_value = "7d", value_parser = parse_duration)]
    pub horizon: i64,
    /// Step of a path (`1h`).
    #[arg(long, value_name = "DUR", default_value = "1h", value_parser = parse_duration)]
    pub step: i64,
    /// Seed of the paths (path p uses ChaCha8 stream p).
    #[arg(long, value_name = "S", default_value_t = 17)]
    pub seed: u64,
    /// Shock model.
    #[arg(long, value_enum, default_value_t = StressShocks::Fhs)]
    pub shocks: StressShocks,
    /// Blends the correlation matrix toward all-ones: (1 - x) R + x 11^T.
    #[arg(long, value_name = "X", default_value_t = 0.0, value_parser = parse_unit_interval)]
    pub correlation_stress: f64,
    /// Obligations of the synthetic book [default: the file's
    /// `stress.borrowers`].
    #[arg(long, value_name = "N")]
    pub borrowers: Option<usize>,
    /// Share of the synthetic book's borrowers that borrow at term (the
    /// debt reserve's `[reserves.term]` tenors), in [0, 1] [default: the
    /// file's `stress.term_share`, 0 without one].
    #[arg(long, value_name = "X")]
    pub term_share: Option<f64>,
    /// Liquidator capacity, USD per hour [default: the file's].
    #[arg(long, value_name = "USD")]
    pub capacity: Option<f64>,
    /// Multiplies every asset's depth (2: twice as deep).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub depth_scale: f64,
    /// Multiplies every asset's current volatility (2: twice the EWMA
    /// estimate; correlations kept).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub vol_scale: f64,
    /// Paths per bumped run of the Greeks (0: no Greeks).
    #[arg(long, value_name = "N", default_value_t = 2_000)]
    pub greeks_paths: usize,
    /// Output on stdout.
    #[arg(long, value_enum, default_value_t = StressOutput::Table)]
    pub output: StressOutput,
    /// Also writes the JSON report to this file.
    #[arg(long, value_name = "OUT")]
    pub json: Option<PathBuf>,
    /// Writes loss.png and fan.png into this directory.
    #[arg(long, value_name = "DIR")]
    pub chart: Option<PathBuf>,
    /// Historical scenarios: the worst k-day window of each asset, applied
    /// to the book [default: 7].
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    pub scenario_days: i64,
    /// Stress the positions of a market snapshot (`ballast-keeper snapshot
    /// --out FILE`) instead of the synthetic book: its obligations, reserves
    /// and oracle prices; `--book` still gives the price model's files,
    /// depths, capacity and impact.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// With `--snapshot`: which price-model asset (a `[[stress.assets]]`
    /// symbol of `--book`) a collateral reserve follows, as
    /// SYMBOL=RESERVE_ADDRESS; repeatable. Reserves whose oracle feed id is
    /// the `feed_id` of the `--book` reserve of that symbol map without it.
    #[arg(long = "asset", value_name = "SYMBOL=RESERVE")]
    pub assets: Vec<String>,
    /// Stress the positions of this market as the cluster at `--url` holds
    /// them now (read as `snapshot` reads them); `--asset` as with
    /// `--snapshot`.
    #[arg(long, value_name = "ADDRESS")]
    pub market: Option<String>,
}

/// `alm --calibration`: the shock magnitudes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlmCalibration {
    /// BCBS 368's USD magnitudes x 3, decay horizon 30 days (the default;
    /// see `keeper/src/alm/irrbb.rs` for the reasoning).
    Crypto,
    /// BCBS 368 Table 1, USD: 200 / 300 / 150 bp, decay horizon 4 years.
    Bcbs,
}

/// Arguments of `ballast-keeper alm`.
#[derive(clap::Args, Debug)]
pub struct AlmArgs {
    /// The market's address (a market definition file on `--url
    /// embedded`). Not with `--snapshot`.
    #[arg(
        long,
        value_name = "ADDRESS",
        required_unless_present = "snapshot",
        conflicts_with = "snapshot"
    )]
    pub market: Option<String>,
    /// Read a market snapshot file (`ballast-keeper snapshot`) instead of a
    /// chain; its insurance vaults are not in the file, so no outside
    /// capital is counted.
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Shock calibration.
    #[arg(long, value_enum, default_value_t = AlmCalibration::Crypto)]
    pub calibration: AlmCalibration,
    /// Pass-through of the shocks to on-demand deposits' rate for
    /// delta-NII, in [0, 1] (1: deposits are kept by paying the market's
    /// move in full) [default: each reserve's own, utilisation * (1 -
    /// reserve factor), what the pool passes on to its depositors].
    #[arg(long, value_name = "BETA")]
    pub deposit_beta: Option<f64>,
    /// Horizon of delta-NII, days (constant balance sheet).
    #[arg(long, value_name = "DAYS", default_value_t = 30.0)]
    pub horizon_days: f64,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// Also write the report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Draw the market's ladder (assets up, liabilities down, cumulative
    /// gap) to this PNG.
    #[arg(long, value_name = "FILE")]
    pub chart: Option<PathBuf>,
    /// On `--url embedded`: populate the market (a definition with a
    /// `[replay]` section) with the replay's seeded book of N borrowers
    /// and its suppliers before reading it.
    #[arg(long, value_name = "N", conflicts_with = "snapshot")]
    pub population: Option<usize>,
    /// Seed of `--population`.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

#[cfg(test)]
mod stress_arg_tests {
    use super::*;

    #[test]
    fn durations_parse_and_bad_ones_say_why() {
        assert_eq!(parse_duration("7d"), Ok(7 * 86_400));
        assert_eq!(parse_duration("1h"), Ok(3_600));
        assert_eq!(parse_duration("90s"), Ok(90));
        assert!(parse_duration("7w").unwrap_err().contains("s, m, h or d"));
        assert!(parse_duration("xh").unwrap_err().contains("whole number"));
        assert!(parse_duration("0h").unwrap_err().contains("positive"));
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn correlation_stress_is_a_fraction() {
        assert_eq!(parse_unit_interval("0.5"), Ok(0.5));
        assert!(parse_unit_interval("1.5").unwrap_err().contains("[0, 1]"));
        assert!(parse_unit_interval("-0.1").is_err());
        assert!(parse_unit_interval("a").is_err());
    }

    #[test]
    fn stress_command_parses_with_defaults() {
        let cli = Cli::try_parse_from(["ballast-keeper", "stress", "--paths", "10"]).unwrap();
        let Command::Stress(a) = cli.command else {
            panic!("not stress")
        };
        assert_eq!(a.paths, 10);
        assert_eq!(a.horizon, 7 * 86_400);
        assert_eq!(a.step, 3_600);
        assert_eq!(a.shocks, StressShocks::Fhs);
        assert!(
            Cli::try_parse_from(["ballast-keeper", "stress", "--correlation-stress", "2"]).is_err()
        );
    }
}

#[cfg(test)]
mod alm_arg_tests {
    use super::*;

    #[test]
    fn alm_takes_a_market_or_a_snapshot_not_both() {
        let cli = Cli::try_parse_from(["ballast-keeper", "alm", "--market", "x.toml"]).unwrap();
        let Command::Alm(a) = cli.command else {
            panic!("not alm")
        };
        assert_eq!(a.calibration, AlmCalibration::Crypto);
        assert_eq!(a.horizon_days, 30.0);
        assert!(Cli::try_parse_from(["ballast-keeper", "alm"]).is_err());
        assert!(Cli::try_parse_from([
            "ballast-keeper",
            "alm",
            "--market",
            "x",
            "--snapshot",
            "s.json"
        ])
        .is_err());
        let cli = Cli::try_parse_from([
            "ballast-keeper",
            "alm",
            "--snapshot",
            "s.json",
            "--calibration",
            "bcbs",
        ])
        .unwrap();
        let Command::Alm(a) = cli.command else {
            panic!("not alm")
        };
        assert_eq!(a.calibration, AlmCalibration::Bcbs);
    }
}
