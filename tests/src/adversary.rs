//! What an attacker can do to the chain's state: [`Snapshot`]s to prove a
//! refused transaction moved nothing, forged copies of accounts, patched
//! reserves, hostile Token-2022 mints and partially verified oracle updates.

use ballast::state::Reserve;

use crate::{Address, Keypair, PythPrice, Signer, TestContext, TestReserve, TOKEN_2022_PROGRAM_ID};

/// The raw state (lamports, owner, data) of a set of accounts, taken before a
/// transaction that must fail, to assert afterwards that nothing moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot(Vec<(Address, Option<RawAccount>)>);

/// An account's lamports, owner and data, as [`Snapshot`] records them.
pub type RawAccount = (u64, Address, Vec<u8>);

impl Snapshot {
    /// The recorded (address, account) pairs, in the order taken.
    pub fn pairs(&self) -> &[(Address, Option<RawAccount>)] {
        &self.0
    }
}

impl TestContext {
    /// Snapshots `addrs` (missing accounts included, as `None`).
    pub fn snapshot(&self, addrs: &[Address]) -> Snapshot {
        Snapshot(
            addrs
                .iter()
                .map(|a| {
                    (
                        *a,
                        self.chain
                            .svm
                            .get_account(a)
                            .map(|acc| (acc.lamports, acc.owner, acc.data)),
                    )
                })
                .collect(),
        )
    }

    /// Asserts that every account of `before` is byte-for-byte as it was.
    pub fn assert_unchanged(&self, label: &str, before: &Snapshot) {
        let addrs: Vec<Address> = before.0.iter().map(|(a, _)| *a).collect();
        let after = self.snapshot(&addrs);
        for ((addr, b), (_, a)) in before.0.iter().zip(after.0.iter()) {
            assert!(b == a, "[{label}] account {addr} changed");
        }
    }

    /// Copies the account at `from` (data included) to a fresh address, owned
    /// by `owner`: a forged account. Returns its address.
    pub fn forge_copy(&mut self, from: &Address, owner: Address) -> Address {
        let data = self
            .chain
            .svm
            .get_account(from)
            .expect("account to copy")
            .data;
        let to = Keypair::new().pubkey();
        self.chain
            .set_raw_account(&to, owner, data)
            .expect("write forged account");
        to
    }

    /// Rewrites the reserve `r` in place (same address, owner and
    /// discriminator) after applying `f`: a state only a forger could reach.
    pub fn patch_reserve(&mut self, r: &TestReserve, f: impl FnOnce(&mut Reserve)) {
        let mut reserve = self.reserve(r);
        f(&mut reserve);
        let mut data = self
            .chain
            .svm
            .get_account(&r.keys.reserve)
            .expect("reserve")
            .data;
        data[8..8 + core::mem::size_of::<Reserve>()].copy_from_slice(bytemuck::bytes_of(&reserve));
        self.chain
            .set_raw_account(&r.keys.reserve, ballast::ID, data)
            .expect("write reserve");
    }

    /// Creates a Token-2022 mint carrying `extensions` (each initialised with
    /// the payer as its authority where it has one), then `initialize_mint2`.
    /// Supported: TransferFeeConfig, MintCloseAuthority, PermanentDelegate,
    /// NonTransferable.
    pub fn create_token_2022_mint_with(
        &mut self,
        decimals: u8,
        extensions: &[anchor_spl::token_2022::spl_token_2022::extension::ExtensionType],
    ) -> Address {
        use anchor_spl::token_2022::spl_token_2022::{
            self, extension::ExtensionType, state::Mint as MintState,
        };
        let mint = Keypair::new();
        let mint_key = mint.pubkey();
        let payer = self.chain.payer.pubkey();
        let tp = TOKEN_2022_PROGRAM_ID;
        let len =
            ExtensionType::try_calculate_account_len::<MintState>(extensions).expect("mint length");
        let lamports = self.chain.svm.minimum_balance_for_rent_exemption(len);
        let mut ixs = vec![
            anchor_lang::solana_program::system_instruction::create_account(
                &payer, &mint_key, lamports, len as u64, &tp,
            ),
        ];
        for ext in extensions {
            let ix = match ext {
                ExtensionType::TransferFeeConfig => {
                    spl_token_2022::extension::transfer_fee::instruction::initialize_transfer_fee_config(
                        &tp,
                        &mint_key,
                        Some(&payer),
                        Some(&payer),
                        100,
                        1_000_000,
                    )
                }
                ExtensionType::MintCloseAuthority => {
                    spl_token_2022::instruction::initialize_mint_close_authority(
                        &tp,
                        &mint_key,
                        Some(&payer),
                    )
                }
                ExtensionType::PermanentDelegate => {
                    spl_token_2022::instruction::initialize_permanent_delegate(
                        &tp, &mint_key, &payer,
                    )
                }
                ExtensionType::NonTransferable => {
                    spl_token_2022::instruction::initialize_non_transferable_mint(&tp, &mint_key)
                }
                other => panic!("extension {other:?} not supported by this helper"),
            }
            .expect("extension instruction");
            ixs.push(ix);
        }
        ixs.push(
            spl_token_2022::instruction::initialize_mint2(&tp, &mint_key, &payer, None, decimals)
                .expect("initialize_mint2"),
        );
        self.chain
            .send_ok(&ixs, &[&mint])
            .unwrap_or_else(|e| panic!("{e}"));
        mint_key
    }

    /// Writes `p` into `r`'s oracle account as a *partially* verified update
    /// (`num_signatures` guardian signatures checked), byte for byte as the
    /// Pyth receiver would store it. `p.verification` must be `Full` (as
    /// [`PythPrice::usd`] makes it); only the level is rewritten.
    pub fn set_pyth_partial(&mut self, r: &TestReserve, p: &PythPrice, num_signatures: u8) {
        // discriminator (8) + write_authority (32), then the Borsh enum:
        // `Partial { num_signatures: u8 }` = [0, n], `Full` = [1].
        const LEVEL: usize = 8 + 32;
        let mut data = p.to_account_data();
        assert_eq!(data[LEVEL], 1, "expected a Full update to rewrite");
        data[LEVEL] = 0;
        data.insert(LEVEL + 1, num_signatures);
        self.chain
            .set_raw_account(
                &r.keys.oracle,
                ballast_keeper::accounts::PYTH_RECEIVER_ID,
                data,
            )
            .expect("write oracle");
    }
}
