//! The keeper loop: one [`Keeper::tick`] runs every task once, in order,
//! over the [`Chain`] trait only, so that a live keeper (RPC backend) and
//! `replay` (embedded backend) run exactly the same code:
//!
//! 1. **volatility**: sample each reserve's oracle price (at most once per
//!    `sample_period_secs`), update the EWMA estimate ([`crate::vol::ewma`]
//!    over the samples kept), and for a dynamic reserve push what
//!    [`policy::decide`] says, signed by the risk authority;
//! 2. **interest**: `accrue_interest` on each reserve whose last accrual is
//!    older than `accrue_interval_secs`;
//! 3. **liquidation**: [`tasks::liquidation::run`], worst first, up to the
//!    capacity the caller gives this tick;
//! 4. **bad debt**: [`tasks::bad_debt::run`] (sweeping dust collateral with
//!    the liquidator first);
//! 5. **rebalance**: [`tasks::rebalance::run`] moves liquidity between each
//!    reserve's vault and its treasury strategy when the liquid share has
//!    left its buffer band.
//!
//! What is not the keeper's (writing oracle prices, moving the clock) stays
//! in the caller: the replay driver ([`crate::replay`]) or the cluster.

use std::collections::HashMap;

use anyhow::{Context, Result};
use ballast::engine::fx::Fx;
use ballast::engine::risk::RiskPolicy;
use ballast::state::Reserve;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::Chain;
use crate::policy::{self, Decision, PushPolicy};
use crate::prices::Candle;
use crate::scan::decode_reserve;
use crate::tasks::{
    self, bad_debt::BadDebtRun, liquidation::LiquidationRun, liquidation::Liquidator,
};

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
            lambda: crate::vol::DEFAULT_LAMBDA,
            sample_period_secs: 3_600,
            history_len: 1_000,
            accrue_interval_secs: 3_600,
        }
    }
}

/// One push the volatility task sent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Push {
    /// The reserve.
    pub reserve: Address,
    /// The pushed volatility, annualised fraction.
    pub sigma: f64,
    /// LTV the push left in force, bps.
    pub ltv_bps: u16,
    /// Liquidation threshold the push left in force, bps.
    pub liquidation_threshold_bps: u16,
    /// Whether the push reached the estimator's (clamped) target, or was a
    /// step toward it.
    pub reached_target: bool,
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
    pub rebalance: Vec<(Address, tasks::rebalance::Outcome)>,
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
            tasks::rebalance::Outcome::Failed(m) => Some(format!("rebalance of {r} failed: {m}")),
            _ => None,
        }));
        out
    }
}

/// Price samples and the latest estimate for one reserve.
#[derive(Clone, Debug, Default)]
struct Estimator {
    samples: Vec<Candle>,
    sigma_annual: Option<f64>,
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
    estimators: HashMap<Address, Estimator>,
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
            estimators: HashMap::new(),
        }
    }

    /// Backfills `reserve`'s price history with `(unix seconds, USD price)`
    /// samples, oldest first (e.g. the hourly closes before the keeper
    /// started), as if the keeper had sampled them.
    pub fn seed_history(&mut self, reserve: &Address, samples: &[(i64, f64)]) -> Result<()> {
        for &(ts, price) in samples {
            self.record(reserve, ts, price, false);
        }
        self.estimate(reserve)
    }

    /// The latest annualised volatility estimate of `reserve` (fraction per
    /// year), if it has at least two samples.
    pub fn sigma(&self, reserve: &Address) -> Option<f64> {
        self.estimators.get(reserve).and_then(|e| e.sigma_annual)
    }

    /// Records a sample if `ts` is at least a period after the last one;
    /// returns whether it was kept.
    fn record(&mut self, reserve: &Address, ts: i64, price: f64, force_period: bool) -> bool {
        let period = self.config.sample_period_secs;
        let e = self.estimators.entry(*reserve).or_default();
        if let Some(last) = e.samples.last() {
            if ts - last.ts < if force_period { period } else { 1 } {
                return false;
            }
        }
        e.samples.push(Candle {
            ts,
            open: price,
            high: price,
            low: price,
            close: price,
            volume: 0.0,
        });
        let excess = e.samples.len().saturating_sub(self.config.history_len);
        e.samples.drain(..excess);
        true
    }

    fn estimate(&mut self, reserve: &Address) -> Result<()> {
        let (lambda, period) = (self.config.lambda, self.config.sample_period_secs);
        let e = self.estimators.entry(*reserve).or_default();
        e.sigma_annual = if e.samples.len() >= 2 {
            crate::vol::ewma(&e.samples, period, lambda)
                .with_context(|| format!("volatility estimate of reserve {reserve}"))?
                .last()
                .and_then(|r| r.sigma_annual)
        } else {
            None
        };
        Ok(())
    }

    /// Runs every task once; `liquidation_capacity` caps the liquidations
    /// sent this tick. A chain error of a task is returned with the task's
    /// name as context; per-obligation failures are in the report (see
    /// [`TickReport::failures`]).
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
        report.pushes = self
            .volatility_task(chain, now)
            .context("volatility task")?;
        report.accrued = self.interest_task(chain, now).context("interest task")?;
        if let Some(liquidator) = &self.liquidator {
            report.liquidation = Some(
                tasks::liquidation::run(chain, &self.market, liquidator, liquidation_capacity)
                    .context("liquidation task")?,
            );
        }
        report.bad_debt = tasks::bad_debt::run(chain, &self.market, self.liquidator.as_ref())
            .context("bad-debt task")?;
        report.rebalance = tasks::rebalance::run(chain, &self.market).context("rebalance task")?;
        Ok(report)
    }

    fn reserves(&self, chain: &impl Chain) -> Result<Vec<(Address, Reserve)>> {
        Ok(chain
            .ballast_accounts::<Reserve>(&self.market)?
            .into_iter()
            .filter_map(|(k, d)| decode_reserve(&d).map(|r| (k, r)))
            .collect())
    }

    fn volatility_task(&mut self, chain: &mut impl Chain, now: i64) -> Result<Vec<Push>> {
        let mut pushes = vec![];
        for (key, reserve) in self.reserves(chain)? {
            let Some(data) = chain.account_data(&reserve.oracle)? else {
                continue;
            };
            let Ok(update) = ballast::runtime::oracle_account::decode_bytes(&data) else {
                continue;
            };
            let m = update.price_message;
            let price = m.price as f64 * 10f64.powi(m.exponent);
            if price > 0.0 && self.record(&key, now, price, true) {
                self.estimate(&key)?;
            }
            if reserve.config.risk.policy() != RiskPolicy::Dynamic {
                continue;
            }
            let Some(target) = self.sigma(&key) else {
                continue;
            };
            if let Decision::Push {
                sigma,
                params,
                reached_target,
            } = policy::decide(&reserve, target, now, &self.config.push)
            {
                let ix = crate::ix::update_volatility(
                    &self.risk_authority.pubkey(),
                    &self.market,
                    &key,
                    sigma,
                );
                chain
                    .send(&[ix], &[&self.risk_authority])
                    .with_context(|| format!("update_volatility of reserve {key}"))?;
                pushes.push(Push {
                    reserve: key,
                    sigma: Fx::to_num::<f64>(sigma),
                    ltv_bps: params.ltv_bps,
                    liquidation_threshold_bps: params.liquidation_threshold_bps,
                    reached_target,
                });
            }
        }
        Ok(pushes)
    }

    fn interest_task(&mut self, chain: &mut impl Chain, now: i64) -> Result<Vec<Address>> {
        let mut accrued = vec![];
        for (key, reserve) in self.reserves(chain)? {
            if now - reserve.last_update_ts >= self.config.accrue_interval_secs {
                // With a treasury strategy, the strategy reserve rides along
                // so the deployed shares are marked at its rate too.
                let strategy = reserve.treasury.has_strategy().then(|| {
                    solana_instruction::AccountMeta::new_readonly(
                        reserve.treasury.strategy_reserve,
                        false,
                    )
                });
                let ix = crate::ix::with_accounts(crate::ix::accrue_interest(&key), strategy);
                chain
                    .send(&[ix], &[])
                    .with_context(|| format!("accrue_interest of reserve {key}"))?;
                accrued.push(key);
            }
        }
        Ok(accrued)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keeper() -> Keeper {
        Keeper::new(
            Address::default(),
            Keypair::new(),
            None,
            KeeperConfig::default(),
        )
    }

    #[test]
    fn samples_at_most_once_per_period_and_matches_the_batch_ewma() {
        let mut k = keeper();
        let r = Address::new_from_array([1; 32]);
        let closes = [100.0, 101.0, 99.5, 102.0, 98.0, 97.0];
        // Every 15 minutes: only the hourly ones are kept.
        for (i, p) in closes.iter().enumerate() {
            for q in 0..4 {
                let ts = 1_000_000 + i as i64 * 3_600 + q * 900;
                let price = if q == 0 { *p } else { p * 1.5 };
                if k.record(&r, ts, price, true) {
                    k.estimate(&r).unwrap();
                }
            }
        }
        let kept: Vec<f64> = k.estimators[&r].samples.iter().map(|c| c.close).collect();
        assert_eq!(kept, closes);
        let batch: Vec<Candle> = closes
            .iter()
            .enumerate()
            .map(|(i, c)| Candle {
                ts: i as i64 * 3_600,
                open: *c,
                high: *c,
                low: *c,
                close: *c,
                volume: 0.0,
            })
            .collect();
        let want = crate::vol::ewma(&batch, 3_600, 0.94).unwrap()[5].sigma_annual;
        assert_eq!(k.sigma(&r), want);
        assert!(want.unwrap() > 0.0);
    }

    #[test]
    fn history_is_bounded() {
        let mut k = keeper();
        k.config.history_len = 3;
        let r = Address::new_from_array([2; 32]);
        let s: Vec<(i64, f64)> = (0..10).map(|i| (i * 3_600, 100.0 + i as f64)).collect();
        k.seed_history(&r, &s).unwrap();
        let kept: Vec<i64> = k.estimators[&r].samples.iter().map(|c| c.ts).collect();
        assert_eq!(kept, vec![7 * 3_600, 8 * 3_600, 9 * 3_600]);
    }
}
