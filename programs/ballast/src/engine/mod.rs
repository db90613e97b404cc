//! The economics of Ballast as plain functions over plain state: no
//! `AccountInfo`, no runtime, so they are unit-tested on the host and reused
//! by the keeper. Handlers in `instructions/` load accounts, call these and
//! write the results back.

pub mod bounds;
pub mod fx;
pub mod health;
pub mod liquidation;
pub mod liquidity;
pub mod oracle;
pub mod rates;
pub mod risk;
pub mod safe_math;
pub mod shares;
