//! `ballast-keeper run`: the keeper loop ([`crate::keeper_loop::Keeper`])
//! against a Solana RPC cluster ([`crate::chain::rpc::RpcChain`]), the same
//! task code the replay drives on the embedded chain (cargo feature `rpc`).
//!
//! Everything the keeper acts on is read from the chain at every tick, so a
//! restart resumes where the chain is. The one thing kept in memory is the
//! volatility estimator's price history, sampled from the oracles once per
//! period. At start the estimator is seeded from the volatility each
//! dynamic reserve last had pushed on chain (`Keeper::seed_from_chain`; the
//! oracle holds no history, a `PriceUpdateV2` account keeps only its latest
//! price) and, for the reserves given with `--history ADDRESS=FILE`, backfilled
//! from that price file: a restarted keeper has an estimate at once and
//! pushes in its first tick when a reserve's last push nears its max age.
//!
//! Pushes are off with `--no-push`, and skipped with a warning when the
//! keypair is not the market's risk authority (liquidations go on).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::accounts::{load_market, load_reserves};
use crate::chain::rpc::{RetryPolicy, RpcChain};
use crate::chain::Chain;
use crate::cli::args::{Cli, RunArgs};
use crate::cli::read_keypair;
use crate::keeper_loop::{Keeper, KeeperConfig, TaskOutcome, TickReport};
use crate::metrics::Metrics;
use crate::tasks::liquidation::liquidator_with_atas;
use crate::volatility::candles::{read_prices, ReadOptions};
use crate::volatility::policy::PushPolicy;

/// Options of a live run.
#[derive(Debug)]
pub struct LiveOptions {
    /// The market served.
    pub market: Address,
    /// Seconds between ticks.
    pub interval_secs: u64,
    /// Liquidations per tick at most.
    pub liquidation_capacity: usize,
    /// Whether this keeper liquidates (its keypair's ATAs fund the repays).
    pub liquidate: bool,
    /// Stop after this many ticks (`None`: run until killed).
    pub ticks: Option<u64>,
    /// Whether the keeper pushes volatility (`--no-push` turns it off).
    pub pushes_enabled: bool,
    /// Push when the last push is this close to its max age, seconds.
    pub push_age_margin_secs: u32,
    /// Price files backfilling reserves' histories at start: (reserve or
    /// mint address, file).
    pub history: Vec<(Address, PathBuf)>,
    /// Where to serve Prometheus metrics (`None`: no endpoint).
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Timeouts and retries of the RPC backend.
    pub retry: RetryPolicy,
}

impl LiveOptions {
    /// Options with the defaults of `run`'s flags for `market`.
    pub fn new(market: Address) -> Self {
        Self {
            market,
            interval_secs: 30,
            liquidation_capacity: 10,
            liquidate: true,
            ticks: None,
            pushes_enabled: true,
            push_age_margin_secs: PushPolicy::default().age_margin_secs,
            history: vec![],
            metrics_addr: None,
            retry: RetryPolicy::default(),
        }
    }
}

/// Parses `--history ADDRESS=FILE`.
pub fn parse_history(arg: &str) -> Result<(Address, PathBuf)> {
    let (addr, file) = arg
        .split_once('=')
        .with_context(|| format!("--history {arg}: expected ADDRESS=FILE"))?;
    let addr = addr
        .parse()
        .map_err(|e| anyhow::anyhow!("--history {arg}: {addr} is not an address ({e})"))?;
    Ok((addr, PathBuf::from(file)))
}

/// `run` as the command line gives it: `--url` must be a cluster.
pub(super) fn run(cli: &Cli, args: &RunArgs) -> Result<()> {
    if cli.url == "embedded" {
        anyhow::bail!(
            "`run` serves a cluster: give --url (e.g. http://127.0.0.1:8899 or \
             https://api.devnet.solana.com); the embedded chain is driven by `replay`"
        );
    }
    let keypair = read_keypair(&cli.keypair_path())?;
    let market = args
        .market
        .parse()
        .map_err(|e| anyhow::anyhow!("--market {}: {e}", args.market))?;
    let history = args
        .history
        .iter()
        .map(|h| parse_history(h))
        .collect::<Result<Vec<_>>>()?;
    run_live(
        &cli.url,
        keypair,
        &LiveOptions {
            market,
            interval_secs: args.interval,
            liquidation_capacity: args.capacity,
            liquidate: !args.no_liquidate,
            ticks: args.ticks,
            pushes_enabled: !args.no_push,
            push_age_margin_secs: args.push_age_margin,
            history,
            metrics_addr: args.metrics_addr,
            retry: RetryPolicy {
                timeout: Duration::from_secs(args.rpc_timeout.max(1)),
                ..RetryPolicy::default()
            },
        },
    )
}

/// Seeds `keeper`'s estimators at start: from the chain (every dynamic
/// reserve's last pushed volatility), then from each `--history` file
/// (whose address may be the reserve's or its mint's). Logs what it did.
pub fn seed_keeper(keeper: &mut Keeper, chain: &impl Chain, opts: &LiveOptions) -> Result<()> {
    for (reserve, sigma) in keeper.seed_from_chain(chain)? {
        tracing::info!(%reserve, sigma, "estimator seeded from the volatility last pushed on chain");
    }
    if opts.history.is_empty() {
        return Ok(());
    }
    let reserves = load_reserves(chain, &opts.market)?;
    for (addr, path) in &opts.history {
        let reserve = reserves
            .iter()
            .find(|(k, r)| k == addr || r.mint == *addr)
            .map(|(k, _)| *k)
            .with_context(|| {
                format!(
                    "--history {addr}: neither a reserve nor a reserve's mint of market {}",
                    opts.market
                )
            })?;
        let series = read_prices(path, &ReadOptions::default())
            .with_context(|| format!("--history {}", path.display()))?;
        let period = keeper.config.sample_period_secs;
        if series.period_seconds != period {
            anyhow::bail!(
                "--history {}: candles are {} s apart; the keeper samples every {period} s",
                path.display(),
                series.period_seconds
            );
        }
        // A candle's close is the price at the end of its period.
        let samples: Vec<(i64, f64)> = series
            .candles
            .iter()
            .map(|c| (c.ts + period, c.close))
            .collect();
        keeper.seed_history(&reserve, &samples)?;
        tracing::info!(
            %reserve,
            file = %path.display(),
            candles = samples.len(),
            sigma = keeper.sigma(&reserve),
            "estimator backfilled from a price file"
        );
    }
    Ok(())
}

/// Logs a tick: one line with its figures, one warning per failure.
pub fn log_tick(report: &TickReport) {
    for t in &report.tasks {
        match &t.outcome {
            TaskOutcome::Failed(f) => tracing::warn!(
                task = t.task.name(),
                reason = %f.reason.label(),
                secs = t.secs,
                "task failed: {}",
                f.message
            ),
            TaskOutcome::Skipped(why) => {
                tracing::debug!(task = t.task.name(), "task skipped: {why}")
            }
            TaskOutcome::Done => {}
        }
    }
    for (reserve, f) in &report.volatility.failed {
        tracing::warn!(%reserve, reason = %f.reason.label(), "push failed: {}", f.message);
    }
    let liq = report.liquidation.as_ref();
    for (o, m) in liq.map(|l| l.failed.as_slice()).unwrap_or_default() {
        tracing::warn!(obligation = %o, "liquidation failed: {m}");
    }
    for (o, r, m) in &report.bad_debt.failed {
        tracing::warn!(obligation = %o, reserve = %r, "socialize_bad_debt failed: {m}");
    }
    tracing::info!(
        now = report.now,
        pushes = report.pushes.len(),
        accrued = report.accrued.len(),
        candidates = liq.map_or(0, |l| l.candidates),
        liquidated = liq.map_or(0, |l| l.liquidated.len()),
        skipped = liq.map_or(0, |l| l.skipped.len()),
        swept = report.bad_debt.swept.len(),
        socialized = report.bad_debt.socialized.len(),
        written_off_in_liquidations =
            liq.map_or(0, |l| l.written_off.len()) + report.bad_debt.swept_written_off.len(),
        rebalanced = report
            .rebalance
            .iter()
            .filter(|(_, o)| matches!(o, crate::tasks::rebalance::Outcome::Sent { .. }))
            .count(),
        failed_tasks = report
            .tasks
            .iter()
            .filter(|t| matches!(t.outcome, TaskOutcome::Failed(_)))
            .count(),
        "tick"
    );
}

/// Runs the keeper loop on `url` with `keypair` as fee payer, risk
/// authority and liquidator. A task that fails is logged and the others
/// run; the next tick starts afresh (an RPC hiccup must not stop the
/// keeper); the run fails only when the market cannot be read at start or a
/// `--history` file is unusable.
pub fn run_live(url: &str, keypair: Keypair, opts: &LiveOptions) -> Result<()> {
    let mut chain = RpcChain::with_policy(url, keypair.insecure_clone(), opts.retry);
    let metrics = match opts.metrics_addr {
        Some(addr) => {
            let m = std::sync::Arc::new(Metrics::new()?);
            let bound = crate::metrics::serve(addr, m.clone())?;
            tracing::info!(%bound, "metrics at http://{bound}/metrics");
            chain = chain.observe(m.clone());
            Some(m)
        }
        None => None,
    };
    chain
        .account_data(&opts.market)?
        .with_context(|| format!("market {} not found on {url}", opts.market))?;
    let authority = load_market(&chain, &opts.market)?.risk_authority;
    if opts.pushes_enabled && authority != keypair.pubkey() {
        tracing::warn!(
            keypair = %keypair.pubkey(),
            risk_authority = %authority,
            "the keypair is not the market's risk authority: volatility pushes will be skipped \
             (liquidations go on; --no-push silences this)"
        );
    }
    let liquidator = if opts.liquidate {
        Some(liquidator_with_atas(
            &chain,
            &opts.market,
            keypair.insecure_clone(),
        )?)
    } else {
        None
    };
    let mut config = KeeperConfig {
        pushes_enabled: opts.pushes_enabled,
        ..KeeperConfig::default()
    };
    config.push.age_margin_secs = opts.push_age_margin_secs;
    let mut keeper = Keeper::new(opts.market, keypair, liquidator, config);
    seed_keeper(&mut keeper, &chain, opts)?;
    let mut n = 0u64;
    loop {
        match keeper.tick(&mut chain, opts.liquidation_capacity) {
            Ok(report) => {
                log_tick(&report);
                if let Some(m) = &metrics {
                    let reserves = load_reserves(&chain, &opts.market).unwrap_or_default();
                    m.record_tick(&report, &reserves);
                    m.set_rate_limited(
                        chain
                            .client()
                            .get_transport_stats()
                            .rate_limited_time
                            .as_secs_f64(),
                    );
                }
            }
            Err(e) => tracing::warn!("tick failed: {e:#}"),
        }
        n += 1;
        if opts.ticks.is_some_and(|t| n >= t) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(opts.interval_secs));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_cluster_fails_at_start_with_the_url() {
        let opts = LiveOptions {
            interval_secs: 0,
            ticks: Some(1),
            ..LiveOptions::new(Address::new_unique())
        };
        let e = run_live("http://127.0.0.1:1", Keypair::new(), &opts).unwrap_err();
        assert!(format!("{e:#}").contains("chain backend"), "{e:#}");
    }

    #[test]
    fn history_arguments_are_address_equals_file() {
        let a = Address::new_unique();
        let (got, file) = parse_history(&format!("{a}=prices/sol.csv")).unwrap();
        assert_eq!(got, a);
        assert_eq!(file, PathBuf::from("prices/sol.csv"));
        assert!(parse_history("no-equals")
            .unwrap_err()
            .to_string()
            .contains("ADDRESS=FILE"));
        assert!(parse_history("xyz=f.csv")
            .unwrap_err()
            .to_string()
            .contains("not an address"));
    }
}
