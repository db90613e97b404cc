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
#![deny(missing_docs)]

pub mod cli;
pub mod embedded;
pub mod ix;

/// The program id the keeper talks to by default.
pub fn program_id() -> anchor_lang::prelude::Pubkey {
    ballast::ID
}
