//! Whether a definition is whole and consistent: addresses and references
//! parse, symbols are unique, the `[replay]` section names reserves, every
//! value is within the program's [`super::bounds`], and the program's own
//! `validate` accepts the configurations built from it. Errors name the
//! reserve and the field.

use std::collections::HashSet;
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use solana_address::Address;

use super::bounds::{
    dynamic_bounds, liquidation_bounds, liquidity_bounds, reserve_bounds, term_bounds,
};
use super::schema::{AccountRef, MarketDef, PolicyChoice, PolicyName, ReserveDef};

impl MarketDef {
    /// Checks every range a chain would refuse, naming the reserve and field,
    /// then builds each reserve's `ReserveConfig` under both policies and
    /// runs the program's own `ReserveConfig::validate` on it.
    pub fn validate(&self) -> Result<()> {
        let m = &self.market;
        if let Some(a) = &m.address {
            Address::from_str(a).map_err(|e| anyhow!("market.address \"{a}\": {e}"))?;
        }
        if let Some(a) = &m.risk_authority {
            Address::from_str(a).map_err(|e| anyhow!("market.risk_authority \"{a}\": {e}"))?;
        }
        liquidation_bounds(&m.liquidation)?;
        self.liquidation_config()
            .validate()
            .map_err(|e| anyhow!("market.liquidation refused by the program: {e}"))?;

        if self.reserves.is_empty() {
            bail!("the market has no [[reserves]]");
        }
        let mut seen = HashSet::new();
        for (i, r) in self.reserves.iter().enumerate() {
            let at = format!("reserves[{i}] ({})", r.symbol);
            if !seen.insert(r.symbol.as_str()) {
                bail!("{at}: symbol `{}` appears twice", r.symbol);
            }
            r.validate().with_context(|| at.clone())?;
        }
        if let Some(rp) = &self.replay {
            for (what, sym) in [("collateral", &rp.collateral), ("debt", &rp.debt)] {
                if self.reserve(sym).is_none() {
                    bail!("replay.{what} = \"{sym}\" names no reserve of the file");
                }
            }
            if rp.collateral == rp.debt {
                bail!("replay.collateral and replay.debt must differ");
            }
            if !(rp.debt_price_usd.is_finite() && rp.debt_price_usd > 0.0) {
                bail!(
                    "replay.debt_price_usd {} must be positive",
                    rp.debt_price_usd
                );
            }
            if let Some(d) = rp.depth_usd.filter(|d| !(d.is_finite() && *d > 0.0)) {
                bail!("replay.depth_usd {d} must be positive");
            }
            if let Some(k) = rp.impact_k.filter(|k| !(k.is_finite() && *k >= 0.0)) {
                bail!("replay.impact_k {k} must be >= 0");
            }
        }
        if let Some(st) = &self.stress {
            self.validate_stress(st).context("[stress]")?;
        }
        Ok(())
    }

    fn validate_stress(&self, st: &super::schema::StressSection) -> Result<()> {
        if self.reserve(&st.debt).is_none() {
            bail!("debt = \"{}\" names no reserve of the file", st.debt);
        }
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(st.debt_price_usd) {
            bail!("debt_price_usd {} must be positive", st.debt_price_usd);
        }
        if st.borrowers == 0 {
            bail!("borrowers must be at least 1");
        }
        if !(0.0..=1.0).contains(&st.single_collateral_share) {
            bail!(
                "single_collateral_share {} must be in [0, 1]",
                st.single_collateral_share
            );
        }
        if !(0.0..=1.0).contains(&st.term_share) {
            bail!("term_share {} must be in [0, 1]", st.term_share);
        }
        if st.term_share > 0.0 {
            let term = self.reserve(&st.debt).and_then(|r| r.term.as_ref());
            if term.is_none() {
                bail!(
                    "term_share {} needs a [reserves.term] section in the debt reserve {}",
                    st.term_share,
                    st.debt
                );
            }
        }
        if !(st.liquidator_capacity_usd_per_hour.is_finite()
            && st.liquidator_capacity_usd_per_hour >= 0.0)
        {
            bail!(
                "liquidator_capacity_usd_per_hour {} must be >= 0",
                st.liquidator_capacity_usd_per_hour
            );
        }
        if !(st.impact_k.is_finite() && st.impact_k >= 0.0) {
            bail!("impact_k {} must be >= 0", st.impact_k);
        }
        if st.estimation_period_secs < 60 {
            bail!(
                "estimation_period_secs {} must be at least 60",
                st.estimation_period_secs
            );
        }
        if st.assets.is_empty() {
            bail!("no [[stress.assets]]");
        }
        let mut seen = HashSet::new();
        for (i, a) in st.assets.iter().enumerate() {
            let at = format!("assets[{i}] ({})", a.symbol);
            if !seen.insert(a.symbol.as_str()) {
                bail!("{at}: symbol appears twice");
            }
            if a.symbol == st.debt {
                bail!("{at}: the debt asset cannot be stressed collateral");
            }
            if self.reserve(&a.symbol).is_none() {
                bail!("{at}: names no reserve of the file");
            }
            if !pos(a.depth_usd) {
                bail!("{at}: depth_usd {} must be positive", a.depth_usd);
            }
            if !pos(a.weight) {
                bail!("{at}: weight {} must be positive", a.weight);
            }
        }
        Ok(())
    }
}

impl ReserveDef {
    fn validate(&self) -> Result<()> {
        self.mint_ref()?;
        let oracle = self.oracle_ref()?;
        self.token_program_id()?;
        let feed = self.feed_id_bytes()?;
        if oracle != AccountRef::Create && feed.is_none() {
            bail!("an existing oracle needs its feed_id");
        }
        if oracle == AccountRef::Create {
            match self.initial_price_usd {
                Some(p) if p.is_finite() && p > 0.0 => {}
                Some(p) => bail!("initial_price_usd {p} must be positive"),
                None => bail!("oracle = \"create\" needs initial_price_usd"),
            }
        }
        reserve_bounds(self)?;
        let r = &self.risk;
        if r.policy == PolicyName::Dynamic && r.dynamic.is_none() {
            bail!("risk.policy = \"dynamic\" needs a [reserves.risk.dynamic] table");
        }
        if let Some(d) = &r.dynamic {
            dynamic_bounds(d).context("risk.dynamic")?;
        }
        liquidity_bounds(&self.liquidity)?;
        if let Some(t) = &self.term {
            let c = t.config()?;
            term_bounds(t)?;
            c.validate()
                .map_err(|e| anyhow!("the term configuration is refused by the program: {e}"))?;
        }
        // The program's own checks, under each policy the file can express.
        for choice in [PolicyChoice::Static, PolicyChoice::Dynamic] {
            let c = self.config([0; 32], choice)?;
            c.validate().map_err(|e| {
                anyhow!("the {choice:?} configuration is refused by the program: {e}")
            })?;
        }
        Ok(())
    }
}
