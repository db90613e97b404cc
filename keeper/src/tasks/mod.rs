//! Keeper tasks, one module each, in the order [`crate::keeper_loop`] runs
//! them. Each reads the chain through [`crate::chain::Chain`], decides with
//! the program's own engine, and sends instructions built by [`crate::ix`].
//!
//! * [`volatility`]: samples oracle prices, estimates volatility, pushes it;
//! * [`interest`]: accrues interest on reserves not accrued lately;
//! * [`liquidation`]: liquidates unhealthy obligations, worst first;
//! * [`bad_debt`]: sweeps dust collateral, then socialises bad debt;
//! * [`rebalance`]: moves liquidity between vaults and treasury strategies.

pub mod bad_debt;
pub mod interest;
pub mod liquidation;
pub mod rebalance;
pub mod volatility;

/// Why a task run stopped (not a single transaction's failure, which the
/// task reports): a chain call failed, or the market could not be loaded.
pub type TaskError = crate::accounts::LoadError;
