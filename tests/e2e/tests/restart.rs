//! `kill -9` of the keeper in the middle of its liquidations, then a
//! restart: it resumes from chain state, loses no action (everything
//! unhealthy ends liquidated, all bad debt socialised) and doubles none
//! (no liquidation of a healthy obligation or of the same state twice, no
//! debt socialised twice); and, SOL's volatility going stale 120 s after a
//! push (pushes at least 60 s apart, the program's floor), the restarted
//! keeper (seeded from the volatility last pushed on chain, no price
//! history of its own) pushes in its first tick, so the reserve never goes
//! stale.

use std::time::{Duration, Instant};

use ballast_e2e::books::reconcile;
use ballast_e2e::checks::{insolvent_at, keeper_alive, socialized_once, sound_liquidations};
use ballast_e2e::keeper::KeeperProcess;
use ballast_e2e::report::measure;
use ballast_e2e::world::{SolRisk, World, WorldOptions};
use solana_address::Address;

const CRASH_PRICE: f64 = 14.0;
/// SOL's pushes go stale after this, seconds.
const MAX_AGE: i64 = 120;

#[test]
fn kill_minus_nine_mid_run_then_restart_loses_and_doubles_nothing() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions {
        sol_risk: SolRisk::Dynamic {
            max_age_secs: MAX_AGE as u32,
            min_interval_secs: 60,
        },
        ..Default::default()
    })
    .expect("world");
    // Push whenever the last push is 60 s old (60 s before staleness, and
    // the program's least interval).
    let args = w.run_args(2, &["--push-age-margin", "60"]);
    let log = w.dir.join("keeper.log");
    // The oldest SOL push seen at any poll of the test.
    let oldest = std::cell::Cell::new(0i64);
    let watch = |w: &World| -> anyhow::Result<i64> {
        let (age, at) = w.sol_push_age()?;
        oldest.set(oldest.get().max(age));
        Ok(at)
    };
    let mut keeper =
        KeeperProcess::spawn("keeper", &w.url(), &w.admin.path, &args, &log).expect("keeper");

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
    assert_eq!(ranking.len(), 9);

    // Kill it as soon as the first liquidation is on chain: it is then
    // sending the next one.
    let first_seen = w
        .wait_for("a first liquidation", Duration::from_secs(90), |w| {
            watch(w)?;
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

    // Dead keeper: nobody pushes; wait until SOL's last push is past the
    // keeper's margin (60 s old), so that its first tick must push.
    w.wait_for("the push to age", Duration::from_secs(120), |w| {
        watch(w)?;
        Ok(w.sol_push_age()?.0 >= 62)
    })
    .expect("ageing");
    let (age_at_restart, pushed_at) = w.sol_push_age().unwrap();
    let mut keeper =
        KeeperProcess::spawn("keeper (restarted)", &w.url(), &w.admin.path, &args, &log)
            .expect("restart");
    let restart_to_push = w
        .wait_for(
            "a push by the restarted keeper",
            Duration::from_secs(30),
            |w| Ok(watch(w)? > pushed_at),
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    assert!(
        restart_to_push < 10.0,
        "the restarted keeper pushed {restart_to_push:.1} s after its start"
    );
    assert!(
        keeper
            .log_text()
            .contains("seeded from the volatility last pushed on chain"),
        "{}",
        keeper.log_text()
    );
    let settle = w
        .wait_for("settled after the restart", Duration::from_secs(180), |w| {
            watch(w)?;
            w.settled()
        })
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    keeper_alive(&mut keeper).unwrap();
    assert!(
        oldest.get() < MAX_AGE,
        "SOL's push went {} s old (stale after {MAX_AGE} s)",
        oldest.get()
    );

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
            "push_age_at_restart_secs": age_at_restart,
            "restart_to_first_push_secs": restart_to_push,
            "oldest_push_age_secs": oldest.get(),
            "kill_to_settled_secs": killed_at.elapsed().as_secs_f64(),
            "bad_debt_covered_usdc": covered as f64 / 1e6,
            "bad_debt_written_off_usdc": written_off as f64 / 1e6,
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
