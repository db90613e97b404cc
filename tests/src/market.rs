//! Markets and reserves: [`TestMarket`], [`TestReserve`], their oracles and
//! configurations ([`test_config`] is [`ballast::fixtures::reserve_config`]).

use ballast::state::{Obligation, Reserve, ReserveConfig};

use crate::{ix, Address, Keypair, PythPrice, ReserveKeys, Signer, TestContext};

pub use ballast::runtime::oracle_account::push_feed_address;

pub use ballast::fixtures::reserve_config as test_config;

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

/// A market with an admin, ready for reserves.
pub struct TestMarket {
    /// The admin (also the risk authority).
    pub admin: Keypair,
    /// The market address.
    pub market: Address,
}

impl TestContext {
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

    /// Creates a mint under `token_program`, its oracle at `price_usd` (the
    /// push oracle's price-feed account of the feed id, as the program
    /// requires: [`push_feed_address`]), and the reserve with `config` (its
    /// feed id is overwritten with the oracle's). Panics on failure.
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
        let mut feed_id = [0u8; 32];
        feed_id.copy_from_slice(&mint.to_bytes());
        let oracle = push_feed_address(&feed_id);
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
        // Its own feed (the reserve's address bytes), so that its oracle
        // account is not the other market's.
        let feed_id = ix::reserve_address(&m.market, mint).to_bytes();
        let oracle = push_feed_address(&feed_id);
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
}
