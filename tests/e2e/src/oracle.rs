//! Pyth prices on the validator through the test-only receiver
//! (`tests/programs/mock-pyth-receiver`): oracle accounts it owns at the
//! push oracle's price-feed addresses (the only oracles Ballast accepts;
//! created empty in the validator's genesis, `Validator::start`), written
//! by the test's payer, and a [`Feeder`] thread that republishes every price
//! every few seconds (`publish_time` = the cluster clock's now), as Pyth's
//! pushers keep real feeds fresh.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Result;
use mock_pyth_receiver::{PriceInput, Verification, ACCOUNT_LEN, RECEIVER_ID};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::cluster::Cluster;

/// The mock receiver's write instruction: `authority` writes `input` into
/// `price_update`.
pub fn write_ix(authority: &Address, price_update: &Address, input: &PriceInput) -> Instruction {
    Instruction {
        program_id: RECEIVER_ID,
        accounts: vec![
            AccountMeta::new_readonly(*authority, true),
            AccountMeta::new(*price_update, false),
        ],
        data: input.encode(),
    }
}

/// A fully verified price of `usd` dollars (exponent -8, confidence 0.1%,
/// EMA equal to spot), published at the cluster's now.
pub fn usd(feed_id: [u8; 32], usd: f64) -> PriceInput {
    let price = (usd * 1e8).round() as i64;
    PriceInput {
        verification: Verification::Full,
        feed_id,
        price,
        conf: (price / 1_000) as u64,
        exponent: -8,
        publish_time: 0,
        ema_price: price,
        ema_conf: (price / 1_000) as u64,
    }
}

/// The push oracle's price-feed account of `feed_id` (shard 0), the
/// address Ballast requires of a reserve's oracle.
pub fn feed_address(feed_id: &[u8; 32]) -> Address {
    ballast::runtime::oracle_account::push_feed_address(feed_id)
}

/// Writes the first price of `input.feed_id` into its price-feed account
/// ([`feed_address`], created empty in the validator's genesis: only the
/// push oracle could create it on a cluster); the payer becomes its write
/// authority. Returns its address.
pub fn create(cluster: &Cluster, input: &PriceInput) -> Result<Address> {
    let account = feed_address(&input.feed_id);
    let data = cluster.data(&account)?;
    anyhow::ensure!(
        data.as_ref().is_some_and(|d| d.len() >= ACCOUNT_LEN),
        "price feed account {account} missing from the genesis (Validator::start)"
    );
    cluster.send(&[write_ix(&cluster.payer.pubkey(), &account, input)], &[])?;
    Ok(account)
}

/// Republishes each oracle's current price every `period`, on a thread,
/// until dropped.
pub struct Feeder {
    prices: Arc<Mutex<HashMap<Address, PriceInput>>>,
    stop: Arc<AtomicBool>,
    /// Writes that went through.
    pub writes: Arc<AtomicU64>,
    handle: Option<JoinHandle<()>>,
    url: String,
    payer: Arc<Keypair>,
}

impl Feeder {
    /// Starts feeding `oracles` (address, price) on `url`, signed by `payer`.
    pub fn start(
        url: &str,
        payer: &Keypair,
        oracles: &[(Address, PriceInput)],
        period: Duration,
    ) -> Self {
        let prices = Arc::new(Mutex::new(
            oracles.iter().copied().collect::<HashMap<_, _>>(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU64::new(0));
        let payer = Arc::new(payer.insecure_clone());
        let handle = {
            let (prices, stop, writes, url, payer) = (
                prices.clone(),
                stop.clone(),
                writes.clone(),
                url.to_string(),
                payer.clone(),
            );
            std::thread::spawn(move || {
                let cluster = Cluster::new(&url, payer.insecure_clone());
                while !stop.load(Ordering::Relaxed) {
                    {
                        // The lock is held until the write is confirmed, so
                        // that a `set` never races an older price.
                        let prices = prices.lock().unwrap();
                        let ixs: Vec<Instruction> = prices
                            .iter()
                            .map(|(a, p)| write_ix(&payer.pubkey(), a, p))
                            .collect();
                        if cluster.send(&ixs, &[]).is_ok() {
                            writes.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    let mut waited = Duration::ZERO;
                    while waited < period && !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(100));
                        waited += Duration::from_millis(100);
                    }
                }
            })
        };
        Self {
            prices,
            stop,
            writes,
            handle: Some(handle),
            url: url.to_string(),
            payer,
        }
    }

    /// Sets `oracle`'s price from now on and writes it at once, waiting for
    /// the write to be confirmed (a crash the test can rely on).
    pub fn set(&self, oracle: &Address, input: PriceInput) -> Result<()> {
        let mut prices = self.prices.lock().unwrap();
        prices.insert(*oracle, input);
        let cluster = Cluster::new(&self.url, self.payer.insecure_clone());
        cluster.send(&[write_ix(&self.payer.pubkey(), oracle, &input)], &[])?;
        Ok(())
    }
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
