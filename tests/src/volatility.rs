//! Dynamic collateral requirements: [`dynamic_config`], volatility pushes and
//! the program's own health computation.

use ballast::engine::fx::Fx;
use ballast::engine::risk::RiskConfig;
use ballast::fixtures;
use ballast::state::{Reserve, ReserveConfig};
use solana_transaction_error::TransactionError;

use crate::{ix, Address, Signer, TestContext, TestMarket, TestReserve};

/// [`test_config`](crate::test_config) under the dynamic policy:
/// [`fixtures::sol_risk`] (1-day horizon; LTV haircut 5% + 2.33 sigma
/// sqrt(h) in [15%, 60%]; LT haircut 2% + 1.65 sigma sqrt(h) in [10%, 55%];
/// borrow factor 1 + sigma sqrt(h) in [0, 50%]; sigma in [0.1, 5]; pushes at
/// least 10 min apart, stale after 2 h) with steps of 50% (so the first push
/// from the conservative values lands in one go; tests of the step bounds
/// narrow them).
pub fn dynamic_config(feed_id: [u8; 32]) -> ReserveConfig {
    ReserveConfig {
        risk: RiskConfig {
            max_lt_step_bps: 5_000,
            max_ltv_step_bps: 5_000,
            ..fixtures::sol_risk()
        },
        ..fixtures::reserve_config(feed_id)
    }
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
                PositionKind::TermDebt => h
                    .add_debt(view.term_debt_value(p, &price, req).unwrap())
                    .unwrap(),
                PositionKind::Empty => {}
            }
        }
        h
    }
}
