//! Unit tests of the liquidation scan: sizing, ordering and the reasons an
//! obligation is not liquidatable.

use super::*;
use crate::accounts::{decode_market, decode_reserve, encode_account, PythPrice};
use ballast::engine::fx::{fx_u64, WrappedFx};
use ballast::fixtures;
use ballast::state::Position;
use bytemuck::Zeroable;
use rand::{Rng, SeedableRng};

const NOW: i64 = 1_700_000_000;
const MARKET: Pubkey = Pubkey::new_from_array([1; 32]);
const SOL: Pubkey = Pubkey::new_from_array([11; 32]);
const USDC: Pubkey = Pubkey::new_from_array([12; 32]);
const ETH: Pubkey = Pubkey::new_from_array([13; 32]);
const BTC: Pubkey = Pubkey::new_from_array([14; 32]);
/// Base units of each reserve's supply and deposit shares (1:1).
const SUPPLY: u64 = 100_000_000_000_000_000;

fn oracle_of(reserve: &Pubkey) -> Pubkey {
    let mut b = reserve.to_bytes();
    b[0] = b[0].wrapping_add(100);
    Pubkey::new_from_array(b)
}

fn feed_of(reserve: &Pubkey) -> [u8; 32] {
    let mut b = reserve.to_bytes();
    b[1] = 0xfe;
    b
}

fn reserve(address: &Pubkey, decimals: u8) -> Reserve {
    let mut r = Reserve::zeroed();
    r.market = MARKET;
    r.mint = *address;
    r.oracle = oracle_of(address);
    r.mint_decimals = decimals;
    r.available_amount = SUPPLY;
    r.deposit_shares = SUPPLY;
    r.borrow_index = WrappedFx::new(FX_ONE);
    r.last_update_ts = NOW;
    r.config = fixtures::reserve_config(feed_of(address));
    r
}

/// Close factor 50% above health 0.95, full below; bonus 5%..10%.
const LIQ: LiquidationConfig = LiquidationConfig {
    dust_debt_micro_usd: 1_000_000,
    close_factor_bps: 5_000,
    full_liquidation_health_bps: 9_500,
    bonus_min_bps: 500,
    bonus_max_bps: 1_000,
    protocol_bonus_share_bps: 0,
    _padding: [0; 6],
};

/// SOL $20 (9 dp), USDC $1 (6 dp), ETH $2,000 (8 dp), BTC $60,000 (8 dp),
/// all published now.
struct Setup {
    market: Market,
    reserves: Vec<(Pubkey, Reserve)>,
    oracles: HashMap<Pubkey, Vec<u8>>,
}

impl Setup {
    fn new() -> Self {
        let mut market = Market::zeroed();
        market.liquidation = LIQ;
        let mut s = Setup {
            market,
            reserves: vec![],
            oracles: HashMap::new(),
        };
        for (k, dp, usd) in [
            (SOL, 9, 20.0),
            (USDC, 6, 1.0),
            (ETH, 8, 2_000.0),
            (BTC, 8, 60_000.0),
        ] {
            s.reserves.push((k, reserve(&k, dp)));
            s.set_price(&k, PythPrice::usd(feed_of(&k), usd, NOW));
        }
        s
    }

    fn set_price(&mut self, reserve: &Pubkey, p: PythPrice) {
        self.oracles.insert(oracle_of(reserve), p.to_account_data());
    }

    fn reserve_mut(&mut self, k: &Pubkey) -> &mut Reserve {
        &mut self.reserves.iter_mut().find(|(a, _)| a == k).unwrap().1
    }

    fn snapshot(&self) -> MarketSnapshot {
        MarketSnapshot::new(MARKET, &self.market, &self.reserves, &self.oracles, NOW)
    }
}

fn coll(reserve: Pubkey, tokens: u64) -> (Pubkey, PositionKind, u64) {
    (reserve, PositionKind::Collateral, tokens)
}

fn debt(reserve: Pubkey, tokens: u64) -> (Pubkey, PositionKind, u64) {
    (reserve, PositionKind::Debt, tokens)
}

/// Shares equal tokens: supply = shares and index = 1.
fn obligation(positions: &[(Pubkey, PositionKind, u64)]) -> Obligation {
    let mut o = Obligation::zeroed();
    o.market = MARKET;
    for (slot, (reserve, kind, amount)) in o.positions.iter_mut().zip(positions) {
        *slot = Position::zeroed();
        slot.reserve = *reserve;
        slot.kind = *kind as u8;
        match kind {
            PositionKind::Collateral => slot.deposit_shares = *amount,
            PositionKind::Debt => slot.borrow_shares = WrappedFx::new(fx_u64(*amount)),
            PositionKind::TermDebt => slot.deposit_shares = *amount,
            PositionKind::Empty => {}
        }
    }
    o
}

fn key(b: u8) -> Pubkey {
    Pubkey::new_from_array([b; 32])
}

fn close(h: Fx, expected: f64) -> bool {
    (h.to_num::<f64>() - expected).abs() < 1e-9
}

#[test]
fn decodes_accounts_by_discriminator_and_length() {
    let o = obligation(&[coll(SOL, 5), debt(USDC, 7)]);
    let bytes = encode_account(&o);
    assert_eq!(bytes.len(), 8 + Obligation::SIZE);
    let back = decode_obligation(&bytes).unwrap();
    assert_eq!(back.positions, o.positions);
    assert_eq!(back.market, MARKET);
    assert!(
        decode_obligation(&bytes[..bytes.len() - 1]).is_none(),
        "short"
    );
    assert!(decode_obligation(&[]).is_none());
    let r = encode_account(&reserve(&SOL, 9));
    assert!(
        decode_obligation(&r).is_none(),
        "a reserve is not an obligation"
    );
    assert_eq!(decode_reserve(&r).unwrap().mint_decimals, 9);
    assert!(decode_reserve(&bytes).is_none());
    let m = encode_account(&Setup::new().market);
    assert_eq!(decode_market(&m).unwrap().liquidation, LIQ);
    assert!(decode_market(&r).is_none());
}

#[test]
fn healthy_and_debt_free_obligations_are_not_candidates() {
    let snap = Setup::new().snapshot();
    // 10 SOL ($200, $160 at LT 80%) against 100 USDC: health 1.6.
    let healthy = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 100_000_000)]);
    assert!(snap.score(&key(50), &healthy).is_none());
    match snap.assess(&key(50), &healthy) {
        Assessment::Healthy { health } => assert!(close(health, 1.6), "{health}"),
        other => panic!("{other:?}"),
    }
    // Exactly at the requirement ($160 against $160) is satisfied.
    let edge = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 160_000_000)]);
    assert!(snap.score(&key(51), &edge).is_none());
    let no_debt = obligation(&[coll(SOL, 10_000_000_000)]);
    assert_eq!(snap.assess(&key(52), &no_debt), Assessment::NoDebt);
}

#[test]
fn close_factor_above_the_deep_threshold() {
    let snap = Setup::new().snapshot();
    // $160 weighted against 165 USDC: health 0.9697 > 0.95.
    let o = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 165_000_000)]);
    let c = snap.score(&key(60), &o).expect("unhealthy");
    assert!(close(c.health, 160.0 / 165.0), "{}", c.health);
    assert_eq!((c.debt_reserve, c.collateral_reserve), (USDC, SOL));
    // Solvent ($200 >= $165): bonus 5% + floor(1 - h) = 8.03%, under the
    // no-worsening cap h / LT - 1 = 21.2%.
    assert_eq!(c.bonus_bps, 803);
    // Half the debt: 82.5 USDC, for 82.5 * 1.0803 / 20 SOL.
    assert_eq!(c.repay, 82_500_000);
    assert_eq!(c.expected_seize, 4_456_237_500);
}

#[test]
fn full_debt_below_the_deep_threshold() {
    let snap = Setup::new().snapshot();
    // $160 weighted against 180 USDC: health 0.889 < 0.95.
    let o = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 180_000_000)]);
    let c = snap.score(&key(61), &o).expect("unhealthy");
    assert_eq!(c.repay, 180_000_000, "all of it");
    // Bonus min(5% + 11.1%, 10%) = 10%, capped at half the neutral bonus
    // (0.889 / 0.8 - 1) / 2 = 5.55%, so the liquidation strictly improves
    // health.
    assert_eq!(c.bonus_bps, 555);
    assert_eq!(c.expected_seize, 9_499_500_000);
}

#[test]
fn an_uncoverable_repay_is_sent_whole_and_takes_the_whole_position() {
    let snap = Setup::new().snapshot();
    // 210 USDC against $200 of SOL: insolvent, full repay at 10% would
    // seize 11.55 SOL from a position of 10.
    let o = obligation(&[coll(SOL, 10_000_000_000), debt(USDC, 210_000_000)]);
    let c = snap.score(&key(62), &o).expect("unhealthy");
    assert_eq!(c.bonus_bps, 1_000);
    // The allowance goes to the program, whose capped path repays what
    // the position covers (about 181.82 USDC) for all 10 SOL: nothing
    // is left behind to block socialize_bad_debt.
    assert_eq!(c.repay, 210_000_000);
    assert_eq!(c.expected_seize, 10_000_000_000);
}

#[test]
fn picks_the_largest_debt_and_the_collateral_that_pays_most() {
    let mut s = Setup::new();
    s.reserve_mut(&BTC).config.loan_to_value_bps = 5_500;
    s.reserve_mut(&BTC).config.liquidation_threshold_bps = 6_000;
    let snap = s.snapshot();
    // Collateral 20 SOL ($400, LT 80%) and 0.005 BTC ($300, LT 60%):
    // $500 weighted. Debt 30 USDC, then 0.3 ETH ($600): health 0.794,
    // solvent ($700 >= $630).
    let o = obligation(&[
        debt(USDC, 30_000_000),
        coll(SOL, 20_000_000_000),
        debt(ETH, 30_000_000),
        coll(BTC, 500_000),
    ]);
    let c = snap.score(&key(63), &o).expect("unhealthy");
    assert!(close(c.health, 500.0 / 630.0), "{}", c.health);
    assert_eq!(c.debt_reserve, ETH, "largest debt");
    // SOL's no-worsening cap is h / 0.8 - 1 < 0: no bonus, pays nothing;
    // BTC's is h / 0.6 - 1 = 32%: the 10% bonus on min($300, $660).
    assert_eq!(
        c.collateral_reserve, BTC,
        "the smaller collateral pays more"
    );
    assert_eq!(c.bonus_bps, 1_000);
    // Full repay (0.3 ETH) would seize $660 of BTC; the position holds
    // $300: the program repays 0.3 * 300 / 660 ETH for all of it.
    assert_eq!(c.repay, 30_000_000);
    assert_eq!(c.expected_seize, 500_000);
}

#[test]
fn equal_pay_goes_to_the_larger_collateral() {
    let snap = Setup::new().snapshot();
    // 1 ETH ($2,000) and 110 SOL ($2,200) against 3,500 USDC: health
    // 0.96, bonus 9%; both cover 50% * $3,500 * 1.09 = $1,907.5: equal
    // pay, and SOL is the larger.
    let o = obligation(&[
        coll(ETH, 100_000_000),
        coll(SOL, 110_000_000_000),
        debt(USDC, 3_500_000_000),
    ]);
    let c = snap.score(&key(64), &o).expect("unhealthy");
    assert_eq!(c.bonus_bps, 900);
    assert_eq!(c.collateral_reserve, SOL);
    assert_eq!(c.repay, 1_750_000_000);
    assert_eq!(c.expected_seize, 95_375_000_000);
    // Same reserve on both sides is never proposed.
    let same = obligation(&[
        coll(USDC, 1_000_000_000),
        coll(SOL, 1_000_000_000),
        debt(USDC, 1_000_000_000),
    ]);
    let c = snap.score(&key(65), &same).expect("unhealthy");
    assert_eq!((c.debt_reserve, c.collateral_reserve), (USDC, SOL));
}

#[test]
fn scan_orders_worst_first_and_skips_other_markets() {
    let snap = Setup::new().snapshot();
    let sol = 10_000_000_000;
    let mut other = obligation(&[coll(SOL, sol), debt(USDC, 300_000_000)]);
    other.market = key(99);
    let accounts: Vec<(Pubkey, Vec<u8>)> = vec![
        (
            key(70),
            obligation(&[coll(SOL, sol), debt(USDC, 165_000_000)]),
        ),
        (
            key(71),
            obligation(&[coll(SOL, sol), debt(USDC, 100_000_000)]),
        ),
        (
            key(72),
            obligation(&[coll(SOL, sol), debt(USDC, 210_000_000)]),
        ),
        (key(73), other),
        (
            key(74),
            obligation(&[coll(SOL, sol), debt(USDC, 180_000_000)]),
        ),
        (key(75), obligation(&[coll(SOL, sol)])),
    ]
    .into_iter()
    .map(|(k, o)| (k, encode_account(&o)))
    .chain([(key(76), vec![0u8; 1_016])])
    .collect();
    let iter = || accounts.iter().map(|(k, d)| (*k, d.as_slice()));
    let found: Vec<Pubkey> = snap.scan(iter()).iter().map(|c| c.obligation).collect();
    assert_eq!(found, vec![key(72), key(74), key(70)]);
    let report = snap.scan_report(iter());
    assert!(report
        .candidates
        .windows(2)
        .all(|w| w[0].health <= w[1].health));
    assert_eq!(report.other_market, 1);
    assert_eq!(report.undecodable, 1);
    assert_eq!(report.assessed, 5);
    assert!(report.not_liquidatable.is_empty());
}

#[test]
fn a_stale_oracle_makes_its_obligations_not_liquidatable_with_the_reason() {
    let mut s = Setup::new();
    s.set_price(&SOL, PythPrice::usd(feed_of(&SOL), 20.0, NOW - 61));
    let mut wide = PythPrice::usd(feed_of(&ETH), 2_000.0, NOW);
    wide.conf = wide.price as u64 / 40; // 2.5% > 2%
    s.set_price(&ETH, wide);
    s.oracles.remove(&oracle_of(&BTC));
    let snap = s.snapshot();
    assert_eq!(snap.unusable_reserves().count(), 3);
    assert!(snap.price(&USDC).unwrap().is_ok());

    let o = obligation(&[debt(USDC, 165_000_000), coll(SOL, 10_000_000_000)]);
    assert!(snap.score(&key(80), &o).is_none());
    let Assessment::NotLiquidatable(n) = snap.assess(&key(80), &o) else {
        panic!("expected not liquidatable");
    };
    assert_eq!(n.reserve, Some(SOL));
    match &n.reason {
        Reason::Oracle { oracle, error } => {
            assert_eq!(*oracle, oracle_of(&SOL));
            assert!(error.is(BallastError::OracleStale), "{error:?}");
        }
        other => panic!("{other:?}"),
    }
    // Unhealthy at the last price: worth a look once it is fresh.
    assert!(close(n.last_health.unwrap(), 160.0 / 165.0));
    let text = n.to_string();
    assert!(text.contains("not liquidatable now"), "{text}");
    assert!(
        text.contains(&format!("oracle {}", oracle_of(&SOL))),
        "{text}"
    );
    assert!(text.contains("OracleStale"), "{text}");

    let eth = obligation(&[coll(ETH, 10_000_000), debt(USDC, 1_000_000_000)]);
    let Assessment::NotLiquidatable(n) = snap.assess(&key(81), &eth) else {
        panic!("expected not liquidatable");
    };
    let Reason::Oracle { error, .. } = &n.reason else {
        panic!("{:?}", n.reason)
    };
    assert!(error.is(BallastError::OracleConfidenceTooWide), "{error:?}");

    let btc = obligation(&[coll(BTC, 1_000_000), debt(USDC, 1_000_000_000)]);
    let Assessment::NotLiquidatable(n) = snap.assess(&key(82), &btc) else {
        panic!("expected not liquidatable");
    };
    assert_eq!(
        n.reason,
        Reason::OracleMissing {
            oracle: oracle_of(&BTC)
        }
    );
    assert_eq!(n.last_health, None);

    // Unknown reserves are reported too; the USDC-only one is scored.
    let unknown = obligation(&[coll(key(90), 1), debt(USDC, 1)]);
    let Assessment::NotLiquidatable(n) = snap.assess(&key(83), &unknown) else {
        panic!("expected not liquidatable");
    };
    assert_eq!(n.reason, Reason::UnknownReserve);
    let fine = obligation(&[coll(USDC, 100_000_000), debt(USDC, 90_000_000)]);
    let accounts = [
        (key(80), encode_account(&o)),
        (key(84), encode_account(&fine)),
    ];
    let report = snap.scan_report(accounts.iter().map(|(k, d)| (*k, d.as_slice())));
    assert!(report.candidates.is_empty());
    assert_eq!(report.not_liquidatable.len(), 1);
    assert_eq!(report.not_liquidatable[0].obligation, key(80));
    // 100 USDC against 90 at LT 80%: unhealthy, but the only collateral is
    // in the debt's reserve.
    assert_eq!(report.nothing_to_seize.len(), 1);
}

#[test]
fn random_candidates_never_seize_more_than_the_position() {
    let snap = Setup::new().snapshot();
    let reserves = [SOL, USDC, ETH, BTC];
    let unit_usd = [20e-9, 1e-6, 2_000e-8, 60_000e-8];
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut found = 0;
    for i in 0..2_000u32 {
        let mut positions = vec![];
        for (j, r) in reserves.iter().enumerate() {
            let usd: f64 = rng.gen_range(1.0..100_000.0);
            let tokens = (usd / unit_usd[j]) as u64;
            match rng.gen_range(0..3) {
                0 => positions.push(coll(*r, tokens)),
                1 => positions.push(debt(*r, tokens)),
                _ => {}
            }
        }
        let o = obligation(&positions);
        let k = Pubkey::new_from_array([(i % 256) as u8; 32]);
        let Some(c) = snap.score(&k, &o) else {
            continue;
        };
        found += 1;
        assert!(c.health < FX_ONE);
        let held = |r: &Pubkey, kind: PositionKind| {
            positions
                .iter()
                .find(|(a, k, _)| a == r && *k == kind)
                .unwrap()
                .2
        };
        assert!(c.repay > 0);
        assert!(c.repay <= held(&c.debt_reserve, PositionKind::Debt));
        assert!(c.expected_seize <= held(&c.collateral_reserve, PositionKind::Collateral));
        assert_ne!(c.debt_reserve, c.collateral_reserve);
    }
    assert!(found > 100, "{found}");
}

/// As the program's health checks: a reserve with treasury shares deployed
/// is valued at the lower of its book and the shares' value at the
/// strategy's rate. A loss in the strategy makes an obligation holding the
/// reserve's collateral liquidatable before any mark; a gain is not counted
/// until marked.
#[test]
fn deployed_collateral_is_valued_at_the_lower_of_book_and_mark() {
    const STRATEGY: Pubkey = Pubkey::new_from_array([21; 32]);
    let usd = |x: u64| x * 1_000_000;
    let mut s = Setup::new();
    // USDC: 1,000 deposited (shares 1:1), 500 of it deployed at book 500.
    {
        let r = s.reserve_mut(&USDC);
        r.available_amount = usd(500);
        r.deposit_shares = usd(1_000);
        r.treasury.strategy_reserve = STRATEGY;
        r.treasury.deployed_shares = usd(500);
        r.treasury.deployed_amount = usd(500);
    }
    // 1,000 USDC ($800 at LT 80%) against 35 SOL ($700) of debt: health
    // 800/700 at book.
    let o = obligation(&[coll(USDC, usd(1_000)), debt(SOL, 35_000_000_000)]);
    let strategy = |value: u64| {
        let mut st = reserve(&STRATEGY, 6);
        st.market = key(99);
        st.available_amount = value;
        st.deposit_shares = usd(500);
        (STRATEGY, st)
    };
    // No strategy given: the book value.
    let book = s.snapshot();
    assert!(book.score(&key(70), &o).is_none(), "healthy at book");
    // The strategy lost 40%: USDC supply 500 + 300 = 800, collateral $640
    // at 80%, against $700.
    let loss = s.snapshot().with_strategies(&[strategy(usd(300))]);
    let v = loss.health_view(&USDC).unwrap();
    assert_eq!(v.supply, fx_u64(usd(800)));
    let c = loss.score(&key(70), &o).expect("liquidatable at the mark");
    assert!(close(c.health, 640.0 / 700.0), "{}", c.health);
    // A gain (the strategy's 500 shares worth 600) is not counted.
    let gain = s.snapshot().with_strategies(&[strategy(usd(600))]);
    assert_eq!(gain.health_view(&USDC).unwrap().supply, fx_u64(usd(1_000)));
    match gain.assess(&key(70), &o) {
        Assessment::Healthy { health } => assert!(close(health, 800.0 / 700.0), "{health}"),
        other => panic!("{other:?}"),
    }
}
