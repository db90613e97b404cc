//! The economics of Ballast as plain functions over plain state: no
//! `AccountInfo`, no runtime, so they are unit-tested on the host and reused
//! by the keeper. Handlers in `instructions/` load accounts, call these and
//! write the results back.
//!
//! The engine is the bottom layer: it imports nothing from `state`,
//! `runtime` or `instructions` (only [`crate::errors`]). Account types embed
//! its plain data types ([`position::Position`], [`risk::RiskState`],
//! [`treasury::TreasuryState`], the configurations), and `state::Reserve`
//! implements [`book::ReserveBook`], the view of a reserve's books that the
//! treasury and balance-sheet functions take.
//!
//! * Arithmetic: [`fx`] (the fixed-point type and its named roundings),
//!   [`safe_math`] (checked integers that name the overflowing line).
//! * Margin: [`position`], [`oracle`] (prices and their checks), [`health`].
//! * Decisions, each the one function a handler and the keeper both call:
//!   [`liquidation::plan_liquidation`], [`treasury::plan_rebalance`],
//!   [`risk::accept_push`], [`balance_sheet::balance_sheet`].
//! * Accounting: [`shares`], [`rates`] (interest), [`liquidity`] (outflow
//!   limiter, coverage), [`book`].
//! * Configuration ranges: [`bounds`].
//! * The protocol's equity leaving a reserve: [`equity::fee_withdrawal`].
//! * Fixed-rate term loans (zero-coupon pricing, maturity buckets): [`term`].
//! * An obligation under a price shock, with its liquidation prices:
//!   [`stress::obligation_stress`].

pub mod balance_sheet;
pub mod book;
pub mod bounds;
pub mod equity;
pub mod fx;
pub mod health;
pub mod liquidation;
pub mod liquidity;
pub mod oracle;
pub mod position;
pub mod rates;
pub mod risk;
pub mod safe_math;
pub mod shares;
pub mod stress;
pub mod term;
pub mod term_deposit;
pub mod treasury;
