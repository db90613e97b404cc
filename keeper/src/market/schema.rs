//! The definition file's tables as types (serde, unknown fields refused),
//! parsing, and the program's configuration types built from them.

use std::path::Path;
use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use ballast::engine::fx::{Fx, WrappedFx};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::liquidity::LiquidityConfig;
use ballast::engine::rates::RateCurve;
use ballast::engine::risk::{HaircutCurve, RiskConfig, RiskPolicy};
use ballast::engine::term::{TermConfig, MAX_TENORS};
use ballast::state::ReserveConfig;
use serde::Deserialize;
use solana_address::Address;

use crate::accounts::{TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};

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
    /// What `stress` does with this market (optional; ignored by `apply`
    /// and `replay`).
    #[serde(default)]
    pub stress: Option<StressSection>,
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
    /// Fixed-rate term loans (`set_term_config`); absent: term loans off
    /// (an apply disables a configuration the chain has).
    #[serde(default)]
    pub term: Option<TermDef>,
}

/// `[reserves.term]`: the reserve's term-loan configuration, the fields of
/// the program's [`TermConfig`] (see `ballast::engine::term`) with tenors
/// and grid in days.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TermDef {
    /// Tenors offered, days, ascending (1 to 3 of them; each at most 12
    /// grid periods). `borrow_term`'s `tenor_index` indexes this list.
    pub tenors_days: Vec<u32>,
    /// Maturity grid, days (a loan matures at the first grid point at or
    /// after its opening plus its tenor; 1..=30).
    pub grid_days: u32,
    /// Term premium over the floating rate, bps a year.
    pub base_spread_bps: u16,
    /// Added per 100% of the supply committed at a maturity, bps a year.
    pub slope_bps: u16,
    /// Most face committed at one maturity, bps of the reserve's supply.
    pub max_commit_bps: u16,
    /// Penalty APR past maturity, bps a year (at least 1).
    pub penalty_spread_bps: u16,
}

impl TermDef {
    /// The program's [`TermConfig`] (days to seconds; unused tenors 0).
    /// Errors: more than [`MAX_TENORS`] tenors, or a value that overflows
    /// `u32` seconds (both named by field).
    pub fn config(&self) -> Result<TermConfig> {
        if self.tenors_days.is_empty() || self.tenors_days.len() > MAX_TENORS {
            bail!(
                "term.tenors_days has {} tenors: 1 to {MAX_TENORS} are allowed",
                self.tenors_days.len()
            );
        }
        let secs = |field: &str, d: u32| {
            d.checked_mul(86_400)
                .ok_or_else(|| anyhow!("term.{field} = {d} days overflows u32 seconds"))
        };
        let mut tenors_secs = [0u32; MAX_TENORS];
        for (t, d) in tenors_secs.iter_mut().zip(&self.tenors_days) {
            *t = secs("tenors_days", *d)?;
        }
        Ok(TermConfig {
            tenors_secs,
            grid_secs: secs("grid_days", self.grid_days)?,
            base_spread_bps: self.base_spread_bps,
            slope_bps: self.slope_bps,
            max_commit_bps: self.max_commit_bps,
            penalty_spread_bps: self.penalty_spread_bps,
            _padding: [0; 8],
        })
    }
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
    /// Daily depth of the collateral asset the liquidators' sales are
    /// measured against, USD (the square-root impact of
    /// [`crate::liquidators`]); default `replay::DEFAULT_DEPTH_USD`.
    #[serde(default)]
    pub depth_usd: Option<f64>,
    /// Square-root impact coefficient `k` (dimensionless); default 1.
    #[serde(default)]
    pub impact_k: Option<f64>,
}

/// `[stress]`: the synthetic book and the liquidation market of `stress`
/// (see `crate::stress`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StressSection {
    /// Symbol of the borrowed reserve (a stablecoin, price constant).
    pub debt: String,
    /// The borrowed asset's constant price, USD.
    #[serde(default = "default_one")]
    pub debt_price_usd: f64,
    /// Obligations of the synthetic book.
    pub borrowers: usize,
    /// Seed of the synthetic book's population.
    #[serde(default)]
    pub seed: u64,
    /// Share of borrowers holding a single collateral (the others split
    /// their collateral over every asset), in [0, 1].
    #[serde(default = "default_single_share")]
    pub single_collateral_share: f64,
    /// Share of borrowers that borrow at term instead of floating, in
    /// [0, 1] (the debt reserve's `[reserves.term]` tenors; see
    /// `Book::with_term_share`); default 0. `stress --term-share` overrides
    /// it.
    #[serde(default)]
    pub term_share: f64,
    /// Debt liquidators can repay per hour, market-wide, USD.
    pub liquidator_capacity_usd_per_hour: f64,
    /// Square-root impact coefficient `k` in `impact = k * sigma_day *
    /// sqrt(volume / depth)` (dimensionless, about 1 by the square-root law).
    #[serde(default = "default_one")]
    pub impact_k: f64,
    /// Period at which the price files are aligned and the covariance is
    /// estimated, seconds (14,400: 4 h, the coarsest file's).
    #[serde(default = "default_stress_period")]
    pub estimation_period_secs: i64,
    /// The collateral assets the model drives.
    pub assets: Vec<StressAssetDef>,
}

/// `[[stress.assets]]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StressAssetDef {
    /// Symbol of a collateral reserve of the file.
    pub symbol: String,
    /// Price file (relative paths are taken from the working directory).
    pub prices: String,
    /// The file's `symbol` column value, for multi-symbol files.
    #[serde(default)]
    pub file_symbol: Option<String>,
    /// Daily depth the square-root impact is measured against, USD (the
    /// volume that moves the price by `k` daily sigmas).
    pub depth_usd: f64,
    /// Relative weight of this asset among the single-collateral borrowers
    /// and in the others' split (> 0).
    #[serde(default = "default_one")]
    pub weight: f64,
}

fn default_one() -> f64 {
    1.0
}

fn default_single_share() -> f64 {
    0.5
}

fn default_stress_period() -> i64 {
    14_400
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
    /// Created by `provision_embedded` (embedded chain only).
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

    /// The term configuration the file asks for: its `[reserves.term]`,
    /// or all zero (term loans off) without one.
    pub fn term_config(&self) -> Result<TermConfig> {
        match &self.term {
            Some(t) => t.config(),
            None => Ok(TermConfig::default()),
        }
    }

    /// The feed id written in the file, if any.
    pub fn feed_id_bytes(&self) -> Result<Option<[u8; 32]>> {
        self.feed_id.as_deref().map(parse_feed_id).transpose()
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
