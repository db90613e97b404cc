//! The embedded chain: LiteSVM running the real `ballast.so`, with the SPL
//! Token and Token-2022 programs that LiteSVM bundles, a writer for Pyth
//! pull-oracle `PriceUpdateV2` accounts ([`PythPrice`]) and clock control;
//! and its [`Chain`] implementation.
//!
//! This is the backend that `replay` drives and that the integration tests
//! stand on, so both exercise exactly the `.so` that would be deployed. It
//! is the only module that links LiteSVM (cargo feature `embedded`).

use std::path::{Path, PathBuf};

use anchor_lang::{AccountDeserialize, Discriminator};
use anchor_spl::token_2022::spl_token_2022;
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signer::Signer;
use solana_transaction::Transaction;

use super::{Chain, ChainError, Sent, TransactionError};
use crate::accounts::{PythPrice, PYTH_RECEIVER_ID};

pub use anchor_lang::prelude::Clock;
pub use litesvm::types::TransactionResult;

/// Size of an SPL mint account without extensions, in bytes.
const MINT_LEN: usize = 82;
/// Size of an SPL token account without extensions, in bytes.
const TOKEN_ACCOUNT_LEN: usize = 165;

/// Errors of the embedded chain.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    /// The program's `.so` could not be loaded.
    #[error("cannot load the Ballast program from {path}: {reason} (run `make build` first)")]
    LoadProgram {
        /// The path tried.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A transaction failed.
    #[error("transaction failed: {err:?}\n{logs}")]
    Transaction {
        /// The runtime's error.
        err: TransactionError,
        /// The program logs, one per line.
        logs: String,
    },
    /// An account is missing or does not decode as expected.
    #[error("account {0}: {1}")]
    Account(Address, String),
}

/// A successful transaction: compute units and logs.
pub type TxOk = TransactionMetadata;
/// A failed transaction: the runtime error and the logs up to the failure.
pub type TxErr = FailedTransactionMetadata;

/// LiteSVM with the Ballast program loaded and a funded fee payer.
pub struct EmbeddedChain {
    /// The underlying VM (public for tests that need its full API).
    pub svm: LiteSVM,
    /// Fee payer of every transaction sent through [`EmbeddedChain::send`].
    pub payer: Keypair,
}

impl EmbeddedChain {
    /// The default location of the built program, `target/deploy/ballast.so`
    /// under the workspace root, overridable with `BALLAST_SO`.
    pub fn default_so_path() -> PathBuf {
        if let Some(p) = std::env::var_os("BALLAST_SO") {
            return PathBuf::from(p);
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/ballast.so")
    }

    /// Starts a VM with the program at `so_path` deployed at [`ballast::ID`]
    /// and a payer funded with 1,000 SOL.
    pub fn new(so_path: &Path) -> Result<Self, EmbeddedError> {
        let mut svm = LiteSVM::new().with_log_bytes_limit(Some(100_000));
        svm.add_program_from_file(ballast::ID, so_path)
            .map_err(|e| EmbeddedError::LoadProgram {
                path: so_path.to_path_buf(),
                reason: format!("{e:?}"),
            })?;
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), 1_000_000_000_000)
            .map_err(|e| EmbeddedError::Transaction {
                err: e.err,
                logs: e.meta.logs.join("\n"),
            })?;
        Ok(Self { svm, payer })
    }

    /// Sends `ixs` in one transaction paid by [`Self::payer`] and signed by
    /// `signers` as well. The blockhash is expired afterwards so that an
    /// identical transaction sent next is not rejected as a duplicate.
    #[allow(clippy::result_large_err)] // LiteSVM's own result type, passed through as is.
    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TransactionResult {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(
            signers
                .iter()
                .copied()
                .filter(|k| k.pubkey() != self.payer.pubkey()),
        );
        let msg = Message::new(ixs, Some(&self.payer.pubkey()));
        let tx = Transaction::new(&all, msg, self.svm.latest_blockhash());
        let res = self.svm.send_transaction(tx);
        self.svm.expire_blockhash();
        res
    }

    /// Like [`Self::send`], mapping a failure into [`EmbeddedError`] with logs.
    pub fn send_ok(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<TxOk, EmbeddedError> {
        self.send(ixs, signers)
            .map_err(|e| EmbeddedError::Transaction {
                err: e.err,
                logs: e.meta.logs.join("\n"),
            })
    }

    /// Gives `who` `lamports` (in lamports).
    pub fn airdrop(&mut self, who: &Address, lamports: u64) -> Result<(), EmbeddedError> {
        self.svm
            .airdrop(who, lamports)
            .map(|_| ())
            .map_err(|e| EmbeddedError::Transaction {
                err: e.err,
                logs: e.meta.logs.join("\n"),
            })
    }

    /// Creates a mint owned by `token_program` (SPL Token or Token-2022) with
    /// `decimals`, whose mint authority is the payer. Returns its address.
    pub fn create_mint(
        &mut self,
        token_program: &Address,
        decimals: u8,
    ) -> Result<Address, EmbeddedError> {
        let mint = Keypair::new();
        let lamports = self.svm.minimum_balance_for_rent_exemption(MINT_LEN);
        let payer = self.payer.pubkey();
        let ixs = [
            solana_system_interface::instruction::create_account(
                &payer,
                &mint.pubkey(),
                lamports,
                MINT_LEN as u64,
                token_program,
            ),
            spl_token_2022::instruction::initialize_mint2(
                token_program,
                &mint.pubkey(),
                &payer,
                None,
                decimals,
            )
            .map_err(|e| EmbeddedError::Account(mint.pubkey(), e.to_string()))?,
        ];
        self.send_ok(&ixs, &[&mint])?;
        Ok(mint.pubkey())
    }

    /// Creates a token account for `mint` owned by `owner`, under the mint's
    /// token program. Returns its address.
    pub fn create_token_account(
        &mut self,
        mint: &Address,
        owner: &Address,
    ) -> Result<Address, EmbeddedError> {
        let token_program = self.owner_of(mint)?;
        let account = Keypair::new();
        let lamports = self
            .svm
            .minimum_balance_for_rent_exemption(TOKEN_ACCOUNT_LEN);
        let payer = self.payer.pubkey();
        let ixs = [
            solana_system_interface::instruction::create_account(
                &payer,
                &account.pubkey(),
                lamports,
                TOKEN_ACCOUNT_LEN as u64,
                &token_program,
            ),
            spl_token_2022::instruction::initialize_account3(
                &token_program,
                &account.pubkey(),
                mint,
                owner,
            )
            .map_err(|e| EmbeddedError::Account(account.pubkey(), e.to_string()))?,
        ];
        self.send_ok(&ixs, &[&account])?;
        Ok(account.pubkey())
    }

    /// Mints `amount` (token base units) of `mint` into `to`; the payer is the
    /// mint authority (as set by [`Self::create_mint`]).
    pub fn mint_to(
        &mut self,
        mint: &Address,
        to: &Address,
        amount: u64,
    ) -> Result<(), EmbeddedError> {
        let token_program = self.owner_of(mint)?;
        let payer = self.payer.pubkey();
        let ix =
            spl_token_2022::instruction::mint_to(&token_program, mint, to, &payer, &[], amount)
                .map_err(|e| EmbeddedError::Account(*mint, e.to_string()))?;
        self.send_ok(&[ix], &[])?;
        Ok(())
    }

    /// The balance of token account `account`, in token base units.
    pub fn token_balance(&self, account: &Address) -> Result<u64, EmbeddedError> {
        let acc = self
            .svm
            .get_account(account)
            .ok_or_else(|| EmbeddedError::Account(*account, "missing".into()))?;
        // The amount sits at bytes 64..72 of both SPL Token and Token-2022 accounts.
        let bytes: [u8; 8] = acc
            .data
            .get(64..72)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| EmbeddedError::Account(*account, "not a token account".into()))?;
        Ok(u64::from_le_bytes(bytes))
    }

    /// The owner program of `address`.
    pub fn owner_of(&self, address: &Address) -> Result<Address, EmbeddedError> {
        self.svm
            .get_account(address)
            .map(|a| a.owner)
            .ok_or_else(|| EmbeddedError::Account(*address, "missing".into()))
    }

    /// Writes `price` into the `PriceUpdateV2` account at `address`, owned by
    /// the Pyth receiver program, creating it if needed.
    pub fn set_pyth_price(
        &mut self,
        address: &Address,
        price: &PythPrice,
    ) -> Result<(), EmbeddedError> {
        self.set_raw_account(address, PYTH_RECEIVER_ID, price.to_account_data())
    }

    /// Writes an account with `owner` and `data` straight into the VM (rent
    /// exempt). For oracles and for tests that forge accounts.
    pub fn set_raw_account(
        &mut self,
        address: &Address,
        owner: Address,
        data: Vec<u8>,
    ) -> Result<(), EmbeddedError> {
        let lamports = self.svm.minimum_balance_for_rent_exemption(data.len());
        self.svm
            .set_account(*address, litesvm_account(lamports, data, owner))
            .map_err(|e| EmbeddedError::Account(*address, format!("{e:?}")))
    }

    /// The current clock sysvar.
    pub fn clock(&self) -> Clock {
        self.svm.get_sysvar::<Clock>()
    }

    /// Moves the clock forward by `seconds` (and the slot by 2 per second, the
    /// nominal 400 ms slot).
    pub fn warp_seconds(&mut self, seconds: i64) {
        let mut clock = self.clock();
        clock.unix_timestamp += seconds;
        clock.slot += (seconds.max(0) as u64) * 2;
        self.svm.set_sysvar(&clock);
        self.svm.expire_blockhash();
    }

    /// Sets the clock's unix timestamp to `unix_timestamp` (seconds).
    pub fn set_time(&mut self, unix_timestamp: i64) {
        let now = self.clock().unix_timestamp;
        self.warp_seconds(unix_timestamp - now);
    }

    /// Reads and decodes an Anchor account (`T` with its discriminator).
    pub fn account<T: AccountDeserialize + Discriminator>(
        &self,
        address: &Address,
    ) -> Result<T, EmbeddedError> {
        let acc = self
            .svm
            .get_account(address)
            .ok_or_else(|| EmbeddedError::Account(*address, "missing".into()))?;
        T::try_deserialize(&mut acc.data.as_slice())
            .map_err(|e| EmbeddedError::Account(*address, e.to_string()))
    }

    /// Reads a zero-copy Anchor account (`T` after its 8-byte discriminator).
    pub fn zero_copy<T: bytemuck::Pod + Discriminator>(
        &self,
        address: &Address,
    ) -> Result<T, EmbeddedError> {
        let acc = self
            .svm
            .get_account(address)
            .ok_or_else(|| EmbeddedError::Account(*address, "missing".into()))?;
        if acc.data.len() < 8 + std::mem::size_of::<T>() || &acc.data[..8] != T::DISCRIMINATOR {
            return Err(EmbeddedError::Account(
                *address,
                "wrong discriminator or size".into(),
            ));
        }
        Ok(bytemuck::pod_read_unaligned(
            &acc.data[8..8 + std::mem::size_of::<T>()],
        ))
    }
}

impl Chain for EmbeddedChain {
    fn payer(&self) -> Address {
        solana_signer::Signer::pubkey(&self.payer)
    }

    fn unix_time(&self) -> Result<i64, ChainError> {
        Ok(self.clock().unix_timestamp)
    }

    fn account_data(&self, address: &Address) -> Result<Option<Vec<u8>>, ChainError> {
        Ok(self.svm.get_account(address).map(|a| a.data))
    }

    fn account(&self, address: &Address) -> Result<Option<super::RawAccount>, ChainError> {
        Ok(self.svm.get_account(address).map(|a| super::RawAccount {
            lamports: a.lamports,
            owner: a.owner,
            data: a.data,
        }))
    }

    fn slot(&self) -> Result<u64, ChainError> {
        Ok(self.clock().slot)
    }

    fn ballast_accounts<T: Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
        Ok(self
            .svm
            .get_program_accounts(&ballast::ID)
            .into_iter()
            .filter(|(_, a)| {
                a.data.len() >= 40
                    && a.data[..8] == *T::DISCRIMINATOR
                    && a.data[8..40] == market.to_bytes()
            })
            .map(|(k, a)| (k, a.data))
            .collect())
    }

    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, ChainError> {
        match EmbeddedChain::send(self, ixs, signers) {
            Ok(m) => Ok(Sent {
                compute_units: m.compute_units_consumed,
                logs: m.logs,
            }),
            Err(e) => Err(ChainError::Transaction {
                err: e.err,
                logs: e.meta.logs,
            }),
        }
    }

    fn simulate(
        &self,
        ixs: &[Instruction],
        signers: &[&Keypair],
        accounts: &[Address],
    ) -> Result<crate::chain::Simulated, ChainError> {
        let payer = solana_signer::Signer::pubkey(&self.payer);
        let mut keys: Vec<&Keypair> = vec![&self.payer];
        keys.extend(signers.iter().copied());
        let msg = Message::new(ixs, Some(&payer));
        let tx = Transaction::new(&keys, msg, self.svm.latest_blockhash());
        match self.svm.simulate_transaction(tx) {
            Ok(info) => Ok(crate::chain::Simulated {
                compute_units: info.meta.compute_units_consumed,
                logs: info.meta.logs,
                accounts: accounts
                    .iter()
                    .map(|a| {
                        info.post_accounts
                            .iter()
                            .find(|(k, _)| k == a)
                            .map(|(_, acc)| solana_account::ReadableAccount::data(acc).to_vec())
                            .or_else(|| self.svm.get_account(a).map(|x| x.data))
                    })
                    .collect(),
            }),
            Err(e) => Err(ChainError::Transaction {
                err: e.err,
                logs: e.meta.logs,
            }),
        }
    }
}

fn litesvm_account(lamports: u64, data: Vec<u8>, owner: Address) -> solana_account::Account {
    solana_account::Account {
        lamports,
        data,
        owner,
        executable: false,
        rent_epoch: 0,
    }
}
