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
//! * [`keeper_loop`]: the keeper loop, [`keeper_loop::Keeper::tick`], which
//!   runs every task in order over the [`chain::Chain`] trait.
//! * [`market_def`]: market definitions (`migrations/*.toml`) and `market
//!   apply`.
//! * [`replay`]: `ballast-keeper replay`, historical prices through the
//!   embedded chain with a seeded population (`docs/REPLAY.md`);
//!   [`replay_chart`] draws its PNG.
#![deny(missing_docs)]

pub mod chain;
pub mod cli;
pub mod embedded;
pub mod events;
pub mod ix;
pub mod keeper_loop;
pub mod live;
pub mod market_def;
pub mod policy;
pub mod prices;
pub mod replay;
pub mod replay_chart;
pub mod rpc;
pub mod scan;
pub mod tasks;
pub mod vol;

/// The program id the keeper talks to by default.
pub fn program_id() -> anchor_lang::prelude::Pubkey {
    ballast::ID
}
