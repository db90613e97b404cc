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

/// The log line the RPC backend appends to a transaction that passed its
/// simulation and then failed on chain: the state it read changed in
/// between (another keeper acted first, in the same block or just before).
pub const LOST_RACE_LOG: &str =
    "ballast-keeper: passed simulation, failed on chain: the state changed in between";

/// Whether `e` is a transaction that passed simulation and failed on chain
/// (see [`LOST_RACE_LOG`]): a race lost, not a refusal of the keeper's
/// request as such.
pub fn lost_race(e: &ChainError) -> bool {
    matches!(e, ChainError::Transaction { logs, .. } if logs.iter().any(|l| l == LOST_RACE_LOG))
}

/// A successful transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Compute units consumed.
    pub compute_units: u64,
    /// The program logs.
    pub logs: Vec<String>,
}

/// A simulated transaction: what it would do, nothing written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simulated {
    /// Compute units it would consume.
    pub compute_units: u64,
    /// The program logs.
    pub logs: Vec<String>,
    /// The data of each account asked for, after the transaction (`None`
    /// when it would not exist).
    pub accounts: Vec<Option<Vec<u8>>>,
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
    /// Simulates `ixs` as [`Chain::send`] would send them and returns the
    /// data of `accounts` afterwards (the user CLI's previews); a refusal is
    /// [`ChainError::Transaction`] with the logs. The default: this chain
    /// cannot simulate.
    fn simulate(
        &self,
        _ixs: &[Instruction],
        _signers: &[&Keypair],
        _accounts: &[Address],
    ) -> Result<Simulated, ChainError> {
        Err(ChainError::Backend("this chain cannot simulate".into()))
    }
    /// An account's lamports, owner and data, if it exists (`snapshot`).
    /// The default: this chain cannot say.
    fn account(&self, _address: &Address) -> Result<Option<RawAccount>, ChainError> {
        Err(ChainError::Backend(
            "this chain cannot read account owners and lamports".into(),
        ))
    }
    /// [`Chain::ballast_accounts`] with lamports and owner (`snapshot`). The
    /// default: the scan, then [`Chain::account`] for each.
    fn ballast_raw_accounts<T: Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, RawAccount)>, ChainError> {
        let mut out = vec![];
        for (k, _) in self.ballast_accounts::<T>(market)? {
            if let Some(a) = self.account(&k)? {
                out.push((k, a));
            }
        }
        Ok(out)
    }
    /// The current slot: the first 8 bytes of the Clock sysvar.
    fn slot(&self) -> Result<u64, ChainError> {
        let clock = self
            .account_data(&CLOCK_SYSVAR)?
            .ok_or_else(|| ChainError::Backend("no Clock sysvar account".into()))?;
        clock
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
            .ok_or_else(|| ChainError::Backend("Clock sysvar data too short".into()))
    }
}

/// The Clock sysvar's address.
pub const CLOCK_SYSVAR: Address =
    Address::from_str_const("SysvarC1ock11111111111111111111111111111111");

/// An account as a snapshot keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawAccount {
    /// Lamports.
    pub lamports: u64,
    /// The owning program.
    pub owner: Address,
    /// The data.
    pub data: Vec<u8>,
}
