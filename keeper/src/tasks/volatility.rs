//! The volatility task: sample each reserve's oracle price (at most once per
//! sample period), update the EWMA estimate over the samples kept
//! ([`latest_sigma`]), and for a dynamic reserve push what
//! [`policy::decide`] says, signed by the market's risk authority.
//!
//! The price history lives in memory ([`Estimators`]), the one piece of
//! keeper state not read from the chain at every tick.

use std::collections::HashMap;

use anyhow::{Context, Result};
use ballast::engine::fx::Fx;
use ballast::engine::risk::RiskPolicy;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::accounts::load_reserves;
use crate::chain::Chain;
use crate::keeper_loop::KeeperConfig;
use crate::volatility::candles::Candle;
use crate::volatility::estimators::{latest_sigma, Method};
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

/// Price samples and the latest estimate for one reserve.
#[derive(Clone, Debug, Default)]
struct Estimator {
    samples: Vec<Candle>,
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

    /// Re-estimates `reserve`'s annualised volatility: the EWMA with decay
    /// `lambda` over its samples, `period_secs` apart nominally; none with
    /// fewer than two samples.
    pub fn estimate(&mut self, reserve: &Address, period_secs: i64, lambda: f64) -> Result<()> {
        let e = self.by_reserve.entry(*reserve).or_default();
        e.sigma_annual = if e.samples.len() >= 2 {
            latest_sigma(&e.samples, period_secs, &Method::Ewma { lambda })
                .with_context(|| format!("volatility estimate of reserve {reserve}"))?
        } else {
            None
        };
        Ok(())
    }

    /// The latest annualised volatility estimate of `reserve` (fraction per
    /// year), if it has at least two samples.
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
/// reserve the push policy says to push. Returns the pushes sent.
pub fn run(
    chain: &mut impl Chain,
    market: &Address,
    risk_authority: &Keypair,
    estimators: &mut Estimators,
    config: &KeeperConfig,
    now: i64,
) -> Result<Vec<Push>> {
    let mut pushes = vec![];
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
        if reserve.config.risk.policy() != RiskPolicy::Dynamic {
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
            chain
                .send(&[ix], &[risk_authority])
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
}
