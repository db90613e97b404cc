//! One instruction per file: its `#[derive(Accounts)]` struct and `handler`.

pub mod init_market;

pub use init_market::*;
