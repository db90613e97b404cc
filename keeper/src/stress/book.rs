//! The book a stress run simulates: collateral assets with their risk
//! parameters and depth, and the obligations as struct-of-arrays (tokens of
//! each collateral, floating debt in USD, and a term loan's face, maturity
//! and penalty), built from a market definition and a seeded population
//! ([`Book::synthetic`], a `term_share` of it borrowing at term) or from
//! decoded chain state ([`Book::from_chain`]).

use anyhow::{anyhow, bail, Result};
use ballast::engine::fx::Fx;
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::position::PositionKind;
use ballast::engine::risk::{RiskConfig, RiskParams, RiskPolicy};
use ballast::state::{Obligation, Reserve};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use solana_address::Address as Pubkey;

use crate::market::{MarketDef, PolicyChoice};
use crate::replay::{
    MAX_BORROW_SHARE, MAX_COLLATERAL_USD, MIN_BORROW_SHARE, MIN_COLLATERAL_USD, TARGET_UTILIZATION,
};

/// One collateral asset of the book.
#[derive(Clone, Debug, PartialEq)]
pub struct Asset {
    /// Symbol (or the reserve's address for a book read from chain).
    pub symbol: String,
    /// Price at the start, USD per whole token.
    pub price: f64,
    /// The static policy's LTV / liquidation threshold, bps.
    pub static_params: RiskParams,
    /// The dynamic policy's configuration, if the reserve has one.
    pub dynamic: Option<RiskConfig>,
    /// Daily depth of the square-root impact, USD.
    pub depth_usd: f64,
}

/// The book: assets and obligations (struct of arrays).
#[derive(Clone, Debug, PartialEq)]
pub struct Book {
    /// Collateral assets.
    pub assets: Vec<Asset>,
    /// `collateral[a][i]`: whole tokens of asset `a` obligation `i` holds.
    pub collateral: Vec<Vec<f64>>,
    /// Floating debt of each obligation, USD (the debt asset's price is
    /// constant).
    pub debt: Vec<f64>,
    /// Face of each obligation's term loan, USD owed at maturity (0: none).
    /// Health values it at its face until maturity, then at the face grown
    /// by the penalty (`ballast::engine::term::owed`); see
    /// [`crate::stress::sim`] for its conversion.
    pub term_face: Vec<f64>,
    /// Maturity of each term loan, seconds from the book's start (a path's
    /// time 0; negative: already past maturity).
    pub term_maturity_secs: Vec<i64>,
    /// Penalty APR of each term loan past its maturity, bps (fixed at its
    /// opening).
    pub term_penalty_bps: Vec<u16>,
    /// The market's liquidation parameters.
    pub liquidation: LiquidationConfig,
    /// Deposits of the debt reserve, USD.
    pub debt_deposits_usd: f64,
    /// Stressed outflow per window of the debt reserve, bps of deposits.
    pub stress_outflow_bps: u16,
}

/// The first parameters of a dynamic reserve: those derived from `sigma`
/// (annualised) by the program's curves, as if the keeper had been pushing
/// this volatility for long enough to converge.
pub fn converged_params(cfg: &RiskConfig, sigma: f64) -> Result<RiskParams> {
    let sh = cfg.sqrt_horizon().map_err(|e| anyhow!("{e}"))?;
    let s = Fx::from_num(sigma.clamp(cfg.sigma_min.get().to_num(), cfg.sigma_max.get().to_num()));
    cfg.derive(s, sh).map_err(|e| anyhow!("{e}"))
}

impl Book {
    /// Number of obligations.
    pub fn len(&self) -> usize {
        self.debt.len()
    }

    /// Whether the book has no obligation.
    pub fn is_empty(&self) -> bool {
        self.debt.is_empty()
    }

    /// Obligation `i`'s debt at the book's start, USD: floating debt plus
    /// its term loan at what it owes then (the face, or more past maturity).
    pub fn debt_at_start(&self, i: usize) -> f64 {
        self.debt[i]
            + super::sim::term_owed(
                self.term_face[i],
                self.term_maturity_secs[i],
                self.term_penalty_bps[i],
                0,
            )
    }

    /// The book's debt at its start, USD ([`Book::debt_at_start`] summed).
    pub fn total_debt_at_start(&self) -> f64 {
        (0..self.len()).map(|i| self.debt_at_start(i)).sum()
    }

    /// Face of the term loans, USD.
    pub fn term_face_usd(&self) -> f64 {
        self.term_face.iter().sum()
    }

    /// Moves a `share` (in [0, 1]) of the obligations' floating debt to
    /// term loans of `cfg` (the debt reserve's term configuration): each
    /// obligation borrows at term with probability `share`, for a face
    /// equal to its floating debt (so its health at the start is the
    /// same), at a tenor drawn uniformly from `cfg`'s, opened at a time
    /// drawn uniformly within one tenor before the book's start, so that
    /// its maturity is the program's [`maturity_for`] of that opening
    /// (the first grid point at or after it plus the tenor; the book's
    /// start sits at a phase drawn uniformly in one grid period), with
    /// `cfg`'s penalty. The draws come
    /// from ChaCha8 seeded with `seed` on stream 1, so the obligations and
    /// their amounts are those of the floating-only book (stream 0).
    /// Errors: `share` outside [0, 1], term loans disabled in `cfg` when
    /// `share > 0`.
    ///
    /// [`maturity_for`]: ballast::engine::term::maturity_for
    pub fn with_term_share(
        mut self,
        share: f64,
        cfg: &ballast::engine::term::TermConfig,
        seed: u64,
    ) -> Result<Self> {
        if !(0.0..=1.0).contains(&share) {
            bail!("term share {share} must be in [0, 1]");
        }
        if share == 0.0 {
            return Ok(self);
        }
        if !cfg.enabled() {
            bail!("a term share needs the debt reserve's [reserves.term] section");
        }
        let tenors: Vec<u32> = cfg.tenors_secs.iter().copied().filter(|t| *t > 0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(1);
        // Where the book's start falls between two grid points (its phase
        // on the calendar): maturities are grid points, so the shortest
        // tenor's loans mature `grid - phase` into a path.
        let grid = cfg.grid_secs.max(1) as i64;
        let phase = ((rng.gen::<f64>() * grid as f64) as i64).min(grid - 1);
        for i in 0..self.len() {
            let (u, k, age) = (rng.gen::<f64>(), rng.gen::<f64>(), rng.gen::<f64>());
            if u >= share || self.debt[i] <= 0.0 {
                continue;
            }
            let tenor = tenors[((k * tenors.len() as f64) as usize).min(tenors.len() - 1)];
            let open = -((age * tenor as f64).floor() as i64);
            let maturity = ballast::engine::term::maturity_for(open + phase, tenor, cfg.grid_secs)
                .map_err(|e| anyhow!("{e}"))?
                - phase;
            self.term_face[i] = self.debt[i];
            self.term_maturity_secs[i] = maturity;
            self.term_penalty_bps[i] = cfg.penalty_spread_bps;
            self.debt[i] = 0.0;
        }
        Ok(self)
    }

    /// Obligation `i`'s collateral value at `prices`, USD.
    pub fn collateral_value(&self, i: usize, prices: &[f64]) -> f64 {
        (0..self.assets.len())
            .map(|a| self.collateral[a][i] * prices[a])
            .sum()
    }

    /// The synthetic book of `def`'s `[stress]` section at `prices` (USD per
    /// token, in the section's asset order) with `sigmas` (annualised, for
    /// the dynamic policy's LTV at the start): `borrowers` obligations drawn
    /// from `seed` (ChaCha8) as the replay draws its population (collateral
    /// log-uniform in [$1k, $100k], borrowing a share uniform in [0.30,
    /// 0.95] of its borrowing power), a `single_collateral_share` of them
    /// holding one asset (picked by weight), the others splitting their
    /// collateral over every asset with uniform random weights. Borrowing
    /// power uses each asset's lower LTV of the two policies at the start,
    /// so the same book is admissible under both. The debt reserve's
    /// deposits are the debt over the replay's 75% utilisation. A
    /// `term_share` of the obligations then borrows at term instead
    /// ([`Book::with_term_share`], the debt reserve's `[reserves.term]`).
    pub fn synthetic(
        def: &MarketDef,
        prices: &[f64],
        sigmas: &[f64],
        borrowers: Option<usize>,
    ) -> Result<Self> {
        let st = def
            .stress
            .as_ref()
            .ok_or_else(|| anyhow!("the market definition has no [stress] section"))?;
        let n = borrowers.unwrap_or(st.borrowers);
        let mut assets = Vec::new();
        for (k, a) in st.assets.iter().enumerate() {
            let r = def
                .reserve(&a.symbol)
                .ok_or_else(|| anyhow!("[stress] asset {} is no reserve", a.symbol))?;
            let c = r.config([0; 32], PolicyChoice::Dynamic)?;
            let dynamic = (c.risk.policy() == RiskPolicy::Dynamic).then_some(c.risk);
            assets.push(Asset {
                symbol: a.symbol.clone(),
                price: prices[k],
                static_params: RiskParams {
                    ltv_bps: r.risk.ltv_bps,
                    liquidation_threshold_bps: r.risk.liquidation_threshold_bps,
                    borrow_factor_bps: 10_000,
                },
                dynamic,
                depth_usd: a.depth_usd,
            });
        }
        let mut ltv = Vec::new();
        for (k, a) in assets.iter().enumerate() {
            let mut l = a.static_params.ltv_bps;
            if let Some(cfg) = &a.dynamic {
                l = l.min(converged_params(cfg, sigmas[k])?.ltv_bps);
            }
            ltv.push(l as f64 / 1e4);
        }
        let weights: Vec<f64> = st.assets.iter().map(|a| a.weight).collect();
        let wsum: f64 = weights.iter().sum();
        let m = assets.len();
        let mut rng = ChaCha8Rng::seed_from_u64(st.seed);
        let (lo, hi) = (MIN_COLLATERAL_USD.ln(), MAX_COLLATERAL_USD.ln());
        let mut collateral = vec![vec![0.0; n]; m];
        let mut debt = vec![0.0; n];
        for i in 0..n {
            let usd = rng.gen_range(lo..hi).exp();
            let share = rng.gen_range(MIN_BORROW_SHARE..MAX_BORROW_SHARE);
            let single = rng.gen::<f64>() < st.single_collateral_share;
            let mut split = vec![0.0; m];
            if single || m == 1 {
                let mut u = rng.gen::<f64>() * wsum;
                let mut pick = m - 1;
                for (k, w) in weights.iter().enumerate() {
                    if u < *w {
                        pick = k;
                        break;
                    }
                    u -= w;
                }
                split[pick] = 1.0;
            } else {
                for (k, s) in split.iter_mut().enumerate() {
                    *s = weights[k] * rng.gen::<f64>();
                }
                let t: f64 = split.iter().sum();
                split.iter_mut().for_each(|s| *s /= t);
            }
            let mut power = 0.0;
            for k in 0..m {
                collateral[k][i] = usd * split[k] / prices[k];
                power += usd * split[k] * ltv[k];
            }
            debt[i] = power * share;
        }
        let total: f64 = debt.iter().sum();
        let debt_reserve = def.reserve(&st.debt).expect("validated");
        Self {
            assets,
            collateral,
            term_face: vec![0.0; n],
            term_maturity_secs: vec![0; n],
            term_penalty_bps: vec![0; n],
            debt,
            liquidation: def.liquidation_config(),
            debt_deposits_usd: total / TARGET_UTILIZATION,
            stress_outflow_bps: debt_reserve.liquidity.stress_outflow_bps,
        }
        .with_term_share(st.term_share, &debt_reserve.term_config()?, st.seed)
    }

    /// The book of decoded chain state, over the obligations that owe
    /// something, floating or term (the others cannot leave bad debt): a
    /// term loan keeps its face, penalty and maturity (taken relative to
    /// the book's start, the latest `last_update_ts` of the reserves given),
    /// in USD at its reserve's price; every reserve one holds
    /// as collateral becomes an asset (named by the reserve's address; a
    /// reserve without a price in `prices` is an error), every debt is
    /// valued at its reserve's price in `prices` and then held constant (the
    /// model moves collateral prices only: debt in a volatile asset is
    /// treated as if it were a stablecoin). Tokens and debt come from the
    /// program's own share conversions at the reserves' `last_update_ts`
    /// (collateral rounded down, debt up). `depth_usd` gives each collateral
    /// reserve's depth (default `default_depth_usd`). The debt deposits are
    /// the supply of the reserves borrowed, in USD; the stressed outflow the
    /// largest of theirs.
    pub fn from_chain(
        reserves: &[(Pubkey, Reserve)],
        obligations: &[(Pubkey, Obligation)],
        prices: &[(Pubkey, f64)],
        liquidation: LiquidationConfig,
        default_depth_usd: f64,
    ) -> Result<Self> {
        let price = |k: &Pubkey| {
            prices
                .iter()
                .find(|(p, _)| p == k)
                .map(|(_, v)| *v)
                .ok_or_else(|| anyhow!("no price for reserve {k}"))
        };
        let reserve = |k: &Pubkey| {
            reserves
                .iter()
                .find(|(p, _)| p == k)
                .map(|(_, r)| r)
                .ok_or_else(|| anyhow!("an obligation uses reserve {k}, which is not given"))
        };
        // Only borrowers: an obligation that owes nothing cannot leave bad
        // debt, and its deposits are in the reserves' supply already (a
        // supplier's USDC "collateral" would otherwise become a price-model
        // asset that the model does not have).
        let obligations: Vec<&(Pubkey, Obligation)> =
            obligations.iter().filter(|(_, o)| o.has_debt()).collect();
        let mut keys: Vec<Pubkey> = Vec::new();
        let mut debt_keys: Vec<Pubkey> = Vec::new();
        for (_, o) in &obligations {
            for p in o.positions.iter() {
                let list = match p.kind() {
                    PositionKind::Collateral if p.deposit_shares > 0 => &mut keys,
                    PositionKind::Debt | PositionKind::TermDebt => &mut debt_keys,
                    _ => continue,
                };
                if !list.contains(&p.reserve) {
                    list.push(p.reserve);
                }
            }
        }
        keys.sort();
        let mut assets = Vec::new();
        for k in &keys {
            let r = reserve(k)?;
            let dynamic = (r.config.risk.policy() == RiskPolicy::Dynamic).then_some(r.config.risk);
            assets.push(Asset {
                symbol: k.to_string(),
                price: price(k)?,
                static_params: r.risk_params_static(),
                dynamic,
                depth_usd: default_depth_usd,
            });
        }
        let n = obligations.len();
        let mut collateral = vec![vec![0.0; n]; keys.len()];
        let mut debt = vec![0.0; n];
        let (mut term_face, mut term_maturity_secs, mut term_penalty_bps) =
            (vec![0.0; n], vec![0i64; n], vec![0u16; n]);
        let start = reserves
            .iter()
            .map(|(_, r)| r.last_update_ts)
            .max()
            .unwrap_or(0);
        for (i, (_, o)) in obligations.iter().enumerate() {
            for p in o.positions.iter() {
                let r = match p.kind() {
                    PositionKind::Collateral | PositionKind::Debt | PositionKind::TermDebt => {
                        reserve(&p.reserve)?
                    }
                    PositionKind::Empty => continue,
                };
                let view = r.view(r.last_update_ts).map_err(|e| anyhow!("{e}"))?;
                let scale = 10f64.powi(r.mint_decimals as i32);
                match p.kind() {
                    PositionKind::Collateral => {
                        let a = keys.iter().position(|k| *k == p.reserve).expect("listed");
                        let t = view
                            .collateral_tokens(p.deposit_shares)
                            .map_err(|e| anyhow!("{e}"))?;
                        collateral[a][i] += t.to_num::<f64>() / scale;
                    }
                    PositionKind::Debt => {
                        let t = view
                            .debt_tokens(p.borrow_shares.get())
                            .map_err(|e| anyhow!("{e}"))?;
                        debt[i] += t.to_num::<f64>() / scale * price(&p.reserve)?;
                    }
                    PositionKind::TermDebt => {
                        // One term position per reserve; the model keeps
                        // one per obligation (the first; a second adds its
                        // face to it at the earlier maturity).
                        let face = p.term_face() as f64 / scale * price(&p.reserve)?;
                        let maturity = p.term_maturity() - start;
                        if term_face[i] == 0.0 {
                            term_maturity_secs[i] = maturity;
                            term_penalty_bps[i] = p.term_penalty_bps();
                        } else {
                            term_maturity_secs[i] = term_maturity_secs[i].min(maturity);
                            term_penalty_bps[i] = term_penalty_bps[i].max(p.term_penalty_bps());
                        }
                        term_face[i] += face;
                    }
                    PositionKind::Empty => {}
                }
            }
        }
        let mut deposits = 0.0;
        let mut outflow = 0;
        for k in &debt_keys {
            let r = reserve(k)?;
            let s = r.supply().map_err(|e| anyhow!("{e}"))?;
            deposits += s.to_num::<f64>() / 10f64.powi(r.mint_decimals as i32) * price(k)?;
            outflow = outflow.max(r.config.liquidity.stress_outflow_bps);
        }
        if assets.is_empty() {
            bail!("no obligation that owes anything holds collateral: nothing to stress");
        }
        Ok(Self {
            assets,
            collateral,
            debt,
            term_face,
            term_maturity_secs,
            term_penalty_bps,
            liquidation,
            debt_deposits_usd: deposits,
            stress_outflow_bps: outflow,
        })
    }

    /// The book of a market snapshot's obligations, its assets in the
    /// order of a price model's `symbols` ([`Book::aligned`]). Each
    /// collateral reserve follows the model asset named by an `assets`
    /// entry `SYMBOL=RESERVE_ADDRESS`, or else the one whose reserve in
    /// `def` has the same oracle feed id; prices are the snapshot's oracle
    /// spot prices (a reserve whose oracle fails the program's checks has
    /// none: an error if an obligation uses it); each asset's depth is the
    /// `[stress]` section's for its symbol. Errors: a malformed `assets`
    /// entry, those of [`Book::from_chain`] and [`Book::aligned`].
    pub fn from_snapshot(
        snap: &crate::snapshot::Snapshot,
        def: &MarketDef,
        st: &crate::market::StressSection,
        symbols: &[String],
        s0: &[f64],
        assets: &[String],
    ) -> Result<Self> {
        let ms = snap.market_snapshot();
        let (_, market, reserves, obligations, _, _) = snap.to_chain_state();
        let prices: Vec<_> = reserves
            .iter()
            .filter_map(|(k, _)| match ms.price(k) {
                Some(Ok(p)) => Some((*k, p.price as f64 * 10f64.powi(p.exponent))),
                _ => None,
            })
            .collect();
        let default_depth = st
            .assets
            .iter()
            .map(|a| a.depth_usd)
            .fold(f64::INFINITY, f64::min);
        let chain = Self::from_chain(
            &reserves,
            &obligations,
            &prices,
            market.liquidation,
            default_depth,
        )?;
        let mut mapping = Vec::new();
        for a in assets {
            let (sym, key) = a
                .split_once('=')
                .ok_or_else(|| anyhow!("--asset {a}: expected SYMBOL=RESERVE_ADDRESS"))?;
            mapping.push((key.trim().to_string(), sym.trim().to_string()));
        }
        for (k, r) in &reserves {
            if mapping.iter().any(|(b, _)| *b == k.to_string()) {
                continue;
            }
            for d in &def.reserves {
                if d.feed_id_bytes()? == Some(r.config.oracle_feed_id) {
                    mapping.push((k.to_string(), d.symbol.clone()));
                }
            }
        }
        let fallback = chain.assets[0].clone();
        let mut book = chain.aligned(symbols, s0, &mapping, &fallback)?;
        for (a, asset) in book.assets.iter_mut().enumerate() {
            if let Some(d) = st.assets.iter().find(|d| d.symbol == symbols[a]) {
                asset.depth_usd = d.depth_usd;
            }
        }
        Ok(book)
    }

    /// This book with its assets in the order of a price model's
    /// `symbols`: `mapping` names the model symbol of each of this book's
    /// assets (by its `symbol`, for a book read from chain the reserve's
    /// address). A model asset no obligation holds gets no collateral (its
    /// price still moves); its start price is `model_s0` and its risk
    /// parameters `fallback`'s. Errors name a book asset with no symbol in
    /// `mapping`, a symbol the model does not have, and two assets mapped to
    /// one symbol.
    pub fn aligned(
        &self,
        symbols: &[String],
        model_s0: &[f64],
        mapping: &[(String, String)],
        fallback: &Asset,
    ) -> Result<Self> {
        let n = self.len();
        let mut assets = Vec::with_capacity(symbols.len());
        let mut collateral = Vec::with_capacity(symbols.len());
        let mut used = vec![false; self.assets.len()];
        for (m, sym) in symbols.iter().enumerate() {
            let mine: Vec<usize> = self
                .assets
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    mapping
                        .iter()
                        .any(|(book, model)| *book == a.symbol && model == sym)
                })
                .map(|(i, _)| i)
                .collect();
            match mine.as_slice() {
                [] => {
                    let mut a = fallback.clone();
                    a.symbol = sym.clone();
                    a.price = model_s0[m];
                    assets.push(a);
                    collateral.push(vec![0.0; n]);
                }
                [i] => {
                    used[*i] = true;
                    let mut a = self.assets[*i].clone();
                    a.symbol = sym.clone();
                    assets.push(a);
                    collateral.push(self.collateral[*i].clone());
                }
                many => bail!(
                    "assets {} are all mapped to {sym}",
                    many.iter()
                        .map(|&i| self.assets[i].symbol.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        }
        if let Some(i) = used.iter().position(|u| !u) {
            let a = &self.assets[i].symbol;
            match mapping.iter().find(|(book, _)| book == a) {
                Some((_, sym)) => bail!(
                    "asset {a} is mapped to {sym}, which the price model does not have (it has {})",
                    symbols.join(", ")
                ),
                None => bail!(
                    "collateral reserve {a} has no price model asset: map it with --asset SYMBOL={a}"
                ),
            }
        }
        Ok(Self {
            assets,
            collateral,
            ..self.clone()
        })
    }
}
