//! The keeper behind a fault-injecting proxy (delays, drops, resets, 429,
//! 503, answers lost after the validator acted): it completes its work,
//! never crashes, and never acts twice on a transaction whose answer it
//! lost.

use std::time::{Duration, Instant};

use ballast_e2e::books::reconcile;
use ballast_e2e::checks::{insolvent_at, keeper_alive, socialized_once, sound_liquidations};
use ballast_e2e::keeper::KeeperProcess;
use ballast_e2e::proxy::{FaultProxy, Faults};
use ballast_e2e::report::measure;
use ballast_e2e::world::{World, WorldOptions};
use solana_address::Address;

const CRASH_PRICE: f64 = 14.0;

#[test]
fn keeper_completes_its_work_through_rpc_faults() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions::default()).expect("world");
    let faults = Faults {
        delay: 0.10,
        delay_by: Duration::from_millis(1_500),
        drop: 0.03,
        reset: 0.03,
        too_many: 0.05,
        server_error: 0.03,
        lose_answer: 0.02,
        seed: 15,
    };
    let proxy = FaultProxy::start(w.validator.rpc_addr(), faults).expect("proxy");
    let market = w.market.to_string();
    let mut keeper = KeeperProcess::spawn(
        "keeper",
        &proxy.url(),
        &w.admin.path,
        &[
            "run",
            "--market",
            &market,
            "--interval",
            "1",
            "--capacity",
            "4",
        ],
        &w.dir.join("keeper.log"),
    )
    .expect("keeper");

    w.wait_for("a treasury deploy", Duration::from_secs(120), |w| {
        Ok(w.cluster
            .ballast::<ballast::state::Reserve>(&w.usdc.reserve)?
            .treasury
            .deployed_shares
            > 0)
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    w.set_sol_price(CRASH_PRICE).expect("crash");
    let ranking: Vec<Address> = w
        .scan()
        .unwrap()
        .candidates
        .iter()
        .map(|c| c.obligation)
        .collect();
    let settle = w
        .wait_for(
            "settled through the faults",
            Duration::from_secs(300),
            |w| w.settled(),
        )
        .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    keeper_alive(&mut keeper).unwrap();

    let liqs = w.liquidations().expect("liquidations");
    let liquidated = sound_liquidations(&liqs).expect("no double liquidation");
    assert_eq!(liquidated, ranking.iter().copied().collect());
    socialized_once(&w, &insolvent_at(&w, CRASH_PRICE)).expect("bad debt once");
    for line in reconcile(&w).expect("reconcile") {
        println!("[e2e] {line}");
    }
    let counts: serde_json::Map<String, serde_json::Value> = proxy
        .counts
        .snapshot()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.into()))
        .collect();
    println!("[e2e] proxy: {counts:?}");
    let requests = proxy
        .counts
        .requests
        .load(std::sync::atomic::Ordering::Relaxed) as f64;
    let faulted = requests
        - proxy
            .counts
            .forwarded
            .load(std::sync::atomic::Ordering::Relaxed) as f64;
    measure(
        "rpc_faults",
        serde_json::json!({
            "fault_share_configured": faults.total(),
            "fault_share_observed": faulted / requests,
            "proxy": counts,
            "liquidations": liqs.len(),
            "crash_to_settled_secs": settle,
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
