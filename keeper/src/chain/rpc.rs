//! The Solana RPC backend of the [`Chain`] trait, on `solana-rpc-client`'s
//! blocking [`RpcClient`].
//!
//! * Obligations and reserves come from one `getProgramAccounts` each, filtered
//!   on the server by two base58 `memcmp`s: the Anchor discriminator at offset 0 and
//!   the market at offset 8 (every Ballast account that belongs to a market
//!   stores it as its first field). See [`program_accounts_config`].
//! * Every transaction is simulated first: a failing one returns
//!   [`ChainError::Transaction`] with the program logs and costs no fee. The
//!   simulated compute units, plus a margin, become the transaction's compute
//!   unit limit, so the priority fee is paid on what is used rather than on
//!   the 200,000-per-instruction default.
//! * Priority fee: a percentile of `getRecentPrioritizationFees` over the
//!   transaction's writable accounts, clamped to `[min, max]` micro-lamports
//!   per compute unit ([`PriorityFeePolicy`]).
//! * Time: the `Clock` sysvar's `unix_timestamp`, the value the program itself
//!   reads, not the local clock.
//!
//! ## Faults
//!
//! Every request has a timeout ([`RetryPolicy::timeout`]) and is retried on
//! a transient fault ([`RpcErrorKind::is_transient`]: a timeout, a refused,
//! reset or dropped connection, a 5xx answer, a 429 once the client's own
//! 429 retries are spent, a node that is behind) with exponential backoff
//! and jitter ([`RetryPolicy::backoff`]); a permanent error (a program error,
//! bad parameters) is returned at once. Every request, fault and retry is
//! reported to an [`RpcObserver`] (the keeper's metrics).
//!
//! A transaction is simulated on a recent blockhash (the node replaces it),
//! then signed on a fresh one and sent with its last valid block height.
//! Its outcome is decided by its signature's status only: while the
//! blockhash is valid the *same* signed transaction may be broadcast again
//! (it cannot execute twice: one signature, one execution); once the
//! blockhash has expired with the signature unseen, it can never land and
//! the send fails as [`ChainError::Backend`] saying so. A transaction whose
//! answer was lost (a timeout, a reset after the node got it) is therefore
//! never sent again blindly: its status is checked, and a new transaction
//! (e.g. for the same liquidation) is only ever built by the next tick,
//! from the chain's state read afresh.

use std::sync::Arc;
use std::time::{Duration, Instant};

use solana_account_decoder_client_types::UiAccountEncoding;
use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::client_error::ErrorKind;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSendTransactionConfig,
    RpcSimulateTransactionConfig, RpcTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_rpc_client_api::request::RpcError;
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::chain::{Chain, ChainError, Sent, Simulated};

/// How the RPC backend prices compute units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriorityFeePolicy {
    /// Percentile of the recent prioritization fees to pay, 0..=100.
    pub percentile: u8,
    /// Least price, micro-lamports per compute unit.
    pub min_micro_lamports: u64,
    /// Greatest price, micro-lamports per compute unit (a cap on what a fee
    /// spike can cost the keeper).
    pub max_micro_lamports: u64,
    /// Compute-unit limit = simulated units × (1 + margin), bps.
    pub cu_margin_bps: u32,
}

impl Default for PriorityFeePolicy {
    /// The 75th percentile, between 1 and 1,000,000 micro-lamports per CU,
    /// 20% compute margin.
    fn default() -> Self {
        Self {
            percentile: 75,
            min_micro_lamports: 1,
            max_micro_lamports: 1_000_000,
            cu_margin_bps: 2_000,
        }
    }
}

impl PriorityFeePolicy {
    /// The price to pay given recent per-slot fees (micro-lamports per CU):
    /// the `percentile`-th of them (nearest rank, so 100 is the largest),
    /// clamped to `[min, max]`; `min` when there are none.
    pub fn price(&self, recent: &[u64]) -> u64 {
        let mut fees = recent.to_vec();
        fees.sort_unstable();
        let picked = if fees.is_empty() {
            0
        } else {
            let p = usize::from(self.percentile.min(100));
            // Nearest-rank percentile: ceil(p/100 · n), 1-based.
            let rank = (p * fees.len()).div_ceil(100).max(1);
            fees[rank - 1]
        };
        picked.clamp(
            self.min_micro_lamports,
            self.max_micro_lamports.max(self.min_micro_lamports),
        )
    }

    /// The compute-unit limit for a transaction that simulated at `units`:
    /// `units × (1 + margin)`, rounded up, at most 1,400,000 (the runtime's
    /// per-transaction cap).
    pub fn cu_limit(&self, units: u64) -> u32 {
        let with_margin = units.saturating_mul(10_000 + u64::from(self.cu_margin_bps));
        with_margin.div_ceil(10_000).min(1_400_000) as u32
    }
}

/// The `getProgramAccounts` configuration that selects accounts whose data
/// starts with `discriminator` followed by `market` (offset 8), in base64.
pub fn program_accounts_config(
    discriminator: &[u8],
    market: &Address,
    commitment: CommitmentConfig,
) -> RpcProgramAccountsConfig {
    RpcProgramAccountsConfig {
        filters: Some(vec![
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(0, discriminator)),
            RpcFilterType::Memcmp(Memcmp::new_base58_encoded(
                discriminator.len(),
                &market.to_bytes(),
            )),
        ]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(commitment),
            ..Default::default()
        },
        with_context: Some(false),
        sort_results: None,
    }
}

/// The unix timestamp in a `Clock` sysvar account's data (bincode: slot,
/// epoch_start_timestamp, epoch, leader_schedule_epoch, unix_timestamp, each
/// 8 bytes little-endian), or `None` when the data is too short.
pub fn clock_unix_timestamp(data: &[u8]) -> Option<i64> {
    Some(i64::from_le_bytes(data.get(32..40)?.try_into().ok()?))
}

/// What kind of fault an RPC request met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpcErrorKind {
    /// No answer within the timeout.
    Timeout,
    /// The connection could not be opened.
    Connect,
    /// The connection was reset or closed before the answer (a drop, a
    /// restart of the node or a proxy).
    ConnectionClosed,
    /// `429 Too Many Requests`, still, after the client's own retries
    /// (which wait out `Retry-After`).
    RateLimited,
    /// A 5xx answer.
    ServerError,
    /// Another HTTP status.
    HttpStatus,
    /// A JSON-RPC answer the client could not use, or a node that says it
    /// is behind or lacks the slot asked for.
    NodeBehind,
    /// Anything that retrying will not change (a refused transaction, bad
    /// parameters, an answer that does not decode).
    Permanent,
}

impl RpcErrorKind {
    /// Classifies a client error.
    pub fn of(e: &ClientError) -> Self {
        match e.kind() {
            ErrorKind::Io(_) => RpcErrorKind::ConnectionClosed,
            ErrorKind::Reqwest(r) => {
                if r.is_timeout() {
                    RpcErrorKind::Timeout
                } else if let Some(status) = r.status() {
                    match status.as_u16() {
                        429 => RpcErrorKind::RateLimited,
                        500..=599 => RpcErrorKind::ServerError,
                        _ => RpcErrorKind::HttpStatus,
                    }
                } else if r.is_connect() {
                    RpcErrorKind::Connect
                } else {
                    RpcErrorKind::ConnectionClosed
                }
            }
            ErrorKind::RpcError(RpcError::RpcRequestError(_)) => RpcErrorKind::NodeBehind,
            // Node unhealthy, block not available, slot skipped, minimum
            // context slot not reached.
            ErrorKind::RpcError(RpcError::RpcResponseError {
                code: -32016 | -32014 | -32007 | -32005 | -32004,
                ..
            }) => RpcErrorKind::NodeBehind,
            _ => RpcErrorKind::Permanent,
        }
    }

    /// Whether a retry may succeed.
    pub fn is_transient(self) -> bool {
        !matches!(self, RpcErrorKind::Permanent | RpcErrorKind::HttpStatus)
    }

    /// The label in logs and metrics.
    pub fn label(self) -> &'static str {
        match self {
            RpcErrorKind::Timeout => "timeout",
            RpcErrorKind::Connect => "connect",
            RpcErrorKind::ConnectionClosed => "connection_closed",
            RpcErrorKind::RateLimited => "rate_limited",
            RpcErrorKind::ServerError => "server_error",
            RpcErrorKind::HttpStatus => "http_status",
            RpcErrorKind::NodeBehind => "node_behind",
            RpcErrorKind::Permanent => "permanent",
        }
    }
}

/// Timeouts and retries of the RPC backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Timeout of one HTTP request.
    pub timeout: Duration,
    /// Attempts per request on transient faults (1: no retry).
    pub attempts: u32,
    /// Backoff before the first retry; it doubles at each retry.
    pub base_backoff: Duration,
    /// Largest backoff.
    pub max_backoff: Duration,
    /// How often a sent transaction's status is polled, and the same
    /// signed transaction broadcast again while unseen.
    pub poll_interval: Duration,
    /// Broadcast an unseen transaction again after this long.
    pub rebroadcast_after: Duration,
    /// Give up waiting for a transaction after this long even if its
    /// blockhash cannot be shown to have expired (the node is unreachable):
    /// the send fails as "outcome unknown" and the next tick re-reads the
    /// chain.
    pub confirm_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 10 s per request, 4 attempts, backoff 200 ms doubling to 2 s with
    /// jitter, polling every 400 ms, rebroadcast every 2 s, 90 s at most per
    /// transaction (a blockhash lives about 60-90 s).
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            attempts: 4,
            base_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(2),
            poll_interval: Duration::from_millis(400),
            rebroadcast_after: Duration::from_secs(2),
            confirm_timeout: Duration::from_secs(90),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1-based): `d = min(max,
    /// base * 2^(retry-1))`, then "equal jitter": `d/2 + u * d/2` with `u`
    /// in [0, 1) (so that keepers retrying together spread out).
    pub fn backoff(&self, retry: u32, u: f64) -> Duration {
        let exp = self
            .base_backoff
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let d = exp.min(self.max_backoff);
        d / 2 + d.mul_f64(u.clamp(0.0, 1.0) / 2.0)
    }
}

/// Receives what the RPC backend does (the keeper's metrics implement it).
pub trait RpcObserver: Send + Sync {
    /// One request attempt of `method` took `secs`; `error` when it failed.
    fn request(&self, method: &'static str, secs: f64, error: Option<RpcErrorKind>);
    /// A request of `method` is retried after a transient fault.
    fn retry(&self, method: &'static str);
    /// A sent transaction was broadcast again (same signature).
    fn rebroadcast(&self);
    /// A sent transaction's outcome: `confirmed`, `failed`, `expired` (its
    /// blockhash expired unseen: it never ran) or `unknown` (the node could
    /// not be asked in time).
    fn transaction(&self, outcome: &'static str);
    /// The client's cumulative time spent waiting out 429 answers, seconds
    /// (its own retries, before a request returns), after each request.
    fn rate_limited(&self, _total_secs: f64) {}
}

/// A uniform draw in [0, 1) for jitter (SplitMix64 over a counter seeded by
/// the clock; no need for a cryptographic generator).
fn jitter_draw() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = STATE
        .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        .wrapping_add(seed);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// A [`Chain`] on a Solana RPC cluster.
pub struct RpcChain {
    client: RpcClient,
    payer: Keypair,
    commitment: CommitmentConfig,
    /// How compute units are priced and limited.
    pub fees: PriorityFeePolicy,
    /// Timeouts and retries.
    pub retry: RetryPolicy,
    observer: Option<Arc<dyn RpcObserver>>,
}

impl RpcChain {
    /// A backend on `url` (e.g. `https://api.devnet.solana.com`) at
    /// `confirmed` commitment, paying with `payer`, with the default
    /// [`RetryPolicy`].
    pub fn new(url: &str, payer: Keypair) -> Self {
        Self::with_policy(url, payer, RetryPolicy::default())
    }

    /// A backend on `url` with `retry` (its `timeout` applies to every
    /// request).
    pub fn with_policy(url: &str, payer: Keypair, retry: RetryPolicy) -> Self {
        let commitment = CommitmentConfig::confirmed();
        let mut chain = Self::with_client(
            RpcClient::new_with_timeout_and_commitment(url.to_string(), retry.timeout, commitment),
            payer,
        );
        chain.retry = retry;
        chain
    }

    /// A backend on an existing client (e.g. `RpcClient::new_mock_with_mocks`
    /// in tests).
    pub fn with_client(client: RpcClient, payer: Keypair) -> Self {
        let commitment = client.commitment();
        Self {
            client,
            payer,
            commitment,
            fees: PriorityFeePolicy::default(),
            retry: RetryPolicy::default(),
            observer: None,
        }
    }

    /// Reports every request, retry and transaction outcome to `observer`.
    pub fn observe(mut self, observer: Arc<dyn RpcObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The underlying client.
    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// Runs `f` (one RPC request, named `method`) with retries on transient
    /// faults, reporting each attempt.
    pub fn call<T>(
        &self,
        method: &'static str,
        f: impl Fn(&RpcClient) -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let mut attempt = 1;
        loop {
            let started = Instant::now();
            let r = f(&self.client);
            let kind = r.as_ref().err().map(RpcErrorKind::of);
            if let Some(o) = &self.observer {
                o.request(method, started.elapsed().as_secs_f64(), kind);
                o.rate_limited(
                    self.client
                        .get_transport_stats()
                        .rate_limited_time
                        .as_secs_f64(),
                );
            }
            match (r, kind) {
                (Err(e), Some(k)) if k.is_transient() && attempt < self.retry.attempts => {
                    tracing::debug!(method, attempt, kind = k.label(), "RPC retry: {e}");
                    if let Some(o) = &self.observer {
                        o.retry(method);
                    }
                    std::thread::sleep(self.retry.backoff(attempt, jitter_draw()));
                    attempt += 1;
                }
                (r, _) => return r,
            }
        }
    }

    fn outcome(&self, outcome: &'static str) {
        if let Some(o) = &self.observer {
            o.transaction(outcome);
        }
    }

    /// The price this backend would pay now for a transaction writing
    /// `writable`, micro-lamports per compute unit.
    pub fn priority_fee(&self, writable: &[Address]) -> Result<u64, ChainError> {
        let recent = self
            .call("getRecentPrioritizationFees", |c| {
                c.get_recent_prioritization_fees(writable)
            })
            .map_err(backend)?;
        let fees: Vec<u64> = recent.iter().map(|f| f.prioritization_fee).collect();
        Ok(self.fees.price(&fees))
    }

    /// A recent blockhash and the last block height at which a transaction
    /// on it can land.
    fn blockhash(&self) -> Result<(solana_hash::Hash, u64), ChainError> {
        self.call("getLatestBlockhash", |c| {
            c.get_latest_blockhash_with_commitment(self.commitment)
        })
        .map_err(backend)
    }

    fn sign(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        cu_limit: u32,
        cu_price: u64,
        blockhash: solana_hash::Hash,
    ) -> Result<Transaction, ChainError> {
        let mut all = Vec::with_capacity(ixs.len() + 2);
        all.push(ComputeBudgetInstruction::set_compute_unit_limit(cu_limit));
        all.push(ComputeBudgetInstruction::set_compute_unit_price(cu_price));
        all.extend_from_slice(ixs);
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().copied());
        let mut tx = Transaction::new_with_payer(&all, Some(&self.payer.pubkey()));
        tx.try_sign(&keys, blockhash)
            .map_err(|e| ChainError::Backend(format!("signing: {e}")))?;
        Ok(tx)
    }

    /// Sends `tx` (valid until block height `last_valid`) and waits for its
    /// signature's status, broadcasting the same transaction again while it
    /// is unseen (see the module docs). Returns the executed transaction's
    /// logs when the node has them.
    fn send_and_watch(
        &self,
        tx: &Transaction,
        last_valid: u64,
    ) -> Result<Option<Vec<String>>, ChainError> {
        let sig = tx.signatures[0];
        let config = RpcSendTransactionConfig {
            skip_preflight: true,
            max_retries: Some(0),
            ..Default::default()
        };
        let started = Instant::now();
        let mut broadcast_at: Option<Instant> = None;
        loop {
            if broadcast_at.is_none_or(|t| t.elapsed() >= self.retry.rebroadcast_after) {
                if broadcast_at.is_some() {
                    if let Some(o) = &self.observer {
                        o.rebroadcast();
                    }
                }
                // A failure here is not an outcome: the node may have the
                // transaction anyway; its status decides.
                if let Err(e) = self.call("sendTransaction", |c| {
                    c.send_transaction_with_config(tx, config)
                }) {
                    tracing::debug!(%sig, "sendTransaction: {e}");
                }
                broadcast_at = Some(Instant::now());
            }
            std::thread::sleep(self.retry.poll_interval);
            match self.call("getSignatureStatuses", |c| c.get_signature_statuses(&[sig])) {
                Ok(r) => match r.value.into_iter().next().flatten() {
                    Some(st) if st.err.is_some() => {
                        self.outcome("failed");
                        let err = st.err.expect("checked");
                        let mut logs = self.logs(&sig).unwrap_or_default();
                        // It passed its simulation moments ago.
                        logs.push(crate::chain::LOST_RACE_LOG.to_string());
                        return Err(ChainError::Transaction { err, logs });
                    }
                    Some(st) if st.satisfies_commitment(self.commitment) => {
                        self.outcome("confirmed");
                        return Ok(self.logs(&sig));
                    }
                    _ => {}
                },
                Err(e) => tracing::debug!(%sig, "getSignatureStatuses: {e}"),
            }
            // Unseen: has its blockhash expired (then it never ran)?
            if let Ok(height) = self.call("getBlockHeight", |c| c.get_block_height()) {
                if height > last_valid {
                    // One last look: it may have landed just before.
                    if let Ok(r) =
                        self.call("getSignatureStatuses", |c| c.get_signature_statuses(&[sig]))
                    {
                        if let Some(st) = r.value.into_iter().next().flatten() {
                            if st.err.is_none() {
                                self.outcome("confirmed");
                                return Ok(self.logs(&sig));
                            }
                        }
                    }
                    self.outcome("expired");
                    return Err(ChainError::Backend(format!(
                        "transaction {sig} expired unconfirmed (block height {height} > last \
                         valid {last_valid}): it never ran and is not sent again"
                    )));
                }
            }
            if started.elapsed() > self.retry.confirm_timeout {
                self.outcome("unknown");
                return Err(ChainError::Backend(format!(
                    "transaction {sig}: outcome unknown after {:?} (the node could not be \
                     asked); not sent again, the next tick re-reads the chain",
                    self.retry.confirm_timeout
                )));
            }
        }
    }

    /// The logs of a confirmed transaction, if the node can give them.
    fn logs(&self, sig: &solana_signature::Signature) -> Option<Vec<String>> {
        let tx = self
            .call("getTransaction", |c| {
                c.get_transaction_with_config(
                    sig,
                    RpcTransactionConfig {
                        encoding: None,
                        commitment: Some(self.commitment),
                        max_supported_transaction_version: Some(0),
                    },
                )
            })
            .ok()?;
        Option::<Vec<String>>::from(tx.transaction.meta?.log_messages)
    }
}

fn backend(e: ClientError) -> ChainError {
    match e.kind.get_transaction_error() {
        Some(err) => ChainError::Transaction {
            err,
            logs: Vec::new(),
        },
        None => ChainError::Backend(format!("{} ({})", e, RpcErrorKind::of(&e).label())),
    }
}

/// An RPC account's lamports, owner and (base64) data.
fn raw_account(
    address: &Address,
    a: &solana_account_decoder_client_types::UiAccount,
) -> Result<super::RawAccount, ChainError> {
    let data = a
        .data
        .decode()
        .ok_or_else(|| ChainError::Backend(format!("undecodable data of {address}")))?;
    let owner = a
        .owner
        .parse()
        .map_err(|e| ChainError::Backend(format!("owner of {address}: {e}")))?;
    Ok(super::RawAccount {
        lamports: a.lamports,
        owner,
        data,
    })
}

impl Chain for RpcChain {
    fn payer(&self) -> Address {
        self.payer.pubkey()
    }

    fn unix_time(&self) -> Result<i64, ChainError> {
        let clock = self
            .account_data(&solana_sdk_ids::sysvar::clock::ID)?
            .ok_or_else(|| ChainError::Backend("no Clock sysvar account".into()))?;
        clock_unix_timestamp(&clock)
            .ok_or_else(|| ChainError::Backend("Clock sysvar data too short".into()))
    }

    /// One account through `getMultipleAccounts` (whose errors keep their
    /// kind; `get_account_with_commitment` folds every error into an
    /// "AccountNotFound" message, which could not be told from a fault).
    fn account_data(&self, address: &Address) -> Result<Option<Vec<u8>>, ChainError> {
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.commitment),
            ..Default::default()
        };
        let accounts = self
            .call("getMultipleAccounts", |c| {
                c.get_multiple_ui_accounts_with_config(&[*address], config.clone())
            })
            .map_err(backend)?
            .value;
        match accounts.into_iter().next().flatten() {
            None => Ok(None),
            Some(a) => a
                .data
                .decode()
                .map(Some)
                .ok_or_else(|| ChainError::Backend(format!("undecodable data of {address}"))),
        }
    }

    fn account(&self, address: &Address) -> Result<Option<super::RawAccount>, ChainError> {
        let config = RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            commitment: Some(self.commitment),
            ..Default::default()
        };
        let accounts = self
            .call("getMultipleAccounts", |c| {
                c.get_multiple_ui_accounts_with_config(&[*address], config.clone())
            })
            .map_err(backend)?
            .value;
        match accounts.into_iter().next().flatten() {
            None => Ok(None),
            Some(a) => raw_account(address, &a).map(Some),
        }
    }

    fn ballast_raw_accounts<T: anchor_lang::Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, super::RawAccount)>, ChainError> {
        let config = program_accounts_config(T::DISCRIMINATOR, market, self.commitment);
        let accounts = self
            .call("getProgramAccounts", |c| {
                c.get_program_ui_accounts_with_config(&ballast::ID, config.clone())
            })
            .map_err(backend)?;
        accounts
            .into_iter()
            .map(|(k, a)| raw_account(&k, &a).map(|r| (k, r)))
            .collect()
    }

    fn ballast_accounts<T: anchor_lang::Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
        let config = program_accounts_config(T::DISCRIMINATOR, market, self.commitment);
        let accounts = self
            .call("getProgramAccounts", |c| {
                c.get_program_ui_accounts_with_config(&ballast::ID, config.clone())
            })
            .map_err(backend)?;
        accounts
            .into_iter()
            .map(|(k, a)| {
                a.data
                    .decode()
                    .map(|d| (k, d))
                    .ok_or_else(|| ChainError::Backend(format!("undecodable data of {k}")))
            })
            .collect()
    }

    fn simulate(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        accounts: &[Address],
    ) -> Result<Simulated, ChainError> {
        let (blockhash, _) = self.blockhash()?;
        let probe = self.sign(ixs, signers, 1_400_000, 0, blockhash)?;
        let sim = self
            .call("simulateTransaction", |c| {
                c.simulate_transaction_with_config(
                    &probe,
                    RpcSimulateTransactionConfig {
                        sig_verify: false,
                        replace_recent_blockhash: true,
                        commitment: Some(self.commitment),
                        accounts: Some(
                            solana_rpc_client_api::config::RpcSimulateTransactionAccountsConfig {
                                encoding: Some(UiAccountEncoding::Base64),
                                addresses: accounts.iter().map(|a| a.to_string()).collect(),
                            },
                        ),
                        ..Default::default()
                    },
                )
            })
            .map_err(backend)?
            .value;
        let logs = sim.logs.unwrap_or_default();
        if let Some(err) = sim.err {
            return Err(ChainError::Transaction {
                err: err.into(),
                logs,
            });
        }
        let datas = sim
            .accounts
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.and_then(|a| a.data.decode()))
            .collect();
        Ok(Simulated {
            compute_units: sim.units_consumed.unwrap_or(0),
            logs,
            accounts: datas,
        })
    }

    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, ChainError> {
        let writable: Vec<Address> = ixs
            .iter()
            .flat_map(|ix| ix.accounts.iter().filter(|m| m.is_writable))
            .map(|m| m.pubkey)
            .take(128)
            .collect();
        let price = self.priority_fee(&writable)?;
        // Simulate at the cap: a failure costs nothing and carries the logs.
        // The node puts its own recent blockhash in, so a stale one cannot
        // make the simulation fail.
        let (blockhash, _) = self.blockhash()?;
        let probe = self.sign(ixs, signers, 1_400_000, price, blockhash)?;
        let sim = self
            .call("simulateTransaction", |c| {
                c.simulate_transaction_with_config(
                    &probe,
                    RpcSimulateTransactionConfig {
                        sig_verify: false,
                        replace_recent_blockhash: true,
                        commitment: Some(self.commitment),
                        ..Default::default()
                    },
                )
            })
            .map_err(backend)?
            .value;
        let sim_logs = sim.logs.unwrap_or_default();
        if let Some(err) = sim.err {
            return Err(ChainError::Transaction {
                err: err.into(),
                logs: sim_logs,
            });
        }
        let units = sim.units_consumed.unwrap_or(200_000);
        // The real one on a fresh blockhash, watched until it lands or
        // provably cannot.
        let (blockhash, last_valid) = self.blockhash()?;
        let tx = self.sign(ixs, signers, self.fees.cu_limit(units), price, blockhash)?;
        let logs = self.send_and_watch(&tx, last_valid)?;
        Ok(Sent {
            compute_units: units,
            logs: logs.unwrap_or(sim_logs),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;
    use ballast::state::Obligation;
    use solana_rpc_client_api::request::RpcRequest;
    use std::collections::HashMap;

    #[test]
    fn price_is_the_nearest_rank_percentile_clamped() {
        let p = PriorityFeePolicy {
            percentile: 75,
            min_micro_lamports: 10,
            max_micro_lamports: 5_000,
            cu_margin_bps: 0,
        };
        // 8 fees: rank ceil(0.75 * 8) = 6 -> the 6th smallest.
        assert_eq!(p.price(&[800, 100, 300, 200, 700, 600, 400, 500]), 600);
        assert_eq!(p.price(&[]), 10, "no data: the floor");
        assert_eq!(p.price(&[0, 0, 1]), 10, "clamped up to min");
        assert_eq!(p.price(&[9_999_999]), 5_000, "clamped down to max");
        let max = PriorityFeePolicy {
            percentile: 100,
            ..p
        };
        assert_eq!(max.price(&[20, 30, 25]), 30);
        let min = PriorityFeePolicy { percentile: 0, ..p };
        assert_eq!(min.price(&[20, 30, 25]), 20, "rank is at least 1");
    }

    #[test]
    fn cu_limit_adds_the_margin_and_respects_the_cap() {
        let p = PriorityFeePolicy::default();
        assert_eq!(p.cu_limit(50_000), 60_000);
        assert_eq!(p.cu_limit(1), 2, "rounded up");
        assert_eq!(p.cu_limit(1_300_000), 1_400_000);
        assert_eq!(p.cu_limit(u64::MAX), 1_400_000);
    }

    #[test]
    fn filters_select_discriminator_then_market() {
        let market = Address::new_unique();
        let cfg = program_accounts_config(
            Obligation::DISCRIMINATOR,
            &market,
            CommitmentConfig::confirmed(),
        );
        let json = serde_json::to_value(&cfg).unwrap();
        let filters = json["filters"].as_array().unwrap();
        assert_eq!(filters.len(), 2);
        assert_eq!(filters[0]["memcmp"]["offset"], 0);
        assert_eq!(filters[0]["memcmp"]["encoding"], "base58");
        assert_eq!(filters[1]["memcmp"]["offset"], 8);
        assert_eq!(
            filters[0]["memcmp"]["bytes"].as_str().unwrap(),
            bs58_of(Obligation::DISCRIMINATOR)
        );
        assert_eq!(
            filters[1]["memcmp"]["bytes"].as_str().unwrap(),
            bs58_of(&market.to_bytes())
        );
        assert_ne!(
            bs58_of(&market.to_bytes()),
            bs58_of(&Address::new_unique().to_bytes())
        );
        assert_eq!(json["encoding"], "base64");
        assert_eq!(json["withContext"], false);
    }

    fn bs58_of(b: &[u8]) -> String {
        bs58::encode(b).into_string()
    }

    #[test]
    fn clock_timestamp_is_read_at_offset_32() {
        let mut data = vec![0u8; 40];
        data[32..40].copy_from_slice(&1_668_000_000i64.to_le_bytes());
        assert_eq!(clock_unix_timestamp(&data), Some(1_668_000_000));
        assert_eq!(clock_unix_timestamp(&data[..39]), None);
    }

    #[test]
    fn program_accounts_are_decoded_from_base64() {
        let market = Address::new_unique();
        let key = Address::new_unique();
        let mut data = Obligation::DISCRIMINATOR.to_vec();
        data.extend_from_slice(&market.to_bytes());
        data.extend_from_slice(&[7u8; 24]);
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
        let mut mocks = HashMap::new();
        mocks.insert(
            RpcRequest::GetProgramAccounts,
            serde_json::json!([{
                "pubkey": key.to_string(),
                "account": {
                    "lamports": 1_000_000u64,
                    "data": [encoded, "base64"],
                    "owner": ballast::ID.to_string(),
                    "executable": false,
                    "rentEpoch": 0u64,
                    "space": data.len(),
                }
            }]),
        );
        let chain = RpcChain::with_client(
            RpcClient::new_mock_with_mocks("succeeds".to_string(), mocks),
            Keypair::new(),
        );
        let got = chain.ballast_accounts::<Obligation>(&market).unwrap();
        assert_eq!(got, vec![(key, data)]);
    }

    #[test]
    fn a_failing_node_is_a_backend_error_not_a_panic() {
        let chain = RpcChain::with_client(RpcClient::new_mock("fails".to_string()), Keypair::new());
        assert!(matches!(
            chain.account_data(&Address::new_unique()),
            Err(ChainError::Backend(_))
        ));
        assert!(matches!(chain.unix_time(), Err(ChainError::Backend(_))));
    }

    #[test]
    fn a_failing_simulation_returns_the_program_error_and_logs_without_sending() {
        let mut mocks = HashMap::new();
        mocks.insert(
            RpcRequest::SimulateTransaction,
            serde_json::json!({
                "context": { "slot": 1 },
                "value": {
                    "err": { "InstructionError": [2, { "Custom": 6042 }] },
                    "logs": ["Program log: AnchorError occurred"],
                    "accounts": null,
                    "unitsConsumed": 4_321,
                    "returnData": null
                }
            }),
        );
        // A send would be answered by this, so reaching it fails the test.
        mocks.insert(RpcRequest::SendTransaction, serde_json::json!(null));
        let mut chain = RpcChain::with_client(
            RpcClient::new_mock_with_mocks("succeeds".to_string(), mocks),
            Keypair::new(),
        );
        let ix = crate::ix::accrue_interest(&Address::new_unique());
        match chain.send(&[ix], &[]) {
            Err(ChainError::Transaction { err, logs }) => {
                use solana_instruction::error::InstructionError;
                assert_eq!(
                    err,
                    solana_transaction_error::TransactionError::InstructionError(
                        2,
                        InstructionError::Custom(6042)
                    )
                );
                assert_eq!(logs, vec!["Program log: AnchorError occurred".to_string()]);
            }
            other => panic!("{other:?}"),
        }
    }

    /// Everything the backend reports, as strings.
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<String>>);

    impl RpcObserver for Recorder {
        fn request(&self, method: &'static str, _: f64, error: Option<RpcErrorKind>) {
            let e = error.map_or("ok", |k| k.label());
            self.0.lock().unwrap().push(format!("{method}:{e}"));
        }
        fn retry(&self, method: &'static str) {
            self.0.lock().unwrap().push(format!("retry:{method}"));
        }
        fn rebroadcast(&self) {
            self.0.lock().unwrap().push("rebroadcast".into());
        }
        fn transaction(&self, outcome: &'static str) {
            self.0.lock().unwrap().push(format!("tx:{outcome}"));
        }
    }

    impl Recorder {
        fn count(&self, what: &str) -> usize {
            self.0.lock().unwrap().iter().filter(|x| *x == what).count()
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            base_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(4),
            poll_interval: Duration::from_millis(1),
            rebroadcast_after: Duration::from_millis(5),
            confirm_timeout: Duration::from_secs(5),
            ..RetryPolicy::default()
        }
    }

    fn mock_chain(
        url: &str,
        mocks: HashMap<RpcRequest, serde_json::Value>,
    ) -> (RpcChain, Arc<Recorder>) {
        let rec = Arc::new(Recorder::default());
        let mut chain = RpcChain::with_client(
            RpcClient::new_mock_with_mocks(url.to_string(), mocks),
            Keypair::new(),
        )
        .observe(rec.clone());
        chain.retry = fast();
        (chain, rec)
    }

    #[test]
    fn faults_are_classified_transient_or_permanent() {
        let io = |k| ClientError::from(std::io::Error::new(k, "x"));
        assert_eq!(
            RpcErrorKind::of(&io(std::io::ErrorKind::ConnectionReset)),
            RpcErrorKind::ConnectionClosed
        );
        let behind = ClientError::from(RpcError::RpcResponseError {
            code: -32005,
            message: "Node is behind".into(),
            data: solana_rpc_client_api::request::RpcResponseErrorData::Empty,
        });
        assert_eq!(RpcErrorKind::of(&behind), RpcErrorKind::NodeBehind);
        let bad_params = ClientError::from(RpcError::RpcResponseError {
            code: -32602,
            message: "Invalid params".into(),
            data: solana_rpc_client_api::request::RpcResponseErrorData::Empty,
        });
        assert_eq!(RpcErrorKind::of(&bad_params), RpcErrorKind::Permanent);
        let refused = ClientError::from(solana_transaction_error::TransactionError::AccountInUse);
        assert_eq!(RpcErrorKind::of(&refused), RpcErrorKind::Permanent);
        for k in [
            RpcErrorKind::Timeout,
            RpcErrorKind::Connect,
            RpcErrorKind::ConnectionClosed,
            RpcErrorKind::RateLimited,
            RpcErrorKind::ServerError,
            RpcErrorKind::NodeBehind,
        ] {
            assert!(k.is_transient(), "{k:?}");
        }
        assert!(!RpcErrorKind::Permanent.is_transient());
    }

    #[test]
    fn backoff_doubles_to_its_cap_with_jitter_in_the_upper_half() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 0.5), Duration::from_millis(600));
        assert_eq!(p.backoff(30, 1.0), Duration::from_secs(2), "capped");
        for _ in 0..1_000 {
            let u = jitter_draw();
            assert!((0.0..1.0).contains(&u));
        }
    }

    #[test]
    fn transient_faults_are_retried_and_permanent_ones_are_not() {
        let (chain, rec) = mock_chain("succeeds", HashMap::new());
        let n = std::sync::atomic::AtomicU32::new(0);
        let got = chain.call("getAccountInfo", |_| {
            if n.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < 2 {
                Err(ClientError::from(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "reset",
                )))
            } else {
                Ok(7)
            }
        });
        assert_eq!(got.unwrap(), 7);
        assert_eq!(rec.count("retry:getAccountInfo"), 2);
        assert_eq!(rec.count("getAccountInfo:connection_closed"), 2);

        let n = std::sync::atomic::AtomicU32::new(0);
        let got: Result<(), _> = chain.call("getBalance", |_| {
            n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Err(ClientError::from(ErrorKind::Custom("bad".into())))
        });
        assert!(got.is_err());
        assert_eq!(
            n.load(std::sync::atomic::Ordering::Relaxed),
            1,
            "not retried"
        );

        // A fault that outlives the attempts is returned as a backend error
        // naming its kind.
        let got: Result<(), _> = chain.call("getSlot", |_| {
            Err(ClientError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "t",
            )))
        });
        assert_eq!(
            rec.count("retry:getSlot"),
            (chain.retry.attempts - 1) as usize
        );
        let e = backend(got.unwrap_err()).to_string();
        assert!(e.contains("connection_closed"), "{e}");
    }

    #[test]
    fn a_confirmed_transaction_is_sent_once() {
        let (mut chain, rec) = mock_chain("succeeds", HashMap::new());
        let ix = crate::ix::accrue_interest(&Address::new_unique());
        chain.send(&[ix], &[]).unwrap();
        assert_eq!(rec.count("sendTransaction:ok"), 1);
        assert_eq!(rec.count("rebroadcast"), 0);
        assert_eq!(rec.count("tx:confirmed"), 1);
    }

    #[test]
    fn an_unseen_transaction_whose_blockhash_expired_fails_and_is_not_sent_again() {
        // The node never shows the signature, and its block height is past
        // the blockhash's last valid height (1,234 in the mock).
        let mut mocks = HashMap::new();
        mocks.insert(RpcRequest::GetBlockHeight, serde_json::json!(2_000));
        let (mut chain, rec) = mock_chain("sig_not_found", mocks);
        let ix = crate::ix::accrue_interest(&Address::new_unique());
        let e = chain.send(&[ix], &[]).unwrap_err().to_string();
        assert!(
            e.contains("expired unconfirmed") && e.contains("not sent again"),
            "{e}"
        );
        assert_eq!(
            rec.count("sendTransaction:ok"),
            1,
            "{:?}",
            rec.0.lock().unwrap()
        );
        assert_eq!(rec.count("tx:expired"), 1);
    }

    #[test]
    fn an_unseen_transaction_is_broadcast_again_unchanged_until_the_wait_ends() {
        // Unseen, blockhash still valid (height 1,234 = last valid): the
        // same signed transaction goes out again, never a new one, until the
        // wait ends with the outcome unknown.
        let (mut chain, rec) = mock_chain("sig_not_found", HashMap::new());
        chain.retry.confirm_timeout = Duration::from_millis(60);
        let ix = crate::ix::accrue_interest(&Address::new_unique());
        let e = chain.send(&[ix], &[]).unwrap_err().to_string();
        assert!(
            e.contains("outcome unknown") && e.contains("not sent again"),
            "{e}"
        );
        let sends = rec.count("sendTransaction:ok");
        assert!(sends >= 2, "rebroadcast: {sends}");
        assert_eq!(rec.count("rebroadcast"), sends - 1);
        assert_eq!(rec.count("tx:unknown"), 1);
        // One signing for the simulation, one for the transaction: every
        // broadcast carried the same signature.
        assert_eq!(rec.count("getLatestBlockhash:ok"), 2);
    }

    #[test]
    fn a_transaction_that_fails_on_chain_after_its_simulation_is_a_lost_race() {
        // The mock's statuses say the transaction ran and failed.
        let (mut chain, rec) = mock_chain("instruction_error", HashMap::new());
        let ix = crate::ix::accrue_interest(&Address::new_unique());
        let e = chain.send(&[ix], &[]).unwrap_err();
        assert!(crate::chain::lost_race(&e), "{e:?}");
        assert_eq!(rec.count("tx:failed"), 1);
        // A refusal in simulation is not.
        let mut mocks = HashMap::new();
        mocks.insert(
            RpcRequest::SimulateTransaction,
            serde_json::json!({
                "context": { "slot": 1 },
                "value": { "err": { "InstructionError": [2, { "Custom": 6042 }] }, "logs": [],
                           "accounts": null, "unitsConsumed": 1, "returnData": null }
            }),
        );
        let (mut chain, _) = mock_chain("succeeds", mocks);
        let ix = crate::ix::accrue_interest(&Address::new_unique());
        assert!(!crate::chain::lost_race(
            &chain.send(&[ix], &[]).unwrap_err()
        ));
    }
}
