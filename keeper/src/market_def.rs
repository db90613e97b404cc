//! Market definitions: the TOML files in `migrations/` that describe a
//! market (liquidation parameters, reserves with their mints, oracles, rate
//! curves, risk bounds, liquidity bands and policy), and `market apply`,
//! which makes a chain match one, idempotently.
//!
//! # Format
//!
//! See `migrations/replay-sol-usdc.toml` for a commented example. Every table
//! refuses unknown fields (a typo is an error, never a silently ignored
//! setting). Units are in the field names: `_bps` (basis points, 10,000 =
//! 100%), `_secs` (seconds), `_tokens` (whole tokens, scaled by the mint's
//! decimals), `_usd` (US dollars); `sigma_*` are annualised volatilities as
//! fractions (0.8 = 80% a year); `z_milli` is a confidence multiplier in
//! thousandths (2,330 = 2.33).
//!
//! A reserve's `mint` and `oracle` are either `"create"` (the embedded chain
//! creates a mint, and a Pyth `PriceUpdateV2` account at `initial_price_usd`)
//! or a base58 address (a real cluster, where mints and Pyth feeds exist).
//!
//! A reserve carries both policies: the static values (`risk.ltv_bps`,
//! `risk.liquidation_threshold_bps`, `risk.borrow_factor_bps`) and, if it has
//! a `[reserves.risk.dynamic]` table, the volatility-driven curves and bounds.
//! `risk.policy` picks the one in force; [`PolicyChoice`] overrides it for a
//! whole apply (the replay runs the same file under each policy).
//!
//! # Apply
//!
//! [`apply`] works over the [`Chain`] trait: it creates the market and the
//! reserves that do not exist, and sends `update_market` /
//! `update_reserve_config` only for those whose on-chain values differ from
//! the file. A second apply of the same file sends nothing
//! ([`ApplyReport::transactions`] is 0). On the embedded chain,
//! [`provision_embedded`] first creates the mints and oracles marked
//! `"create"`.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use ballast::engine::fx::{Fx, WrappedFx};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::liquidity::LiquidityConfig;
use ballast::engine::rates::{RateCurve, MAX_CURVE_POINTS};
use ballast::engine::risk::{HaircutCurve, RiskConfig, RiskPolicy};
use ballast::instructions::{InitMarketParams, UpdateMarketParams};
use ballast::state::{Market, Reserve, ReserveConfig};
use serde::Deserialize;
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::Chain;
use crate::embedded::{EmbeddedChain, PythPrice, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
use crate::ix::{self, ReserveKeys};
use crate::scan::{decode_market, decode_reserve};

/// The replay's market, compiled in (`migrations/replay-sol-usdc.toml`), so
/// that the binary runs the replay from any directory.
pub const REPLAY_SOL_USDC: &str = include_str!("../../migrations/replay-sol-usdc.toml");

/// A market definition file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MarketDef {
    /// The market itself.
    pub market: MarketSection,
    /// Its reserves, one per mint.
    pub reserves: Vec<ReserveDef>,
    /// What `replay` does with this market (optional; ignored by `apply`).
    #[serde(default)]
    pub replay: Option<ReplaySection>,
}

/// `[market]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MarketSection {
    /// A human name, for messages.
    pub name: String,
    /// Address of an existing market (a real cluster). Absent: `apply`
    /// creates the market at a fresh keypair's address.
    #[serde(default)]
    pub address: Option<String>,
    /// The key allowed to push volatility, base58. Absent: the admin.
    #[serde(default)]
    pub risk_authority: Option<String>,
    /// Whether the market is paused.
    #[serde(default)]
    pub paused: bool,
    /// Liquidation parameters.
    pub liquidation: LiquidationDef,
}

/// `[market.liquidation]` (see `ballast::engine::liquidation`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LiquidationDef {
    /// Share of a debt position repayable per liquidation, bps (1..=10,000).
    pub close_factor_bps: u16,
    /// Maintenance health below which the whole position may be repaid, bps
    /// of 1 (9,500: health < 0.95).
    pub full_liquidation_health_bps: u16,
    /// Least liquidation bonus, bps of the repaid value.
    pub bonus_min_bps: u16,
    /// Greatest liquidation bonus, bps (<= 5,000).
    pub bonus_max_bps: u16,
    /// Share of the bonus paid to the insurance vault, bps.
    pub protocol_bonus_share_bps: u16,
    /// Debt value below which a position may be closed in full, USD.
    pub dust_debt_usd: f64,
}

/// `[[reserves]]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReserveDef {
    /// Ticker, unique in the file (`SOL`, `USDC`).
    pub symbol: String,
    /// `"create"` (embedded chain) or the mint's base58 address.
    pub mint: String,
    /// Mint decimals (checked against the mint when it exists).
    pub decimals: u8,
    /// `"spl-token"` or `"token-2022"`.
    #[serde(default = "default_token_program")]
    pub token_program: String,
    /// `"create"` (embedded chain) or the Pyth `PriceUpdateV2` account's
    /// base58 address.
    pub oracle: String,
    /// Pyth feed id, 64 hex digits (optional `0x`). Required for an existing
    /// oracle; for a created one, the default is the mint's address bytes.
    #[serde(default)]
    pub feed_id: Option<String>,
    /// Price written into a created oracle, USD per whole token.
    #[serde(default)]
    pub initial_price_usd: Option<f64>,
    /// Deposit cap, whole tokens (0 disables deposits).
    pub deposit_cap_tokens: u64,
    /// Borrow cap, whole tokens (0 disables borrows).
    pub borrow_cap_tokens: u64,
    /// Oldest acceptable oracle price, seconds (1..=86,400).
    pub oracle_max_age_secs: u32,
    /// Widest acceptable oracle confidence, bps of price (1..=10,000).
    pub oracle_max_conf_bps: u16,
    /// Share of interest to the protocol, bps.
    pub reserve_factor_bps: u16,
    /// Highest utilisation a borrow may leave, bps (1..=10,000).
    pub max_utilization_bps: u16,
    /// Utilisation -> borrow APR: `[[utilization_bps, apr_bps], ...]`, 2 to
    /// 11 points from 0 to 10,000.
    pub rate_curve: Vec<[u32; 2]>,
    /// Collateral requirements.
    pub risk: RiskDef,
    /// Buffer band, outflow limiter, stressed outflow (all off if absent).
    #[serde(default)]
    pub liquidity: LiquidityDef,
}

fn default_token_program() -> String {
    "spl-token".into()
}

/// `risk.policy`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PolicyName {
    /// Fixed LTV / liquidation threshold / borrow factor.
    Static,
    /// Derived from the pushed volatility.
    Dynamic,
}

impl std::fmt::Display for PolicyName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PolicyName::Static => "static",
            PolicyName::Dynamic => "dynamic",
        })
    }
}

/// `[reserves.risk]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RiskDef {
    /// The policy in force unless the apply overrides it.
    pub policy: PolicyName,
    /// Static LTV, bps (< liquidation threshold).
    pub ltv_bps: u16,
    /// Static liquidation threshold, bps (< 10,000).
    pub liquidation_threshold_bps: u16,
    /// Static borrow factor, bps (10,000..=50,000).
    #[serde(default = "default_borrow_factor")]
    pub borrow_factor_bps: u32,
    /// The dynamic policy's curves and bounds.
    #[serde(default)]
    pub dynamic: Option<DynamicDef>,
}

fn default_borrow_factor() -> u32 {
    10_000
}

/// `[reserves.risk.dynamic]` (see `ballast::engine::risk`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DynamicDef {
    /// Lowest volatility a push may set, annualised fraction.
    pub sigma_min: f64,
    /// Highest volatility a push may set, annualised fraction.
    pub sigma_max: f64,
    /// Liquidation horizon, seconds.
    pub horizon_secs: u32,
    /// Least time between pushes, seconds.
    pub min_update_interval_secs: u32,
    /// Age after which the most conservative values apply, seconds.
    pub max_age_secs: u32,
    /// Largest liquidation-threshold (and borrow-factor) move per push, bps.
    pub max_lt_step_bps: u16,
    /// Largest LTV loosening per push, bps.
    pub max_ltv_step_bps: u16,
    /// Haircut giving the LTV.
    pub initial: CurveDef,
    /// Haircut giving the liquidation threshold.
    pub maintenance: CurveDef,
    /// Haircut added to 1 for the borrow factor.
    pub borrow: CurveDef,
}

/// A haircut curve `clamp(base + z * sigma * sqrt(horizon / year), min, max)`.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CurveDef {
    /// Base haircut, bps.
    pub base_bps: u16,
    /// Confidence multiplier, thousandths (2,330 = 2.33).
    pub z_milli: u32,
    /// Least haircut, bps.
    pub min_bps: u16,
    /// Greatest haircut, bps.
    pub max_bps: u16,
}

/// `[reserves.liquidity]` (see `ballast::engine::liquidity`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LiquidityDef {
    /// Least liquid share of deposits, bps.
    #[serde(default)]
    pub buffer_min_bps: u16,
    /// Liquid share a rebalance aims for, bps.
    #[serde(default)]
    pub buffer_target_bps: u16,
    /// Liquid share above which a rebalance deploys, bps.
    #[serde(default)]
    pub buffer_max_bps: u16,
    /// Most of the deposits deployable to the treasury strategy, bps.
    #[serde(default)]
    pub rehypothecation_cap_bps: u16,
    /// Stressed outflow per window for the liquidity coverage, bps of
    /// deposits.
    #[serde(default)]
    pub stress_outflow_bps: u16,
    /// Outflow limiter window, seconds (0: off).
    #[serde(default)]
    pub outflow_window_secs: u32,
    /// Most withdraw + borrow outflow per window, whole tokens.
    #[serde(default)]
    pub outflow_cap_tokens: u64,
}

/// `[replay]`: which reserve's price the replay drives and which one the
/// population borrows.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReplaySection {
    /// Symbol of the collateral reserve whose oracle follows the price file.
    pub collateral: String,
    /// Symbol of the borrowed reserve (a stablecoin).
    pub debt: String,
    /// The borrowed asset's constant price, USD.
    pub debt_price_usd: f64,
}

/// Which policy an apply sets, overriding each reserve's `risk.policy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyChoice {
    /// Each reserve's `risk.policy` as written.
    AsWritten,
    /// Every reserve static.
    Static,
    /// Dynamic for every reserve that has a `[reserves.risk.dynamic]` table,
    /// static for the others.
    Dynamic,
}

/// `"create"` or an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountRef {
    /// Created by [`provision_embedded`] (embedded chain only).
    Create,
    /// An existing account.
    Existing(Address),
}

fn parse_ref(field: &str, v: &str) -> Result<AccountRef> {
    if v == "create" {
        return Ok(AccountRef::Create);
    }
    Address::from_str(v)
        .map(AccountRef::Existing)
        .map_err(|e| anyhow!("{field} = \"{v}\": expected \"create\" or a base58 address ({e})"))
}

fn parse_feed_id(v: &str) -> Result<[u8; 32]> {
    let hex = v.strip_prefix("0x").unwrap_or(v);
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("feed_id \"{v}\": expected 64 hex digits");
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex");
    }
    Ok(out)
}

impl MarketDef {
    /// Parses and validates a definition (see [`MarketDef::validate`]).
    pub fn parse(text: &str) -> Result<Self> {
        let def: MarketDef = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        def.validate()?;
        Ok(def)
    }

    /// Reads, parses and validates the file at `path`.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the market definition {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("market definition {}", path.display()))
    }

    /// Checks every range a chain would refuse, naming the reserve and field,
    /// then builds each reserve's [`ReserveConfig`] under both policies and
    /// runs the program's own `ReserveConfig::validate` on it.
    pub fn validate(&self) -> Result<()> {
        let m = &self.market;
        if let Some(a) = &m.address {
            Address::from_str(a).map_err(|e| anyhow!("market.address \"{a}\": {e}"))?;
        }
        if let Some(a) = &m.risk_authority {
            Address::from_str(a).map_err(|e| anyhow!("market.risk_authority \"{a}\": {e}"))?;
        }
        let l = &m.liquidation;
        bps_range(
            "market.liquidation.close_factor_bps",
            l.close_factor_bps,
            1,
            10_000,
        )?;
        bps_range(
            "market.liquidation.full_liquidation_health_bps",
            l.full_liquidation_health_bps,
            0,
            10_000,
        )?;
        bps_range(
            "market.liquidation.bonus_max_bps",
            l.bonus_max_bps,
            0,
            5_000,
        )?;
        if l.bonus_min_bps > l.bonus_max_bps {
            bail!(
                "market.liquidation.bonus_min_bps {} is above bonus_max_bps {}",
                l.bonus_min_bps,
                l.bonus_max_bps
            );
        }
        bps_range(
            "market.liquidation.protocol_bonus_share_bps",
            l.protocol_bonus_share_bps,
            0,
            10_000,
        )?;
        if !(l.dust_debt_usd.is_finite() && l.dust_debt_usd >= 0.0) {
            bail!(
                "market.liquidation.dust_debt_usd {} must be >= 0",
                l.dust_debt_usd
            );
        }
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
        }
        Ok(())
    }

    /// The reserve named `symbol`.
    pub fn reserve(&self, symbol: &str) -> Option<&ReserveDef> {
        self.reserves.iter().find(|r| r.symbol == symbol)
    }

    /// The market's liquidation parameters in the program's type.
    pub fn liquidation_config(&self) -> LiquidationConfig {
        let l = &self.market.liquidation;
        LiquidationConfig {
            dust_debt_micro_usd: (l.dust_debt_usd * 1e6).round() as u64,
            close_factor_bps: l.close_factor_bps,
            full_liquidation_health_bps: l.full_liquidation_health_bps,
            bonus_min_bps: l.bonus_min_bps,
            bonus_max_bps: l.bonus_max_bps,
            protocol_bonus_share_bps: l.protocol_bonus_share_bps,
            _padding: [0; 6],
        }
    }
}

fn bps_range(field: &str, v: u16, lo: u16, hi: u16) -> Result<()> {
    if v < lo || v > hi {
        bail!("{field} = {v} is outside {lo}..={hi} bps");
    }
    Ok(())
}

fn tokens(field: &str, whole: u64, decimals: u8) -> Result<u64> {
    10u64
        .checked_pow(decimals as u32)
        .and_then(|s| whole.checked_mul(s))
        .ok_or_else(|| anyhow!("{field} = {whole} tokens overflows u64 base units"))
}

impl ReserveDef {
    /// The mint reference.
    pub fn mint_ref(&self) -> Result<AccountRef> {
        parse_ref("mint", &self.mint)
    }

    /// The oracle reference.
    pub fn oracle_ref(&self) -> Result<AccountRef> {
        parse_ref("oracle", &self.oracle)
    }

    /// The token program.
    pub fn token_program_id(&self) -> Result<Address> {
        match self.token_program.as_str() {
            "spl-token" => Ok(TOKEN_PROGRAM_ID),
            "token-2022" => Ok(TOKEN_2022_PROGRAM_ID),
            other => bail!("token_program = \"{other}\": expected \"spl-token\" or \"token-2022\""),
        }
    }

    /// The feed id written in the file, if any.
    pub fn feed_id_bytes(&self) -> Result<Option<[u8; 32]>> {
        self.feed_id.as_deref().map(parse_feed_id).transpose()
    }

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
        if self.decimals > 18 {
            bail!("decimals {} is above 18", self.decimals);
        }
        if self.oracle_max_age_secs == 0 || self.oracle_max_age_secs > 86_400 {
            bail!(
                "oracle_max_age_secs = {} is outside 1..=86400 s",
                self.oracle_max_age_secs
            );
        }
        bps_range("oracle_max_conf_bps", self.oracle_max_conf_bps, 1, 10_000)?;
        bps_range("reserve_factor_bps", self.reserve_factor_bps, 0, 10_000)?;
        bps_range("max_utilization_bps", self.max_utilization_bps, 1, 10_000)?;
        let n = self.rate_curve.len();
        if !(2..=MAX_CURVE_POINTS).contains(&n) {
            bail!("rate_curve has {n} points: 2 to {MAX_CURVE_POINTS} are allowed");
        }
        for (j, [u, _]) in self.rate_curve.iter().enumerate() {
            if *u > 10_000 {
                bail!("rate_curve[{j}]: utilization {u} bps is above 10000");
            }
        }
        let r = &self.risk;
        bps_range(
            "risk.liquidation_threshold_bps",
            r.liquidation_threshold_bps,
            1,
            9_999,
        )?;
        if r.ltv_bps >= r.liquidation_threshold_bps {
            bail!(
                "risk.ltv_bps {} must be below risk.liquidation_threshold_bps {}",
                r.ltv_bps,
                r.liquidation_threshold_bps
            );
        }
        if !(10_000..=50_000).contains(&r.borrow_factor_bps) {
            bail!(
                "risk.borrow_factor_bps {} is outside 10000..=50000",
                r.borrow_factor_bps
            );
        }
        if r.policy == PolicyName::Dynamic && r.dynamic.is_none() {
            bail!("risk.policy = \"dynamic\" needs a [reserves.risk.dynamic] table");
        }
        if let Some(d) = &r.dynamic {
            d.validate().context("risk.dynamic")?;
        }
        let liq = &self.liquidity;
        for (f, v) in [
            ("liquidity.buffer_min_bps", liq.buffer_min_bps),
            ("liquidity.buffer_target_bps", liq.buffer_target_bps),
            ("liquidity.buffer_max_bps", liq.buffer_max_bps),
            (
                "liquidity.rehypothecation_cap_bps",
                liq.rehypothecation_cap_bps,
            ),
            ("liquidity.stress_outflow_bps", liq.stress_outflow_bps),
        ] {
            bps_range(f, v, 0, 10_000)?;
        }
        if !(liq.buffer_min_bps <= liq.buffer_target_bps
            && liq.buffer_target_bps <= liq.buffer_max_bps)
        {
            bail!("liquidity: need buffer_min_bps <= buffer_target_bps <= buffer_max_bps");
        }
        if liq.outflow_window_secs > 0 && liq.outflow_cap_tokens == 0 {
            bail!("liquidity.outflow_cap_tokens must be > 0 when outflow_window_secs is set");
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

    /// The policy in force under `choice`.
    pub fn policy(&self, choice: PolicyChoice) -> RiskPolicy {
        match (choice, &self.risk.dynamic) {
            (PolicyChoice::Static, _) | (PolicyChoice::Dynamic, None) => RiskPolicy::Static,
            (PolicyChoice::Dynamic, Some(_)) => RiskPolicy::Dynamic,
            (PolicyChoice::AsWritten, _) => match self.risk.policy {
                PolicyName::Static => RiskPolicy::Static,
                PolicyName::Dynamic => RiskPolicy::Dynamic,
            },
        }
    }

    /// The reserve configuration with `feed_id`, under `choice`. The dynamic
    /// curves are written whenever the file has them (a static reserve
    /// ignores them), so switching policy changes one byte.
    pub fn config(&self, feed_id: [u8; 32], choice: PolicyChoice) -> Result<ReserveConfig> {
        let mut c: ReserveConfig = bytemuck::Zeroable::zeroed();
        c.oracle_feed_id = feed_id;
        c.deposit_cap = tokens("deposit_cap_tokens", self.deposit_cap_tokens, self.decimals)?;
        c.borrow_cap = tokens("borrow_cap_tokens", self.borrow_cap_tokens, self.decimals)?;
        c.oracle_max_age_secs = self.oracle_max_age_secs;
        c.borrow_factor_bps = self.risk.borrow_factor_bps;
        c.oracle_max_conf_bps = self.oracle_max_conf_bps;
        c.loan_to_value_bps = self.risk.ltv_bps;
        c.liquidation_threshold_bps = self.risk.liquidation_threshold_bps;
        c.reserve_factor_bps = self.reserve_factor_bps;
        c.max_utilization_bps = self.max_utilization_bps;
        let points: Vec<(u16, u32)> = self
            .rate_curve
            .iter()
            .map(|[u, r]| (*u as u16, *r))
            .collect();
        c.rate_curve = RateCurve::from_points(&points);
        if let Some(d) = &self.risk.dynamic {
            c.risk = d.risk_config();
        }
        c.risk.policy = self.policy(choice) as u8;
        let l = &self.liquidity;
        c.liquidity = LiquidityConfig {
            buffer_min_bps: l.buffer_min_bps,
            buffer_target_bps: l.buffer_target_bps,
            buffer_max_bps: l.buffer_max_bps,
            rehypothecation_cap_bps: l.rehypothecation_cap_bps,
            stress_outflow_bps: l.stress_outflow_bps,
            _padding: [0; 2],
            outflow_window_secs: l.outflow_window_secs,
            outflow_cap: tokens("outflow_cap_tokens", l.outflow_cap_tokens, self.decimals)?,
        };
        Ok(c)
    }
}

impl DynamicDef {
    fn validate(&self) -> Result<()> {
        let ok = |s: f64| (0.0..1_000.0).contains(&s);
        if !ok(self.sigma_min) || !ok(self.sigma_max) || self.sigma_min > self.sigma_max {
            bail!(
                "need 0 <= sigma_min ({}) <= sigma_max ({}) < 1000",
                self.sigma_min,
                self.sigma_max
            );
        }
        if self.horizon_secs == 0 || self.horizon_secs > 31_536_000 {
            bail!(
                "horizon_secs = {} is outside 1..=31536000 s",
                self.horizon_secs
            );
        }
        if self.max_age_secs <= self.min_update_interval_secs {
            bail!(
                "max_age_secs {} must exceed min_update_interval_secs {}",
                self.max_age_secs,
                self.min_update_interval_secs
            );
        }
        if self.max_lt_step_bps == 0 || self.max_ltv_step_bps == 0 {
            bail!("max_lt_step_bps and max_ltv_step_bps must be >= 1");
        }
        for (name, c) in [
            ("initial", &self.initial),
            ("maintenance", &self.maintenance),
            ("borrow", &self.borrow),
        ] {
            if c.min_bps > c.max_bps {
                bail!(
                    "{name}: min_bps {} is above max_bps {}",
                    c.min_bps,
                    c.max_bps
                );
            }
            bps_range(&format!("{name}.max_bps"), c.max_bps, 0, 10_000)?;
        }
        if self.initial.max_bps >= 10_000 {
            bail!("initial.max_bps must be below 10000 (a positive collateral weight)");
        }
        let (i, m) = (&self.initial, &self.maintenance);
        if !(i.z_milli > m.z_milli
            && i.base_bps >= m.base_bps
            && i.min_bps >= m.min_bps
            && i.max_bps >= m.max_bps)
        {
            bail!(
                "the initial curve must be stricter than the maintenance one: \
                 z_milli greater, base/min/max bps at least as large"
            );
        }
        Ok(())
    }

    /// The program's [`RiskConfig`] (policy byte left static; see
    /// [`ReserveDef::config`]).
    pub fn risk_config(&self) -> RiskConfig {
        let curve = |c: &CurveDef| HaircutCurve {
            base_bps: c.base_bps,
            min_bps: c.min_bps,
            max_bps: c.max_bps,
            _padding: 0,
            z_milli: c.z_milli,
        };
        RiskConfig {
            sigma_min: WrappedFx::new(Fx::from_num(self.sigma_min)),
            sigma_max: WrappedFx::new(Fx::from_num(self.sigma_max)),
            initial: curve(&self.initial),
            maintenance: curve(&self.maintenance),
            borrow: curve(&self.borrow),
            horizon_secs: self.horizon_secs,
            min_update_interval_secs: self.min_update_interval_secs,
            max_age_secs: self.max_age_secs,
            max_lt_step_bps: self.max_lt_step_bps,
            max_ltv_step_bps: self.max_ltv_step_bps,
            policy: RiskPolicy::Static as u8,
            _padding: [0; 7],
        }
    }
}

/// A market's accounts once every `"create"` is resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The market address.
    pub market: Address,
    /// The reserves, in file order.
    pub reserves: Vec<DeployedReserve>,
}

/// One reserve's accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeployedReserve {
    /// Its symbol in the file.
    pub symbol: String,
    /// Every address of the reserve.
    pub keys: ReserveKeys,
    /// The oracle's feed id.
    pub feed_id: [u8; 32],
    /// Mint decimals.
    pub decimals: u8,
}

impl Deployment {
    /// The reserve named `symbol`.
    pub fn reserve(&self, symbol: &str) -> Option<&DeployedReserve> {
        self.reserves.iter().find(|r| r.symbol == symbol)
    }
}

/// Resolves the accounts of `def` on a cluster, where nothing is created:
/// every mint and oracle must be an address, and `market` is the market
/// (`[market] address`, or the keypair that `apply` will create it with).
pub fn resolve_existing(def: &MarketDef, market: Address) -> Result<Deployment> {
    let reserves = def
        .reserves
        .iter()
        .map(|r| {
            let (AccountRef::Existing(mint), AccountRef::Existing(oracle)) =
                (r.mint_ref()?, r.oracle_ref()?)
            else {
                bail!(
                    "reserve {}: mint/oracle = \"create\" works on the embedded chain only; \
                     give their addresses",
                    r.symbol
                );
            };
            let feed_id = r
                .feed_id_bytes()?
                .ok_or_else(|| anyhow!("reserve {}: feed_id is required", r.symbol))?;
            Ok(DeployedReserve {
                symbol: r.symbol.clone(),
                keys: ReserveKeys::derive(&market, &mint, &r.token_program_id()?, &oracle),
                feed_id,
                decimals: r.decimals,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Deployment { market, reserves })
}

/// On the embedded chain: creates the mints and oracles marked `"create"`
/// (oracles at `initial_price_usd`, published now, confidence 0) and
/// resolves the rest. `market` is the market's address (see
/// [`resolve_existing`]).
pub fn provision_embedded(
    chain: &mut EmbeddedChain,
    def: &MarketDef,
    market: Address,
) -> Result<Deployment> {
    let now = chain.clock().unix_timestamp;
    let mut reserves = vec![];
    for r in &def.reserves {
        let token_program = r.token_program_id()?;
        let mint = match r.mint_ref()? {
            AccountRef::Existing(a) => a,
            AccountRef::Create => chain
                .create_mint(&token_program, r.decimals)
                .with_context(|| format!("creating the {} mint", r.symbol))?,
        };
        let feed_id = r.feed_id_bytes()?.unwrap_or_else(|| mint.to_bytes());
        let oracle = match r.oracle_ref()? {
            AccountRef::Existing(a) => a,
            AccountRef::Create => {
                let oracle = Keypair::new().pubkey();
                let price = r.initial_price_usd.expect("validated");
                chain
                    .set_pyth_price(&oracle, &PythPrice::usd(feed_id, price, now))
                    .with_context(|| format!("creating the {} oracle", r.symbol))?;
                oracle
            }
        };
        reserves.push(DeployedReserve {
            symbol: r.symbol.clone(),
            keys: ReserveKeys::derive(&market, &mint, &token_program, &oracle),
            feed_id,
            decimals: r.decimals,
        });
    }
    Ok(Deployment { market, reserves })
}

/// What [`apply`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Whether the market was created.
    pub created_market: bool,
    /// Whether `update_market` was sent.
    pub updated_market: bool,
    /// Reserves created, by symbol.
    pub created_reserves: Vec<String>,
    /// Reserves whose configuration was updated, by symbol, with the names
    /// of the fields that differed.
    pub updated_reserves: Vec<(String, Vec<&'static str>)>,
    /// Reserves already as the file says.
    pub unchanged_reserves: Vec<String>,
    /// Transactions sent (0 on a re-apply of the same file).
    pub transactions: usize,
}

impl std::fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.transactions == 0 {
            return write!(
                f,
                "nothing to send: the market and its {} reserve(s) already match the file",
                self.unchanged_reserves.len()
            );
        }
        let mut parts = vec![];
        if self.created_market {
            parts.push("market created".to_string());
        }
        if self.updated_market {
            parts.push("market updated".to_string());
        }
        if !self.created_reserves.is_empty() {
            parts.push(format!("created {}", self.created_reserves.join(", ")));
        }
        for (s, fields) in &self.updated_reserves {
            parts.push(format!("updated {s} ({})", fields.join(", ")));
        }
        if !self.unchanged_reserves.is_empty() {
            parts.push(format!("unchanged {}", self.unchanged_reserves.join(", ")));
        }
        write!(
            f,
            "{} transaction(s): {}",
            self.transactions,
            parts.join("; ")
        )
    }
}

/// Makes the chain match `def` under `choice`: creates the market (signed
/// by `market_signer`, whose address must be `dep.market`) if it does not
/// exist, or updates its risk authority, pause flag and liquidation
/// parameters if they differ; creates each missing reserve, or updates its
/// configuration if it differs. `admin` signs everything.
pub fn apply(
    chain: &mut impl Chain,
    admin: &Keypair,
    market_signer: Option<&Keypair>,
    def: &MarketDef,
    dep: &Deployment,
    choice: PolicyChoice,
) -> Result<ApplyReport> {
    let mut report = ApplyReport::default();
    let risk_authority = match &def.market.risk_authority {
        Some(a) => Address::from_str(a).map_err(|e| anyhow!("market.risk_authority: {e}"))?,
        None => admin.pubkey(),
    };
    let liquidation = def.liquidation_config();
    match chain.account_data(&dep.market)? {
        None => {
            let signer = market_signer
                .filter(|k| k.pubkey() == dep.market)
                .ok_or_else(|| {
                    anyhow!(
                        "market {} does not exist and no keypair for it was given",
                        dep.market
                    )
                })?;
            let ix = ix::init_market(
                &admin.pubkey(),
                &dep.market,
                InitMarketParams {
                    risk_authority,
                    paused: def.market.paused,
                    liquidation,
                },
            );
            chain
                .send(&[ix], &[admin, signer])
                .with_context(|| format!("init_market {}", dep.market))?;
            report.created_market = true;
            report.transactions += 1;
        }
        Some(data) => {
            let m: Market = decode_market(&data)
                .ok_or_else(|| anyhow!("{} is not a Ballast market", dep.market))?;
            if m.admin != admin.pubkey() {
                bail!(
                    "market {}: its admin is {}, not the keypair given ({})",
                    dep.market,
                    m.admin,
                    admin.pubkey()
                );
            }
            let params = UpdateMarketParams {
                admin: None,
                risk_authority: (m.risk_authority != risk_authority).then_some(risk_authority),
                paused: (m.is_paused() != def.market.paused).then_some(def.market.paused),
                liquidation: (m.liquidation != liquidation).then_some(liquidation),
            };
            if params.risk_authority.is_some()
                || params.paused.is_some()
                || params.liquidation.is_some()
            {
                let ix = ix::update_market(&admin.pubkey(), &dep.market, params);
                chain
                    .send(&[ix], &[admin])
                    .with_context(|| format!("update_market {}", dep.market))?;
                report.updated_market = true;
                report.transactions += 1;
            }
        }
    }
    for r in &def.reserves {
        let d = dep
            .reserve(&r.symbol)
            .ok_or_else(|| anyhow!("reserve {} missing from the deployment", r.symbol))?;
        let want = r.config(d.feed_id, choice)?;
        match chain.account_data(&d.keys.reserve)? {
            None => {
                let ix = ix::init_reserve(&admin.pubkey(), &d.keys, want);
                chain
                    .send(&[ix], &[admin])
                    .with_context(|| format!("init_reserve {}", r.symbol))?;
                report.created_reserves.push(r.symbol.clone());
                report.transactions += 1;
            }
            Some(data) => {
                let have: Reserve = decode_reserve(&data)
                    .ok_or_else(|| anyhow!("{} is not a Ballast reserve", d.keys.reserve))?;
                if have.oracle != d.keys.oracle {
                    bail!(
                        "reserve {}: on-chain oracle {} differs from the file's {}; \
                         changing a reserve's oracle is not supported by apply",
                        r.symbol,
                        have.oracle,
                        d.keys.oracle
                    );
                }
                if have.mint_decimals != r.decimals {
                    bail!(
                        "reserve {}: the mint has {} decimals, the file says {}",
                        r.symbol,
                        have.mint_decimals,
                        r.decimals
                    );
                }
                let diff = config_diff(&have.config, &want);
                if diff.is_empty() {
                    report.unchanged_reserves.push(r.symbol.clone());
                } else {
                    let ix = ix::update_reserve_config(&admin.pubkey(), &d.keys, want);
                    chain
                        .send(&[ix], &[admin])
                        .with_context(|| format!("update_reserve_config {}", r.symbol))?;
                    report.updated_reserves.push((r.symbol.clone(), diff));
                    report.transactions += 1;
                }
            }
        }
    }
    Ok(report)
}

/// The names of the fields in which two configurations differ.
pub fn config_diff(a: &ReserveConfig, b: &ReserveConfig) -> Vec<&'static str> {
    let mut out = vec![];
    let mut check = |name: &'static str, differ: bool| {
        if differ {
            out.push(name);
        }
    };
    check("oracle_feed_id", a.oracle_feed_id != b.oracle_feed_id);
    check("deposit_cap", a.deposit_cap != b.deposit_cap);
    check("borrow_cap", a.borrow_cap != b.borrow_cap);
    check(
        "oracle_max_age_secs",
        a.oracle_max_age_secs != b.oracle_max_age_secs,
    );
    check(
        "borrow_factor_bps",
        a.borrow_factor_bps != b.borrow_factor_bps,
    );
    check(
        "oracle_max_conf_bps",
        a.oracle_max_conf_bps != b.oracle_max_conf_bps,
    );
    check("ltv_bps", a.loan_to_value_bps != b.loan_to_value_bps);
    check(
        "liquidation_threshold_bps",
        a.liquidation_threshold_bps != b.liquidation_threshold_bps,
    );
    check(
        "reserve_factor_bps",
        a.reserve_factor_bps != b.reserve_factor_bps,
    );
    check(
        "max_utilization_bps",
        a.max_utilization_bps != b.max_utilization_bps,
    );
    check("rate_curve", a.rate_curve != b.rate_curve);
    check("risk.policy", a.risk.policy != b.risk.policy);
    let (mut ra, mut rb) = (a.risk, b.risk);
    ra.policy = 0;
    rb.policy = 0;
    check("risk.dynamic", ra != rb);
    check("liquidity", a.liquidity != b.liquidity);
    if out.is_empty() && a != b {
        out.push("padding");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay_def() -> MarketDef {
        MarketDef::parse(REPLAY_SOL_USDC).expect("the shipped replay market parses")
    }

    fn err_of(text: &str) -> String {
        format!("{:#}", MarketDef::parse(text).unwrap_err())
    }

    #[test]
    fn shipped_replay_market_expresses_both_policies() {
        let def = replay_def();
        let sol = def.reserve("SOL").unwrap();
        let s = sol.config([1; 32], PolicyChoice::Static).unwrap();
        assert_eq!(s.risk.policy(), RiskPolicy::Static);
        assert_eq!(
            (s.loan_to_value_bps, s.liquidation_threshold_bps),
            (7_500, 8_000)
        );
        let d = sol.config([1; 32], PolicyChoice::Dynamic).unwrap();
        assert_eq!(d.risk.policy(), RiskPolicy::Dynamic);
        assert_eq!(config_diff(&s, &d), vec!["risk.policy"]);
        // The stablecoin has no dynamic table: static under either choice.
        let usdc = def.reserve("USDC").unwrap();
        assert_eq!(usdc.policy(PolicyChoice::Dynamic), RiskPolicy::Static);
        assert_eq!(
            sol.config([1; 32], PolicyChoice::Static)
                .unwrap()
                .deposit_cap
                % 1_000_000_000,
            0
        );
    }

    #[test]
    fn unknown_fields_are_refused_with_their_name() {
        let text = REPLAY_SOL_USDC.replacen("[[reserves]]\n", "[[reserves]]\nmax_age = 60\n", 1);
        assert_ne!(text, REPLAY_SOL_USDC);
        let e = err_of(&text);
        assert!(e.contains("unknown field `max_age`"), "{e}");
        let text = REPLAY_SOL_USDC.replacen("[market]", "[market]\ncolour = \"red\"", 1);
        let e = err_of(&text);
        assert!(e.contains("unknown field `colour`"), "{e}");
    }

    #[test]
    fn out_of_range_bps_are_named() {
        let text =
            REPLAY_SOL_USDC.replacen("close_factor_bps = 2000", "close_factor_bps = 12000", 1);
        assert_ne!(text, REPLAY_SOL_USDC);
        let e = err_of(&text);
        assert!(
            e.contains("close_factor_bps = 12000 is outside 1..=10000"),
            "{e}"
        );

        let mut def = replay_def();
        def.reserves[0].risk.ltv_bps = def.reserves[0].risk.liquidation_threshold_bps;
        let e = format!("{:#}", def.validate().unwrap_err());
        assert!(
            e.contains("reserves[0] (SOL)") && e.contains("ltv_bps"),
            "{e}"
        );

        let mut def = replay_def();
        def.reserves[1].oracle_max_conf_bps = 0;
        let e = format!("{:#}", def.validate().unwrap_err());
        assert!(e.contains("oracle_max_conf_bps = 0"), "{e}");
    }

    #[test]
    fn dynamic_curves_are_checked() {
        let mut def = replay_def();
        let d = def.reserves[0].risk.dynamic.as_mut().unwrap();
        d.initial.z_milli = d.maintenance.z_milli;
        let e = format!("{:#}", def.validate().unwrap_err());
        assert!(e.contains("stricter"), "{e}");

        let mut def = replay_def();
        def.reserves[0].risk.dynamic = None;
        def.reserves[0].risk.policy = PolicyName::Dynamic;
        let e = format!("{:#}", def.validate().unwrap_err());
        assert!(e.contains("needs a [reserves.risk.dynamic] table"), "{e}");
    }

    #[test]
    fn addresses_and_feed_ids_are_parsed() {
        let mut def = replay_def();
        def.reserves[0].mint = "not-a-key".into();
        let e = format!("{:#}", def.validate().unwrap_err());
        assert!(e.contains("mint = \"not-a-key\""), "{e}");

        let mut def = replay_def();
        def.reserves[0].oracle = Keypair::new().pubkey().to_string();
        def.reserves[0].feed_id = None;
        let e = format!("{:#}", def.validate().unwrap_err());
        assert!(e.contains("needs its feed_id"), "{e}");
        def.reserves[0].feed_id = Some(format!("0x{}", "ab".repeat(32)));
        def.validate().unwrap();
        assert_eq!(def.reserves[0].feed_id_bytes().unwrap(), Some([0xab; 32]));
        def.reserves[0].feed_id = Some("abc".into());
        assert!(def.validate().is_err());
    }

    #[test]
    fn create_is_refused_outside_the_embedded_chain() {
        let def = replay_def();
        let e = format!(
            "{:#}",
            resolve_existing(&def, Address::default()).unwrap_err()
        );
        assert!(e.contains("embedded chain only"), "{e}");
    }

    #[test]
    fn duplicate_symbols_and_replay_names_are_checked() {
        let mut def = replay_def();
        def.reserves[1].symbol = def.reserves[0].symbol.clone();
        assert!(format!("{:#}", def.validate().unwrap_err()).contains("appears twice"));
        let mut def = replay_def();
        def.replay.as_mut().unwrap().debt = "DAI".into();
        assert!(format!("{:#}", def.validate().unwrap_err()).contains("names no reserve"));
    }
}
