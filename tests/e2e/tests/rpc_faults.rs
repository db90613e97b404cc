//! The keeper behind a fault-injecting proxy (delays, drops, resets, 429,
//! 503, answers lost after the validator acted, 40% of requests in all):
//! it completes its work, never crashes, never acts twice on a transaction
//! whose answer it lost, and its metrics count the faults the proxy
//! injected, one for one.

use std::time::{Duration, Instant};

use ballast_e2e::books::reconcile;
use ballast_e2e::checks::{insolvent_at, keeper_alive, socialized_once, sound_liquidations};
use ballast_e2e::keeper::KeeperProcess;
use ballast_e2e::proxy::{FaultProxy, Faults};
use ballast_e2e::report::measure;
use ballast_e2e::world::{free_port, metric_sum, scrape, SolRisk, World, WorldOptions};
use solana_address::Address;

const CRASH_PRICE: f64 = 14.0;

#[test]
fn keeper_completes_its_work_through_rpc_faults() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions {
        sol_risk: SolRisk::Dynamic {
            max_age_secs: 3_600,
            min_interval_secs: 60,
        },
        ..Default::default()
    })
    .expect("world");
    let faults = Faults {
        delay: 0.10,
        delay_by: Duration::from_millis(500),
        drop: 0.05,
        reset: 0.05,
        too_many: 0.10,
        server_error: 0.05,
        lose_answer: 0.05,
        seed: 15,
    };
    let proxy = FaultProxy::start(w.validator.rpc_addr(), faults).expect("proxy");
    let metrics = format!("127.0.0.1:{}", free_port().unwrap());
    let mut keeper = KeeperProcess::spawn(
        "keeper",
        &proxy.url(),
        &w.admin.path,
        &w.run_args(4, &["--metrics-addr", &metrics]),
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
    // At rest (new requests held, those in flight finished), the keeper's
    // metrics count exactly the faults the proxy injected: each drop,
    // reset, 503 and lost answer is one failed attempt, each 429 one second
    // waited (Retry-After: 1), and the keeper retried its way through.
    // First two more ticks, so that the last liquidation's tick has ended
    // (the metrics record a tick when it ends).
    let ticks = |m: &std::collections::HashMap<String, f64>| {
        metric_sum(m, "ballast_keeper_ticks_total", &[])
    };
    let at_settle = ticks(&scrape(&metrics).expect("scrape"));
    w.wait_for("two more ticks", Duration::from_secs(180), |_| {
        Ok(ticks(&scrape(&metrics)?) >= at_settle + 2.0)
    })
    .unwrap_or_else(|e| panic!("{e:#}\n{}", keeper.log_text()));
    proxy.hold(true);
    std::thread::sleep(Duration::from_secs(3));
    let m = scrape(&metrics).expect("scrape");
    let snapshot = proxy.counts.snapshot();
    let count = |k: &str| snapshot.iter().find(|(n, _)| *n == k).unwrap().1 as f64;
    let injected = count("dropped") + count("reset") + count("503") + count("lost_answers");
    let attempts = metric_sum(&m, "ballast_keeper_rpc_requests_total", &[]);
    let ok = metric_sum(&m, "ballast_keeper_rpc_requests_total", &["result=\"ok\""]);
    assert_eq!(
        attempts - ok,
        injected,
        "failed attempts vs injected faults: {m:?}"
    );
    assert_eq!(
        attempts,
        count("requests") - count("429"),
        "every request the proxy answered is an attempt the keeper counted (a 429 is \
         retried inside the client)"
    );
    // The request held now may have met 429s already, which the client
    // records when the request returns (at most its five retries).
    let waited = metric_sum(&m, "ballast_keeper_rpc_rate_limited_seconds_total", &[]);
    assert!(
        waited <= count("429") && waited >= count("429") - 5.0,
        "429 waits {waited} s vs {} answered",
        count("429")
    );
    assert!(metric_sum(&m, "ballast_keeper_rpc_retries_total", &[]) > 0.0);
    assert_eq!(
        metric_sum(&m, "ballast_keeper_liquidations_total", &[]) as usize,
        liqs.len(),
        "every liquidation counted once, lost answers included"
    );
    proxy.hold(false);
    keeper_alive(&mut keeper).unwrap();
    let counts: serde_json::Map<String, serde_json::Value> = snapshot
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect();
    println!("[e2e] proxy: {counts:?}");
    let requests = count("requests");
    let faulted = requests - count("forwarded");
    measure(
        "rpc_faults",
        serde_json::json!({
            "fault_share_configured": faults.total(),
            "fault_share_observed": faulted / requests,
            "proxy": counts,
            "keeper_failed_attempts": attempts - ok,
            "keeper_retries": metric_sum(&m, "ballast_keeper_rpc_retries_total", &[]),
            "keeper_rebroadcasts": metric_sum(&m, "ballast_keeper_rpc_rebroadcasts_total", &[]),
            "keeper_tx_outcomes": {
                "confirmed": metric_sum(&m, "ballast_keeper_rpc_transactions_total", &["confirmed"]),
                "expired": metric_sum(&m, "ballast_keeper_rpc_transactions_total", &["expired"]),
                "unknown": metric_sum(&m, "ballast_keeper_rpc_transactions_total", &["unknown"]),
                "failed": metric_sum(&m, "ballast_keeper_rpc_transactions_total", &["\"failed\""]),
            },
            "liquidations": liqs.len(),
            "crash_to_settled_secs": settle,
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
