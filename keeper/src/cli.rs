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
    pub policy: Option<crate::market_def::PolicyName>,
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
    /// Liquidations the liquidators can send per candle [default: 2% of
    /// --borrowers, at least 1].
    #[arg(long, value_name = "N")]
    pub liquidator_capacity: Option<usize>,
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
        Command::Market {
            command: MarketCommand::Apply(ref args),
        } => market_apply(&cli, args),
        Command::Replay(ref args) => replay(&cli, args),
        Command::Run(ref args) => run_live(&cli, args),
    }
}

fn run_live(cli: &Cli, args: &RunArgs) -> Result<()> {
    if cli.url == "embedded" {
        anyhow::bail!(
            "`run` serves a cluster: give --url (e.g. http://127.0.0.1:8899 or \
             https://api.devnet.solana.com); the embedded chain is driven by `replay`"
        );
    }
    let keypair = crate::live::read_keypair(&cli.keypair_path())?;
    let market = args
        .market
        .parse()
        .map_err(|e| anyhow::anyhow!("--market {}: {e}", args.market))?;
    crate::live::run(
        &cli.url,
        keypair,
        &crate::live::LiveOptions {
            market,
            interval_secs: args.interval,
            liquidation_capacity: args.capacity,
            liquidate: !args.no_liquidate,
            ticks: args.ticks,
        },
    )
}

fn market_apply_rpc(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    use crate::market_def::{apply, resolve_existing, MarketDef, PolicyChoice, PolicyName};
    use solana_signer::Signer;

    let def = MarketDef::load(&args.market)?;
    let choice = match args.policy {
        None => PolicyChoice::AsWritten,
        Some(PolicyName::Static) => PolicyChoice::Static,
        Some(PolicyName::Dynamic) => PolicyChoice::Dynamic,
    };
    let admin = crate::live::read_keypair(&cli.keypair_path())?;
    let market_kp = args
        .market_keypair
        .as_deref()
        .map(crate::live::read_keypair)
        .transpose()?;
    let market = match (&def.market.address, &market_kp) {
        (Some(a), _) => a.parse().context("market.address")?,
        (None, Some(k)) => k.pubkey(),
        (None, None) => anyhow::bail!(
            "{}: no [market] address; give --market-keypair to create it",
            args.market.display()
        ),
    };
    let dep = resolve_existing(&def, market)?;
    let mut chain = crate::rpc::RpcChain::new(&cli.url, admin.insecure_clone());
    let report = apply(&mut chain, &admin, market_kp.as_ref(), &def, &dep, choice)?;
    println!("market `{}` at {}: {report}", def.market.name, dep.market);
    Ok(())
}

fn require_embedded(cli: &Cli, what: &str) -> Result<()> {
    if cli.url != "embedded" {
        anyhow::bail!(
            "{what} runs on the embedded chain only (it writes oracle prices and moves the \
             clock); drop `--url {}`",
            cli.url
        );
    }
    Ok(())
}

fn market_apply(cli: &Cli, args: &MarketApplyArgs) -> Result<()> {
    use crate::market_def::{apply, provision_embedded, MarketDef, PolicyChoice, PolicyName};
    use solana_keypair::Keypair;
    use solana_signer::Signer;

    if cli.url != "embedded" {
        return market_apply_rpc(cli, args);
    }
    let def = MarketDef::load(&args.market)?;
    let choice = match args.policy {
        None => PolicyChoice::AsWritten,
        Some(PolicyName::Static) => PolicyChoice::Static,
        Some(PolicyName::Dynamic) => PolicyChoice::Dynamic,
    };
    let so = cli.program_so();
    let mut chain = EmbeddedChain::new(&so)
        .with_context(|| format!("starting the embedded chain with {}", so.display()))?;
    let admin = chain.payer.insecure_clone();
    let market_kp = Keypair::new();
    let market = match &def.market.address {
        Some(a) => a.parse().context("market.address")?,
        None => market_kp.pubkey(),
    };
    let dep = provision_embedded(&mut chain, &def, market)?;
    let first = apply(&mut chain, &admin, Some(&market_kp), &def, &dep, choice)?;
    println!("market `{}` at {}: {first}", def.market.name, dep.market);
    for r in &dep.reserves {
        println!(
            "  {:<6} reserve {}  mint {}  oracle {}",
            r.symbol, r.keys.reserve, r.keys.mint, r.keys.oracle
        );
    }
    let second = apply(&mut chain, &admin, Some(&market_kp), &def, &dep, choice)?;
    println!("re-apply: {second}");
    if second.transactions != 0 {
        anyhow::bail!(
            "a second apply of the same file sent {} transaction(s)",
            second.transactions
        );
    }
    Ok(())
}

fn replay(cli: &Cli, args: &ReplayArgs) -> Result<()> {
    use crate::market_def::{MarketDef, PolicyName};
    use crate::replay::{
        default_capacity, draw_population, load_window, run_policy, summary_table, OracleModel,
        ReplayOptions, ReplayReport,
    };

    require_embedded(cli, "replay")?;
    let def = match &args.market {
        Some(p) => MarketDef::load(p)?,
        None => MarketDef::parse(crate::market_def::REPLAY_SOL_USDC)
            .context("the built-in migrations/replay-sol-usdc.toml")?,
    };
    if args.borrowers == 0 {
        anyhow::bail!("--borrowers must be at least 1");
    }
    if !(args.conf_bps.is_finite() && args.conf_bps >= 0.0) {
        anyhow::bail!("--conf-bps must be >= 0");
    }
    if !(args.ema_half_life.is_finite() && args.ema_half_life > 0.0) {
        anyhow::bail!("--ema-half-life must be > 0");
    }
    let window = load_window(
        &args.prices,
        args.from,
        args.to,
        args.warmup_hours * 3_600,
        args.symbol.clone(),
    )?;
    let population = draw_population(args.seed, args.borrowers);
    let capacity = args
        .liquidator_capacity
        .unwrap_or_else(|| default_capacity(args.borrowers));
    let policies: Vec<PolicyName> = match args.policy {
        PolicyArg::Both => vec![PolicyName::Dynamic, PolicyName::Static],
        PolicyArg::Dynamic => vec![PolicyName::Dynamic],
        PolicyArg::Static => vec![PolicyName::Static],
    };
    let oracle = OracleModel {
        conf_bps: args.conf_bps,
        ema_half_life_secs: args.ema_half_life,
    };
    let first = window.candles[0].ts;
    let last = window.candles[window.candles.len() - 1].ts;
    eprintln!(
        "replay: {} candles of {} from {} to {} ({} of warm-up), {} borrowers (seed {}), \
         {} liquidation(s) per candle",
        window.candles.len(),
        args.prices.display(),
        crate::prices::format_ts(first),
        crate::prices::format_ts(last),
        window.warmup.len(),
        args.borrowers,
        args.seed,
        capacity
    );
    let steps = window.candles.len() * crate::replay::STEPS_PER_CANDLE;
    let bar = indicatif::ProgressBar::new((steps * policies.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>8} [{bar:40}] {pos}/{len} steps {elapsed_precise} (eta {eta})",
        )
        .context("progress bar template")?
        .progress_chars("=> "),
    );
    let mut results = vec![];
    for policy in policies {
        bar.set_message(policy.to_string());
        let opts = ReplayOptions {
            policy,
            capacity_per_candle: capacity,
            oracle,
            keeper: crate::keeper_loop::KeeperConfig::default(),
            so_path: cli.program_so(),
        };
        let run = run_policy(&def, &window, &population, opts, |_, _| {
            bar.inc(1);
            Ok(())
        })?;
        results.push(run);
    }
    bar.finish_and_clear();
    let summaries: Vec<_> = results.iter().map(|r| r.summary.clone()).collect();
    println!(
        "{} {} -> {}, {} borrowers, seed {}, {} liquidation(s) per candle",
        args.prices.display(),
        crate::prices::format_ts(first),
        crate::prices::format_ts(last),
        args.borrowers,
        args.seed,
        capacity
    );
    print!("{}", summary_table(&summaries));
    if let Some(path) = &args.json {
        let report = ReplayReport {
            prices: args.prices.display().to_string(),
            from: crate::prices::format_ts(first),
            to: crate::prices::format_ts(last),
            candles: window.candles.len(),
            warmup_candles: window.warmup.len(),
            seed: args.seed,
            oracle,
            runs: summaries,
        };
        write_creating_dirs(path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &args.chart {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let title = format!(
            "{} {} -> {}, {} borrowers",
            args.prices
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
            crate::prices::format_ts(first),
            crate::prices::format_ts(last),
            args.borrowers
        );
        crate::replay_chart::draw(path, &title, &results)
            .with_context(|| format!("drawing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn write_creating_dirs(path: &std::path::Path, text: String) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
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
    println!("(the main job is `ballast-keeper replay`; `make demo` runs it on the FTX window)");
    Ok(())
}
