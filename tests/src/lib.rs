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
                liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
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

// ---------------------------------------------------------------------------
// Lending fixtures
// ---------------------------------------------------------------------------

use ballast::state::{Obligation, Reserve, ReserveConfig};
pub use ballast_keeper::ix::ReserveKeys;
use solana_instruction::AccountMeta;

/// A reserve created by the harness, with its oracle's feed id and mint
/// decimals.
#[derive(Clone, Copy, Debug)]
pub struct TestReserve {
    /// Every address of the reserve.
    pub keys: ReserveKeys,
    /// The Pyth feed id written into its oracle account.
    pub feed_id: [u8; 32],
    /// Mint decimals.
    pub decimals: u8,
}

impl TestReserve {
    /// The reserve address.
    pub fn address(&self) -> Address {
        self.keys.reserve
    }

    /// `whole` tokens in base units.
    pub fn units(&self, whole: f64) -> u64 {
        (whole * 10f64.powi(self.decimals as i32)).round() as u64
    }
}

/// A reserve configuration for tests: LTV 75%, LT 80%, borrow factor 1,
/// reserve factor 10%, max utilisation 95%, oracle max age 60 s and max
/// confidence 2%, large caps, and the Compound III-like curve 0.5% / 8.5% at
/// 80% / 68.5% at 100%.
pub fn test_config(feed_id: [u8; 32]) -> ReserveConfig {
    let mut c: ReserveConfig = bytemuck_zeroed();
    c.oracle_feed_id = feed_id;
    c.deposit_cap = u64::MAX / 4;
    c.borrow_cap = u64::MAX / 4;
    c.oracle_max_age_secs = 60;
    c.borrow_factor_bps = 10_000;
    c.oracle_max_conf_bps = 200;
    c.loan_to_value_bps = 7_500;
    c.liquidation_threshold_bps = 8_000;
    c.reserve_factor_bps = 1_000;
    c.max_utilization_bps = 9_500;
    c.rate_curve =
        ballast::engine::rates::RateCurve::from_points(&[(0, 50), (8_000, 850), (10_000, 6_850)]);
    c
}

fn bytemuck_zeroed<T: bytemuck::Zeroable>() -> T {
    T::zeroed()
}

/// A market with an admin, ready for reserves.
pub struct TestMarket {
    /// The admin (also the risk authority).
    pub admin: Keypair,
    /// The market address.
    pub market: Address,
}

impl TestContext {
    /// A funded admin and a fresh unpaused market.
    pub fn setup_market(&mut self) -> TestMarket {
        let admin = self.funded_user(100);
        let market = self.create_market(&admin, admin.pubkey());
        TestMarket { admin, market }
    }

    /// Writes a fully verified price for `r` published now, with `conf_usd`
    /// confidence and the EMA equal to the spot.
    pub fn set_price(&mut self, r: &TestReserve, price_usd: f64, conf_usd: f64) {
        let now = self.clock().unix_timestamp;
        let mut p = PythPrice::usd(r.feed_id, price_usd, now);
        p.conf = (conf_usd * 1e8).round() as u64;
        p.ema_conf = p.conf;
        self.chain
            .set_pyth_price(&r.keys.oracle, &p)
            .expect("write oracle");
    }

    /// Writes an arbitrary `PythPrice` into `r`'s oracle account.
    pub fn set_pyth(&mut self, r: &TestReserve, p: &PythPrice) {
        self.chain
            .set_pyth_price(&r.keys.oracle, p)
            .expect("write oracle");
    }

    /// Creates a mint under `token_program`, its oracle at `price_usd`, and
    /// the reserve with `config` (its feed id is overwritten with the
    /// oracle's). Panics on failure.
    pub fn add_reserve(
        &mut self,
        m: &TestMarket,
        token_program: &Address,
        decimals: u8,
        price_usd: f64,
        mut config: ReserveConfig,
    ) -> TestReserve {
        let mint = self
            .chain
            .create_mint(token_program, decimals)
            .expect("mint");
        let oracle = Keypair::new().pubkey();
        let mut feed_id = [0u8; 32];
        feed_id.copy_from_slice(&mint.to_bytes());
        let r = TestReserve {
            keys: ReserveKeys::derive(&m.market, &mint, token_program, &oracle),
            feed_id,
            decimals,
        };
        self.set_price(&r, price_usd, 0.0);
        config.oracle_feed_id = feed_id;
        let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, config);
        self.ok("init_reserve", &[ix], &[&m.admin]);
        r
    }

    /// A funded user holding `amount` base units of `r`'s mint in a new token
    /// account. Returns the user and the token account.
    pub fn user_with_tokens(&mut self, r: &TestReserve, amount: u64) -> (Keypair, Address) {
        let user = self.funded_user(10);
        let ta = self.token_account_for(r, &user.pubkey(), amount);
        (user, ta)
    }

    /// A token account of `r`'s mint owned by `owner`, funded with `amount`.
    pub fn token_account_for(&mut self, r: &TestReserve, owner: &Address, amount: u64) -> Address {
        let ta = self
            .chain
            .create_token_account(&r.keys.mint, owner)
            .expect("token account");
        if amount > 0 {
            self.chain
                .mint_to(&r.keys.mint, &ta, amount)
                .expect("mint_to");
        }
        ta
    }

    /// Opens obligation `index` of `user` in `market`; returns its address.
    pub fn open_obligation(&mut self, user: &Keypair, market: &Address, index: u8) -> Address {
        let ix = ix::init_obligation(&user.pubkey(), &user.pubkey(), market, index);
        self.ok("init_obligation", &[ix], &[user]);
        ix::obligation_address(market, &user.pubkey(), index)
    }

    /// The decoded reserve.
    pub fn reserve(&self, r: &TestReserve) -> Reserve {
        self.chain
            .zero_copy::<Reserve>(&r.keys.reserve)
            .expect("reserve")
    }

    /// The decoded obligation.
    pub fn obligation(&self, o: &Address) -> Obligation {
        self.chain.zero_copy::<Obligation>(o).expect("obligation")
    }

    /// The health remaining accounts of obligation `o` as it is on chain,
    /// plus the debt position a borrow from `extra[0]` would open.
    pub fn health_accounts(&self, o: &Address, extra: &[&TestReserve]) -> Vec<AccountMeta> {
        let ob = self.obligation(o);
        let borrowing = extra.first().map(|r| r.keys.reserve);
        ix::health_accounts(&ob, borrowing.as_ref(), |reserve| {
            self.chain
                .zero_copy::<Reserve>(reserve)
                .expect("reserve in obligation")
                .oracle
        })
    }

    /// Deposits `amount` of `r` from `ta` into obligation `o` of `user`
    /// (with `r`'s treasury strategy reserve appended while `r` has shares
    /// deployed: [`ix::strategy_account`]).
    pub fn deposit(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let ix = ix::with_accounts(
            ix::deposit(&user.pubkey(), &r.keys, o, ta, amount),
            ix::strategy_account(&self.reserve(r)),
        );
        self.ok("deposit", &[ix], &[user])
    }

    /// Borrows `amount` of `r` into `ta` against obligation `o`.
    pub fn borrow(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let health = self.health_accounts(o, &[r]);
        let ix = ix::borrow(&user.pubkey(), &r.keys, o, ta, amount, health);
        self.ok("borrow", &[ix], &[user])
    }

    /// Withdraws `amount` of `r` into `ta` from obligation `o` (with `r`'s
    /// treasury strategy reserve after the health accounts while `r` has
    /// shares deployed: [`ix::strategy_account`]).
    pub fn withdraw(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let mut health = self.health_accounts(o, &[]);
        health.extend(ix::strategy_account(&self.reserve(r)));
        let ix = ix::withdraw(&user.pubkey(), &r.keys, o, ta, amount, health);
        self.ok("withdraw", &[ix], &[user])
    }

    /// Repays up to `amount` of `r` from `ta` (owned by `payer`) on `o`.
    pub fn repay(
        &mut self,
        payer: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let ix = ix::repay(&payer.pubkey(), &r.keys, o, ta, amount);
        self.ok("repay", &[ix], &[payer])
    }

    /// Asserts the reserve's vault holds exactly `available_amount` (the
    /// balance-sheet invariant), to the base unit.
    pub fn assert_vault_reconciles(&self, r: &TestReserve) {
        let reserve = self.reserve(r);
        let vault = self.chain.token_balance(&r.keys.liquidity_vault).unwrap();
        assert_eq!(
            vault, reserve.available_amount,
            "vault balance vs reserve.available_amount"
        );
    }
}

// ---------------------------------------------------------------------------
// Adversarial-test helpers
// ---------------------------------------------------------------------------

/// Asserts that `err` is the Anchor framework error `expected` (account and
/// constraint errors, codes below 6000).
pub fn assert_anchor_err(err: &TransactionError, expected: anchor_lang::error::ErrorCode) {
    let want = expected as u32;
    assert_eq!(
        custom_code(err),
        Some(want),
        "expected Anchor {expected:?} ({want}), got {err:?}"
    );
}

/// The raw state (lamports, owner, data) of a set of accounts, taken before a
/// transaction that must fail, to assert afterwards that nothing moved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot(Vec<(Address, Option<RawAccount>)>);

/// An account's lamports, owner and data, as [`Snapshot`] records them.
pub type RawAccount = (u64, Address, Vec<u8>);

/// A two-reserve lending fixture under one token program: a market, a
/// collateral reserve ("SOL": 9 decimals, $20) and a debt reserve ("USDC": 6
/// decimals, $1), a supplier who deposited 10,000 USDC, and a borrower who
/// deposited 100 SOL (worth $1,500 at the 75% LTV) and holds no USDC yet.
pub struct Lending {
    /// The market and its admin.
    pub m: TestMarket,
    /// The collateral reserve (SOL-like).
    pub coll: TestReserve,
    /// The debt reserve (USDC-like).
    pub debt: TestReserve,
    /// The supplier of the USDC liquidity.
    pub supplier: Keypair,
    /// The supplier's obligation (10,000 USDC of collateral).
    pub so: Address,
    /// The supplier's USDC token account (empty after the deposit).
    pub s_debt: Address,
    /// The borrower.
    pub borrower: Keypair,
    /// The borrower's obligation (100 SOL of collateral).
    pub ob: Address,
    /// The borrower's SOL token account (empty after the deposit).
    pub b_coll: Address,
    /// The borrower's USDC token account (empty).
    pub b_debt: Address,
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

    /// Pauses or unpauses `m` (admin-signed `update_market`).
    pub fn set_paused(&mut self, m: &TestMarket, paused: bool) {
        let ix = ix::update_market(
            &m.admin.pubkey(),
            &m.market,
            ballast::instructions::UpdateMarketParams {
                paused: Some(paused),
                ..Default::default()
            },
        );
        self.ok("update_market paused", &[ix], &[&m.admin]);
    }

    /// Applies `f` to `r`'s current configuration and sends it with
    /// `update_reserve_config` (admin-signed). Panics on failure.
    pub fn update_config(
        &mut self,
        m: &TestMarket,
        r: &TestReserve,
        f: impl FnOnce(&mut ReserveConfig),
    ) {
        let mut config = self.reserve(r).config;
        f(&mut config);
        let ix = ix::update_reserve_config(&m.admin.pubkey(), &r.keys, config);
        self.ok("update_reserve_config", &[ix], &[&m.admin]);
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

    /// Builds the [`Lending`] fixture with both reserves under
    /// `token_program`.
    pub fn lending(&mut self, token_program: &Address) -> Lending {
        let m = self.setup_market();
        let coll = self.add_reserve(&m, token_program, 9, 20.0, test_config([0; 32]));
        let debt = self.add_reserve(&m, token_program, 6, 1.0, test_config([0; 32]));

        let (supplier, s_debt) = self.user_with_tokens(&debt, debt.units(10_000.0));
        let so = self.open_obligation(&supplier, &m.market, 0);
        self.deposit(&supplier, &debt, &so, &s_debt, debt.units(10_000.0));

        let (borrower, b_coll) = self.user_with_tokens(&coll, coll.units(100.0));
        let b_debt = self.token_account_for(&debt, &borrower.pubkey(), 0);
        let ob = self.open_obligation(&borrower, &m.market, 0);
        self.deposit(&borrower, &coll, &ob, &b_coll, coll.units(100.0));
        Lending {
            m,
            coll,
            debt,
            supplier,
            so,
            s_debt,
            borrower,
            ob,
            b_coll,
            b_debt,
        }
    }
}

impl Lending {
    /// Every account a lending instruction can touch: market, both reserves
    /// and vaults, both obligations and the users' token accounts.
    pub fn accounts(&self) -> Vec<Address> {
        vec![
            self.m.market,
            self.coll.keys.reserve,
            self.coll.keys.liquidity_vault,
            self.debt.keys.reserve,
            self.debt.keys.liquidity_vault,
            self.so,
            self.s_debt,
            self.ob,
            self.b_coll,
            self.b_debt,
        ]
    }
}

impl TestContext {
    /// Like [`TestContext::add_reserve`] for an existing `mint` (e.g. one
    /// already listed in another market): a new oracle at `price_usd` and
    /// the reserve with `config`. Panics on failure.
    pub fn add_reserve_for_mint(
        &mut self,
        m: &TestMarket,
        mint: &Address,
        decimals: u8,
        price_usd: f64,
        mut config: ReserveConfig,
    ) -> TestReserve {
        let token_program = self.owner_of(mint).expect("mint");
        let oracle = Keypair::new().pubkey();
        let mut feed_id = [0u8; 32];
        feed_id.copy_from_slice(&mint.to_bytes());
        let r = TestReserve {
            keys: ReserveKeys::derive(&m.market, mint, &token_program, &oracle),
            feed_id,
            decimals,
        };
        self.set_price(&r, price_usd, 0.0);
        config.oracle_feed_id = feed_id;
        let ix = ix::init_reserve(&m.admin.pubkey(), &r.keys, config);
        self.ok("init_reserve", &[ix], &[&m.admin]);
        r
    }
}

// ---------------------------------------------------------------------------
// Accounting checks (scenario and property tests)
// ---------------------------------------------------------------------------

impl TestContext {
    /// Asserts the books of reserve `r`, whose depositors and borrowers are
    /// exactly the `obligations`: the vault holds `available_amount` to the
    /// base unit; `supply()` is available + borrowed (rounded down) - fees,
    /// and within one ulp of it with borrowed rounded up; the reserve's
    /// deposit shares are the sum of the obligations' collateral shares and
    /// its debt shares the exact (`Fx`) sum of their debt shares.
    pub fn assert_books(&self, label: &str, r: &TestReserve, obligations: &[Address]) {
        use ballast::engine::fx::{fx_u64, Fx, FxExt, FX_ZERO};
        use ballast::state::PositionKind;
        let reserve = self.reserve(r);
        let vault = self.chain.token_balance(&r.keys.liquidity_vault).unwrap();
        assert_eq!(
            vault, reserve.available_amount,
            "[{label}] vault balance vs reserve.available_amount"
        );
        let (shares, index, fees) = (
            reserve.borrow_shares.get(),
            reserve.borrow_index.get(),
            reserve.protocol_fees.get(),
        );
        let supply = reserve.supply().unwrap();
        let low = fx_u64(reserve.available_amount) + shares.mul_floor(index).unwrap() - fees;
        assert_eq!(supply, low.max(FX_ZERO), "[{label}] supply identity");
        let high = fx_u64(reserve.available_amount) + reserve.borrowed().unwrap() - fees;
        assert!(
            high >= supply && high - supply <= Fx::DELTA,
            "[{label}] available + borrowed - fees = {high} vs supply {supply}"
        );
        let mut deposit_shares = 0u64;
        let mut borrow_shares = FX_ZERO;
        for o in obligations {
            let ob = self.obligation(o);
            if let Some(i) = ob.find(&r.keys.reserve, PositionKind::Collateral) {
                deposit_shares += ob.positions[i].deposit_shares;
            }
            if let Some(i) = ob.find(&r.keys.reserve, PositionKind::Debt) {
                borrow_shares += ob.positions[i].borrow_shares.get();
            }
        }
        assert_eq!(
            reserve.deposit_shares, deposit_shares,
            "[{label}] reserve deposit shares vs the obligations' sum"
        );
        assert_eq!(
            shares, borrow_shares,
            "[{label}] reserve debt shares vs the obligations' sum"
        );
    }

    /// The supply of `mint` as its account records it, base units.
    pub fn mint_supply(&self, mint: &Address) -> u64 {
        let acc = self.chain.svm.get_account(mint).expect("mint");
        // COption<Pubkey> (36 bytes) then the u64 supply, in both programs.
        u64::from_le_bytes(acc.data[36..44].try_into().expect("mint data"))
    }
}

impl TestContext {
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
                ballast_keeper::embedded::PYTH_RECEIVER_ID,
                data,
            )
            .expect("write oracle");
    }
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

/// Every Anchor event of type `E` in a transaction's logs (`Program data:`
/// lines: base64 of the 8-byte discriminator and the borsh payload), in order.
pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(logs: &[String]) -> Vec<E> {
    use base64::Engine;
    logs.iter()
        .filter_map(|l| l.strip_prefix("Program data: "))
        .filter_map(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .filter(|d| d.len() >= 8 && &d[..8] == E::DISCRIMINATOR)
        .map(|d| E::deserialize(&mut &d[8..]).expect("event decodes"))
        .collect()
}

impl TestContext {
    /// Sends `ixs`, expects success and returns the logs.
    pub fn ok_logs(
        &mut self,
        label: &str,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Vec<String> {
        match self.chain.send(ixs, signers) {
            Ok(meta) => {
                println!("[cu] {label} {}", meta.compute_units_consumed);
                meta.logs
            }
            Err(e) => panic!(
                "[{label}] expected success, got {:?}\n{}",
                e.err,
                e.meta.logs.join("\n")
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Dynamic collateral requirements
// ---------------------------------------------------------------------------

use ballast::engine::fx::{Fx, WrappedFx};
use ballast::engine::risk::{HaircutCurve, RiskConfig, RiskPolicy};

/// [`test_config`] under the dynamic policy: 1-day horizon; LTV haircut
/// 5% + 2.33 sigma sqrt(h) in [15%, 60%]; LT haircut 2% + 1.65 sigma sqrt(h) in
/// [10%, 55%]; borrow factor 1 + sigma sqrt(h) in [0, 50%]; sigma in
/// [0.1, 5]; pushes at least 10 min apart, stale after 2 h; steps of 50%
/// (so the first push from the conservative values lands in one go; tests of
/// the step bounds narrow them).
pub fn dynamic_config(feed_id: [u8; 32]) -> ReserveConfig {
    let mut c = test_config(feed_id);
    c.risk = RiskConfig {
        sigma_min: WrappedFx::new(Fx::from_num(0.1)),
        sigma_max: WrappedFx::new(Fx::from_num(5)),
        initial: HaircutCurve {
            base_bps: 500,
            min_bps: 1_500,
            max_bps: 6_000,
            _padding: 0,
            z_milli: 2_330,
        },
        maintenance: HaircutCurve {
            base_bps: 200,
            min_bps: 1_000,
            max_bps: 5_500,
            _padding: 0,
            z_milli: 1_650,
        },
        borrow: HaircutCurve {
            base_bps: 0,
            min_bps: 0,
            max_bps: 5_000,
            _padding: 0,
            z_milli: 1_000,
        },
        horizon_secs: 86_400,
        min_update_interval_secs: 600,
        max_age_secs: 7_200,
        max_lt_step_bps: 5_000,
        max_ltv_step_bps: 5_000,
        policy: RiskPolicy::Dynamic as u8,
        _padding: [0; 7],
    };
    c
}

impl TestContext {
    /// Pushes `sigma` (annualised) for `r` signed by the market's admin, who
    /// is also its risk authority in [`TestContext::setup_market`].
    pub fn push_sigma(
        &mut self,
        m: &TestMarket,
        r: &TestReserve,
        sigma: f64,
    ) -> Result<u64, TransactionError> {
        let ix = ix::update_volatility(
            &m.admin.pubkey(),
            &m.market,
            &r.keys.reserve,
            Fx::from_num(sigma),
        );
        let admin = m.admin.insecure_clone();
        self.chain
            .send(&[ix], &[&admin])
            .map(|meta| meta.compute_units_consumed)
            .map_err(|e| e.err)
    }

    /// The obligation's health under `req` as the program's own engine
    /// computes it from the chain's reserves and oracles at the current time.
    pub fn engine_health(
        &self,
        o: &Address,
        req: ballast::engine::health::Requirement,
    ) -> ballast::engine::health::Health {
        use ballast::engine::health::Health;
        use ballast::state::PositionKind;
        let now = self.clock().unix_timestamp;
        let ob = self.obligation(o);
        let mut h = Health::default();
        for p in ob
            .positions
            .iter()
            .filter(|p| p.kind() != PositionKind::Empty)
        {
            let reserve: Reserve = self.chain.zero_copy(&p.reserve).unwrap();
            let acc = self.svm.get_account(&reserve.oracle).unwrap();
            let update = ballast::runtime::oracle_account::decode_bytes(&acc.data).unwrap();
            let price = ballast::engine::oracle::validate_price(
                &update,
                &ballast::runtime::oracle_account::limits(&reserve),
                now,
            )
            .unwrap();
            let view = reserve.view(now).unwrap();
            match p.kind() {
                PositionKind::Collateral => h
                    .add_collateral(
                        view.collateral_value(p.deposit_shares, &price, req)
                            .unwrap(),
                    )
                    .unwrap(),
                PositionKind::Debt => h
                    .add_debt(view.debt_value(p.borrow_shares.get(), &price, req).unwrap())
                    .unwrap(),
                PositionKind::Empty => {}
            }
        }
        h
    }
}

// ---------------------------------------------------------------------------
// Liquidation and bad debt
// ---------------------------------------------------------------------------

use ballast::engine::liquidation::LiquidationConfig;
use ballast::events::Liquidated;

impl TestContext {
    /// The `liquidate` instruction against obligation `o` as it is on chain
    /// (its health accounts read now): `liquidator` repays up to `max_repay`
    /// of `debt` from `l_debt` and takes `coll` into `l_coll`.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate_ix(
        &self,
        liquidator: &Keypair,
        o: &Address,
        debt: &TestReserve,
        coll: &TestReserve,
        l_debt: &Address,
        l_coll: &Address,
        max_repay: u64,
    ) -> Instruction {
        let health = self.health_accounts(o, &[]);
        ix::liquidate(
            &liquidator.pubkey(),
            o,
            &debt.keys,
            &coll.keys,
            l_debt,
            l_coll,
            max_repay,
            health,
        )
    }

    /// Sends a liquidation that must succeed and checks it against its own
    /// `Liquidated` event: one event naming this obligation, liquidator and
    /// reserves; the liquidator paid exactly `repaid` into the debt vault;
    /// the collateral vault paid out exactly `seized`, of which `to_insurance`
    /// reached the collateral reserve's insurance vault and the rest the
    /// liquidator; both reserves' `available_amount` moved by the same
    /// amounts and both vaults reconcile. Returns the event.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate_ok(
        &mut self,
        liquidator: &Keypair,
        o: &Address,
        debt: &TestReserve,
        coll: &TestReserve,
        l_debt: &Address,
        l_coll: &Address,
        max_repay: u64,
    ) -> Liquidated {
        let bal = |ctx: &Self, a: &Address| ctx.chain.token_balance(a).unwrap();
        let accounts = [
            *l_debt,
            debt.keys.liquidity_vault,
            coll.keys.liquidity_vault,
            *l_coll,
            coll.keys.insurance_vault,
        ];
        let before: Vec<u64> = accounts.iter().map(|a| bal(self, a)).collect();
        let (avail_d, avail_c) = (
            self.reserve(debt).available_amount,
            self.reserve(coll).available_amount,
        );
        // The collateral reserve's strategy reserve when it has shares
        // deployed (the program marks them before pricing the seizure).
        let ix = ix::with_accounts(
            self.liquidate_ix(liquidator, o, debt, coll, l_debt, l_coll, max_repay),
            ix::strategy_account(&self.reserve(coll)),
        );
        let logs = self.ok_logs("liquidate", &[ix], &[liquidator]);
        let e: Vec<Liquidated> = events(&logs);
        assert_eq!(e.len(), 1, "one Liquidated event");
        let e = e.into_iter().next().unwrap();
        assert_eq!(e.obligation, *o);
        assert_eq!(e.liquidator, liquidator.pubkey());
        assert_eq!(e.debt_reserve, debt.address());
        assert_eq!(e.collateral_reserve, coll.address());
        assert!(e.to_insurance <= e.seized);
        let after: Vec<u64> = accounts.iter().map(|a| bal(self, a)).collect();
        assert_eq!(before[0] - after[0], e.repaid, "liquidator paid `repaid`");
        assert_eq!(after[1] - before[1], e.repaid, "debt vault got `repaid`");
        assert_eq!(
            before[2] - after[2],
            e.seized,
            "collateral vault paid `seized`"
        );
        assert_eq!(
            after[3] - before[3],
            e.seized - e.to_insurance,
            "liquidator got `seized - to_insurance`"
        );
        assert_eq!(
            after[4] - before[4],
            e.to_insurance,
            "insurance vault got `to_insurance`"
        );
        assert_eq!(self.reserve(debt).available_amount, avail_d + e.repaid);
        assert_eq!(self.reserve(coll).available_amount, avail_c - e.seized);
        self.assert_vault_reconciles(debt);
        self.assert_vault_reconciles(coll);
        e
    }

    /// Sets the liquidation parameters of `m` (admin-signed `update_market`).
    pub fn set_liquidation_config(&mut self, m: &TestMarket, liquidation: LiquidationConfig) {
        let ix = ix::update_market(
            &m.admin.pubkey(),
            &m.market,
            ballast::instructions::UpdateMarketParams {
                liquidation: Some(liquidation),
                ..Default::default()
            },
        );
        self.ok("update_market liquidation", &[ix], &[&m.admin]);
    }

    /// The debt of obligation `o` in `r` now (base units, `Fx`, rounded up
    /// as the program values it), zero without a debt position.
    pub fn debt_of(&self, o: &Address, r: &TestReserve) -> Fx {
        use ballast::state::PositionKind;
        let ob = self.obligation(o);
        let Some(i) = ob.find(&r.keys.reserve, PositionKind::Debt) else {
            return Fx::ZERO;
        };
        let index = self
            .reserve(r)
            .projected_borrow_index(self.clock().unix_timestamp)
            .unwrap();
        ballast::engine::shares::debt_for_shares(ob.positions[i].borrow_shares.get(), index)
            .unwrap()
    }

    /// The tokens the collateral position of `o` in `r` redeems now (base
    /// units, rounded down), zero without one.
    pub fn collateral_of(&self, o: &Address, r: &TestReserve) -> u64 {
        use ballast::engine::fx::FxExt;
        use ballast::state::PositionKind;
        let ob = self.obligation(o);
        let Some(i) = ob.find(&r.keys.reserve, PositionKind::Collateral) else {
            return 0;
        };
        let reserve = self.reserve(r);
        ballast::engine::shares::tokens_for_shares_floor(
            ob.positions[i].deposit_shares,
            reserve.supply().unwrap(),
            reserve.deposit_shares,
        )
        .unwrap()
        .to_floor_u64()
        .unwrap()
    }

    /// Whether obligation `o` holds any collateral position.
    pub fn has_collateral(&self, o: &Address) -> bool {
        self.obligation(o)
            .positions
            .iter()
            .any(|p| p.kind() == ballast::state::PositionKind::Collateral)
    }
}

/// Whether health `after` is at least as good as `before` (collateral /
/// debt compared exactly by cross-multiplication; no debt counts as
/// infinitely healthy).
pub fn health_not_worse(
    before: &ballast::engine::health::Health,
    after: &ballast::engine::health::Health,
) -> bool {
    if after.debt <= Fx::ZERO {
        return true;
    }
    if before.debt <= Fx::ZERO {
        return false;
    }
    let bits = |v: Fx| u128::try_from(v.to_bits()).expect("non-negative");
    // after.c / after.d >= before.c / before.d  <=>  after.c * before.d >= before.c * after.d
    wide_mul(bits(after.collateral), bits(before.debt))
        >= wide_mul(bits(before.collateral), bits(after.debt))
}

/// `a * b` as a 256-bit (high, low) pair, ordered lexicographically.
fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    let (a1, a0) = (a >> 64, a & u64::MAX as u128);
    let (b1, b0) = (b >> 64, b & u64::MAX as u128);
    let (p00, p01, p10, p11) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let mid = (p00 >> 64) + (p01 & u64::MAX as u128) + (p10 & u64::MAX as u128);
    let lo = (p00 & u64::MAX as u128) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

// ---------------------------------------------------------------------------
// Expected failures shared by the adversarial suites
// ---------------------------------------------------------------------------

/// SPL Token / Token-2022 `TokenError::InsufficientFunds`.
pub const TOKEN_INSUFFICIENT_FUNDS: u32 = 1;
/// SPL Token / Token-2022 `TokenError::OwnerMismatch`.
pub const TOKEN_OWNER_MISMATCH: u32 = 4;

/// The error a refused transaction must raise.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// A Ballast error.
    Ballast(ballast::errors::BallastError),
    /// An Anchor framework error (account constraints).
    Anchor(anchor_lang::error::ErrorCode),
    /// A custom error of the token program, surfacing through the CPI.
    Token(u32),
}

/// Asserts that `err` (of case `label`) is `expect`.
pub fn check(label: &str, err: &TransactionError, expect: Expect) {
    println!("case: {label} -> {err:?}");
    match expect {
        Expect::Ballast(e) => assert_ballast_err(err, e),
        Expect::Anchor(e) => assert_anchor_err(err, e),
        Expect::Token(code) => assert_eq!(
            err,
            &TransactionError::InstructionError(0, InstructionError::Custom(code)),
            "[{label}]"
        ),
    }
}

/// The token program that is not `tp` (SPL Token <-> Token-2022).
pub fn other_token_program(tp: &Address) -> Address {
    if *tp == TOKEN_PROGRAM_ID {
        TOKEN_2022_PROGRAM_ID
    } else {
        TOKEN_PROGRAM_ID
    }
}

// ---------------------------------------------------------------------------
// Treasury strategy
// ---------------------------------------------------------------------------

use ballast::events::Rebalanced;

/// [`test_config`] with a buffer band: the liquid share of deposits is kept
/// between 10% and 30% (target 20%), at most 50% of deposits may be deployed
/// to the treasury strategy, and the liquidity coverage stresses a 25% run.
pub fn buffered_config(feed_id: [u8; 32]) -> ReserveConfig {
    let mut c = test_config(feed_id);
    c.liquidity.buffer_min_bps = 1_000;
    c.liquidity.buffer_target_bps = 2_000;
    c.liquidity.buffer_max_bps = 3_000;
    c.liquidity.rehypothecation_cap_bps = 5_000;
    c.liquidity.stress_outflow_bps = 2_500;
    c
}

/// Two markets listing one USDC-like mint (6 decimals, $1) under one token
/// program: in market `a`, `a_usdc` has a buffer band and its treasury
/// strategy set to `b_usdc` in market `b`; `b` also lists a SOL-like
/// collateral reserve (9 decimals, $20) for its borrowers, and a supplier
/// has deposited 10,000 USDC into `b_usdc`. Nothing is deposited in `a_usdc`.
pub struct Treasury {
    /// The token program of every mint.
    pub tp: Address,
    /// Market A (the reserve with the buffer band).
    pub a: TestMarket,
    /// A's USDC reserve, whose treasury strategy is `b_usdc`.
    pub a_usdc: TestReserve,
    /// Market B (the strategy).
    pub b: TestMarket,
    /// B's USDC reserve (same mint as `a_usdc`).
    pub b_usdc: TestReserve,
    /// B's SOL collateral reserve.
    pub b_sol: TestReserve,
    /// B's USDC supplier.
    pub b_supplier: Keypair,
    /// The supplier's obligation in B.
    pub b_so: Address,
    /// The supplier's USDC token account (empty after the deposit).
    pub b_s_usdc: Address,
    /// The treasury obligation: A's market authority's obligation in B.
    pub treasury_ob: Address,
}

impl Treasury {
    /// The `rebalance` instruction of `a_usdc` against `b_usdc`.
    pub fn rebalance_ix(&self) -> Instruction {
        ix::rebalance(&self.a_usdc.keys, &self.b_usdc.keys)
    }

    /// The six recall accounts of a withdrawal from `a_usdc`.
    pub fn recall_accounts(&self) -> Vec<AccountMeta> {
        ix::recall_accounts(&self.a_usdc.keys, &self.b_usdc.keys)
    }

    /// The strategy reserve alone, read-only: the account `deposit`,
    /// `withdraw`, `liquidate` (seizing `a_usdc`) and `accrue_interest` take
    /// to mark `a_usdc`'s deployed shares.
    pub fn strategy_account(&self) -> AccountMeta {
        AccountMeta::new_readonly(self.b_usdc.keys.reserve, false)
    }

    /// Every account of both markets a treasury move can touch.
    pub fn accounts(&self) -> Vec<Address> {
        vec![
            self.a.market,
            self.a_usdc.keys.reserve,
            self.a_usdc.keys.liquidity_vault,
            self.b.market,
            self.b_usdc.keys.reserve,
            self.b_usdc.keys.liquidity_vault,
            self.treasury_ob,
            self.b_so,
        ]
    }
}

impl TestContext {
    /// Builds the [`Treasury`] fixture under `tp`, `a_usdc` configured with
    /// `a_config` (e.g. [`buffered_config`]); sets the strategy.
    pub fn treasury(&mut self, tp: &Address, a_config: ReserveConfig) -> Treasury {
        let a = self.setup_market();
        let a_usdc = self.add_reserve(&a, tp, 6, 1.0, a_config);
        let b = self.setup_market();
        let b_usdc = self.add_reserve_for_mint(&b, &a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
        let b_sol = self.add_reserve(&b, tp, 9, 20.0, test_config([0; 32]));
        let (b_supplier, b_s_usdc) = self.user_with_tokens(&b_usdc, b_usdc.units(10_000.0));
        let b_so = self.open_obligation(&b_supplier, &b.market, 0);
        self.deposit(
            &b_supplier,
            &b_usdc,
            &b_so,
            &b_s_usdc,
            b_usdc.units(10_000.0),
        );
        let ix = ix::set_treasury_strategy(&a.admin.pubkey(), &a_usdc.keys, &b_usdc.keys);
        self.ok("set_treasury_strategy", &[ix], &[&a.admin]);
        let treasury_ob = ix::treasury_obligation(&b.market, &a.market);
        Treasury {
            tp: *tp,
            a,
            a_usdc,
            b,
            b_usdc,
            b_sol,
            b_supplier,
            b_so,
            b_s_usdc,
            treasury_ob,
        }
    }

    /// A new user who deposited `amount` of `r` into a new obligation in
    /// `market`; returns the user, the obligation and the (empty) token
    /// account.
    pub fn depositor(
        &mut self,
        market: &Address,
        r: &TestReserve,
        amount: u64,
    ) -> (Keypair, Address, Address) {
        let (user, ta) = self.user_with_tokens(r, amount);
        let o = self.open_obligation(&user, market, 0);
        self.deposit(&user, r, &o, &ta, amount);
        (user, o, ta)
    }

    /// Sends `rebalance` of the fixture; returns its one `Rebalanced` event
    /// and the compute units, or the error.
    pub fn rebalance(&mut self, t: &Treasury) -> Result<(Rebalanced, u64), TransactionError> {
        let meta = self
            .chain
            .send(&[t.rebalance_ix()], &[])
            .map_err(|e| e.err)?;
        let e: Vec<Rebalanced> = events(&meta.logs);
        assert_eq!(e.len(), 1, "one Rebalanced event");
        let e = e.into_iter().next().expect("one event");
        Ok((e, meta.compute_units_consumed))
    }

    /// The deposit shares of obligation `o` in reserve `r` (0 without a
    /// collateral position).
    pub fn deposit_shares_of(&self, o: &Address, r: &TestReserve) -> u64 {
        let ob = self.obligation(o);
        ob.find(&r.keys.reserve, ballast::state::PositionKind::Collateral)
            .map_or(0, |i| ob.positions[i].deposit_shares)
    }

    /// The value of `a_usdc`'s deployed shares at `b_usdc`'s exchange rate
    /// as stored (not projected), base units rounded down.
    pub fn treasury_value(&self, t: &Treasury) -> u64 {
        let shares = self.reserve(&t.a_usdc).treasury.deployed_shares;
        ballast::engine::treasury::shares_value(&self.reserve(&t.b_usdc), shares).unwrap()
    }

    /// Asserts the treasury's books across both markets, to the base unit:
    /// each vault holds its reserve's `available_amount`; A's deployed shares
    /// are exactly the treasury obligation's position in B; and their book
    /// value is their value at B's exchange rate with its interest projected
    /// to the last mark when B has not been updated since (every mark reads
    /// B then), at most their value at B's stored rate otherwise.
    pub fn assert_treasury_reconciles(&self, label: &str, t: &Treasury) {
        let a = self.reserve(&t.a_usdc);
        let b = self.reserve(&t.b_usdc);
        let bal = |v: &Address| self.chain.token_balance(v).unwrap();
        assert_eq!(
            bal(&t.a_usdc.keys.liquidity_vault),
            a.available_amount,
            "[{label}] A's vault vs available_amount"
        );
        assert_eq!(
            bal(&t.b_usdc.keys.liquidity_vault),
            b.available_amount,
            "[{label}] B's vault vs available_amount"
        );
        assert_eq!(
            a.treasury.deployed_shares,
            self.deposit_shares_of(&t.treasury_ob, &t.b_usdc),
            "[{label}] deployed shares vs the treasury obligation's position in B"
        );
        // The book value is the shares' value when last marked: exactly
        // their value at B's rate projected to the mark while B has not
        // moved since; B's rate only grows between marks in the scenarios
        // that reach the other branch (no unmarked losses).
        let value = self.treasury_value(t);
        if b.last_update_ts <= a.treasury.last_mark_ts {
            let mut at_mark = b;
            at_mark.accrue_interest(a.treasury.last_mark_ts).unwrap();
            let marked =
                ballast::engine::treasury::shares_value(&at_mark, a.treasury.deployed_shares)
                    .unwrap();
            assert_eq!(
                a.treasury.deployed_amount, marked,
                "[{label}] book value vs the shares at B's exchange rate at the mark"
            );
        } else {
            assert!(
                a.treasury.deployed_amount <= value,
                "[{label}] book value {} above the shares' value {value}",
                a.treasury.deployed_amount
            );
        }
        assert_eq!(a.treasury.strategy_reserve, t.b_usdc.address());
        assert_eq!(a.treasury.strategy_obligation, t.treasury_ob);
    }

    /// Withdraws `amount` of `a_usdc` from `o` into `ta` with the recall
    /// accounts appended after the obligation's health accounts.
    #[allow(clippy::result_large_err)] // LiteSVM's own result type, passed through as is.
    pub fn withdraw_with_recall(
        &mut self,
        user: &Keypair,
        t: &Treasury,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> TransactionResult {
        let mut health = self.health_accounts(o, &[]);
        health.extend(t.recall_accounts());
        let ix = ix::withdraw(&user.pubkey(), &t.a_usdc.keys, o, ta, amount, health);
        self.chain.send(&[ix], &[user])
    }

    /// `set_treasury_strategy` of `r` to `s`, with `r`'s current strategy
    /// reserve (writable) as the first remaining account when it has one,
    /// as a change of strategy requires.
    pub fn set_treasury_strategy_ix(
        &self,
        admin: &Address,
        r: &ReserveKeys,
        s: &ReserveKeys,
    ) -> Instruction {
        let current = self
            .chain
            .zero_copy::<Reserve>(&r.reserve)
            .expect("reserve")
            .treasury;
        if current.has_strategy() {
            ix::change_treasury_strategy(admin, r, s, &current.strategy_reserve)
        } else {
            ix::set_treasury_strategy(admin, r, s)
        }
    }

    /// The value of `a_usdc`'s deployed shares at `b_usdc`'s exchange rate
    /// with its interest projected to now (what a mark writes), base units
    /// rounded down.
    pub fn projected_treasury_value(&self, t: &Treasury) -> u64 {
        let mut b = self.reserve(&t.b_usdc);
        b.accrue_interest(self.clock().unix_timestamp).unwrap();
        let shares = self.reserve(&t.a_usdc).treasury.deployed_shares;
        ballast::engine::treasury::shares_value(&b, shares).unwrap()
    }

    /// [`TestContext::liquidate_ok`] (which passes the collateral reserve's
    /// strategy reserve after the health accounts, [`ix::strategy_account`])
    /// for a collateral reserve that must have shares deployed.
    #[allow(clippy::too_many_arguments)]
    pub fn liquidate_marked_ok(
        &mut self,
        liquidator: &Keypair,
        o: &Address,
        debt: &TestReserve,
        coll: &TestReserve,
        l_debt: &Address,
        l_coll: &Address,
        max_repay: u64,
    ) -> Liquidated {
        assert!(
            ix::strategy_account(&self.reserve(coll)).is_some(),
            "the collateral reserve has shares deployed"
        );
        self.liquidate_ok(liquidator, o, debt, coll, l_debt, l_coll, max_repay)
    }
}
