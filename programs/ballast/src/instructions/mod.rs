//! One instruction per file: its `#[derive(Accounts)]` struct and `handler`.
//!
//! Anchor's `#[program]` needs the glob re-exports (it reaches the hidden
//! client modules that `derive(Accounts)` emits); every file's `handler` is
//! called by its module path from `lib.rs`, never through the glob.
#![allow(ambiguous_glob_reexports)]

pub mod accrue_interest;
pub mod admin_transfer;
pub mod balance_sheet;
pub mod borrow;
pub mod borrow_term;
pub mod convert_term_debt;
pub mod deposit;
pub mod deposit_term;
pub mod init_market;
pub mod init_obligation;
pub mod init_reserve;
pub mod liquidate;
pub mod liquidate_for_shares;
pub mod maturity_ladder;
pub mod obligation_stress;
pub mod rebalance;
pub mod recall_treasury;
pub mod repay;
pub mod repay_term;
pub mod set_strategy_approval;
pub mod set_term_config;
pub mod set_treasury_strategy;
pub mod socialize_bad_debt;
pub mod update_market;
pub mod update_reserve_config;
pub mod update_volatility;
pub mod withdraw;
pub mod withdraw_insurance;
pub mod withdraw_protocol_fees;
pub mod withdraw_term;

pub use accrue_interest::*;
pub use admin_transfer::*;
pub use balance_sheet::*;
pub use borrow::*;
pub use borrow_term::*;
pub use convert_term_debt::*;
pub use deposit::*;
pub use deposit_term::*;
pub use init_market::*;
pub use init_obligation::*;
pub use init_reserve::*;
pub use liquidate::*;
pub use liquidate_for_shares::*;
pub use maturity_ladder::*;
pub use obligation_stress::*;
pub use rebalance::*;
pub use recall_treasury::*;
pub use repay::*;
pub use repay_term::*;
pub use set_strategy_approval::*;
pub use set_term_config::*;
pub use set_treasury_strategy::*;
pub use socialize_bad_debt::*;
pub use update_market::*;
pub use update_reserve_config::*;
pub use update_volatility::*;
pub use withdraw::*;
pub use withdraw_insurance::*;
pub use withdraw_protocol_fees::*;
pub use withdraw_term::*;
