//! Keeper tasks: each reads the chain through [`crate::chain::Chain`], decides
//! with the program's own engine, and sends instructions built by
//! [`crate::ix`].

pub mod bad_debt;
pub mod liquidation;
pub mod rebalance;
