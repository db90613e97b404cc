//! # ballast-keeper
//!
//! The off-chain half of Ballast: a library (chain backends, instruction
//! builders, volatility estimators, keeper tasks) and the `ballast-keeper`
//! binary built on it. It reuses the `ballast` program crate (`no-entrypoint`)
//! for account layouts, instruction types and the margin engine, so that the
//! keeper never carries a copy of on-chain math.
//!
//! * [`embedded`]: LiteSVM running the real `ballast.so` (the default backend,
//!   used by `replay` and by the integration tests).
//! * [`ix`]: instruction builders.
//! * [`scan`]: the liquidation scan: decodes obligations, scores them against
//!   a [`scan::MarketSnapshot`] (validated prices, reserve views) with the
//!   program's health and liquidation math, and sizes the liquidations.
//! * [`prices`]: candle CSV reader (the `shared/data` files and Binance kline
//!   dumps).
//! * [`vol`]: volatility estimators (EWMA, rolling realised, GARCH(1,1)) and
//!   [`vol::latest_sigma`], behind `ballast-keeper vol`.
#![deny(missing_docs)]

pub mod chain;
pub mod cli;
pub mod embedded;
pub mod ix;
pub mod policy;
pub mod prices;
pub mod scan;
pub mod tasks;
pub mod vol;

/// The program id the keeper talks to by default.
pub fn program_id() -> anchor_lang::prelude::Pubkey {
    ballast::ID
}
