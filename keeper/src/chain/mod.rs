//! What the keeper's tasks need from a chain, behind one trait, so the same
//! task code runs against the embedded LiteSVM backend (replay, tests) and a
//! Solana RPC cluster.
//!
//! This module is chain-neutral: the trait, its error and result types. The
//! backends are `embedded::EmbeddedChain` (cargo feature `embedded`) and
//! `rpc::RpcChain` (cargo feature `rpc`, `solana-rpc-client` 4.2, the last
//! release that builds on this workspace's rustc 1.95).

use anchor_lang::Discriminator;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;

/// The runtime's transaction error, as both backends report it (LiteSVM
/// re-exports this same type; the RPC client decodes into it).
pub use solana_transaction_error::TransactionError;

#[cfg(feature = "embedded")]
pub mod embedded;
#[cfg(feature = "rpc")]
pub mod rpc;

/// Why a chain call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The transaction was executed and failed.
    #[error("transaction failed: {err:?}")]
    Transaction {
        /// The runtime's error (a Ballast error is `Custom(6000 + n)`).
        err: TransactionError,
        /// The program logs.
        logs: Vec<String>,
    },
    /// The backend could not be reached or answered nonsense.
    #[error("chain backend: {0}")]
    Backend(String),
}

/// A successful transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Compute units consumed.
    pub compute_units: u64,
    /// The program logs.
    pub logs: Vec<String>,
}

/// The chain operations the keeper uses.
pub trait Chain {
    /// The fee payer of [`Chain::send`].
    fn payer(&self) -> Address;
    /// The cluster's unix time, seconds.
    fn unix_time(&self) -> Result<i64, ChainError>;
    /// An account's data, if it exists.
    fn account_data(&self, address: &Address) -> Result<Option<Vec<u8>>, ChainError>;
    /// Every account of the Ballast program whose data starts with the
    /// Anchor discriminator of `T` and whose first field (the 32 bytes after
    /// it) is `market`: the `getProgramAccounts` filters the RPC backend uses.
    fn ballast_accounts<T: Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError>;
    /// Sends `ixs` in one transaction signed by the payer and `signers`.
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, ChainError>;
}
