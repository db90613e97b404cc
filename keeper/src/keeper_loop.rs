//! The keeper loop: one [`Keeper::tick`] runs every task of [`crate::tasks`]
//! once, in order, over the [`Chain`] trait only, so that a live keeper (RPC
//! backend) and `replay` (embedded backend) run exactly the same code:
//!
//! 1. **volatility**: [`tasks::volatility::run`] samples each reserve's
//!    oracle price (at most once per `sample_period_secs`), updates the EWMA
//!    estimate over the samples kept, and for a dynamic reserve pushes what
//!    the push policy says, signed by the risk authority;
//! 2. **interest**: [`tasks::interest::run`] accrues each reserve whose last
//!    accrual is older than `accrue_interval_secs`;
//! 3. **liquidation**: [`tasks::liquidation::run`], worst first, up to the
//!    capacity the caller gives this tick;
//! 4. **bad debt**: [`tasks::bad_debt::run`] (sweeping dust collateral with
//!    the liquidator first);
//! 5. **rebalance**: [`tasks::rebalance::run`] moves liquidity between each
//!    reserve's vault and its treasury strategy when the liquid share has
//!    left its buffer band.
//!
//! Each task reports its own outcome ([`TaskReport`]: done, skipped with a
//! reason, or failed with a typed [`FailureReason`] carrying the program
//! error where there is one) and its duration; one task's failure never
//! stops the others, so an RPC error while sampling prices or a refused
//! volatility push still lets the liquidations run.
//!
//! What is not the keeper's (writing oracle prices, moving the clock) stays
//! in the caller: the replay driver (`crate::replay`) or the cluster.

use std::time::Instant;

use anyhow::{Context, Result};
use solana_address::Address;
use solana_keypair::Keypair;

use crate::accounts::LoadError;
use crate::chain::{Chain, ChainError, TransactionError};
use crate::tasks::bad_debt::BadDebtRun;
use crate::tasks::liquidation::{LiquidationRun, Liquidator};
use crate::tasks::volatility::{Estimators, Push, VolatilityRun};
use crate::tasks::{self, rebalance};
use crate::volatility::policy::PushPolicy;

/// The keeper's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperConfig {
    /// When to push volatility (see [`PushPolicy`]).
    pub push: PushPolicy,
    /// Whether the volatility task pushes at all (`--no-push` turns it
    /// off; the task still samples prices and estimates).
    pub pushes_enabled: bool,
    /// EWMA decay per sample period, in [0, 1) (RiskMetrics: 0.94).
    pub lambda: f64,
    /// Least time between two price samples, seconds (the estimator's
    /// period: 3,600 for hourly returns).
    pub sample_period_secs: i64,
    /// Samples kept per reserve (the EWMA's weight on older ones is
    /// `lambda^history_len`, negligible).
    pub history_len: usize,
    /// Accrue a reserve's interest when its last accrual is at least this
    /// old, seconds.
    pub accrue_interval_secs: i64,
}

impl Default for KeeperConfig {
    /// Hourly RiskMetrics EWMA (0.94) over up to 1,000 samples, the default
    /// push policy, pushes on, accrual every hour.
    fn default() -> Self {
        Self {
            push: PushPolicy::default(),
            pushes_enabled: true,
            lambda: crate::volatility::estimators::DEFAULT_LAMBDA,
            sample_period_secs: 3_600,
            history_len: 1_000,
            accrue_interval_secs: 3_600,
        }
    }
}

/// A keeper task, in the order a tick runs them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Price sampling, volatility estimate, pushes.
    Volatility,
    /// Interest accrual.
    Interest,
    /// Liquidations, worst first.
    Liquidation,
    /// Dust sweeps and bad-debt socialisation.
    BadDebt,
    /// Treasury rebalances.
    Rebalance,
}

impl Task {
    /// Every task, in tick order.
    pub const ALL: [Task; 5] = [
        Task::Volatility,
        Task::Interest,
        Task::Liquidation,
        Task::BadDebt,
        Task::Rebalance,
    ];

    /// The task's name in logs and metrics labels (`bad_debt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Task::Volatility => "volatility",
            Task::Interest => "interest",
            Task::Liquidation => "liquidation",
            Task::BadDebt => "bad_debt",
            Task::Rebalance => "rebalance",
        }
    }
}

/// Why a task (or one of its transactions) failed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureReason {
    /// The chain could not be reached, timed out or answered nonsense
    /// (after the backend's own retries).
    Rpc,
    /// A transaction was refused (in simulation or on chain).
    Transaction {
        /// The custom program error code (`6000 + n` for Ballast's).
        code: Option<u32>,
        /// The program error's name, from Anchor's log line (`OracleStale`).
        name: Option<String>,
    },
    /// The market account is missing or is not a Ballast market.
    Market,
    /// Anything else (e.g. an estimate that could not be computed).
    Other,
}

impl FailureReason {
    /// A short label for logs and metrics: `rpc`, `market`, `other`, the
    /// program error's name (`OracleStale`), or `transaction`.
    pub fn label(&self) -> String {
        match self {
            FailureReason::Rpc => "rpc".into(),
            FailureReason::Market => "market".into(),
            FailureReason::Other => "other".into(),
            FailureReason::Transaction { name: Some(n), .. } => n.clone(),
            FailureReason::Transaction { code: Some(c), .. } => format!("custom_{c}"),
            FailureReason::Transaction { .. } => "transaction".into(),
        }
    }
}

/// A typed failure with its message.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TaskFailure {
    /// Why.
    pub reason: FailureReason,
    /// The error with its context chain.
    pub message: String,
}

/// The program error of a failed transaction: its custom code, and its
/// name from the `Error Code: <Name>.` line Anchor logs.
pub fn program_error(err: &TransactionError, logs: &[String]) -> FailureReason {
    use solana_instruction::error::InstructionError;
    let code = match err {
        TransactionError::InstructionError(_, InstructionError::Custom(c)) => Some(*c),
        _ => None,
    };
    let name = logs.iter().find_map(|l| {
        let rest = l.split("Error Code: ").nth(1)?;
        Some(rest.split('.').next()?.trim().to_string())
    });
    FailureReason::Transaction { code, name }
}

impl TaskFailure {
    /// Classifies an error of a task by the first [`ChainError`] or
    /// [`LoadError`] in its chain of causes.
    pub fn from_error(e: &anyhow::Error) -> Self {
        let mut reason = FailureReason::Other;
        for cause in e.chain() {
            let chain_err = cause.downcast_ref::<ChainError>().or_else(|| {
                match cause.downcast_ref::<LoadError>() {
                    Some(LoadError::Chain(c)) => Some(c),
                    _ => None,
                }
            });
            if let Some(c) = chain_err {
                reason = Self::from_chain(c).reason;
                break;
            }
            if let Some(LoadError::Market(_)) = cause.downcast_ref::<LoadError>() {
                reason = FailureReason::Market;
                break;
            }
        }
        Self {
            reason,
            message: format!("{e:#}"),
        }
    }

    /// Classifies a chain error.
    pub fn from_chain(e: &ChainError) -> Self {
        let reason = match e {
            ChainError::Transaction { err, logs } => program_error(err, logs),
            ChainError::Backend(_) => FailureReason::Rpc,
        };
        Self {
            reason,
            message: e.to_string(),
        }
    }
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum TaskOutcome {
    /// It ran to the end (per-transaction failures, if any, are in its
    /// run's report).
    Done,
    /// It did not run, on purpose: why.
    Skipped(String),
    /// It stopped early; the tasks after it still ran.
    Failed(TaskFailure),
}

/// One task's outcome in a tick, with its wall time.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct TaskReport {
    /// The task.
    pub task: Task,
    /// How it ended.
    pub outcome: TaskOutcome,
    /// Wall time, seconds.
    pub secs: f64,
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// The chain's unix time at the start of the tick, seconds.
    pub now: i64,
    /// Volatility pushes sent.
    pub pushes: Vec<Push>,
    /// The volatility task's run: pushes, skips, push failures.
    pub volatility: VolatilityRun,
    /// Reserves whose interest was accrued.
    pub accrued: Vec<Address>,
    /// The liquidation task's run (`None` without a liquidator, or when the
    /// task failed).
    pub liquidation: Option<LiquidationRun>,
    /// The bad-debt task's run.
    pub bad_debt: BadDebtRun,
    /// The rebalance task's outcome per reserve with a treasury strategy.
    pub rebalance: Vec<(Address, rebalance::Outcome)>,
    /// Each task's outcome, in the order they ran.
    pub tasks: Vec<TaskReport>,
}

impl TickReport {
    /// A description of every failure the tick saw: a task that failed, a
    /// push, liquidation, socialisation or rebalance whose transaction
    /// failed, an obligation the liquidation scan could not assess. Empty
    /// when there is none.
    pub fn failures(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .tasks
            .iter()
            .filter_map(|t| match &t.outcome {
                TaskOutcome::Failed(f) => Some(format!(
                    "{} task failed ({}): {}",
                    t.task.name(),
                    f.reason.label(),
                    f.message
                )),
                _ => None,
            })
            .collect();
        out.extend(
            self.volatility
                .failed
                .iter()
                .map(|(r, f)| format!("update_volatility of {r} failed: {}", f.message)),
        );
        if let Some(l) = &self.liquidation {
            out.extend(
                l.failed
                    .iter()
                    .map(|(o, m)| format!("liquidation of {o} failed: {m}")),
            );
            out.extend(
                l.blocked
                    .iter()
                    .map(|(o, m)| format!("obligation {o} not liquidatable: {m}")),
            );
        }
        out.extend(
            self.bad_debt
                .failed
                .iter()
                .map(|(o, r, m)| format!("socialize_bad_debt of {o} in {r} failed: {m}")),
        );
        out.extend(self.rebalance.iter().filter_map(|(r, o)| match o {
            rebalance::Outcome::Failed(m) => Some(format!("rebalance of {r} failed: {m}")),
            _ => None,
        }));
        out
    }

    /// The outcome of `task` in this tick, if it ran.
    pub fn outcome(&self, task: Task) -> Option<&TaskOutcome> {
        self.tasks
            .iter()
            .find(|t| t.task == task)
            .map(|t| &t.outcome)
    }
}

/// A keeper for one market.
pub struct Keeper {
    /// The market.
    pub market: Address,
    /// Signs `update_volatility` (the market's risk authority).
    pub risk_authority: Keypair,
    /// Signs liquidations and holds their token accounts; `None`: the
    /// keeper does not liquidate.
    pub liquidator: Option<Liquidator>,
    /// Settings.
    pub config: KeeperConfig,
    /// When set, the volatility task does not run (no pushes): a keeper or
    /// risk-authority outage, as the replay's `--outage` injects it.
    pub pushes_paused: bool,
    estimators: Estimators,
}

impl Keeper {
    /// A keeper with no price history yet.
    pub fn new(
        market: Address,
        risk_authority: Keypair,
        liquidator: Option<Liquidator>,
        config: KeeperConfig,
    ) -> Self {
        Self {
            market,
            risk_authority,
            liquidator,
            config,
            pushes_paused: false,
            estimators: Estimators::default(),
        }
    }

    /// Backfills `reserve`'s price history with `(unix seconds, USD price)`
    /// samples, oldest first (e.g. the hourly closes before the keeper
    /// started), as if the keeper had sampled them.
    pub fn seed_history(&mut self, reserve: &Address, samples: &[(i64, f64)]) -> Result<()> {
        for &(ts, price) in samples {
            self.estimators
                .record(reserve, ts, price, 1, self.config.history_len);
        }
        self.estimators
            .estimate(reserve, self.config.sample_period_secs, self.config.lambda)
    }

    /// Seeds `reserve`'s estimator with a prior annualised volatility (e.g.
    /// the last one pushed on chain, after a restart): the EWMA starts from
    /// it instead of from the first squared return, so the keeper has an
    /// estimate, and can push, before it has two samples of its own.
    pub fn seed_sigma(&mut self, reserve: &Address, sigma_annual: f64) -> Result<()> {
        self.estimators
            .seed_prior(reserve, sigma_annual, self.config.sample_period_secs);
        self.estimators
            .estimate(reserve, self.config.sample_period_secs, self.config.lambda)
    }

    /// Seeds the estimator of every dynamic reserve of the market that has
    /// been pushed before with the volatility last pushed on chain (see
    /// [`Keeper::seed_sigma`]): what a restarted keeper knows without any
    /// price history of its own (a `PriceUpdateV2` account holds only the
    /// latest price, so the oracle gives none). With it the keeper pushes in
    /// its first tick when a reserve's last push nears its max age. Returns
    /// the reserves seeded and the volatility each got.
    pub fn seed_from_chain(&mut self, chain: &impl Chain) -> Result<Vec<(Address, f64)>> {
        use ballast::engine::fx::Fx;
        use ballast::engine::risk::RiskPolicy;
        let mut seeded = vec![];
        for (key, reserve) in crate::accounts::load_reserves(chain, &self.market)? {
            if reserve.config.risk.policy() != RiskPolicy::Dynamic || reserve.risk.last_push_ts == 0
            {
                continue;
            }
            let sigma = Fx::to_num::<f64>(reserve.risk.sigma.get());
            if sigma > 0.0 {
                self.seed_sigma(&key, sigma)?;
                seeded.push((key, sigma));
            }
        }
        Ok(seeded)
    }

    /// The latest annualised volatility estimate of `reserve` (fraction per
    /// year), if it has one (two samples, or a seeded prior).
    pub fn sigma(&self, reserve: &Address) -> Option<f64> {
        self.estimators.sigma(reserve)
    }

    /// Runs every task once, in order; `liquidation_capacity` caps the
    /// liquidations sent this tick. Fails only when the chain's clock cannot
    /// be read (no task can run without it); a task's failure is in its
    /// [`TaskReport`] and the tasks after it still run (see
    /// [`TickReport::failures`]).
    pub fn tick(
        &mut self,
        chain: &mut impl Chain,
        liquidation_capacity: usize,
    ) -> Result<TickReport> {
        self.tick_with(chain, &mut |_, c| {
            c.iter().take(liquidation_capacity).copied().collect()
        })
    }

    /// [`tick`](Self::tick) with the liquidations chosen by `select` out of
    /// the scan's candidates ([`tasks::liquidation::run_selected`]): the
    /// replay's liquidator model ([`crate::liquidators`]).
    pub fn tick_with(
        &mut self,
        chain: &mut impl Chain,
        select: &mut tasks::liquidation::Select<'_>,
    ) -> Result<TickReport> {
        let now = chain.unix_time().context("reading the chain's clock")?;
        let mut report = TickReport {
            now,
            ..Default::default()
        };
        let mut tasks_out: Vec<TaskReport> = Vec::with_capacity(Task::ALL.len());
        let mut finish = |task: Task, started: Instant, r: Result<TaskOutcome>| {
            tasks_out.push(TaskReport {
                task,
                outcome: r.unwrap_or_else(|e| TaskOutcome::Failed(TaskFailure::from_error(&e))),
                secs: started.elapsed().as_secs_f64(),
            });
        };

        let t = Instant::now();
        if self.pushes_paused {
            finish(
                Task::Volatility,
                t,
                Ok(TaskOutcome::Skipped(
                    "paused by the caller (an injected outage)".into(),
                )),
            );
        } else {
            let vol = tasks::volatility::run(
                chain,
                &self.market,
                &self.risk_authority,
                &mut self.estimators,
                &self.config,
                now,
            )
            .context("volatility task");
            finish(
                Task::Volatility,
                t,
                vol.map(|run| {
                    let outcome = match &run.pushes_off {
                        Some(why) => TaskOutcome::Skipped(why.clone()),
                        None => TaskOutcome::Done,
                    };
                    report.pushes = run.pushes.clone();
                    report.volatility = run;
                    outcome
                }),
            );
        }

        let t = Instant::now();
        let accrued =
            tasks::interest::run(chain, &self.market, now, self.config.accrue_interval_secs)
                .context("interest task");
        finish(
            Task::Interest,
            t,
            accrued.map(|a| {
                report.accrued = a;
                TaskOutcome::Done
            }),
        );

        let t = Instant::now();
        match &self.liquidator {
            Some(liquidator) => {
                let run = tasks::liquidation::run_selected(chain, &self.market, liquidator, select)
                    .context("liquidation task");
                finish(
                    Task::Liquidation,
                    t,
                    run.map(|l| {
                        report.liquidation = Some(l);
                        TaskOutcome::Done
                    }),
                );
            }
            None => finish(
                Task::Liquidation,
                t,
                Ok(TaskOutcome::Skipped(
                    "no liquidator (--no-liquidate)".into(),
                )),
            ),
        }

        let t = Instant::now();
        let bad = tasks::bad_debt::run(chain, &self.market, self.liquidator.as_ref())
            .context("bad-debt task");
        finish(
            Task::BadDebt,
            t,
            bad.map(|b| {
                report.bad_debt = b;
                TaskOutcome::Done
            }),
        );

        let t = Instant::now();
        let reb = rebalance::run(chain, &self.market).context("rebalance task");
        finish(
            Task::Rebalance,
            t,
            reb.map(|r| {
                report.rebalance = r;
                TaskOutcome::Done
            }),
        );
        report.tasks = tasks_out;
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded() {
        let mut k = Keeper::new(
            Address::default(),
            Keypair::new(),
            None,
            KeeperConfig::default(),
        );
        k.config.history_len = 3;
        let r = Address::new_from_array([2; 32]);
        let s: Vec<(i64, f64)> = (0..10).map(|i| (i * 3_600, 100.0 + i as f64)).collect();
        k.seed_history(&r, &s).unwrap();
        let kept: Vec<i64> = k.estimators.samples(&r).iter().map(|c| c.ts).collect();
        assert_eq!(kept, vec![7 * 3_600, 8 * 3_600, 9 * 3_600]);
    }
}
