//! `market apply`: makes a chain match a definition, idempotently, over the
//! [`Chain`] trait; and the accounts a definition resolves to
//! ([`Deployment`]).

use std::str::FromStr;

use anyhow::{anyhow, bail, Context, Result};
use ballast::instructions::{InitMarketParams, UpdateMarketParams};
use ballast::state::{Market, Reserve, ReserveConfig};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::schema::{AccountRef, MarketDef, PolicyChoice};
use crate::accounts::{decode_market, decode_reserve};
use crate::chain::Chain;
use crate::ix::{self, ReserveKeys};

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
            // The program accepts only the push oracle's price-feed account
            // of the feed id (OracleNotPushFeed): say so before sending.
            let push_feed = ballast::runtime::oracle_account::push_feed_address(&feed_id);
            if oracle != push_feed {
                bail!(
                    "reserve {}: oracle {} is not the Pyth push oracle's price feed account \
                     of its feed id ({}, shard 0), the only oracle Ballast accepts",
                    r.symbol,
                    oracle,
                    push_feed
                );
            }
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
    /// Reserves already as the file says (configuration; see
    /// `term_updated` for the term configuration).
    pub unchanged_reserves: Vec<String>,
    /// Reserves whose term configuration `set_term_config` set (it differed
    /// from the file's `[reserves.term]`, or from all zero without one).
    pub term_updated: Vec<String>,
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
        if !self.term_updated.is_empty() {
            parts.push(format!("term config set {}", self.term_updated.join(", ")));
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
/// configuration if it differs; sets each reserve's term configuration
/// (`set_term_config`) if it differs from the file's `[reserves.term]` (all
/// zero, term loans off, without one). `admin` signs everything.
pub fn apply(
    chain: &mut impl Chain,
    admin: &Keypair,
    market_signer: Option<&Keypair>,
    def: &MarketDef,
    dep: &Deployment,
    choice: PolicyChoice,
) -> Result<ApplyReport> {
    let mut report = ApplyReport::default();
    apply_market(chain, admin, market_signer, def, dep, &mut report)?;
    apply_reserves(chain, admin, def, dep, choice, &mut report)?;
    Ok(report)
}

/// The market half of [`apply`]: creates the market, or updates what
/// differs.
fn apply_market(
    chain: &mut impl Chain,
    admin: &Keypair,
    market_signer: Option<&Keypair>,
    def: &MarketDef,
    dep: &Deployment,
    report: &mut ApplyReport,
) -> Result<()> {
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
    Ok(())
}

/// The reserves half of [`apply`]: creates each missing reserve, or updates
/// its configuration if it differs.
fn apply_reserves(
    chain: &mut impl Chain,
    admin: &Keypair,
    def: &MarketDef,
    dep: &Deployment,
    choice: PolicyChoice,
    report: &mut ApplyReport,
) -> Result<()> {
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
        let want_term = r
            .term_config()
            .with_context(|| format!("reserve {}", r.symbol))?;
        let have_term = chain
            .account_data(&d.keys.reserve)?
            .as_deref()
            .and_then(decode_reserve)
            .ok_or_else(|| anyhow!("reserve {} missing after its creation", r.symbol))?
            .term_config;
        if have_term != want_term {
            let ix = ix::set_term_config(&admin.pubkey(), &d.keys, want_term);
            chain
                .send(&[ix], &[admin])
                .with_context(|| format!("set_term_config {}", r.symbol))?;
            report.term_updated.push(r.symbol.clone());
            report.transactions += 1;
        }
    }
    Ok(())
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
