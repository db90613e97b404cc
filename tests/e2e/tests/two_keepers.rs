//! Two keepers on the same market at once, each with its own keypair and
//! token accounts (A is the risk authority, B is not): both keep working,
//! no obligation is liquidated twice for the same shortfall, the loser of a
//! race logs a skip instead of a failure, and B skips its volatility pushes
//! with a warning (they would be refused) while it liquidates.

use std::time::{Duration, Instant};

use ballast_e2e::books::reconcile;
use ballast_e2e::checks::{insolvent_at, keeper_alive, socialized_once, sound_liquidations};
use ballast_e2e::keeper::KeeperProcess;
use ballast_e2e::report::measure;
use ballast_e2e::world::{SolRisk, World, WorldOptions};
use solana_address::Address;
use solana_signer::Signer;

const CRASH_PRICE: f64 = 14.0;

/// The skips a keeper's log reports (a candidate liquidated by someone
/// else between its scan and its transaction).
fn skips(log: &str) -> usize {
    log.lines()
        .filter(|l| l.contains("liquidation skipped"))
        .count()
}

#[test]
fn two_keepers_race_without_double_liquidation() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions {
        extra_operators: 1,
        sol_risk: SolRisk::Dynamic {
            max_age_secs: 3_600,
            min_interval_secs: 60,
        },
        ..Default::default()
    })
    .expect("world");
    let args = w.run_args(10, &[]);
    let mut a = KeeperProcess::spawn(
        "keeper A",
        &w.url(),
        &w.admin.path,
        &args,
        &w.dir.join("a.log"),
    )
    .expect("keeper A");
    let mut b = KeeperProcess::spawn(
        "keeper B",
        &w.url(),
        &w.operators[0].path,
        &args,
        &w.dir.join("b.log"),
    )
    .expect("keeper B");
    // Both have run a tick.
    std::thread::sleep(Duration::from_secs(3));

    // The ranking the keeper will see, computed before the price is written
    // (afterwards a keeper may already be acting on it).
    let ranking: Vec<Address> = w
        .scan_with_sol_price(CRASH_PRICE)
        .unwrap()
        .candidates
        .iter()
        .map(|c| c.obligation)
        .collect();
    w.set_sol_price(CRASH_PRICE).expect("crash");
    let settle = w
        .wait_for("settled", Duration::from_secs(180), |w| w.settled())
        .unwrap_or_else(|e| panic!("{e:#}\nA:\n{}\nB:\n{}", a.log_text(), b.log_text()));
    keeper_alive(&mut a).unwrap();
    keeper_alive(&mut b).unwrap();

    let liqs = w.liquidations().expect("liquidations");
    let liquidated = sound_liquidations(&liqs).expect("no double liquidation");
    assert_eq!(liquidated, ranking.iter().copied().collect());
    let by_a = liqs
        .iter()
        .filter(|(_, _, e)| e.liquidator == w.admin.keypair.pubkey())
        .count();
    let by_b = liqs.len() - by_a;
    socialized_once(&w, &insolvent_at(&w, CRASH_PRICE)).expect("bad debt once");
    let (skips_a, skips_b) = (skips(&a.log_text()), skips(&b.log_text()));
    let b_log = b.log_text();
    assert!(
        b_log.contains("not the market's risk authority"),
        "B warns that its pushes will be skipped:\n{b_log}"
    );
    assert!(
        !b_log.contains("push failed"),
        "B never tried a push:\n{b_log}"
    );
    assert!(
        !a.log_text().contains("liquidation failed"),
        "{}",
        a.log_text()
    );
    assert!(
        !b_log.contains("liquidation failed"),
        "a lost race is a skip:\n{b_log}"
    );
    for log in [a.log_text(), b_log.clone()] {
        assert!(
            !log.contains("socialize_bad_debt failed") && !log.contains("dust sweep failed"),
            "a bad debt socialised by the other keeper is a skip:\n{log}"
        );
    }
    assert!(
        skips_a + skips_b > 0,
        "no race was lost? A liquidated {by_a}, B {by_b}\nA:\n{}\nB:\n{}",
        a.log_text(),
        b.log_text()
    );
    for line in reconcile(&w).expect("reconcile") {
        println!("[e2e] {line}");
    }
    measure(
        "two_keepers",
        serde_json::json!({
            "liquidations": liqs.len(),
            "by_a": by_a,
            "by_b": by_b,
            "skips_a": skips_a,
            "skips_b": skips_b,
            "crash_to_settled_secs": settle,
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
