//! The test's own client of the validator: the payer (genesis mint, so it
//! holds the cluster's SOL), transactions sent one by one or in batches,
//! SPL mints and token accounts, Ballast accounts and events.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anchor_lang::{AnchorDeserialize, Discriminator, Event};
use anchor_spl::token_2022::spl_token_2022;
use anyhow::{anyhow, bail, Context, Result};
use solana_address::Address;
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::rpc_client::RpcClient;
use solana_rpc_client_api::config::{RpcSendTransactionConfig, RpcTransactionConfig};
use solana_signature::Signature;
use solana_signer::Signer;
use solana_transaction::Transaction;

/// SPL Token.
pub const TOKEN_PROGRAM_ID: Address = anchor_spl::token::ID;
const MINT_LEN: u64 = 82;

/// A client of the test validator with a funded payer.
pub struct Cluster {
    /// RPC client at `confirmed`.
    pub client: RpcClient,
    /// Pays every transaction; mint authority of every mint created here;
    /// write authority of every oracle.
    pub payer: Keypair,
}

/// One transaction of a batch: instructions and extra signers.
pub type Batch<'a> = (Vec<Instruction>, Vec<&'a Keypair>);

impl Cluster {
    /// A client of `url` paying with `payer`.
    pub fn new(url: &str, payer: Keypair) -> Self {
        Self {
            client: RpcClient::new_with_timeout_and_commitment(
                url.to_string(),
                Duration::from_secs(30),
                CommitmentConfig::confirmed(),
            ),
            payer,
        }
    }

    fn sign(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Transaction> {
        let blockhash = self.client.get_latest_blockhash()?;
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().copied());
        let mut tx = Transaction::new_with_payer(ixs, Some(&self.payer.pubkey()));
        tx.try_sign(&keys, blockhash)?;
        Ok(tx)
    }

    /// Sends one transaction and waits until it is confirmed; the error
    /// carries the program logs of a failed simulation.
    pub fn send(&self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Signature> {
        let tx = self.sign(ixs, signers)?;
        self.client
            .send_and_confirm_transaction(&tx)
            .map_err(|e| anyhow!("{e}: {:?}", e.kind))
    }

    /// Sends every transaction of `batch` without waiting, then waits until
    /// all are confirmed (much faster than one by one on a validator with
    /// 400 ms slots). Fails on the first that fails, with its index.
    pub fn send_batch(&self, batch: &[Batch]) -> Result<Vec<Signature>> {
        let mut sigs = Vec::with_capacity(batch.len());
        for (i, (ixs, signers)) in batch.iter().enumerate() {
            let tx = self.sign(ixs, signers)?;
            let sig = self
                .client
                .send_transaction_with_config(
                    &tx,
                    RpcSendTransactionConfig {
                        preflight_commitment: Some(CommitmentConfig::confirmed().commitment),
                        ..Default::default()
                    },
                )
                .map_err(|e| anyhow!("transaction {i} of the batch: {e}: {:?}", e.kind))?;
            sigs.push(sig);
        }
        self.confirm_all(&sigs, Duration::from_secs(60))?;
        Ok(sigs)
    }

    /// Waits until every signature is confirmed; fails on one that failed.
    pub fn confirm_all(&self, sigs: &[Signature], timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut pending: Vec<(usize, Signature)> = sigs.iter().copied().enumerate().collect();
        while !pending.is_empty() {
            let mut still = vec![];
            for chunk in pending.chunks(200) {
                let keys: Vec<Signature> = chunk.iter().map(|(_, s)| *s).collect();
                let statuses = self.client.get_signature_statuses(&keys)?.value;
                for ((i, sig), st) in chunk.iter().zip(statuses) {
                    match st {
                        Some(s) if s.err.is_some() => {
                            bail!("transaction {i} ({sig}) failed: {:?}", s.err)
                        }
                        Some(s) if s.satisfies_commitment(CommitmentConfig::confirmed()) => {}
                        _ => still.push((*i, *sig)),
                    }
                }
            }
            pending = still;
            if !pending.is_empty() {
                if Instant::now() > deadline {
                    bail!(
                        "{} transaction(s) unconfirmed after {timeout:?}",
                        pending.len()
                    );
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        Ok(())
    }

    /// The cluster's unix time (the `Clock` sysvar), seconds.
    pub fn unix_time(&self) -> Result<i64> {
        let acc = self.client.get_account(&solana_address::address!(
            "SysvarC1ock11111111111111111111111111111111"
        ))?;
        ballast_keeper::chain::rpc::clock_unix_timestamp(&acc.data).context("clock sysvar")
    }

    /// Lamports for a rent-exempt account of `len` bytes.
    pub fn rent(&self, len: usize) -> Result<u64> {
        Ok(self.client.get_minimum_balance_for_rent_exemption(len)?)
    }

    /// A new keypair holding `sol` SOL (a transfer from the payer).
    pub fn funded(&self, sol: u64) -> Result<Keypair> {
        let k = Keypair::new();
        self.send(&[self.transfer_ix(&k.pubkey(), sol)], &[])?;
        Ok(k)
    }

    /// A transfer of `sol` SOL from the payer to `to`.
    pub fn transfer_ix(&self, to: &Address, sol: u64) -> Instruction {
        solana_system_interface::instruction::transfer(
            &self.payer.pubkey(),
            to,
            sol * 1_000_000_000,
        )
    }

    /// Creates an SPL Token mint with `decimals`, the payer its authority.
    pub fn create_mint(&self, decimals: u8) -> Result<Address> {
        let mint = Keypair::new();
        let ixs = [
            solana_system_interface::instruction::create_account(
                &self.payer.pubkey(),
                &mint.pubkey(),
                self.rent(MINT_LEN as usize)?,
                MINT_LEN,
                &TOKEN_PROGRAM_ID,
            ),
            spl_token_2022::instruction::initialize_mint2(
                &TOKEN_PROGRAM_ID,
                &mint.pubkey(),
                &self.payer.pubkey(),
                None,
                decimals,
            )?,
        ];
        self.send(&ixs, &[&mint])?;
        Ok(mint.pubkey())
    }

    /// `owner`'s associated token account of `mint` (SPL Token).
    pub fn ata(owner: &Address, mint: &Address) -> Address {
        ballast_keeper::tasks::liquidation::associated_token_address(owner, mint, &TOKEN_PROGRAM_ID)
    }

    /// Instructions creating `owner`'s ATA of `mint` (idempotent) and
    /// minting `amount` base units into it (none when 0).
    pub fn ata_with_tokens_ixs(
        &self,
        owner: &Address,
        mint: &Address,
        amount: u64,
    ) -> Result<Vec<Instruction>> {
        let mut ixs = vec![
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                &self.payer.pubkey(),
                owner,
                mint,
                &TOKEN_PROGRAM_ID,
            ),
        ];
        if amount > 0 {
            ixs.push(spl_token_2022::instruction::mint_to(
                &TOKEN_PROGRAM_ID,
                mint,
                &Self::ata(owner, mint),
                &self.payer.pubkey(),
                &[],
                amount,
            )?);
        }
        Ok(ixs)
    }

    /// The balance of a token account, base units (0 when it does not exist).
    pub fn token_balance(&self, account: &Address) -> Result<u64> {
        let acc = self
            .client
            .get_account_with_commitment(account, CommitmentConfig::confirmed())?
            .value;
        Ok(acc
            .and_then(|a| {
                a.data
                    .get(64..72)
                    .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
            })
            .unwrap_or(0))
    }

    /// The supply a mint records, base units.
    pub fn mint_supply(&self, mint: &Address) -> Result<u64> {
        let acc = self.client.get_account(mint)?;
        Ok(u64::from_le_bytes(acc.data[36..44].try_into()?))
    }

    /// An account's data (`None` when it does not exist).
    pub fn data(&self, address: &Address) -> Result<Option<Vec<u8>>> {
        Ok(self
            .client
            .get_account_with_commitment(address, CommitmentConfig::confirmed())?
            .value
            .map(|a| a.data))
    }

    /// A zero-copy Ballast account (`Reserve`, `Obligation`, `Market`).
    pub fn ballast<T: bytemuck_free::ZeroCopy>(&self, address: &Address) -> Result<T> {
        let data = self
            .data(address)?
            .ok_or_else(|| anyhow!("account {address} does not exist"))?;
        T::decode(&data).ok_or_else(|| anyhow!("account {address} does not decode"))
    }

    /// The logs of a confirmed transaction.
    pub fn logs(&self, sig: &Signature) -> Result<Vec<String>> {
        let tx = self.client.get_transaction_with_config(
            sig,
            RpcTransactionConfig {
                encoding: None,
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )?;
        let meta = tx
            .transaction
            .meta
            .ok_or_else(|| anyhow!("transaction {sig} has no meta"))?;
        Ok(Option::<Vec<String>>::from(meta.log_messages).unwrap_or_default())
    }

    /// Every successful transaction that touched `address`, oldest first:
    /// (slot, signature).
    pub fn history(&self, address: &Address) -> Result<Vec<(u64, Signature)>> {
        let mut out = vec![];
        let mut before = None;
        loop {
            let page = self.client.get_signatures_for_address_with_config(
                address,
                solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
                    before,
                    until: None,
                    limit: Some(1_000),
                    commitment: Some(CommitmentConfig::confirmed()),
                },
            )?;
            let n = page.len();
            for s in &page {
                if s.err.is_none() {
                    out.push((s.slot, s.signature.parse()?));
                }
            }
            if n < 1_000 {
                break;
            }
            before = page.last().map(|s| s.signature.parse()).transpose()?;
        }
        out.sort_by_key(|(slot, _)| *slot);
        Ok(out)
    }

    /// Every event `E` of the transactions that touched any of
    /// `addresses`, each with the slot and signature of its transaction,
    /// in slot order, each transaction once.
    pub fn events_touching<E: Event + AnchorDeserialize + Discriminator>(
        &self,
        addresses: &[Address],
    ) -> Result<Vec<(u64, Signature, E)>> {
        let mut txs: HashMap<Signature, u64> = HashMap::new();
        for a in addresses {
            for (slot, sig) in self.history(a)? {
                txs.insert(sig, slot);
            }
        }
        let mut sorted: Vec<(u64, Signature)> =
            txs.into_iter().map(|(s, slot)| (slot, s)).collect();
        sorted.sort();
        let mut out = vec![];
        for (slot, sig) in sorted {
            for e in ballast_keeper::events::events::<E>(&self.logs(&sig)?) {
                out.push((slot, sig, e));
            }
        }
        Ok(out)
    }
}

/// Decoding of Ballast's zero-copy accounts from raw bytes.
pub mod bytemuck_free {
    use ballast::state::{Market, Obligation, Reserve};

    /// A Ballast zero-copy account.
    pub trait ZeroCopy: Sized {
        /// Decodes the account's bytes (discriminator checked).
        fn decode(data: &[u8]) -> Option<Self>;
    }

    impl ZeroCopy for Reserve {
        fn decode(data: &[u8]) -> Option<Self> {
            ballast_keeper::accounts::decode_reserve(data)
        }
    }

    impl ZeroCopy for Obligation {
        fn decode(data: &[u8]) -> Option<Self> {
            ballast_keeper::accounts::decode_obligation(data)
        }
    }

    impl ZeroCopy for Market {
        fn decode(data: &[u8]) -> Option<Self> {
            ballast_keeper::accounts::decode_market(data)
        }
    }
}
