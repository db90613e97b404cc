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
//! What is not the keeper's (writing oracle prices, moving the clock) stays
//! in the caller: the replay driver (`crate::replay`) or the cluster.

use anyhow::{Context, Result};
use solana_address::Address;
use solana_keypair::Keypair;

use crate::chain::Chain;
use crate::tasks::bad_debt::BadDebtRun;
use crate::tasks::liquidation::{LiquidationRun, Liquidator};
use crate::tasks::volatility::{Estimators, Push};
use crate::tasks::{self, rebalance};
use crate::volatility::policy::PushPolicy;

/// The keeper's settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KeeperConfig {
    /// When to push volatility (see [`PushPolicy`]).
    pub push: PushPolicy,
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
    /// push policy, accrual every hour.
    fn default() -> Self {
        Self {
            push: PushPolicy::default(),
            lambda: crate::volatility::estimators::DEFAULT_LAMBDA,
            sample_period_secs: 3_600,
            history_len: 1_000,
            accrue_interval_secs: 3_600,
        }
    }
}

/// What one tick did.
#[derive(Debug, Default)]
pub struct TickReport {
    /// The chain's unix time at the start of the tick, seconds.
    pub now: i64,
    /// Volatility pushes sent.
    pub pushes: Vec<Push>,
    /// Reserves whose interest was accrued.
    pub accrued: Vec<Address>,
    /// The liquidation task's run (`None` without a liquidator).
    pub liquidation: Option<LiquidationRun>,
    /// The bad-debt task's run.
    pub bad_debt: BadDebtRun,
    /// The rebalance task's outcome per reserve with a treasury strategy.
    pub rebalance: Vec<(Address, rebalance::Outcome)>,
}

impl TickReport {
    /// A description of every failure the tasks reported (a liquidation or
    /// socialisation whose transaction failed, an obligation the
    /// liquidation scan could not assess), empty when there is none.
    pub fn failures(&self) -> Vec<String> {
        let mut out = vec![];
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

    /// The latest annualised volatility estimate of `reserve` (fraction per
    /// year), if it has at least two samples.
    pub fn sigma(&self, reserve: &Address) -> Option<f64> {
        self.estimators.sigma(reserve)
    }

    /// Runs every task once, in order; `liquidation_capacity` caps the
    /// liquidations sent this tick. A chain error of a task is returned with
    /// the task's name as context; per-obligation failures are in the report
    /// (see [`TickReport::failures`]).
    pub fn tick(
        &mut self,
        chain: &mut impl Chain,
        liquidation_capacity: usize,
    ) -> Result<TickReport> {
        let now = chain.unix_time().context("reading the chain's clock")?;
        let mut report = TickReport {
            now,
            ..Default::default()
        };
        if !self.pushes_paused {
            report.pushes = tasks::volatility::run(
                chain,
                &self.market,
                &self.risk_authority,
                &mut self.estimators,
                &self.config,
                now,
            )
            .context("volatility task")?;
        }
        report.accrued =
            tasks::interest::run(chain, &self.market, now, self.config.accrue_interval_secs)
                .context("interest task")?;
        if let Some(liquidator) = &self.liquidator {
            report.liquidation = Some(
                tasks::liquidation::run(chain, &self.market, liquidator, liquidation_capacity)
                    .context("liquidation task")?,
            );
        }
        report.bad_debt = tasks::bad_debt::run(chain, &self.market, self.liquidator.as_ref())
            .context("bad-debt task")?;
        report.rebalance = rebalance::run(chain, &self.market).context("rebalance task")?;
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
