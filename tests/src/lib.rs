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
    /// plus `extra` reserves it is about to open (e.g. the borrowed one).
    pub fn health_accounts(&self, o: &Address, extra: &[&TestReserve]) -> Vec<AccountMeta> {
        let mut ob = self.obligation(o);
        for r in extra {
            if ob
                .find(&r.keys.reserve, ballast::state::PositionKind::Debt)
                .is_none()
            {
                let _ = ob.find_or_open(&r.keys.reserve, ballast::state::PositionKind::Debt);
            }
        }
        ix::health_accounts(&ob, |reserve| {
            self.chain
                .zero_copy::<Reserve>(reserve)
                .expect("reserve in obligation")
                .oracle
        })
    }

    /// Deposits `amount` of `r` from `ta` into obligation `o` of `user`.
    pub fn deposit(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let ix = ix::deposit(&user.pubkey(), &r.keys, o, ta, amount);
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

    /// Withdraws `amount` of `r` into `ta` from obligation `o`.
    pub fn withdraw(
        &mut self,
        user: &Keypair,
        r: &TestReserve,
        o: &Address,
        ta: &Address,
        amount: u64,
    ) -> u64 {
        let health = self.health_accounts(o, &[]);
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
