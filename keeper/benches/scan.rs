//! Throughput of the keeper's liquidation scan (`ballast_keeper::scan`).
//!
//! Builds 100,000 synthetic obligation accounts as raw bytes (discriminator +
//! `Pod` bytes) over a market of 4 reserves (SOL $20 9 dp, ETH $2,000 8 dp,
//! BTC $60,000 8 dp, USDC $1 6 dp; LT 80%, borrow index 1.05 projected over
//! the hour since the last accrual, 1.02 tokens per deposit share), each
//! with 1..=8 positions from a seeded RNG and about 5% of them below the
//! Maintenance requirement. Times, on one thread, `MarketSnapshot::scan` over
//! all of them (decode + health + liquidation sizing + sort), 5 runs, and
//! writes the median to `target/bench/keeper.json`:
//!
//! ```text
//! {"health_scan_obligations_per_second": .., "obligations": 100000, "runs": 5,
//!  "median_seconds": .., "candidates": ..}
//! ```
//!
//! It first prints the per-reserve lookup comparison behind the snapshot's
//! choice of a linear search over a `Vec` (vs a `HashMap`) for 2..=16
//! reserves.
//!
//! Run: `cargo bench -p ballast-keeper --bench scan`.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use ballast::engine::fx::{Fx, WrappedFx};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::fixtures;
use ballast::state::{
    Market, Obligation, Position, PositionKind, Reserve, ReserveConfig, MAX_POSITIONS,
};
use ballast_keeper::accounts::{encode_account, PythPrice};
use ballast_keeper::scan::MarketSnapshot;
use bytemuck::Zeroable;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

const OBLIGATIONS: usize = 100_000;
const RUNS: usize = 5;
const UNHEALTHY_SHARE: f64 = 0.05;
const NOW: i64 = 1_700_000_000;
const MARKET: Pubkey = Pubkey::new_from_array([1; 32]);
/// Tokens per deposit share.
const SHARE_RATE: f64 = 1.02;
/// Borrow index at the last accrual, an hour before `NOW`.
const INDEX: f64 = 1.05;
const LT: f64 = 0.8;

struct Asset {
    key: Pubkey,
    decimals: u8,
    usd: f64,
}

fn assets() -> Vec<Asset> {
    [
        (11, 9, 20.0),
        (13, 8, 2_000.0),
        (14, 8, 60_000.0),
        (12, 6, 1.0),
    ]
    .into_iter()
    .map(|(b, decimals, usd)| Asset {
        key: Pubkey::new_from_array([b; 32]),
        decimals,
        usd,
    })
    .collect()
}

fn oracle_of(k: &Pubkey) -> Pubkey {
    let mut b = k.to_bytes();
    b[0] = b[0].wrapping_add(100);
    Pubkey::new_from_array(b)
}

fn feed_of(k: &Pubkey) -> [u8; 32] {
    let mut b = k.to_bytes();
    b[1] = 0xfe;
    b
}

/// A reserve with `ballast::fixtures::reserve_config` (LTV 75%, LT 80%, BF 1,
/// 60 s max age, 2% max confidence) and room for every synthetic position.
fn reserve(a: &Asset) -> Reserve {
    let c = ReserveConfig {
        liquidation_threshold_bps: (LT * 1e4) as u16,
        ..fixtures::reserve_config(feed_of(&a.key))
    };
    let mut r = Reserve::zeroed();
    r.market = MARKET;
    r.mint = a.key;
    r.oracle = oracle_of(&a.key);
    r.mint_decimals = a.decimals;
    // Supply 1.02e18 base units over 1e18 shares, 2e17 borrowed.
    r.deposit_shares = 1_000_000_000_000_000_000;
    r.borrow_shares = WrappedFx::new(Fx::from_num(2e17 / INDEX));
    r.borrow_index = WrappedFx::new(Fx::from_num(INDEX));
    r.available_amount = 1_020_000_000_000_000_000 - 200_000_000_000_000_000;
    r.last_update_ts = NOW - 3_600;
    r.config = c;
    r
}

/// An obligation of 1..=8 distinct (reserve, kind) positions; with debt, of
/// Maintenance health drawn below 1 with probability `p_unhealthy`, else in
/// 1.05..3 (computed at the unprojected index: the hour of interest moves it
/// by a few ppm).
fn obligation(rng: &mut StdRng, assets: &[Asset], p_unhealthy: f64) -> Obligation {
    let mut slots: Vec<(usize, PositionKind)> = (0..assets.len())
        .flat_map(|i| [(i, PositionKind::Collateral), (i, PositionKind::Debt)])
        .collect();
    let n = rng.gen_range(1..=MAX_POSITIONS);
    // At least one collateral; with two or more positions, at least one debt.
    let chosen = loop {
        slots.shuffle(rng);
        let has = |kind| slots[..n].iter().any(|(_, k)| *k == kind);
        if has(PositionKind::Collateral) && (n == 1 || has(PositionKind::Debt)) {
            break slots[..n].to_vec();
        }
    };
    let coll_usd: Vec<f64> = chosen
        .iter()
        .map(|_| rng.gen_range(10.0..50_000.0))
        .collect();
    let weighted: f64 = chosen
        .iter()
        .zip(&coll_usd)
        .filter(|((_, k), _)| *k == PositionKind::Collateral)
        .map(|(_, v)| v * LT)
        .sum();
    let health = if rng.gen_bool(p_unhealthy) {
        rng.gen_range(0.6..0.99)
    } else {
        rng.gen_range(1.05..3.0)
    };
    let debt_weights: Vec<f64> = chosen.iter().map(|_| rng.gen_range(0.1..1.0)).collect();
    let debt_weight_sum: f64 = chosen
        .iter()
        .zip(&debt_weights)
        .filter(|((_, k), _)| *k == PositionKind::Debt)
        .map(|(_, w)| w)
        .sum();
    let mut o = Obligation::zeroed();
    o.market = MARKET;
    let mut owner = [0u8; 32];
    rng.fill(&mut owner);
    o.owner = Pubkey::new_from_array(owner);
    for (slot, (j, &(i, kind))) in o.positions.iter_mut().zip(chosen.iter().enumerate()) {
        let a = &assets[i];
        let unit_usd = a.usd / 10f64.powi(a.decimals as i32);
        *slot = Position::zeroed();
        slot.reserve = a.key;
        slot.kind = kind as u8;
        if kind == PositionKind::Collateral {
            slot.deposit_shares = (coll_usd[j] / unit_usd / SHARE_RATE) as u64;
        } else {
            let usd = weighted / health * debt_weights[j] / debt_weight_sum;
            let shares = usd / unit_usd / INDEX;
            slot.borrow_shares = WrappedFx::new(Fx::from_num(shares));
        }
    }
    o
}

/// ns per lookup of a random present key among `n`, linear search vs
/// `HashMap` (std's SipHash).
fn lookup_ns(n: usize, rng: &mut StdRng) -> (f64, f64) {
    let keys: Vec<Pubkey> = (0..n)
        .map(|_| {
            let mut b = [0u8; 32];
            rng.fill(&mut b);
            Pubkey::new_from_array(b)
        })
        .collect();
    let vec: Vec<(Pubkey, u64)> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| (*k, i as u64))
        .collect();
    let map: HashMap<Pubkey, u64> = vec.iter().copied().collect();
    let queries: Vec<Pubkey> = (0..1_000_000).map(|_| keys[rng.gen_range(0..n)]).collect();
    let time = |f: &dyn Fn(&Pubkey) -> u64| {
        let mut best = f64::MAX;
        for _ in 0..3 {
            let t = Instant::now();
            let mut sum = 0u64;
            for q in &queries {
                sum = sum.wrapping_add(f(black_box(q)));
            }
            black_box(sum);
            best = best.min(t.elapsed().as_secs_f64() * 1e9 / queries.len() as f64);
        }
        best
    };
    let linear = time(&|q| vec.iter().find(|(k, _)| k == q).map_or(0, |(_, v)| *v));
    let hashed = time(&|q| map.get(q).copied().unwrap_or(0));
    (linear, hashed)
}

fn main() {
    let mut rng = StdRng::seed_from_u64(0xba11a57);

    println!("per-reserve lookup, ns (random present key):");
    println!("reserves  linear  hashmap");
    for n in [2, 4, 8, 12, 16] {
        let (linear, hashed) = lookup_ns(n, &mut rng);
        println!("{n:>8}  {linear:>6.2}  {hashed:>7.2}");
    }

    let assets = assets();
    let mut market = Market::zeroed();
    market.liquidation = LiquidationConfig::SOLEND_LIKE;
    let reserves: Vec<(Pubkey, Reserve)> = assets.iter().map(|a| (a.key, reserve(a))).collect();
    let oracles: HashMap<Pubkey, Vec<u8>> = assets
        .iter()
        .map(|a| {
            let mut p = PythPrice::usd(feed_of(&a.key), a.usd, NOW - 5);
            p.conf = p.price as u64 / 1_000; // 0.1%
            p.ema_conf = p.conf;
            (oracle_of(&a.key), p.to_account_data())
        })
        .collect();
    let snapshot = MarketSnapshot::new(MARKET, &market, &reserves, &oracles, NOW);
    assert_eq!(snapshot.unusable_reserves().count(), 0);

    // One obligation in eight is a lone collateral position (no debt).
    let p_unhealthy = UNHEALTHY_SHARE * MAX_POSITIONS as f64 / (MAX_POSITIONS - 1) as f64;
    let accounts: Vec<(Pubkey, Vec<u8>)> = (0..OBLIGATIONS)
        .map(|_| {
            let mut k = [0u8; 32];
            rng.fill(&mut k);
            let o = obligation(&mut rng, &assets, p_unhealthy);
            (Pubkey::new_from_array(k), encode_account(&o))
        })
        .collect();

    let report = snapshot.scan_report(accounts.iter().map(|(k, d)| (*k, d.as_slice())));
    assert_eq!(report.assessed, OBLIGATIONS);
    assert!(report.not_liquidatable.is_empty());
    let candidates = report.candidates.len();
    println!(
        "\n{OBLIGATIONS} obligations: {candidates} candidates ({:.2}%), {} with nothing to seize",
        100.0 * candidates as f64 / OBLIGATIONS as f64,
        report.nothing_to_seize.len()
    );

    let mut secs = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let t = Instant::now();
        let found = snapshot.scan(black_box(accounts.iter().map(|(k, d)| (*k, d.as_slice()))));
        let s = t.elapsed().as_secs_f64();
        assert_eq!(black_box(found).len(), candidates);
        println!(
            "run {}: {s:.4} s, {:.0} obligations/s",
            run + 1,
            OBLIGATIONS as f64 / s
        );
        secs.push(s);
    }
    secs.sort_by(f64::total_cmp);
    let median = secs[RUNS / 2];
    let json = serde_json::json!({
        "health_scan_obligations_per_second": (OBLIGATIONS as f64 / median).round(),
        "obligations": OBLIGATIONS,
        "runs": RUNS,
        "median_seconds": median,
        "candidates": candidates,
    });
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    let text = serde_json::to_string_pretty(&json).unwrap();
    std::fs::write(dir.join("keeper.json"), format!("{text}\n")).expect("write keeper.json");
    println!("\ntarget/bench/keeper.json:\n{text}");
}
