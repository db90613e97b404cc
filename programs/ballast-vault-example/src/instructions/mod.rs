//! One instruction per file: its `#[derive(Accounts)]` struct and `handler`.
#![allow(ambiguous_glob_reexports)]

pub mod deposit;
pub mod init_vault;
pub mod join;
pub mod set_min_coverage;
pub mod withdraw;

pub use deposit::*;
pub use init_vault::*;
pub use join::*;
pub use set_min_coverage::*;
pub use withdraw::*;
