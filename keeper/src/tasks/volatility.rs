//! The volatility task: sample each reserve's oracle price (at most once per
//! sample period), update the EWMA estimate over the samples kept
//! ([`Estimators::estimate`]), and for a dynamic reserve push what
//! [`policy::decide`] says, signed by the market's risk authority.
//!
//! The price history lives in memory ([`Estimators`]), the one piece of
//! keeper state not read from the chain at every tick; a restarted keeper
//! seeds it from the volatility last pushed on chain
//! ([`Estimators::seed_prior`]) and, when given one, a price file.
//!
//! Pushes are skipped, with the reason in [`VolatilityRun::pushes_off`],
//! when the keeper's config turns them off (`--no-push`) or when the
//! signing keypair is not the market's risk authority (the program would
//! refuse every push); prices are still sampled. A push whose transaction
//! fails is reported for its reserve and the other reserves still push.

use std::collections::HashMap;

use anyhow::{Context, Result};
use ballast::engine::fx::Fx;
use ballast::engine::risk::RiskPolicy;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::accounts::{load_market, load_reserves};
use crate::chain::Chain;
use crate::keeper_loop::{KeeperConfig, TaskFailure};
use crate::volatility::candles::Candle;
use crate::volatility::estimators::{annualisation_factor, ewma_seeded};
use crate::volatility::policy::{self, Decision};

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

/// What one volatility pass did.
#[derive(Clone, Debug, Default)]
pub struct VolatilityRun {
    /// Pushes sent.
    pub pushes: Vec<Push>,
    /// Why pushes were off this pass (`--no-push`, or the keypair is not
    /// the risk authority); `None` when they were on.
    pub pushes_off: Option<String>,
    /// Pushes whose transaction failed: (reserve, failure).
    pub failed: Vec<(Address, TaskFailure)>,
}

/// Price samples, the prior and the latest estimate for one reserve.
#[derive(Clone, Debug, Default)]
struct Estimator {
    samples: Vec<Candle>,
    /// Per-period variance the EWMA starts from (see
    /// [`Estimators::seed_prior`]).
    prior_variance: Option<f64>,
    sigma_annual: Option<f64>,
}

/// Every reserve's price samples (as flat candles) and latest annualised
/// EWMA volatility.
#[derive(Clone, Debug, Default)]
pub struct Estimators {
    by_reserve: HashMap<Address, Estimator>,
}

impl Estimators {
    /// Records `price` (USD) at unix time `ts` for `reserve` if `ts` is at
    /// least `min_gap_secs` after its last sample, keeping the last
    /// `history_len` samples; returns whether it was kept.
    pub fn record(
        &mut self,
        reserve: &Address,
        ts: i64,
        price: f64,
        min_gap_secs: i64,
        history_len: usize,
    ) -> bool {
        let e = self.by_reserve.entry(*reserve).or_default();
        if let Some(last) = e.samples.last() {
            if ts - last.ts < min_gap_secs {
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
        let excess = e.samples.len().saturating_sub(history_len);
        e.samples.drain(..excess);
        true
    }

    /// Seeds `reserve`'s EWMA with a prior: the annualised volatility
    /// `sigma_annual` (a fraction per year) as a per-period variance
    /// `(sigma_annual / sqrt(year / period_secs))^2`. The EWMA then starts
    /// from it instead of from the first squared return, and the estimate
    /// is the prior itself until two samples exist. Ignored unless finite
    /// and positive.
    pub fn seed_prior(&mut self, reserve: &Address, sigma_annual: f64, period_secs: i64) {
        let per_period = sigma_annual / annualisation_factor(period_secs);
        if per_period.is_finite() && per_period > 0.0 {
            self.by_reserve.entry(*reserve).or_default().prior_variance =
                Some(per_period * per_period);
        }
    }

    /// Re-estimates `reserve`'s annualised volatility: the EWMA with decay
    /// `lambda` over its samples, `period_secs` apart nominally, started
    /// from the prior when there is one; with fewer than two samples, the
    /// prior's volatility, or none.
    pub fn estimate(&mut self, reserve: &Address, period_secs: i64, lambda: f64) -> Result<()> {
        let e = self.by_reserve.entry(*reserve).or_default();
        e.sigma_annual = if e.samples.len() >= 2 {
            ewma_seeded(&e.samples, period_secs, lambda, e.prior_variance)
                .with_context(|| format!("volatility estimate of reserve {reserve}"))?
                .last()
                .and_then(|r| r.sigma_annual)
        } else {
            e.prior_variance
                .map(|v| v.sqrt() * annualisation_factor(period_secs))
        };
        Ok(())
    }

    /// The latest annualised volatility estimate of `reserve` (fraction per
    /// year), if it has one.
    pub fn sigma(&self, reserve: &Address) -> Option<f64> {
        self.by_reserve.get(reserve).and_then(|e| e.sigma_annual)
    }

    /// The samples kept for `reserve`, oldest first.
    pub fn samples(&self, reserve: &Address) -> &[Candle] {
        self.by_reserve
            .get(reserve)
            .map_or(&[], |e| e.samples.as_slice())
    }
}

/// One pass over `market`'s reserves at unix time `now`: samples each
/// oracle (at most once per `config.sample_period_secs`), re-estimates, and
/// sends `update_volatility` signed by `risk_authority` for each dynamic
/// reserve the push policy says to push, unless pushes are off (see the
/// module docs). A failed push is reported and the next reserve still
/// pushes; an error reading the chain ends the pass.
pub fn run(
    chain: &mut impl Chain,
    market: &Address,
    risk_authority: &Keypair,
    estimators: &mut Estimators,
    config: &KeeperConfig,
    now: i64,
) -> Result<VolatilityRun> {
    let mut out = VolatilityRun::default();
    if !config.pushes_enabled {
        out.pushes_off = Some("pushes are off (--no-push)".into());
    } else {
        let authority = load_market(chain, market)?.risk_authority;
        if authority != risk_authority.pubkey() {
            out.pushes_off = Some(format!(
                "keypair {} is not the market's risk authority {authority}: pushes skipped",
                risk_authority.pubkey()
            ));
        }
    }
    for (key, reserve) in load_reserves(chain, market)? {
        let Some(data) = chain.account_data(&reserve.oracle)? else {
            continue;
        };
        let Ok(update) = ballast::runtime::oracle_account::decode_bytes(&data) else {
            continue;
        };
        let m = update.price_message;
        let price = m.price as f64 * 10f64.powi(m.exponent);
        let (period, history_len) = (config.sample_period_secs, config.history_len);
        if price > 0.0 && estimators.record(&key, now, price, period, history_len) {
            estimators.estimate(&key, period, config.lambda)?;
        }
        if reserve.config.risk.policy() != RiskPolicy::Dynamic || out.pushes_off.is_some() {
            continue;
        }
        let Some(target) = estimators.sigma(&key) else {
            continue;
        };
        if let Decision::Push {
            sigma,
            params,
            reached_target,
        } = policy::decide(&reserve, target, now, &config.push)
        {
            let ix = crate::ix::update_volatility(&risk_authority.pubkey(), market, &key, sigma);
            match chain.send(&[ix], &[risk_authority]) {
                Ok(_) => out.pushes.push(Push {
                    reserve: key,
                    sigma: Fx::to_num::<f64>(sigma),
                    ltv_bps: params.ltv_bps,
                    liquidation_threshold_bps: params.liquidation_threshold_bps,
                    reached_target,
                }),
                Err(e) => out.failed.push((key, TaskFailure::from_chain(&e))),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::volatility::estimators::ewma;

    #[test]
    fn samples_at_most_once_per_period_and_matches_the_batch_ewma() {
        let mut est = Estimators::default();
        let r = Address::new_from_array([1; 32]);
        let closes = [100.0, 101.0, 99.5, 102.0, 98.0, 97.0];
        // Every 15 minutes: only the hourly ones are kept.
        for (i, p) in closes.iter().enumerate() {
            for q in 0..4 {
                let ts = 1_000_000 + i as i64 * 3_600 + q * 900;
                let price = if q == 0 { *p } else { p * 1.5 };
                if est.record(&r, ts, price, 3_600, 1_000) {
                    est.estimate(&r, 3_600, 0.94).unwrap();
                }
            }
        }
        let kept: Vec<f64> = est.samples(&r).iter().map(|c| c.close).collect();
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
        let want = ewma(&batch, 3_600, 0.94).unwrap()[5].sigma_annual;
        assert_eq!(est.sigma(&r), want);
        assert!(want.unwrap() > 0.0);
    }

    #[test]
    fn a_seeded_prior_is_the_estimate_until_samples_arrive_then_starts_the_ewma() {
        let mut est = Estimators::default();
        let r = Address::new_from_array([3; 32]);
        est.seed_prior(&r, 0.8, 3_600);
        est.estimate(&r, 3_600, 0.94).unwrap();
        assert!((est.sigma(&r).unwrap() - 0.8).abs() < 1e-12);
        assert!(est.record(&r, 0, 100.0, 3_600, 1_000));
        est.estimate(&r, 3_600, 0.94).unwrap();
        assert!(
            (est.sigma(&r).unwrap() - 0.8).abs() < 1e-12,
            "one sample: the prior"
        );
        assert!(est.record(&r, 3_600, 101.0, 3_600, 1_000));
        est.estimate(&r, 3_600, 0.94).unwrap();
        let prior = (0.8 / 8_760f64.sqrt()).powi(2);
        let x = (101.0f64 / 100.0).ln().powi(2);
        let want = (0.94 * prior + 0.06 * x).sqrt() * 8_760f64.sqrt();
        assert!((est.sigma(&r).unwrap() - want).abs() < 1e-12);
        // Without a prior the same samples start from the squared return.
        let mut plain = Estimators::default();
        plain.record(&r, 0, 100.0, 3_600, 1_000);
        plain.record(&r, 3_600, 101.0, 3_600, 1_000);
        plain.estimate(&r, 3_600, 0.94).unwrap();
        assert!((plain.sigma(&r).unwrap() - x.sqrt() * 8_760f64.sqrt()).abs() < 1e-12);
        // Nonsense priors are ignored.
        let q = Address::new_from_array([4; 32]);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            est.seed_prior(&q, bad, 3_600);
        }
        est.estimate(&q, 3_600, 0.94).unwrap();
        assert_eq!(est.sigma(&q), None);
    }
}
