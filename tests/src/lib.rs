//! Shared harness of the integration tests: a [`TestContext`] on LiteSVM that
//! runs the real `target/deploy/ballast.so`, plus assertions on outcomes.
//!
//! The chain utilities (mints under both token programs, Pyth `PriceUpdateV2`
//! accounts, clock warps) come from the keeper's embedded backend
//! ([`ballast_keeper::embedded`]), so that tests and `replay` stand on the same
//! code; instructions come from [`ballast_keeper::ix`], built from the
//! program crate's `accounts::` and `instruction::` types.

use std::ops::{Deref, DerefMut};

use ballast_keeper::embedded::{EmbeddedChain, TransactionResult};
pub use ballast_keeper::embedded::{PythPrice, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
pub use ballast_keeper::ix;
use solana_instruction::Instruction;
use solana_instruction_error::InstructionError;
pub use solana_keypair::Keypair;
pub use solana_signer::Signer;
use solana_transaction_error::TransactionError;

pub use solana_address::Address;

/// Both token programs, for tests that run under each.
pub const TOKEN_PROGRAMS: [Address; 2] = [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID];

/// Anchor's error code for a missing signature on a `Signer` account.
pub const ANCHOR_ACCOUNT_NOT_SIGNER: u32 = 3010;

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

    /// Creates a market with `admin` and `risk_authority`; returns its address.
    pub fn create_market(&mut self, admin: &Keypair, risk_authority: Address) -> Address {
        let market = Keypair::new();
        let ix = ix::init_market(
            &admin.pubkey(),
            &market.pubkey(),
            ballast::instructions::InitMarketParams {
                risk_authority,
                paused: false,
            },
        );
        self.ok("init_market", &[ix], &[admin, &market]);
        market.pubkey()
    }
}

/// The custom error code of a failed instruction, if it failed with one.
pub fn custom_code(err: &TransactionError) -> Option<u32> {
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
        _ => None,
    }
}

/// Asserts that `res` failed with the Ballast error `expected`.
pub fn assert_ballast_err(err: &TransactionError, expected: ballast::errors::BallastError) {
    let want = anchor_lang::error::ERROR_CODE_OFFSET + expected as u32;
    assert_eq!(
        custom_code(err),
        Some(want),
        "expected {expected:?} ({want}), got {err:?}"
    );
}

/// Asserts that `err` carries the custom code `code` (e.g. an Anchor
/// constraint error).
pub fn assert_code(err: &TransactionError, code: u32) {
    assert_eq!(
        custom_code(err),
        Some(code),
        "expected code {code}, got {err:?}"
    );
}

/// Unwraps a transaction result for tests that only need the metadata.
pub fn expect_ok(res: TransactionResult) -> u64 {
    match res {
        Ok(m) => m.compute_units_consumed,
        Err(e) => panic!("{:?}\n{}", e.err, e.meta.logs.join("\n")),
    }
}
