//! The CPI example program `ballast-vault-example` beside Ballast: its .so
//! (`target/deploy/ballast_vault_example.so` or `$BALLAST_VAULT_SO`), its
//! PDAs, instruction builders made from its crate's `accounts::` and
//! `instruction::` types ([`vault_ix`]), and the [`TestVault`] fixture.

use std::path::{Path, PathBuf};

use anchor_lang::AccountDeserialize;
use ballast_vault_example::state::{
    Depositor, Vault, DEPOSITOR_SEED, OBLIGATION_INDEX, VAULT_SEED, VAULT_TOKENS_SEED,
};
use ballast_vault_example::ID as VAULT_ID;

use crate::{ix, Address, Keypair, Signer, TestContext, TestReserve};

/// The vault PDA of a Ballast reserve.
pub fn vault_address(ballast_reserve: &Address) -> Address {
    Address::find_program_address(&[VAULT_SEED, ballast_reserve.as_ref()], &VAULT_ID).0
}

/// The vault's token account PDA.
pub fn vault_tokens_address(vault: &Address) -> Address {
    Address::find_program_address(&[VAULT_TOKENS_SEED, vault.as_ref()], &VAULT_ID).0
}

/// A user's ledger entry PDA in a vault.
pub fn depositor_address(vault: &Address, user: &Address) -> Address {
    Address::find_program_address(&[DEPOSITOR_SEED, vault.as_ref(), user.as_ref()], &VAULT_ID).0
}

/// A vault created by the harness over one Ballast reserve.
pub struct TestVault {
    /// The vault PDA.
    pub vault: Address,
    /// Its token account.
    pub token_account: Address,
    /// Its Ballast obligation (owned by the vault PDA).
    pub obligation: Address,
    /// Its admin.
    pub admin: Keypair,
    /// The Ballast reserve (and its market in `keys.market`).
    pub reserve: TestReserve,
}

/// Instruction builders for the vault program, one per instruction.
pub mod vault_ix {
    use anchor_lang::{InstructionData, ToAccountMetas};
    use ballast_vault_example::{accounts, instruction};
    use solana_instruction::{AccountMeta, Instruction};

    use super::*;

    fn build(
        accounts: impl ToAccountMetas,
        data: impl InstructionData,
        remaining: Vec<AccountMeta>,
    ) -> Instruction {
        let mut metas = accounts.to_account_metas(None);
        metas.extend(remaining);
        Instruction {
            program_id: VAULT_ID,
            accounts: metas,
            data: data.data(),
        }
    }

    /// `init_vault` over `r` by `admin`, with threshold `min_coverage_bps`.
    pub fn init_vault(admin: &Address, r: &TestReserve, min_coverage_bps: u32) -> Instruction {
        let vault = vault_address(&r.keys.reserve);
        build(
            accounts::InitVault {
                admin: *admin,
                ballast_market: r.keys.market,
                ballast_reserve: r.keys.reserve,
                mint: r.keys.mint,
                vault,
                vault_token_account: vault_tokens_address(&vault),
                obligation: ix::obligation_address(&r.keys.market, &vault, OBLIGATION_INDEX),
                ballast_program: ballast::ID,
                token_program: r.keys.token_program,
                system_program: anchor_lang::system_program::ID,
            },
            instruction::InitVault { min_coverage_bps },
            vec![],
        )
    }

    /// `set_min_coverage` of `vault` by `admin`.
    pub fn set_min_coverage(
        admin: &Address,
        vault: &Address,
        min_coverage_bps: u32,
    ) -> Instruction {
        build(
            accounts::SetMinCoverage {
                admin: *admin,
                vault: *vault,
            },
            instruction::SetMinCoverage { min_coverage_bps },
            vec![],
        )
    }

    /// `join` of `user` into `vault`.
    pub fn join(user: &Address, vault: &Address) -> Instruction {
        build(
            accounts::Join {
                user: *user,
                vault: *vault,
                depositor: depositor_address(vault, user),
                system_program: anchor_lang::system_program::ID,
            },
            instruction::Join {},
            vec![],
        )
    }

    /// The accounts of `deposit` for `user` paying from `user_token_account`.
    pub fn deposit_accounts(
        user: &Address,
        v: &TestVault,
        user_token_account: &Address,
    ) -> accounts::VaultDeposit {
        let k = &v.reserve.keys;
        accounts::VaultDeposit {
            user: *user,
            vault: v.vault,
            depositor: depositor_address(&v.vault, user),
            user_token_account: *user_token_account,
            vault_token_account: v.token_account,
            mint: k.mint,
            ballast_market: k.market,
            ballast_reserve: k.reserve,
            obligation: v.obligation,
            liquidity_vault: k.liquidity_vault,
            insurance_vault: k.insurance_vault,
            ballast_program: ballast::ID,
            token_program: k.token_program,
        }
    }

    /// `deposit` of `amount` with the given accounts.
    pub fn deposit_with(accounts: accounts::VaultDeposit, amount: u64) -> Instruction {
        build(accounts, instruction::Deposit { amount }, vec![])
    }

    /// `deposit` of `amount` by `user` from `user_token_account`.
    pub fn deposit(
        user: &Address,
        v: &TestVault,
        user_token_account: &Address,
        amount: u64,
    ) -> Instruction {
        deposit_with(deposit_accounts(user, v, user_token_account), amount)
    }

    /// The accounts of `withdraw` for `user` paying to `user_token_account`.
    pub fn withdraw_accounts(
        user: &Address,
        v: &TestVault,
        user_token_account: &Address,
    ) -> accounts::VaultWithdraw {
        let k = &v.reserve.keys;
        accounts::VaultWithdraw {
            user: *user,
            vault: v.vault,
            depositor: depositor_address(&v.vault, user),
            user_token_account: *user_token_account,
            mint: k.mint,
            ballast_market: k.market,
            market_authority: ix::market_authority(&k.market).0,
            ballast_reserve: k.reserve,
            obligation: v.obligation,
            liquidity_vault: k.liquidity_vault,
            ballast_program: ballast::ID,
            token_program: k.token_program,
        }
    }

    /// `withdraw` of `amount` with the given accounts.
    pub fn withdraw_with(accounts: accounts::VaultWithdraw, amount: u64) -> Instruction {
        build(accounts, instruction::Withdraw { amount }, vec![])
    }

    /// `withdraw` of `amount` (`u64::MAX`: all) by `user` to `user_token_account`.
    pub fn withdraw(
        user: &Address,
        v: &TestVault,
        user_token_account: &Address,
        amount: u64,
    ) -> Instruction {
        withdraw_with(withdraw_accounts(user, v, user_token_account), amount)
    }
}

/// Where the vault program's .so is: `$BALLAST_VAULT_SO`, else
/// `target/deploy/ballast_vault_example.so` (built by `make program`).
pub fn vault_so_path() -> PathBuf {
    std::env::var_os("BALLAST_VAULT_SO")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/deploy/ballast_vault_example.so")
        })
}

impl TestContext {
    /// Loads the vault program beside Ballast (once per context).
    pub fn load_vault_program(&mut self) {
        let path = vault_so_path();
        self.chain
            .svm
            .add_program_from_file(VAULT_ID, &path)
            .unwrap_or_else(|e| panic!("load {}: {e:?} (run `make program`)", path.display()));
    }

    /// Creates the vault of `r` with threshold `min_coverage_bps`, its admin
    /// a new funded key. Panics on failure.
    pub fn create_vault(&mut self, r: &TestReserve, min_coverage_bps: u32) -> TestVault {
        let admin = self.funded_user(10);
        let ix = vault_ix::init_vault(&admin.pubkey(), r, min_coverage_bps);
        self.ok("vault init_vault", &[ix], &[&admin]);
        let vault = vault_address(&r.keys.reserve);
        TestVault {
            vault,
            token_account: vault_tokens_address(&vault),
            obligation: ix::obligation_address(&r.keys.market, &vault, OBLIGATION_INDEX),
            admin,
            reserve: *r,
        }
    }

    /// A funded user who joined `v`, holding `amount` of its mint in a new
    /// token account. Returns the user and the token account.
    pub fn vault_user(&mut self, v: &TestVault, amount: u64) -> (Keypair, Address) {
        let (user, ta) = self.user_with_tokens(&v.reserve, amount);
        self.ok(
            "vault join",
            &[vault_ix::join(&user.pubkey(), &v.vault)],
            &[&user],
        );
        (user, ta)
    }

    /// The decoded vault.
    pub fn vault(&self, v: &TestVault) -> Vault {
        let data = self.chain.svm.get_account(&v.vault).expect("vault").data;
        Vault::try_deserialize(&mut data.as_slice()).expect("vault decodes")
    }

    /// The user's shares in `v` (0 without a ledger entry).
    pub fn vault_shares(&self, v: &TestVault, user: &Address) -> u64 {
        match self
            .chain
            .svm
            .get_account(&depositor_address(&v.vault, user))
        {
            Some(acc) => {
                Depositor::try_deserialize(&mut acc.data.as_slice())
                    .expect("depositor decodes")
                    .shares
            }
            None => 0,
        }
    }
}
