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
//! * `replay` (feature `embedded`): historical prices through the embedded
//!   chain with a seeded population (`docs/REPLAY.md`), and its chart.
//! * [`cli`]: the command line (arguments, one module per subcommand).
#![deny(missing_docs)]

pub mod accounts;
pub mod chain;
pub mod cli;
pub mod events;
pub mod ix;
pub mod keeper_loop;
pub mod market;
#[cfg(feature = "embedded")]
pub mod replay;
pub mod scan;
pub mod tasks;
pub mod volatility;
