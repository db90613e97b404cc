//! `obligation_stress` on the real .so: the view against what `liquidate`
//! then does at the shocked prices, the liquidation price against the
//! oracle moved to it, and the refusals.

use ballast::engine::fx::Fx;
use ballast::engine::stress::{
    ObligationStress, LIQUIDATION_PRICE_NONE, MAX_SHOCK_BPS, NO_DEBT_HEALTH,
};
use ballast::errors::BallastError;
use ballast_tests::*;
use solana_instruction::AccountMeta;

/// Maintenance health 1 as I80F48 bits.
const ONE: i128 = 1 << 48;

/// A market with SOL (9 decimals, $20), ETH (8 decimals, $2,000) and USDC
/// (6 decimals, $1), LT 80%; a supplier of USDC; a borrower with 100 SOL
/// and `eth` ETH of collateral who borrowed 1,400 USDC; a funded
/// liquidator. Health reserves: SOL, (ETH,) USDC.
struct Fixture {
    ctx: TestContext,
    m: TestMarket,
    sol: TestReserve,
    eth: TestReserve,
    usdc: TestReserve,
    ob: Address,
    liq: Keypair,
    liq_usdc: Address,
    liq_sol: Address,
}

fn fixture(eth: f64) -> Fixture {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let eth_r = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 8, 2_000.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    if eth > 0.0 {
        let b_eth = ctx.token_account_for(&eth_r, &b.pubkey(), eth_r.units(eth));
        ctx.deposit(&b, &eth_r, &ob, &b_eth, eth_r.units(eth));
    }
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_400.0));
    let (liq, liq_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let liq_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    Fixture {
        ctx,
        m,
        sol,
        eth: eth_r,
        usdc,
        ob,
        liq,
        liq_usdc,
        liq_sol,
    }
}

impl Fixture {
    fn stress(&mut self, shocks: &[u32]) -> ObligationStress {
        self.ctx.stress(&self.m.market, &self.ob, shocks)
    }

    fn liquidate(&mut self) -> Result<u64, solana_transaction_error::TransactionError> {
        let ix = self.ctx.liquidate_ix(
            &self.liq,
            &self.ob,
            &self.usdc,
            &self.sol,
            &self.liq_usdc,
            &self.liq_sol,
            u64::MAX,
        );
        self.ctx
            .chain
            .send(&[ix], &[&self.liq])
            .map(|m| m.compute_units_consumed)
            .map_err(|e| e.err)
    }
}

fn health(bits: i128) -> f64 {
    Fx::from_bits(bits).to_num::<f64>()
}

#[test]
fn unshocked_view_is_the_programs_health() {
    let mut f = fixture(0.0);
    let s = f.stress(&[10_000, 10_000]);
    assert_eq!(s.obligation, f.ob);
    assert_eq!(s.timestamp, f.ctx.clock().unix_timestamp);
    assert_eq!(s.reserve_count, 2);
    assert_eq!(s.reserves[0].reserve, f.sol.address());
    assert_eq!((s.reserves[0].kind, s.reserves[1].kind), (1, 2));
    assert_eq!(s.reserves[2].reserve, Address::default());
    // 100 SOL * $20 * 0.8 = 1,600 USD against 1,400 USD.
    assert_eq!(s.maintenance_collateral, 1_600_000_000);
    assert_eq!(s.maintenance_debt, 1_400_000_000);
    assert_eq!(s.spot_collateral, 2_000_000_000);
    assert_eq!(s.spot_debt, 1_400_000_000);
    let eng = f
        .ctx
        .engine_health(&f.ob, ballast::engine::health::Requirement::Maintenance);
    assert_eq!(Fx::from_bits(s.maintenance_health), eng.ratio().unwrap());
    assert!(s.initial_health < s.maintenance_health);
    // 1,400 / (100 * 0.8) = $17.50.
    assert_eq!(s.reserves[0].liquidation_price, 1_750_000_000);
    assert_eq!(s.reserves[0].exponent, -8);
    assert_eq!(s.reserves[1].liquidation_price, 0);
}

#[test]
fn a_shock_below_the_liquidation_price_is_what_liquidate_accepts() {
    let mut f = fixture(0.0);
    // SOL -12.4% ($17.52): Maintenance still holds; the oracle moved there,
    // liquidate refuses.
    let s = f.stress(&[8_760, 10_000]);
    assert!(
        s.maintenance_health >= ONE,
        "{}",
        health(s.maintenance_health)
    );
    f.ctx.set_mantissa(&f.sol, 1_752_000_000, -8);
    let moved = f.stress(&[10_000, 10_000]);
    assert_eq!(moved.maintenance_health, s.maintenance_health);
    assert_eq!(moved.maintenance_collateral, s.maintenance_collateral);
    let err = f.liquidate().expect_err("healthy at the shocked price");
    assert_ballast_err(&err, BallastError::ObligationHealthy);
    // SOL -15% ($17): below 1; the oracle moved there, liquidate accepts.
    f.ctx.set_mantissa(&f.sol, 2_000_000_000, -8);
    let s = f.stress(&[8_500, 10_000]);
    assert!(s.maintenance_health < ONE);
    assert_eq!(s.maintenance_collateral, 1_360_000_000);
    f.ctx.set_mantissa(&f.sol, 1_700_000_000, -8);
    let moved = f.stress(&[10_000, 10_000]);
    assert_eq!(moved.maintenance_health, s.maintenance_health);
    f.liquidate().expect("liquidatable at the shocked price");
}

#[test]
fn a_debt_shock_is_liquidatable_too() {
    let mut f = fixture(0.0);
    // USDC at $1.15: 1,610 > 1,600.
    let s = f.stress(&[10_000, 11_500]);
    assert_eq!(s.maintenance_debt, 1_610_000_000);
    assert!(s.maintenance_health < ONE);
    f.ctx.set_mantissa(&f.usdc, 115_000_000, -8);
    f.liquidate().expect("liquidatable with the debt repriced");
}

#[test]
fn liquidation_price_is_where_liquidate_starts() {
    // Two collaterals: 100 SOL and 0.2 ETH ($400, 320 weighted).
    let mut f = fixture(0.2);
    let s = f.stress(&[10_000, 10_000, 10_000]);
    // (1,400 - 320) / 80 = $13.50.
    assert_eq!(s.reserves[0].liquidation_price, 1_350_000_000);
    // ETH halved: (1,400 - 160) / 80 = $15.50, with ETH at its shocked price.
    let s = f.stress(&[10_000, 5_000, 10_000]);
    let lp = s.reserves[0].liquidation_price;
    assert_eq!(lp, 1_550_000_000);
    // ETH's own: (1,400 - 1,600) < 0: SOL alone covers the debt.
    assert_eq!(s.reserves[1].liquidation_price, LIQUIDATION_PRICE_NONE);
    f.ctx.set_mantissa(&f.eth, 100_000_000_000, -8);
    f.ctx.set_mantissa(&f.sol, lp as i64, -8);
    let err = f.liquidate().expect_err("healthy at the liquidation price");
    assert_ballast_err(&err, BallastError::ObligationHealthy);
    f.ctx.set_mantissa(&f.sol, lp as i64 - 1, -8);
    f.liquidate().expect("liquidatable one unit below it");
}

#[test]
fn liquidation_price_after_interest_matches_the_oracle_boundary() {
    // A year of interest: the debt is no round number any more, and the
    // price is found on the program's own rounding.
    let mut f = fixture(0.0);
    f.ctx.warp_seconds(365 * 86_400);
    f.ctx.set_price(&f.usdc, 1.0, 0.0);
    f.ctx.set_price(&f.sol, 20.0, 0.0);
    let s = f.stress(&[10_000, 10_000]);
    let lp = s.reserves[0].liquidation_price;
    assert!(lp > 1_750_000_000, "interest raised it: {lp}");
    f.ctx.set_mantissa(&f.sol, lp as i64, -8);
    assert_ballast_err(
        &f.liquidate().expect_err("at the price"),
        BallastError::ObligationHealthy,
    );
    f.ctx.set_mantissa(&f.sol, lp as i64 - 1, -8);
    f.liquidate().expect("one unit below");
}

#[test]
fn the_off_chain_engine_gives_the_same_view() {
    // What a keeper computes from decoded accounts is what the program
    // returns, bit for bit, after interest and with conf and EMA apart.
    let mut f = fixture(0.2);
    f.ctx.warp_seconds(30 * 86_400);
    let now = f.ctx.clock().unix_timestamp;
    let mut p = PythPrice::usd(f.sol.feed_id, 19.37, now);
    p.conf = 2_000_000;
    p.ema_price = 1_900_000_000;
    p.ema_conf = 3_000_000;
    f.ctx.set_pyth(&f.sol, &p);
    f.ctx.set_price(&f.eth, 2_000.0, 0.5);
    f.ctx.set_price(&f.usdc, 1.0, 0.0);
    for shocks in [
        [10_000, 10_000, 10_000],
        [7_777, 4_321, 10_500],
        [1, MAX_SHOCK_BPS, 9_999],
        [12_345, 10_000, 15_000],
    ] {
        let on_chain = f.stress(&shocks);
        assert_eq!(on_chain, f.ctx.engine_stress(&f.ob, &shocks), "{shocks:?}");
    }
}

#[test]
fn no_debt_reports_none() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(10.0));
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(10.0));
    let s = ctx.stress(&m.market, &ob, &[1]);
    assert_eq!(s.maintenance_health, NO_DEBT_HEALTH);
    assert_eq!(s.initial_health, NO_DEBT_HEALTH);
    assert_eq!(s.reserves[0].liquidation_price, LIQUIDATION_PRICE_NONE);
    assert_eq!(s.maintenance_debt, 0);
    // An empty obligation: no health accounts, an empty shock vector.
    let (c, _) = ctx.user_with_tokens(&sol, 0);
    let oc = ctx.open_obligation(&c, &m.market, 0);
    let s = ctx.stress(&m.market, &oc, &[]);
    assert_eq!((s.reserve_count, s.maintenance_collateral), (0, 0));
}

#[test]
fn works_while_paused() {
    let mut f = fixture(0.0);
    let before = f.stress(&[7_000, 10_000]);
    let m = TestMarket {
        admin: f.m.admin.insecure_clone(),
        market: f.m.market,
    };
    f.ctx.set_paused(&m, true);
    let market = f
        .ctx
        .chain
        .zero_copy::<ballast::state::Market>(&m.market)
        .unwrap();
    assert!(market.paused != 0);
    let after = f.stress(&[7_000, 10_000]);
    assert_eq!(before, after, "a view reads the same while paused");
}

#[test]
fn zero_and_extreme_shocks() {
    let mut f = fixture(0.0);
    let (market, ob) = (f.m.market, f.ob);
    for bad in [
        [0, 10_000],
        [10_000, 0],
        [MAX_SHOCK_BPS + 1, 10_000],
        [10_000, u32::MAX],
    ] {
        let ix = f.ctx.stress_ix(&market, &ob, &bad);
        let err = f.ctx.stress_send(ix).expect_err("out of range");
        assert_ballast_err(&err, BallastError::PriceShockOutOfRange);
    }
    // 1 bps of the SOL price: 0.16 USD of weighted collateral.
    let s = f.stress(&[1, 10_000]);
    assert_eq!(s.maintenance_collateral, 160_000);
    assert!(s.maintenance_health < ONE);
    // 100x on both: the ratio is unchanged, the values 100x.
    let s = f.stress(&[MAX_SHOCK_BPS, MAX_SHOCK_BPS]);
    assert_eq!(s.maintenance_collateral, 160_000_000_000);
    assert_eq!(s.maintenance_debt, 140_000_000_000);
    assert_eq!(
        s.maintenance_health,
        f.stress(&[10_000, 10_000]).maintenance_health
    );
    // 100x on the debt alone: liquidation price 100x.
    let s = f.stress(&[10_000, MAX_SHOCK_BPS]);
    assert_eq!(s.reserves[0].liquidation_price, 175_000_000_000);
}

#[test]
fn wrong_shock_vector_length() {
    let mut f = fixture(0.0);
    let (market, ob) = (f.m.market, f.ob);
    for bad in [vec![], vec![10_000], vec![10_000; 3], vec![10_000; 9]] {
        let ix = f.ctx.stress_ix(&market, &ob, &bad);
        let err = f.ctx.stress_send(ix).expect_err("wrong length");
        assert_ballast_err(&err, BallastError::PriceShockLengthMismatch);
    }
}

#[test]
fn wrong_market_and_foreign_obligation() {
    let mut f = fixture(0.0);
    let other = f.ctx.setup_market();
    let ob = f.ob;
    // The obligation with another market.
    let ix = f.ctx.stress_ix(&other.market, &ob, &[10_000, 10_000]);
    let err = f.ctx.stress_send(ix).expect_err("wrong market");
    assert_ballast_err(&err, BallastError::WrongMarket);
    // An obligation of another market, with this market.
    let (c, _) = f.ctx.user_with_tokens(&f.sol, 0);
    let oc = f.ctx.open_obligation(&c, &other.market, 0);
    let ix = f.ctx.stress_ix(&f.m.market, &oc, &[]);
    let err = f.ctx.stress_send(ix).expect_err("foreign obligation");
    assert_ballast_err(&err, BallastError::WrongMarket);
    // A reserve passed as the obligation; an obligation passed as the market.
    let mut ix = f.ctx.stress_ix(&f.m.market, &ob, &[10_000, 10_000]);
    ix.accounts[1].pubkey = f.sol.address();
    let err = f.ctx.stress_send(ix).expect_err("reserve as obligation");
    assert_anchor_err(
        &err,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch,
    );
    let mut ix = f.ctx.stress_ix(&f.m.market, &ob, &[10_000, 10_000]);
    ix.accounts[0].pubkey = ob;
    let err = f.ctx.stress_send(ix).expect_err("obligation as market");
    assert_anchor_err(
        &err,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch,
    );
}

#[test]
fn mismatched_health_accounts() {
    let mut f = fixture(0.0);
    let other = f.ctx.setup_market();
    let twin = f
        .ctx
        .add_reserve(&other, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let (market, ob) = (f.m.market, f.ob);
    let health = f.ctx.health_accounts(&ob, &[]);
    let shocks = vec![10_000, 10_000];
    let mut send = |label: &str, h: Vec<AccountMeta>, want: BallastError| {
        let ix = ix::obligation_stress(&market, &ob, shocks.clone(), h);
        let err = f.ctx.stress_send(ix).expect_err(label);
        assert_ballast_err(&err, want);
    };
    send("none", vec![], BallastError::HealthAccountsMismatch);
    send(
        "missing the debt",
        health[..2].to_vec(),
        BallastError::HealthAccountsMismatch,
    );
    let mut extra = health.clone();
    extra.extend(health[..2].iter().cloned());
    send("an extra pair", extra, BallastError::HealthAccountsMismatch);
    let swapped = [&health[2..], &health[..2]].concat();
    send("reordered", swapped, BallastError::HealthAccountsMismatch);
    let mut h = health.clone();
    h[0].pubkey = twin.address();
    send(
        "substituted reserve",
        h,
        BallastError::HealthAccountsMismatch,
    );
    let mut h = health.clone();
    h[1].pubkey = f.usdc.keys.oracle;
    send("substituted oracle", h, BallastError::OracleAccountMismatch);
    let mut h = health.clone();
    h[1].pubkey = twin.keys.oracle;
    send(
        "another feed's oracle",
        h,
        BallastError::OracleAccountMismatch,
    );
}

#[test]
fn stale_or_wide_oracle() {
    let mut f = fixture(0.0);
    f.ctx.warp_seconds(61);
    f.ctx.set_price(&f.usdc, 1.0, 0.0);
    let (market, ob) = (f.m.market, f.ob);
    let ix = f.ctx.stress_ix(&market, &ob, &[10_000, 10_000]);
    let err = f.ctx.stress_send(ix).expect_err("stale SOL");
    assert_ballast_err(&err, BallastError::OracleStale);
    // Fresh but too wide.
    f.ctx.set_price(&f.sol, 20.0, 5.0);
    let ix = f.ctx.stress_ix(&market, &ob, &[10_000, 10_000]);
    let err = f.ctx.stress_send(ix).expect_err("wide SOL");
    assert_ballast_err(&err, BallastError::OracleConfidenceTooWide);
    f.ctx.set_price(&f.sol, 20.0, 0.0);
    f.stress(&[10_000, 10_000]);
}
