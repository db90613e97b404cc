//! # Ballast
//!
//! An Anchor program that holds a lending market's balance sheet on-chain:
//!
//! * **Market** ([`state::Market`]): the admin, the risk authority (the only key
//!   allowed to push volatility) and the pause switch.
//! * **Reserves** (one per mint): the assets (liquid vault, deployed treasury,
//!   outstanding loans), the depositors' claims (liabilities) and the protocol's
//!   equity (fees, insurance).
//! * **Obligations**: a borrower's collateral and debt positions, margined
//!   together by a fixed-point engine.
//!
//! Handlers are thin: they load and validate accounts and perform CPIs. The
//! economics live in plain functions over plain state so that they can be unit
//! tested without a runtime, and reused off-chain by the keeper
//! (`features = ["no-entrypoint"]`).
//!
//! See `../shared/SPEC.md` of the project for the design.
#![allow(unexpected_cfgs)]

#[cfg(target_arch = "bpf")]
use solana_compiler_builtins as _;

use anchor_lang::prelude::*;

#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod errors;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod events;
// (`idl-build` adds undocumented helpers, hence the `cfg_attr`.)
// Anchor's `derive(Accounts)` emits undocumented client structs, so
// `missing_docs` is enforced on the modules we write by hand only.
pub mod instructions;
#[cfg_attr(not(feature = "idl-build"), deny(missing_docs))]
pub mod state;

use instructions::*;

declare_id!("BaLQqwduFw7AKzwHdSoLaA8dwDfdoGqofzSC6g7kybKb");

/// The Ballast program's instructions. Each forwards to
/// `instructions::<name>::handler`; see those modules for accounts, checks and
/// errors.
#[program]
pub mod ballast {
    use super::*;

    /// Creates a lending market. The `admin` signs and pays; `market` is a
    /// fresh keypair account. Emits [`events::MarketInitialized`].
    ///
    /// Errors: the market account already exists (the system program refuses
    /// the allocation), `admin` did not sign.
    pub fn init_market(ctx: Context<InitMarket>, params: InitMarketParams) -> Result<()> {
        init_market::handler(ctx, params)
    }
}
