//! # ballast-keeper
//!
//! The off-chain half of Ballast: a library (chain backends, account
//! decoding, instruction builders, volatility, keeper tasks, the replay) and
//! the `ballast-keeper` binary built on it. It reuses the `ballast` program
//! crate (`no-entrypoint`) for account layouts, instruction types and the
//! margin engine, so that the keeper never carries a copy of on-chain math.
//!
//! ## Modules
//!
//! * [`chain`]: the [`chain::Chain`] trait the tasks run on, and its
//!   backends: `chain::embedded` (LiteSVM running the real `ballast.so`;
//!   feature `embedded`) and `chain::rpc` (a Solana cluster; feature `rpc`).
//! * [`accounts`]: decoding and encoding accounts (Ballast's zero-copy
//!   accounts, Pyth `PriceUpdateV2`), loading them from a chain, and
//!   [`scan::MarketSnapshot::load`].
//! * [`scan`]: the liquidation scan: scores obligations against a
//!   [`scan::MarketSnapshot`] with the program's health math and sizes their
//!   liquidations.
//! * [`ix`]: instruction builders and PDA derivations.
//! * [`events`]: Anchor events out of transaction logs.
//! * [`volatility`]: price files ([`volatility::candles`]), estimators
//!   ([`volatility::estimators`]) and the push policy
//!   ([`volatility::policy`]).
//! * [`tasks`]: one module per keeper task (volatility, interest,
//!   liquidation, bad debt, rebalance).
//! * [`keeper_loop`]: [`keeper_loop::Keeper::tick`], which runs the tasks in
//!   order.
//! * [`market`]: market definitions (`migrations/*.toml`) and `market apply`.
//! * `metrics` (feature `rpc`): the Prometheus metrics of `run
//!   --metrics-addr`.
//! * `replay` (feature `embedded`): historical prices through the embedded
//!   chain with a seeded population (`docs/REPLAY.md`), and its chart.
//! * [`status`]: `ballast-keeper status`, a market at a glance.
//! * [`alm`]: `ballast-keeper alm`, duration risk: the maturity ladder,
//!   repricing gap, durations, and ΔEVE / ΔNII under the IRRBB shocks.
//! * [`user`]: what the `ballast` binary (depositors and borrowers) does:
//!   obligations valued with the engine, operations previewed by simulation.
//! * [`cli`]: the command line (arguments, one module per subcommand).
//!
//! ## Cargo features
//!
//! `default = ["embedded", "rpc"]`. `embedded` brings LiteSVM and everything
//! that needs it; `rpc` brings `solana-rpc-client`. A keeper that only serves
//! a cluster builds with `--no-default-features --features rpc` and links no
//! simulator; its `replay`, `demo` and `market apply --url embedded` fail
//! with an error naming the missing feature.
//!
//! ## Example
//!
//! A [`chain::Chain`] is all the keeper reads through. Here a read-only one
//! over a map of accounts holds a reserve and its oracle; the snapshot the
//! liquidation scan scores against is loaded from it, the oracle's price
//! validated exactly as the program validates it:
//!
//! ```
//! use std::collections::HashMap;
//!
//! use anchor_lang::Discriminator;
//! use ballast::engine::fx::{WrappedFx, FX_ONE};
//! use ballast::state::{Market, Reserve};
//! use ballast_keeper::accounts::{decode_reserve, encode_account, PythPrice};
//! use ballast_keeper::chain::{Chain, ChainError, Sent};
//! use ballast_keeper::scan::MarketSnapshot;
//! use bytemuck::Zeroable;
//! use solana_address::Address;
//! use solana_instruction::Instruction;
//! use solana_keypair::Keypair;
//!
//! /// Accounts in a map (owned by the Ballast program unless they are
//! /// oracles), a fixed clock, no sending.
//! struct Accounts(HashMap<Address, Vec<u8>>);
//!
//! impl Chain for Accounts {
//!     fn payer(&self) -> Address {
//!         Address::default()
//!     }
//!     fn unix_time(&self) -> Result<i64, ChainError> {
//!         Ok(1_700_000_000)
//!     }
//!     fn account_data(&self, a: &Address) -> Result<Option<Vec<u8>>, ChainError> {
//!         Ok(self.0.get(a).cloned())
//!     }
//!     fn ballast_accounts<T: Discriminator>(
//!         &self,
//!         market: &Address,
//!     ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
//!         let ours = |d: &[u8]| d.starts_with(T::DISCRIMINATOR) && d[8..40] == market.to_bytes();
//!         Ok(self.0.iter().filter(|(_, d)| ours(d)).map(|(k, d)| (*k, d.clone())).collect())
//!     }
//!     fn send(&mut self, _: &[Instruction], _: &[&Keypair]) -> Result<Sent, ChainError> {
//!         Err(ChainError::Backend("read-only".into()))
//!     }
//! }
//!
//! let (market, reserve, oracle) = (Address::new_unique(), Address::new_unique(), Address::new_unique());
//! let now = 1_700_000_000;
//! let mut r = Reserve::zeroed();
//! r.market = market;
//! r.oracle = oracle;
//! r.mint_decimals = 9;
//! r.borrow_index = WrappedFx::new(FX_ONE);
//! r.last_update_ts = now;
//! r.config.oracle_feed_id = [7; 32];
//! r.config.oracle_max_age_secs = 60;
//! r.config.oracle_max_conf_bps = 200;
//!
//! let mut chain = Accounts(HashMap::new());
//! chain.0.insert(market, encode_account(&Market::zeroed()));
//! chain.0.insert(reserve, encode_account(&r));
//! chain.0.insert(oracle, PythPrice::usd([7; 32], 150.0, now - 5).to_account_data());
//! assert_eq!(decode_reserve(&chain.0[&reserve]).unwrap().oracle, oracle);
//!
//! let snapshot = MarketSnapshot::load(&chain, &market, now).unwrap();
//! assert_eq!(snapshot.reserves().len(), 1);
//! assert!(snapshot.price(&reserve).unwrap().is_ok(), "fresh and narrow: usable");
//!
//! // A minute and a half later the same price is stale for this reserve.
//! let later = MarketSnapshot::load(&chain, &market, now + 90).unwrap();
//! let why = later.price(&reserve).unwrap().unwrap_err();
//! assert!(why.to_string().contains("stale"), "{why}");
//! ```
#![deny(missing_docs)]

pub mod accounts;
pub mod alm;
pub mod chain;
pub mod cli;
pub mod events;
pub mod ix;
pub mod keeper_loop;
pub mod liquidators;
pub mod market;
#[cfg(feature = "rpc")]
pub mod metrics;
#[cfg(feature = "embedded")]
pub mod replay;
pub mod scan;
pub mod snapshot;
pub mod status;
#[cfg(feature = "stress")]
pub mod stress;
pub mod tasks;
pub mod user;
pub mod volatility;
