//! Market snapshots: every account of one market in one JSON file, so a
//! stress run or an investigation is reproducible without an RPC.
//!
//! [`Snapshot::capture`] reads, from any [`Chain`]: the market, its reserves
//! and obligations (the keeper's `getProgramAccounts`-style scan,
//! [`Chain::ballast_raw_accounts`]), each reserve's oracle account, and the
//! strategy reserve of each reserve that has a treasury strategy. Each
//! account is kept raw (address, owner, lamports, data), with its role.
//! [`Snapshot::write`] writes the file; [`Snapshot::read`] reads it back,
//! checks it and decodes it; [`Snapshot::market_snapshot`] and
//! [`Snapshot::to_chain_state`] give what the scan and the stress model take.
//!
//! ## File format (version [`SNAPSHOT_VERSION`])
//!
//! ```json
//! {
//!   "version": 1,
//!   "program": "<Ballast program id>",
//!   "market": "<market address>",
//!   "slot": 1234,
//!   "unix_time": 1700000000,
//!   "accounts": [
//!     { "role": "market", "address": "...", "owner": "...",
//!       "lamports": 1, "data": "<base64>" },
//!     ...
//!   ]
//! }
//! ```
//!
//! `role` is `market` (exactly one), `reserve`, `obligation`, `oracle` or
//! `strategy_reserve`; addresses in base58; `data` is standard base64 (with
//! padding) of the account's bytes. `slot` and `unix_time` are read before
//! the accounts: over an RPC the reads are separate calls, so a busy market
//! may move between them (the file is not one atomic cut of the chain).

use std::collections::HashMap;
use std::path::Path;

use anchor_lang::prelude::Pubkey;
use ballast::state::{Market, Obligation, Reserve};
use base64::Engine;
use serde::{Deserialize, Serialize};
use solana_address::Address;

use crate::accounts::{decode_market, decode_obligation, decode_reserve};
use crate::chain::{Chain, ChainError, RawAccount};
use crate::scan::MarketSnapshot;

/// The file format version [`Snapshot::write`] writes and
/// [`Snapshot::read`] accepts.
pub const SNAPSHOT_VERSION: u32 = 1;

/// What an account is to the market.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The market account.
    Market,
    /// One of its reserves.
    Reserve,
    /// One of its obligations.
    Obligation,
    /// A reserve's oracle (`PriceUpdateV2`).
    Oracle,
    /// The treasury strategy reserve of one of its reserves (another
    /// market's reserve).
    StrategyReserve,
}

/// One account of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAccount {
    /// Its role.
    pub role: Role,
    /// Address, base58.
    pub address: String,
    /// Owner program, base58.
    pub owner: String,
    /// Lamports.
    pub lamports: u64,
    /// Data, standard base64.
    pub data: String,
}

/// The file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFile {
    /// [`SNAPSHOT_VERSION`].
    pub version: u32,
    /// The Ballast program id the accounts belong to.
    pub program: String,
    /// The market.
    pub market: String,
    /// Slot read before the accounts.
    pub slot: u64,
    /// The cluster's unix time read before the accounts, seconds.
    pub unix_time: i64,
    /// The accounts.
    pub accounts: Vec<FileAccount>,
}

/// Why a snapshot could not be taken, written or read. Each names the file,
/// account or field at fault.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// Reading the chain failed.
    #[error("reading the chain: {0}")]
    Chain(#[from] ChainError),
    /// The market account is missing or not a Ballast market.
    #[error("market {0} not found or not a Ballast market")]
    NoMarket(Address),
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not the JSON of a snapshot (truncated, garbled, a
    /// field missing or of the wrong type).
    #[error("{path}: not a snapshot file (truncated or garbled?): {detail}")]
    Json {
        /// The file.
        path: String,
        /// serde_json's message, with line and column.
        detail: String,
    },
    /// A version this keeper does not read.
    #[error("{path}: snapshot version {found}, this keeper reads version {SNAPSHOT_VERSION}")]
    Version {
        /// The file.
        path: String,
        /// The version in the file.
        found: u32,
    },
    /// A field holds a bad value.
    #[error("{path}: {what}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, naming the account and field.
        what: String,
    },
}

/// A market's accounts at one time, raw and decoded.
#[derive(Clone)]
pub struct Snapshot {
    /// The market's address.
    pub market: Address,
    /// Slot of the capture.
    pub slot: u64,
    /// Unix time of the capture, seconds: the `now` of every computation.
    pub unix_time: i64,
    /// Every account, raw, with its role, in file order.
    pub accounts: Vec<(Role, Address, RawAccount)>,
    /// The market, decoded.
    pub market_state: Market,
    /// Its reserves, decoded.
    pub reserves: Vec<(Address, Reserve)>,
    /// Its obligations, decoded.
    pub obligations: Vec<(Address, Obligation)>,
    /// The oracle accounts' data, keyed by address.
    pub oracles: HashMap<Address, Vec<u8>>,
    /// The strategy reserves, decoded.
    pub strategies: Vec<(Address, Reserve)>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("market", &self.market)
            .field("slot", &self.slot)
            .field("unix_time", &self.unix_time)
            .field("accounts", &self.accounts.len())
            .field("reserves", &self.reserves.len())
            .field("obligations", &self.obligations.len())
            .finish()
    }
}

/// The decoded state a stress run takes: `(market address, market,
/// reserves, obligations, oracle bytes by address, unix time)`.
pub type ChainState = (
    Address,
    Market,
    Vec<(Address, Reserve)>,
    Vec<(Address, Obligation)>,
    HashMap<Address, Vec<u8>>,
    i64,
);

impl Snapshot {
    /// Reads every account of `market` from `chain` (module doc).
    pub fn capture(chain: &impl Chain, market: &Address) -> Result<Self, SnapshotError> {
        let slot = chain.slot()?;
        let unix_time = chain.unix_time()?;
        let m = chain
            .account(market)?
            .ok_or(SnapshotError::NoMarket(*market))?;
        let mut accounts = vec![(Role::Market, *market, m)];
        let reserves = chain.ballast_raw_accounts::<Reserve>(market)?;
        let obligations = chain.ballast_raw_accounts::<Obligation>(market)?;
        let mut oracles: Vec<Address> = vec![];
        let mut strategies: Vec<Address> = vec![];
        for (_, r) in &reserves {
            let Some(r) = decode_reserve(&r.data) else {
                continue;
            };
            if !oracles.contains(&r.oracle) {
                oracles.push(r.oracle);
            }
            let s = r.treasury.strategy_reserve;
            if r.treasury.has_strategy() && !strategies.contains(&s) {
                strategies.push(s);
            }
        }
        accounts.extend(reserves.into_iter().map(|(k, a)| (Role::Reserve, k, a)));
        accounts.extend(
            obligations
                .into_iter()
                .map(|(k, a)| (Role::Obligation, k, a)),
        );
        for (role, keys) in [(Role::Oracle, oracles), (Role::StrategyReserve, strategies)] {
            for k in keys {
                if let Some(a) = chain.account(&k)? {
                    accounts.push((role, k, a));
                }
            }
        }
        Self::from_parts(*market, slot, unix_time, accounts, "<chain>")
    }

    /// Decodes `accounts` (the market's must be there; a reserve, obligation
    /// or strategy reserve that does not decode is an error naming it).
    fn from_parts(
        market: Address,
        slot: u64,
        unix_time: i64,
        accounts: Vec<(Role, Address, RawAccount)>,
        path: &str,
    ) -> Result<Self, SnapshotError> {
        let invalid = |what: String| SnapshotError::Invalid {
            path: path.into(),
            what,
        };
        let mut market_state = None;
        let (mut reserves, mut obligations, mut strategies) = (vec![], vec![], vec![]);
        let mut oracles = HashMap::new();
        for (role, k, a) in &accounts {
            let undecodable = |kind: &str| {
                invalid(format!(
                    "account {k} ({role:?}): {} bytes that do not decode as a Ballast {kind}",
                    a.data.len()
                ))
            };
            let foreign = || {
                invalid(format!(
                    "account {k} ({role:?}): owner {} is not the Ballast program",
                    a.owner
                ))
            };
            let ours = a.owner == ballast::ID;
            match role {
                Role::Market => {
                    if *k != market {
                        return Err(invalid(format!(
                            "market account {k} is not the file's market {market}"
                        )));
                    }
                    if !ours {
                        return Err(foreign());
                    }
                    if market_state.is_some() {
                        return Err(invalid(format!("market account {k} listed twice")));
                    }
                    market_state =
                        Some(decode_market(&a.data).ok_or_else(|| undecodable("Market"))?);
                }
                Role::Reserve | Role::StrategyReserve => {
                    if !ours {
                        return Err(foreign());
                    }
                    let r = decode_reserve(&a.data).ok_or_else(|| undecodable("Reserve"))?;
                    if *role == Role::Reserve {
                        reserves.push((*k, r));
                    } else {
                        strategies.push((*k, r));
                    }
                }
                Role::Obligation => {
                    if !ours {
                        return Err(foreign());
                    }
                    let o = decode_obligation(&a.data).ok_or_else(|| undecodable("Obligation"))?;
                    obligations.push((*k, o));
                }
                Role::Oracle => {
                    oracles.insert(*k, a.data.clone());
                }
            }
        }
        let market_state =
            market_state.ok_or_else(|| invalid(format!("no market account ({market})")))?;
        Ok(Self {
            market,
            slot,
            unix_time,
            accounts,
            market_state,
            reserves,
            obligations,
            oracles,
            strategies,
        })
    }

    /// The file's contents.
    pub fn to_file(&self) -> SnapshotFile {
        let b64 = base64::engine::general_purpose::STANDARD;
        SnapshotFile {
            version: SNAPSHOT_VERSION,
            program: ballast::ID.to_string(),
            market: self.market.to_string(),
            slot: self.slot,
            unix_time: self.unix_time,
            accounts: self
                .accounts
                .iter()
                .map(|(role, k, a)| FileAccount {
                    role: *role,
                    address: k.to_string(),
                    owner: a.owner.to_string(),
                    lamports: a.lamports,
                    data: b64.encode(&a.data),
                })
                .collect(),
        }
    }

    /// Writes the file (pretty JSON) to `path`.
    pub fn write(&self, path: &Path) -> Result<(), SnapshotError> {
        let json = serde_json::to_string_pretty(&self.to_file()).expect("serializable");
        std::fs::write(path, format!("{json}\n")).map_err(|source| SnapshotError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads, checks and decodes the file at `path`. Errors name what is
    /// wrong: not JSON or a field missing (with line and column), another
    /// version, another program, an address that is not base58, data that
    /// is not base64 or does not decode as its role's account, no market.
    pub fn read(path: &Path) -> Result<Self, SnapshotError> {
        let p = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: p.clone(),
            source,
        })?;
        Self::parse(&text, &p)
    }

    /// [`Snapshot::read`] of the file's `text` (`path` names it in errors).
    pub fn parse(text: &str, path: &str) -> Result<Self, SnapshotError> {
        // The version first, so that a future format fails on its version
        // rather than on a field it renamed.
        #[derive(Deserialize)]
        struct Versioned {
            version: u32,
        }
        let json_err = |e: serde_json::Error| SnapshotError::Json {
            path: path.into(),
            detail: e.to_string(),
        };
        let v: Versioned = serde_json::from_str(text).map_err(json_err)?;
        if v.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::Version {
                path: path.into(),
                found: v.version,
            });
        }
        let f: SnapshotFile = serde_json::from_str(text).map_err(json_err)?;
        let invalid = |what: String| SnapshotError::Invalid {
            path: path.into(),
            what,
        };
        if f.program != ballast::ID.to_string() {
            return Err(invalid(format!(
                "program {} is not this keeper's Ballast program {}",
                f.program,
                ballast::ID
            )));
        }
        let addr = |field: &str, s: &str| -> Result<Address, SnapshotError> {
            s.parse()
                .map_err(|e| invalid(format!("{field} {s:?} is not a base58 address ({e})")))
        };
        let market = addr("market", &f.market)?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut accounts = Vec::with_capacity(f.accounts.len());
        for (i, a) in f.accounts.iter().enumerate() {
            let k = addr(&format!("accounts[{i}].address"), &a.address)?;
            let owner = addr(&format!("accounts[{i}].owner"), &a.owner)?;
            let data = b64
                .decode(&a.data)
                .map_err(|e| invalid(format!("accounts[{i}] ({k}): data is not base64 ({e})")))?;
            accounts.push((
                a.role,
                k,
                RawAccount {
                    lamports: a.lamports,
                    owner,
                    data,
                },
            ));
        }
        Self::from_parts(market, f.slot, f.unix_time, accounts, path)
    }

    /// The keeper's liquidation scan over the snapshot at its unix time
    /// (strategy reserves included), as [`MarketSnapshot::load`] builds it
    /// from a live chain.
    pub fn market_snapshot(&self) -> MarketSnapshot {
        let reserves: Vec<(Pubkey, Reserve)> = self.reserves.clone();
        MarketSnapshot::new(
            self.market,
            &self.market_state,
            &reserves,
            &self.oracles,
            self.unix_time,
        )
        .with_strategies(&self.deployed_strategies())
    }

    /// The strategy reserves of reserves with shares deployed (what
    /// [`MarketSnapshot::load`] reads).
    fn deployed_strategies(&self) -> Vec<(Pubkey, Reserve)> {
        self.reserves
            .iter()
            .filter(|(_, r)| r.treasury.deployed_shares != 0)
            .filter_map(|(_, r)| {
                self.strategies
                    .iter()
                    .find(|(k, _)| *k == r.treasury.strategy_reserve)
                    .cloned()
            })
            .collect()
    }

    /// The decoded state (see [`ChainState`]).
    pub fn to_chain_state(&self) -> ChainState {
        (
            self.market,
            self.market_state,
            self.reserves.clone(),
            self.obligations.clone(),
            self.oracles.clone(),
            self.unix_time,
        )
    }

    /// Counts by role, for the command's summary.
    pub fn counts(&self) -> HashMap<Role, usize> {
        let mut c = HashMap::new();
        for (role, _, _) in &self.accounts {
            *c.entry(*role).or_default() += 1;
        }
        c
    }
}
