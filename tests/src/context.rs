//! The [`TestContext`]: the embedded chain with the real program, and the
//! sends every test goes through ([`TestContext::ok`], [`TestContext::fails`]).

use std::ops::{Deref, DerefMut};

use ballast_keeper::chain::embedded::{EmbeddedChain, TransactionResult};
use solana_instruction::Instruction;
use solana_transaction_error::TransactionError;

use crate::{Keypair, Signer};

/// The embedded chain with the Ballast program, plus test conveniences.
pub struct TestContext {
    /// The chain (LiteSVM + payer).
    pub chain: EmbeddedChain,
}

impl Deref for TestContext {
    type Target = EmbeddedChain;
    fn deref(&self) -> &EmbeddedChain {
        &self.chain
    }
}

impl DerefMut for TestContext {
    fn deref_mut(&mut self) -> &mut EmbeddedChain {
        &mut self.chain
    }
}

impl Default for TestContext {
    fn default() -> Self {
        Self::new()
    }
}

impl TestContext {
    /// Loads `target/deploy/ballast.so` (or `$BALLAST_SO`) into a fresh VM.
    pub fn new() -> Self {
        let path = EmbeddedChain::default_so_path();
        let chain = EmbeddedChain::new(&path).unwrap_or_else(|e| panic!("{e}"));
        Self { chain }
    }

    /// A new keypair holding `sol` SOL.
    pub fn funded_user(&mut self, sol: u64) -> Keypair {
        let k = Keypair::new();
        self.chain
            .airdrop(&k.pubkey(), sol * 1_000_000_000)
            .expect("airdrop");
        k
    }

    /// Sends `ixs`, expects success, prints `[cu] label N` and returns the
    /// compute units consumed.
    pub fn ok(&mut self, label: &str, ixs: &[Instruction], signers: &[&Keypair]) -> u64 {
        match self.chain.send(ixs, signers) {
            Ok(meta) => {
                println!("[cu] {label} {}", meta.compute_units_consumed);
                meta.compute_units_consumed
            }
            Err(e) => panic!(
                "[{label}] expected success, got {:?}\n{}",
                e.err,
                e.meta.logs.join("\n")
            ),
        }
    }

    /// Sends `ixs` and expects a failure; returns the runtime error.
    pub fn fails(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> TransactionError {
        match self.chain.send(ixs, signers) {
            Ok(meta) => panic!(
                "[{label}] expected failure, succeeded:\n{}",
                meta.logs.join("\n")
            ),
            Err(e) => e.err,
        }
    }
}

/// Unwraps a transaction result for tests that only need the metadata.
pub fn expect_ok(res: TransactionResult) -> u64 {
    match res {
        Ok(m) => m.compute_units_consumed,
        Err(e) => panic!("{:?}\n{}", e.err, e.meta.logs.join("\n")),
    }
}
