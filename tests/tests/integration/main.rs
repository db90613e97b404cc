//! Ballast's LiteSVM integration tests, one binary: every module below runs
//! the real `target/deploy/ballast.so` (and the example vault's `.so`) in
//! LiteSVM through the helpers of `ballast_tests` (tests/src).
//!
//! One test binary rather than one per file: each binary links Agave's
//! crates, and two dozen of them cost minutes of linking and gigabytes of
//! disk (CI once ran out of disk linking the twentieth). Run one module with
//! `cargo test -p ballast-tests --test integration liquidation::`.

mod alm;
mod bad_debt;
mod equity_withdrawals;
mod events;
mod failures_market_reserve;
mod failures_oracle_health;
mod failures_positions;
mod fuzz;
mod grief;
mod keeper_tick;
mod lending_smoke;
mod liquidation;
mod liquidation_bot;
mod liquidation_bound;
mod liquidation_dust;
mod liquidation_liveness;
mod liquidation_shares;
mod liquidation_smoke;
mod liquidation_write_off;
mod liquidity;
mod market;
mod market_apply;
mod mock_pyth_receiver;
mod obligation_stress;
mod oracle_authority;
mod peers_smoke;
mod prop_accounting;
mod rebalance_task;
mod replay;
mod scenario_two_users;
mod snapshot;
mod socialize_dust;
mod status;
mod term_deposits;
mod term_loans;
mod treasury;
mod treasury_health;
mod vault_example;
mod volatility;
mod volatility_keeper;
