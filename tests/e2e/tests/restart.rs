//! `kill -9` of the keeper in the middle of its liquidations, then a
//! restart: it resumes from chain state, loses no action (everything
//! unhealthy ends liquidated, all bad debt socialised) and doubles none
//! (no liquidation of a healthy obligation or of the same state twice, no
//! debt socialised twice).

use std::time::{Duration, Instant};

use ballast_e2e::books::reconcile;
use ballast_e2e::checks::{insolvent_at, keeper_alive, socialized_once, sound_liquidations};
use ballast_e2e::keeper::KeeperProcess;
use ballast_e2e::report::measure;
use ballast_e2e::world::{World, WorldOptions};
use solana_address::Address;

const CRASH_PRICE: f64 = 14.0;

#[test]
fn kill_minus_nine_mid_run_then_restart_loses_and_doubles_nothing() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions::default()).expect("world");
    let market = w.market.to_string();
    let args = [
        "run",
        "--market",
        &market,
        "--interval",
        "1",
        "--capacity",
        "2",
    ];
    let log = w.dir.join("keeper.log");
    let mut keeper =
        KeeperProcess::spawn("keeper", &w.url(), &w.admin.path, &args, &log).expect("keeper");

    w.set_sol_price(CRASH_PRICE).expect("crash");
    let ranking: Vec<Address> = w
        .scan()
        .unwrap()
        .candidates
        .iter()
        .map(|c| c.obligation)
        .collect();
    assert_eq!(ranking.len(), 10);

    // Kill it as soon as the first liquidation is on chain: it is then
    // sending the next one.
    let first_seen = w
        .wait_for("a first liquidation", Duration::from_secs(90), |w| {
            Ok(w.scan()?.candidates.len() < ranking.len())
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    keeper.kill9().expect("kill -9");
    let killed_at = Instant::now();
    let before_restart = w.liquidations().expect("liquidations").len();
    assert!(
        before_restart >= 1 && before_restart < ranking.len(),
        "{before_restart} liquidation(s) before the kill"
    );
    assert!(!w.settled().unwrap(), "work was left when the keeper died");

    let mut keeper =
        KeeperProcess::spawn("keeper (restarted)", &w.url(), &w.admin.path, &args, &log)
            .expect("restart");
    let settle = w
        .wait_for("settled after the restart", Duration::from_secs(180), |w| {
            w.settled()
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    keeper_alive(&mut keeper).unwrap();

    let liqs = w.liquidations().expect("liquidations");
    let liquidated = sound_liquidations(&liqs).expect("sound liquidations");
    assert_eq!(
        liquidated,
        ranking.iter().copied().collect(),
        "every unhealthy obligation was liquidated, across the restart"
    );
    let (covered, written_off) =
        socialized_once(&w, &insolvent_at(&w, CRASH_PRICE)).expect("bad debt once");
    for line in reconcile(&w).expect("reconcile") {
        println!("[e2e] {line}");
    }
    measure(
        "restart",
        serde_json::json!({
            "liquidations_before_kill": before_restart,
            "liquidations": liqs.len(),
            "first_liquidation_secs": first_seen,
            "restart_to_settled_secs": settle,
            "kill_to_settled_secs": killed_at.elapsed().as_secs_f64(),
            "bad_debt_covered_usdc": covered as f64 / 1e6,
            "bad_debt_written_off_usdc": written_off as f64 / 1e6,
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
