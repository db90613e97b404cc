//! The liquidator model shared by the stress engine ([`crate::stress`]) and
//! the replay ([`crate::replay`]): one code path for how much liquidators
//! take in a step, which liquidations they find worth taking, and how their
//! sales of seized collateral move the price.
//!
//! * **Capacity**: the debt all liquidators together repay in one step, USD
//!   (their capital and the market's depth for the stablecoin leg). A
//!   liquidation larger than what is left is cut to it.
//! * **Order**: candidates are taken lowest Maintenance health first (ties
//!   by index, so runs are deterministic), as the keeper's scan does.
//! * **Impact**: the collateral sold in a step lowers the asset's log price
//!   at the next step by `k * sigma_day * sqrt(V / depth)`, `V` the USD
//!   sold in the step, `depth` the asset's daily depth in USD and
//!   `sigma_day` its daily volatility (the square-root law of market impact:
//!   Almgren, Thum, Hauptmann and Li, "Direct estimation of equity market
//!   impact", 2005; Toth et al., "Anomalous price impact and the critical
//!   nature of liquidity", 2011: `k` about 1). The impact is **permanent**:
//!   the callers never give it back, so sales deepen the following steps'
//!   prices and cascades can happen (and a path's price stays below the
//!   unimpacted one after a crash: conservative for the lender).
//! * **Profitability** ([`ProfitRule`]): a liquidator takes a liquidation
//!   only if the bonus it earns, minus a fixed cost per liquidation (fees:
//!   base and priority fee, USD) and minus the impact cost of selling the
//!   seized collateral ([`LiquidatorModel::impact_cost_usd`]), is at least a
//!   minimum profit. Without a rule (`None`) every liquidation the capacity
//!   allows is taken (the stress engine's behaviour before the rule
//!   existed).

/// The profitability threshold of [`LiquidatorModel`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProfitRule {
    /// Cost of sending one liquidation (base fee, priority fee, the
    /// swap's fees), USD.
    pub fixed_cost_usd: f64,
    /// Least profit (bonus minus costs) for which a liquidator bothers, USD.
    pub min_profit_usd: f64,
}

/// The liquidators of a market (module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct LiquidatorModel {
    /// Debt liquidators repay per step, all together, USD.
    pub capacity_usd_per_step: f64,
    /// Square-root impact coefficient `k` (dimensionless).
    pub impact_k: f64,
    /// Each asset's daily depth, USD (the volume that moves its price by `k`
    /// daily sigmas), indexed as the caller's assets.
    pub depth_usd: Vec<f64>,
    /// The profitability threshold; `None`: every liquidation is taken.
    pub profit: Option<ProfitRule>,
}

/// One step's state of the liquidators: capacity left and USD of collateral
/// sold per asset.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Debt they can still repay this step, USD.
    pub capacity_left: f64,
    /// Collateral sold this step per asset, USD at the step's prices.
    pub sold_usd: Vec<f64>,
    /// Liquidations not taken because they were unprofitable: the offers'
    /// indices ([`LiquidatorModel::select`]; the stress sim: obligations').
    pub unprofitable: Vec<usize>,
}

/// A liquidation on offer (the replay's candidates, in USD).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Offer {
    /// Maintenance health of the obligation (< 1).
    pub health: f64,
    /// Debt the liquidation would repay, USD.
    pub repay_usd: f64,
    /// Bonus, fraction of the repaid value (0.05: 5%).
    pub bonus: f64,
    /// The asset whose collateral is seized.
    pub asset: usize,
}

/// What [`LiquidatorModel::select`] decides for one offer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Take {
    /// Index of the offer.
    pub index: usize,
    /// Debt to repay, USD (the offer's, or less when the capacity ran out).
    pub repay_usd: f64,
}

impl LiquidatorModel {
    /// A fresh step: the whole capacity, nothing sold.
    pub fn step(&self) -> Step {
        Step {
            capacity_left: self.capacity_usd_per_step,
            sold_usd: vec![0.0; self.depth_usd.len()],
            unprofitable: vec![],
        }
    }

    /// Orders candidates `(health, index)` lowest health first, ties by
    /// index.
    pub fn order(cands: &mut [(f64, usize)]) {
        cands.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
    }

    /// The log price drop of asset `asset` after `sold_usd` of it was sold
    /// in a step: `k * sigma_day * sqrt(sold_usd / depth)` (0 when nothing
    /// was sold). `sigma_day`: the asset's daily volatility (fraction).
    pub fn impact(&self, asset: usize, sold_usd: f64, sigma_day: f64) -> f64 {
        if sold_usd > 0.0 {
            self.impact_k * sigma_day * (sold_usd / self.depth_usd[asset]).sqrt()
        } else {
            0.0
        }
    }

    /// What selling `seized_usd` more of `asset`, after `already_sold_usd`
    /// in the same step, costs the seller, USD: the sale at the price the
    /// whole step's sales leave, `seized * (1 - exp(-impact(already +
    /// seized)))` (an upper bound of the square-root law's average cost: the
    /// liquidator is charged the step's full drop).
    pub fn impact_cost_usd(
        &self,
        asset: usize,
        already_sold_usd: f64,
        seized_usd: f64,
        sigma_day: f64,
    ) -> f64 {
        let i = self.impact(asset, already_sold_usd + seized_usd, sigma_day);
        seized_usd * (1.0 - (-i).exp())
    }

    /// Whether a liquidator takes a liquidation repaying `repay_usd` at
    /// `bonus` (fraction) whose seized collateral is sold as `sales` (asset,
    /// USD) this step: always without a [`ProfitRule`]; else when `bonus *
    /// repay - fixed cost - impact cost >= min profit`.
    pub fn profitable(
        &self,
        step: &Step,
        repay_usd: f64,
        bonus: f64,
        sales: &[(usize, f64)],
        sigma_day: &[f64],
    ) -> bool {
        let Some(rule) = self.profit else {
            return true;
        };
        let impact: f64 = sales
            .iter()
            .map(|&(a, usd)| self.impact_cost_usd(a, step.sold_usd[a], usd, sigma_day[a]))
            .sum();
        repay_usd * bonus - rule.fixed_cost_usd - impact >= rule.min_profit_usd
    }

    /// The liquidations taken this step out of `offers`, lowest health
    /// first: an offer not [`profitable`](Self::profitable) at its full size
    /// is skipped and counted in [`Step::unprofitable`]; the others are cut
    /// to the capacity left and taken if the cut piece is still profitable
    /// (else left, uncounted); a taken offer uses up its repay
    /// and adds its seized collateral (`repay * (1 + bonus)`) to the step's
    /// sales. `sigma_day`: each asset's daily volatility.
    pub fn select(&self, step: &mut Step, offers: &[Offer], sigma_day: &[f64]) -> Vec<Take> {
        let mut order: Vec<(f64, usize)> = offers
            .iter()
            .enumerate()
            .map(|(i, o)| (o.health, i))
            .collect();
        Self::order(&mut order);
        let mut out = vec![];
        for (_, i) in order {
            if step.capacity_left <= 0.0 {
                break;
            }
            let o = offers[i];
            if o.repay_usd <= 0.0 {
                continue;
            }
            let full = o.repay_usd * (1.0 + o.bonus);
            if !self.profitable(step, o.repay_usd, o.bonus, &[(o.asset, full)], sigma_day) {
                step.unprofitable.push(i);
                continue;
            }
            // The end of the capacity: a piece too small to be worth its
            // fixed cost is left (not counted as unprofitable: the whole
            // liquidation is).
            let repay = o.repay_usd.min(step.capacity_left);
            let seized = repay * (1.0 + o.bonus);
            if repay < o.repay_usd
                && !self.profitable(step, repay, o.bonus, &[(o.asset, seized)], sigma_day)
            {
                continue;
            }
            step.capacity_left -= repay;
            step.sold_usd[o.asset] += seized;
            out.push(Take {
                index: i,
                repay_usd: repay,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(profit: Option<ProfitRule>) -> LiquidatorModel {
        LiquidatorModel {
            capacity_usd_per_step: 1_000.0,
            impact_k: 1.0,
            depth_usd: vec![1e6],
            profit,
        }
    }

    fn offer(health: f64, repay_usd: f64) -> Offer {
        Offer {
            health,
            repay_usd,
            bonus: 0.05,
            asset: 0,
        }
    }

    #[test]
    fn impact_is_the_square_root_law() {
        let m = model(None);
        // 10,000 sold against 1,000,000 of depth at 4% a day: 0.04 * 0.1.
        assert!((m.impact(0, 10_000.0, 0.04) - 0.004).abs() < 1e-15);
        // Four times the volume, twice the impact.
        assert!((m.impact(0, 40_000.0, 0.04) - 0.008).abs() < 1e-15);
        assert_eq!(m.impact(0, 0.0, 0.04), 0.0);
    }

    #[test]
    fn capacity_is_spent_lowest_health_first_and_cuts_the_last() {
        let m = model(None);
        let mut s = m.step();
        let offers = [offer(0.9, 600.0), offer(0.5, 700.0), offer(0.95, 50.0)];
        let t = m.select(&mut s, &offers, &[0.04]);
        // Health 0.5 first (700), then 0.9 cut to the 300 left; 0.95 gets
        // nothing.
        assert_eq!(
            t,
            vec![
                Take {
                    index: 1,
                    repay_usd: 700.0
                },
                Take {
                    index: 0,
                    repay_usd: 300.0
                }
            ]
        );
        assert_eq!(s.capacity_left, 0.0);
        assert!((s.sold_usd[0] - 1_050.0).abs() < 1e-9);
    }

    #[test]
    fn an_unprofitable_liquidation_is_skipped() {
        let rule = ProfitRule {
            fixed_cost_usd: 0.5,
            min_profit_usd: 1.0,
        };
        let m = model(Some(rule));
        let mut s = m.step();
        // $20 repaid earns $1 of bonus: less than $0.5 + $1. $100 earns $5.
        let t = m.select(&mut s, &[offer(0.5, 20.0), offer(0.9, 100.0)], &[0.04]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].index, 1);
        assert_eq!(s.unprofitable, vec![0]);
        assert_eq!(s.capacity_left, 900.0);
        // A profitable offer cut by the capacity to a piece below the
        // fixed cost is left, and is not counted as unprofitable.
        let mut s = LiquidatorModel {
            capacity_usd_per_step: 110.0,
            ..m.clone()
        }
        .step();
        let t = m.select(&mut s, &[offer(0.5, 100.0), offer(0.9, 100.0)], &[0.04]);
        assert_eq!((t.len(), s.unprofitable.len()), (1, 0));
        assert_eq!(s.capacity_left, 10.0);
        // Without the rule both are taken.
        let m = model(None);
        let mut s = m.step();
        assert_eq!(
            m.select(&mut s, &[offer(0.5, 20.0), offer(0.9, 100.0)], &[0.04])
                .len(),
            2
        );
    }

    #[test]
    fn the_impact_cost_can_make_a_large_sale_unprofitable() {
        let m = LiquidatorModel {
            capacity_usd_per_step: 1e9,
            depth_usd: vec![1e6],
            ..model(Some(ProfitRule {
                fixed_cost_usd: 0.0,
                min_profit_usd: 0.0,
            }))
        };
        let s = m.step();
        // Selling 1.05M into a 1M depth at 10% a day costs about 9.8% of
        // it: more than the 5% bonus.
        assert!(!m.profitable(&s, 1e6, 0.05, &[(0, 1.05e6)], &[0.1]));
        // A 1,050 sale costs about 0.3%: taken.
        assert!(m.profitable(&s, 1e3, 0.05, &[(0, 1.05e3)], &[0.1]));
    }
}
