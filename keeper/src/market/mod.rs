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
//! [`apply`] works over the [`crate::chain::Chain`] trait: it creates the market and the
//! reserves that do not exist, and sends `update_market` /
//! `update_reserve_config` only for those whose on-chain values differ from
//! the file, and `set_term_config` for each reserve whose term
//! configuration differs from its `[reserves.term]` (all zero, term loans
//! off, without one). A second apply of the same file sends nothing
//! ([`ApplyReport::transactions`] is 0). On the embedded chain (cargo
//! feature `embedded`), `provision_embedded` first creates the mints and
//! oracles marked `"create"`.
//!
//! # Modules
//!
//! * `schema`: the file's tables as types, parsing, and the program's
//!   configuration types built from them;
//! * `validate`: whether a definition is whole and consistent, naming the
//!   field at fault;
//! * `bounds`: the ranges the program accepts, as the keeper mirrors them
//!   (literals; the one place to swap for the program's own bounds);
//! * `apply`: making a chain match a definition;
//! * `embedded`: creating the `"create"` mints and oracles on the embedded
//!   chain.

mod apply;
mod bounds;
#[cfg(feature = "embedded")]
mod embedded;
mod schema;
#[cfg(test)]
mod tests;
mod validate;

pub use apply::{apply, config_diff, resolve_existing, ApplyReport, DeployedReserve, Deployment};
#[cfg(feature = "embedded")]
pub use embedded::provision_embedded;
pub use schema::{
    AccountRef, CurveDef, DynamicDef, LiquidationDef, LiquidityDef, MarketDef, MarketSection,
    PolicyChoice, PolicyName, ReplaySection, ReserveDef, RiskDef, StressAssetDef, StressSection,
    TermDef,
};

/// The replay's market, compiled in (`migrations/replay-sol-usdc.toml`), so
/// that the binary runs the replay from any directory.
pub const REPLAY_SOL_USDC: &str = include_str!("../../../migrations/replay-sol-usdc.toml");
