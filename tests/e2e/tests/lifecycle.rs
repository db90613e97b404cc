//! The keeper's whole job on a real validator: `market apply` over RPC (and
//! again, sending nothing), a population of borrowers, a treasury
//! rebalance, a SOL crash written through the test oracle, liquidations
//! worst first, bad debt socialised, books reconciled to the base unit.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ballast::state::Reserve;
use ballast_e2e::books::reconcile;
use ballast_e2e::keeper::KeeperProcess;
use ballast_e2e::report::measure;
use ballast_e2e::world::{World, WorldOptions, COLLATERAL_SOL};
use solana_address::Address;

/// SOL's price after the crash, USD (from 20: -30%).
const CRASH_PRICE: f64 = 14.0;
/// Liquidations per tick.
const CAPACITY: usize = 4;

#[test]
fn apply_populate_crash_liquidate_socialize_rebalance_reconcile() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions::default()).expect("world");

    // `market apply` over RPC created the market, and a second apply of
    // the same file sent nothing.
    assert!(
        w.apply_output.0.contains("market created")
            && w.apply_output.0.contains("created SOL, USDC"),
        "{}",
        w.apply_output.0
    );
    assert!(
        w.apply_output.1.contains("nothing to send"),
        "{}",
        w.apply_output.1
    );

    let market = w.market.to_string();
    let mut keeper = KeeperProcess::spawn(
        "keeper",
        &w.url(),
        &w.admin.path,
        &[
            "run",
            "--market",
            &market,
            "--interval",
            "1",
            "--capacity",
            &CAPACITY.to_string(),
        ],
        &w.dir.join("keeper.log"),
    )
    .expect("keeper");

    // The USDC reserve sits far above its buffer band (about 90% liquid
    // against a 50% maximum): the keeper deploys the excess.
    w.wait_for("a treasury deploy", Duration::from_secs(90), |w| {
        Ok(w.cluster
            .ballast::<Reserve>(&w.usdc.reserve)?
            .treasury
            .deployed_shares
            > 0)
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    assert!(
        w.scan().unwrap().candidates.is_empty(),
        "nobody is liquidatable before the crash"
    );

    // The crash.
    w.set_sol_price(CRASH_PRICE).expect("crash");
    let crash = Instant::now();
    let at_crash = w.scan().expect("scan");
    let ranking: Vec<Address> = at_crash.candidates.iter().map(|c| c.obligation).collect();
    assert_eq!(ranking.len(), 10, "unhealthy after the crash: {ranking:?}");
    let settle_secs = w
        .wait_for(
            "liquidations and bad debt settled",
            Duration::from_secs(180),
            |w| w.settled(),
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    assert!(
        keeper.exited().unwrap().is_none(),
        "the keeper died:\n{}",
        keeper.log_text()
    );

    // Worst first: the first tick after the crash liquidated the
    // `CAPACITY` worst obligations, in that order; every liquidation hit an
    // unhealthy obligation; every unhealthy one was liquidated.
    let liqs = w.liquidations().expect("liquidations");
    let first: Vec<Address> = liqs
        .iter()
        .take(CAPACITY)
        .map(|(_, _, e)| e.obligation)
        .collect();
    assert_eq!(first, ranking[..CAPACITY].to_vec(), "worst first");
    for (slot, sig, e) in &liqs {
        assert!(
            e.health_before.get() < ballast::engine::fx::FX_ONE,
            "liquidation {sig} at slot {slot} of a healthy obligation"
        );
    }
    let liquidated: HashSet<Address> = liqs.iter().map(|(_, _, e)| e.obligation).collect();
    assert_eq!(liquidated, ranking.iter().copied().collect::<HashSet<_>>());

    // Bad debt: exactly the insolvent borrowers (collateral worth less
    // than the debt at spot; a solvent one is closed out with a capped
    // bonus instead), once each; insurance first.
    let insolvent: HashSet<Address> = w
        .borrowers
        .iter()
        .filter(|b| (COLLATERAL_SOL as f64 * CRASH_PRICE) < b.borrowed as f64 / 1e6)
        .map(|b| b.obligation)
        .collect();
    let socialized = w.socializations().expect("socializations");
    let once: HashSet<Address> = socialized.iter().map(|e| e.obligation).collect();
    assert_eq!(
        once.len(),
        socialized.len(),
        "an obligation socialised twice"
    );
    assert_eq!(
        once, insolvent,
        "bad debt socialised for exactly the insolvent obligations"
    );
    for e in &socialized {
        assert_eq!(
            e.covered_by_insurance + e.written_off,
            e.debt,
            "socialisation of {}",
            e.obligation
        );
    }
    let covered: u64 = socialized.iter().map(|e| e.covered_by_insurance).sum();
    let written_off: u64 = socialized.iter().map(|e| e.written_off).sum();
    assert_eq!(
        covered,
        ballast_e2e::world::INSURANCE_USDC * 1_000_000,
        "the insurance vault paid first, all it had"
    );
    assert!(
        written_off > 0,
        "the rest was written down against depositors"
    );

    // A rebalance happened (a deploy), and the books reconcile.
    let rebalances = w.rebalances().expect("rebalances");
    assert!(
        rebalances.iter().any(|r| r.deployed && r.amount > 0),
        "{} rebalance(s), none a deploy",
        rebalances.len()
    );
    for line in reconcile(&w).expect("reconcile") {
        println!("[e2e] {line}");
    }
    let log = keeper.log_text();
    assert!(!log.contains("panicked"), "{log}");

    measure(
        "lifecycle",
        serde_json::json!({
            "borrowers": w.borrowers.len(),
            "setup_secs": w.setup_secs,
            "validator_start_secs": w.validator.startup_secs,
            "liquidations": liqs.len(),
            "crash_to_settled_secs": settle_secs,
            "liquidations_per_sec": liqs.len() as f64 / settle_secs,
            "bad_debt_positions": socialized.len(),
            "bad_debt_covered_usdc": covered as f64 / 1e6,
            "bad_debt_written_off_usdc": written_off as f64 / 1e6,
            "rebalances": rebalances.len(),
            "crash_wall_secs": crash.elapsed().as_secs_f64(),
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
