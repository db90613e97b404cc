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

use std::time::Duration;

use solana_account_decoder_client_types::UiAccountEncoding;
use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSimulateTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;

use crate::chain::{Chain, ChainError, Sent};

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

/// A [`Chain`] on a Solana RPC cluster.
pub struct RpcChain {
    client: RpcClient,
    payer: Keypair,
    commitment: CommitmentConfig,
    /// How compute units are priced and limited.
    pub fees: PriorityFeePolicy,
}

impl RpcChain {
    /// A backend on `url` (e.g. `https://api.devnet.solana.com`) at
    /// `confirmed` commitment, paying with `payer`, with a 30 s timeout.
    pub fn new(url: &str, payer: Keypair) -> Self {
        let commitment = CommitmentConfig::confirmed();
        Self::with_client(
            RpcClient::new_with_timeout_and_commitment(
                url.to_string(),
                Duration::from_secs(30),
                commitment,
            ),
            payer,
        )
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
        }
    }

    /// The underlying client.
    pub fn client(&self) -> &RpcClient {
        &self.client
    }

    /// The price this backend would pay now for a transaction writing
    /// `writable`, micro-lamports per compute unit.
    pub fn priority_fee(&self, writable: &[Address]) -> Result<u64, ChainError> {
        let recent = self
            .client
            .get_recent_prioritization_fees(writable)
            .map_err(backend)?;
        let fees: Vec<u64> = recent.iter().map(|f| f.prioritization_fee).collect();
        Ok(self.fees.price(&fees))
    }

    fn sign(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        cu_limit: u32,
        cu_price: u64,
    ) -> Result<Transaction, ChainError> {
        let mut all = Vec::with_capacity(ixs.len() + 2);
        all.push(ComputeBudgetInstruction::set_compute_unit_limit(cu_limit));
        all.push(ComputeBudgetInstruction::set_compute_unit_price(cu_price));
        all.extend_from_slice(ixs);
        let blockhash = self.client.get_latest_blockhash().map_err(backend)?;
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().copied());
        let mut tx = Transaction::new_with_payer(&all, Some(&self.payer.pubkey()));
        tx.try_sign(&keys, blockhash)
            .map_err(|e| ChainError::Backend(format!("signing: {e}")))?;
        Ok(tx)
    }
}

fn backend(e: ClientError) -> ChainError {
    match e.kind.get_transaction_error() {
        Some(err) => ChainError::Transaction {
            err,
            logs: Vec::new(),
        },
        None => ChainError::Backend(e.to_string()),
    }
}

impl Chain for RpcChain {
    fn payer(&self) -> Address {
        self.payer.pubkey()
    }

    fn unix_time(&self) -> Result<i64, ChainError> {
        let clock = self
            .client
            .get_account_with_commitment(&solana_sdk_ids::sysvar::clock::ID, self.commitment)
            .map_err(backend)?
            .value
            .ok_or_else(|| ChainError::Backend("no Clock sysvar account".into()))?;
        clock_unix_timestamp(&clock.data)
            .ok_or_else(|| ChainError::Backend("Clock sysvar data too short".into()))
    }

    fn account_data(&self, address: &Address) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self
            .client
            .get_account_with_commitment(address, self.commitment)
            .map_err(backend)?
            .value
            .map(|a| a.data))
    }

    fn ballast_accounts<T: anchor_lang::Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
        let config = program_accounts_config(T::DISCRIMINATOR, market, self.commitment);
        let accounts = self
            .client
            .get_program_ui_accounts_with_config(&ballast::ID, config)
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

    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, ChainError> {
        let writable: Vec<Address> = ixs
            .iter()
            .flat_map(|ix| ix.accounts.iter().filter(|m| m.is_writable))
            .map(|m| m.pubkey)
            .take(128)
            .collect();
        let price = self.priority_fee(&writable)?;
        // Simulate at the cap: a failure costs nothing and carries the logs.
        let probe = self.sign(ixs, signers, 1_400_000, price)?;
        let sim = self
            .client
            .simulate_transaction_with_config(
                &probe,
                RpcSimulateTransactionConfig {
                    sig_verify: false,
                    commitment: Some(self.commitment),
                    ..Default::default()
                },
            )
            .map_err(backend)?
            .value;
        let logs = sim.logs.unwrap_or_default();
        if let Some(err) = sim.err {
            return Err(ChainError::Transaction {
                err: err.into(),
                logs,
            });
        }
        let units = sim.units_consumed.unwrap_or(200_000);
        let tx = self.sign(ixs, signers, self.fees.cu_limit(units), price)?;
        self.client
            .send_and_confirm_transaction(&tx)
            .map_err(backend)?;
        Ok(Sent {
            compute_units: units,
            logs,
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
}
