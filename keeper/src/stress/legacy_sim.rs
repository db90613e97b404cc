//! The stress engine's path simulation as it was before the liquidator
//! model moved to [`crate::liquidators`] (commit 6fc887b's `sim.rs`, its
//! `State` and `simulate` verbatim): the reference the shared model's
//! results are checked against, bit for bit (`tests.rs`,
//! `the_shared_liquidator_model_changes_no_result`).

use ballast::engine::fx::Fx;
use ballast::engine::risk::RiskParams;

use super::book::{converged_params, Book};
use super::prices::{PathPrices, PriceModel, SECONDS_PER_YEAR};
use super::sim::{bounded_step, PathOutcome, Policy, SimConfig, KEEPER_LAMBDA};

struct State<'a> {
    book: &'a Book,
    bucket: &'a [u8],
    s: Vec<f64>,
    lt: Vec<f64>,
    q: Vec<Vec<f64>>,
    d: Vec<f64>,
    sold: Vec<f64>,
    cap: f64,
    out: PathOutcome,
}

impl State<'_> {
    fn write_off(&mut self, i: usize, amount: f64) {
        if amount <= 0.0 {
            return;
        }
        self.out.bad_debt += amount;
        self.out.bad_debt_by_bucket[self.bucket[i] as usize] += amount;
        let b = self.book;
        let v0 = b.collateral_value(i, &b.assets.iter().map(|a| a.price).collect::<Vec<_>>());
        for a in 0..b.assets.len() {
            let share = if v0 > 0.0 {
                b.collateral[a][i] * b.assets[a].price / v0
            } else {
                1.0 / b.assets.len() as f64
            };
            self.out.bad_debt_by_asset[a] += amount * share;
        }
    }

    /// Liquidates obligation `i` (module doc, step 4) within the capacity.
    fn liquidate(&mut self, i: usize) {
        let n = self.s.len();
        let liq = self.book.liquidation;
        for _ in 0..=n {
            let d = self.d[i];
            if d <= 0.0 || self.cap <= 0.0 {
                return;
            }
            let mut v = 0.0;
            let mut w = 0.0;
            for a in 0..n {
                let c = self.q[a][i] * self.s[a];
                v += c;
                w += c * self.lt[a];
            }
            if w >= d {
                return;
            }
            let h = w / d;
            let hfx = Fx::from_num(h);
            if v <= d {
                // Insolvent: closed out at the uncapped bonus.
                let b = liq
                    .bonus_bps(hfx, false, 0, 10_000)
                    .unwrap_or(liq.bonus_max_bps) as f64
                    / 1e4;
                let full = v / (1.0 + b);
                let repay = full.min(self.cap);
                let f = if full > 0.0 { repay / full } else { 1.0 };
                for a in 0..n {
                    self.sold[a] += f * self.q[a][i] * self.s[a];
                    self.q[a][i] *= 1.0 - f;
                }
                self.d[i] -= repay;
                self.cap -= repay;
                self.out.liquidated_debt += repay;
                self.out.bonus_paid += repay * b;
                if f >= 1.0 {
                    for a in 0..n {
                        self.q[a][i] = 0.0;
                    }
                    let rest = self.d[i];
                    self.d[i] = 0.0;
                    self.write_off(i, rest);
                }
                return;
            }
            // Solvent: the largest collateral whose bonus improves health.
            let mut pick: Option<(usize, f64)> = None;
            for a in 0..n {
                let c = self.q[a][i] * self.s[a];
                if c <= 0.0 || pick.is_some_and(|(_, pc)| pc >= c) {
                    continue;
                }
                let lt_bps = (self.lt[a] * 1e4).round() as u16;
                if let Ok(bps) = liq.bonus_bps(hfx, true, lt_bps, 10_000) {
                    pick = Some((a, c));
                    let _ = bps;
                }
            }
            let Some((a, c)) = pick else { return };
            let lt_bps = (self.lt[a] * 1e4).round() as u16;
            let b = liq.bonus_bps(hfx, true, lt_bps, 10_000).unwrap_or(0) as f64 / 1e4;
            let dmu = Fx::from_num(d * 1e6);
            let max = liq
                .max_repay(dmu, dmu, hfx)
                .map(|x| x.to_num::<f64>() / 1e6)
                .unwrap_or(d);
            let denom = 1.0 - (1.0 + b) * self.lt[a];
            let restore = if denom > 0.0 { (d - w) / denom } else { d };
            let mut repay = max.max(restore).min(d);
            if repay * (1.0 + b) > c {
                repay = c / (1.0 + b);
            }
            repay = repay.min(self.cap);
            if repay <= 0.0 {
                return;
            }
            let seized = repay * (1.0 + b);
            self.q[a][i] = (self.q[a][i] - seized / self.s[a]).max(0.0);
            self.sold[a] += seized;
            self.d[i] -= repay;
            self.cap -= repay;
            self.out.liquidated_debt += repay;
            self.out.bonus_paid += repay * b;
        }
    }
}

pub(super) fn simulate(
    book: &Book,
    bucket: &[u8],
    model: &PriceModel,
    cfg: &SimConfig,
    policy: Policy,
    mut draw: impl FnMut(&mut PathPrices),
) -> PathOutcome {
    let n = book.assets.len();
    let m = book.len();
    assert_eq!(model.n(), n, "the model's assets are the book's");
    let mut pp = PathPrices::new(model, cfg.step_secs, cfg.shocks, cfg.corr_stress);
    let year_steps = SECONDS_PER_YEAR / cfg.step_secs as f64;
    let day_steps = 86_400.0 / cfg.step_secs as f64;
    let mut params: Vec<RiskParams> = Vec::with_capacity(n);
    let mut keeper_var = Vec::with_capacity(n);
    for (a, asset) in book.assets.iter().enumerate() {
        let sigma = model.sigma_annual(a);
        keeper_var.push(sigma * sigma);
        params.push(match (policy, &asset.dynamic) {
            (Policy::Dynamic, Some(c)) => converged_params(c, sigma).unwrap_or(asset.static_params),
            _ => asset.static_params,
        });
    }
    let mut st = State {
        book,
        bucket,
        s: book.assets.iter().map(|a| a.price).collect(),
        lt: params
            .iter()
            .map(|p| p.liquidation_threshold_bps as f64 / 1e4)
            .collect(),
        q: book.collateral.clone(),
        d: book.debt.clone(),
        sold: vec![0.0; n],
        cap: 0.0,
        out: PathOutcome {
            bad_debt: 0.0,
            liquidated_debt: 0.0,
            term_converted_face: 0.0,
            term_converted_debt: 0.0,
            bonus_paid: 0.0,
            bad_debt_by_asset: vec![0.0; n],
            bad_debt_by_bucket: [0.0; 5],
            terminal_prices: Vec::new(),
            peak_debt_at_risk: 0.0,
            terminal_debt: 0.0,
            terminal_borrowing_power: 0.0,
            liquidity_coverage: None,
            price_path: Vec::new(),
            debt_at_risk_path: Vec::new(),
        },
    };
    if cfg.record {
        st.out.price_path.extend(st.s.iter().map(|&x| x as f32));
    }
    let mut w = vec![0.0; m];
    let mut cand: Vec<(f64, usize)> = Vec::new();
    for _ in 0..cfg.steps {
        draw(&mut pp);
        for a in 0..n {
            let impact = if st.sold[a] > 0.0 {
                cfg.impact_k
                    * (pp.var_step(a) * day_steps).sqrt()
                    * (st.sold[a] / book.assets[a].depth_usd).sqrt()
            } else {
                0.0
            };
            let ret = pp.r[a] - impact;
            st.s[a] *= ret.exp();
            st.sold[a] = 0.0;
            keeper_var[a] =
                KEEPER_LAMBDA * keeper_var[a] + (1.0 - KEEPER_LAMBDA) * ret * ret * year_steps;
            if policy == Policy::Dynamic {
                if let Some(c) = &book.assets[a].dynamic {
                    if let Ok(target) = converged_params(c, keeper_var[a].sqrt()) {
                        params[a] = bounded_step(c, params[a], target);
                        st.lt[a] = params[a].liquidation_threshold_bps as f64 / 1e4;
                    }
                }
            }
        }
        // Scan (struct of arrays: one pass per asset, then the compare).
        w.iter_mut().for_each(|x| *x = 0.0);
        for a in 0..n {
            let c = st.s[a] * st.lt[a];
            for (wi, qi) in w.iter_mut().zip(&st.q[a]) {
                *wi += qi * c;
            }
        }
        cand.clear();
        for (i, (wi, di)) in w.iter().zip(&st.d).enumerate() {
            if *wi < *di {
                cand.push((wi / di, i));
            }
        }
        cand.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
        st.cap = cfg.capacity_usd_per_step;
        for &(_, i) in &cand {
            if st.cap <= 0.0 {
                break;
            }
            st.liquidate(i);
        }
        let mut at_risk = 0.0;
        for &(_, i) in &cand {
            let wi: f64 = (0..n).map(|a| st.q[a][i] * st.s[a] * st.lt[a]).sum();
            if wi < st.d[i] {
                at_risk += st.d[i];
            }
        }
        st.out.peak_debt_at_risk = st.out.peak_debt_at_risk.max(at_risk);
        if cfg.record {
            st.out.price_path.extend(st.s.iter().map(|&x| x as f32));
            st.out.debt_at_risk_path.push(at_risk as f32);
        }
    }
    // The horizon: insolvent debt left is bad debt.
    let mut power = 0.0;
    for i in 0..m {
        let mut v = 0.0;
        for (a, p) in params.iter().enumerate() {
            let c = st.q[a][i] * st.s[a];
            v += c;
            power += c * p.ltv_bps as f64 / 1e4;
        }
        if st.d[i] > v {
            let short = st.d[i] - v;
            st.write_off(i, short);
        }
    }
    let debt0: f64 = book.debt.iter().sum();
    st.out.terminal_debt = st.d.iter().sum();
    st.out.terminal_borrowing_power = power;
    st.out.terminal_prices = st.s.clone();
    st.out.liquidity_coverage = (book.stress_outflow_bps > 0).then(|| {
        let liquid = book.debt_deposits_usd - debt0 + st.out.liquidated_debt;
        let deposits = (book.debt_deposits_usd - st.out.bad_debt).max(0.0);
        liquid / (deposits * book.stress_outflow_bps as f64 / 1e4)
    });
    st.out
}
