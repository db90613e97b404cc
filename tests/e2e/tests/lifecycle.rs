//! The keeper's whole job on a real validator: `market apply` over RPC (and
//! again, sending nothing), `run` pushing SOL's volatility (seeded with
//! `--history`), a population of borrowers, a treasury rebalance, a SOL
//! crash written through the test oracle, liquidations worst first, bad
//! debt socialised, books reconciled to the base unit; the metrics endpoint
//! scraped and its figures checked against the chain, and the JSON logs
//! parsed.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ballast::state::Reserve;
use ballast_e2e::books::reconcile;
use ballast_e2e::keeper::{keeper_binary, user_cli, KeeperProcess};
use ballast_e2e::report::measure;
use ballast_e2e::world::{
    free_port, metric_sum, scrape, SolRisk, World, WorldOptions, COLLATERAL_SOL,
};
use solana_address::Address;

/// SOL's price after the crash, USD (from 20: -30%).
const CRASH_PRICE: f64 = 14.0;
/// Liquidations per tick.
const CAPACITY: usize = 4;

/// The population was built with `ballast` (obligation create, deposit,
/// borrow); here its read and preview sides: `obligation show` agrees with
/// the keeper's scan, a borrow beyond the LTV is refused before signing, a
/// dry-run repay shows a better health and changes nothing.
fn users_cli_previews_and_refusals(w: &World) {
    let b = w.borrowers.last().expect("a borrower");
    let kp = b.path.as_ref().expect("a keypair file");
    let market = w.market.to_string();
    let usdc = w.usdc.mint.to_string();
    let show: serde_json::Value = serde_json::from_str(
        &user_cli(
            &w.url(),
            kp,
            &[
                "--output",
                "json",
                "obligation",
                "show",
                "--market",
                &market,
            ],
        )
        .expect("show"),
    )
    .expect("json");
    let scan = w.scan().expect("scan");
    let (_, h) = scan
        .healths
        .iter()
        .find(|(o, _)| *o == b.obligation)
        .expect("scanned");
    let shown = show["maintenance_health"]
        .as_f64()
        .expect("maintenance health");
    assert!(
        (shown - h.to_num::<f64>()).abs() < 1e-4,
        "{shown} vs the scan's {h}"
    );
    let initial = show["initial_health"].as_f64().unwrap();
    assert!(
        (1.0..1.03).contains(&initial),
        "98% of the borrowing power: {initial}"
    );
    assert!(show["borrowing_power_usd"].as_f64().unwrap() >= 0.0);
    let liq_price = show["liquidation_price_usd"]
        .as_f64()
        .expect("one collateral");
    assert!((15.0..19.0).contains(&liq_price), "{liq_price}");

    let before = w.cluster.data(&b.obligation).unwrap();
    let refused = user_cli(
        &w.url(),
        kp,
        &["borrow", "--market", &market, "--mint", &usdc, "100"],
    )
    .expect_err("beyond the LTV");
    assert!(
        refused.to_string().contains("InitialRequirementNotMet"),
        "{refused:#}"
    );
    let dry: serde_json::Value = serde_json::from_str(
        &user_cli(
            &w.url(),
            kp,
            &[
                "--output",
                "json",
                "repay",
                "--market",
                &market,
                "--mint",
                &usdc,
                "100",
                "--dry-run",
            ],
        )
        .expect("dry run"),
    )
    .unwrap();
    assert_eq!(dry["sent"], false);
    let after = dry["preview"]["after"]["maintenance_health"]
        .as_f64()
        .unwrap();
    let now = dry["preview"]["before"]["maintenance_health"]
        .as_f64()
        .unwrap();
    assert!(after > now, "repaying improves health: {now} -> {after}");
    assert_eq!(
        w.cluster.data(&b.obligation).unwrap(),
        before,
        "nothing sent"
    );
}

/// `snapshot` and `stress --market` over RPC, on the populated market
/// before the crash: the snapshot file holds every reserve and obligation
/// the validator has, and a seeded stress run that reads the market live
/// over RPC gives the same report as one that reads the file (only the wall
/// time differs). The LiteSVM test `snapshot::` checks the same round trip
/// on the embedded chain; this one checks the RPC capture (`getProgramAccounts`
/// filters, the oracle and strategy accounts fetched by address).
fn snapshot_and_stress_over_rpc(w: &World) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let keeper = |args: &[&str]| -> String {
        // From the repository root: the stress definition names its price
        // files relative to it.
        let out = std::process::Command::new(keeper_binary().unwrap())
            .current_dir(&root)
            .args(["--url", &w.url(), "--keypair"])
            .arg(&w.admin.path)
            .args(args)
            .output()
            .expect("running ballast-keeper");
        assert!(
            out.status.success(),
            "ballast-keeper {args:?}:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let market = w.market.to_string();
    let file = w.dir.join("market.snapshot");
    let file_s = file.to_str().unwrap();
    let summary: serde_json::Value = serde_json::from_str(&keeper(&[
        "snapshot", "--market", &market, "--out", file_s, "--output", "json",
    ]))
    .expect("snapshot JSON");
    // Every borrower, the supplier, and nothing from elsewhere.
    assert_eq!(summary["obligations"], w.borrowers.len() as u64 + 1);
    assert_eq!(summary["reserves"], 2);
    assert_eq!(summary["market"], market);

    let sol = format!("SOL={}", w.sol.reserve);
    let stress = |source: &[&str]| -> serde_json::Value {
        let mut args = vec![
            "stress",
            "--book",
            "migrations/stress-multi.toml",
            "--paths",
            "200",
            "--greeks-paths",
            "50",
            "--seed",
            "5",
            "--asset",
            &sol,
            "--output",
            "json",
        ];
        args.extend_from_slice(source);
        let mut v: serde_json::Value = serde_json::from_str(&keeper(&args)).expect("stress JSON");
        v.as_object_mut().unwrap().remove("seconds");
        v
    };
    let live = stress(&["--market", &market]);
    let from_file = stress(&["--snapshot", file_s]);
    assert_eq!(live, from_file, "stress over RPC vs over its snapshot");
    // The book is the borrowers' (the supplier owes nothing), at the
    // oracle's price: 100 SOL each at $20.
    assert_eq!(live["book"]["obligations"], w.borrowers.len() as u64);
    let sol_usd = live["book"]["collateral_usd"][0][1].as_f64().unwrap();
    let expect = (w.borrowers.len() as u64 * COLLATERAL_SOL) as f64 * ballast_e2e::world::SOL_PRICE;
    assert!((sol_usd - expect).abs() < 1e-6, "{sol_usd} vs {expect}");
}

#[test]
fn apply_populate_crash_liquidate_socialize_rebalance_reconcile() {
    let t0 = Instant::now();
    let w = World::new(WorldOptions {
        sol_risk: SolRisk::Dynamic {
            max_age_secs: 3_600,
            min_interval_secs: 60,
        },
        population_via_cli: true,
        ..Default::default()
    })
    .expect("world");
    users_cli_previews_and_refusals(&w);
    snapshot_and_stress_over_rpc(&w);
    // `run --ticks 1 --history ...` pushed SOL's volatility before the
    // population borrowed: an 80% estimate gives LTV 75.2%, LT 81.1%.
    let sol: Reserve = w.cluster.ballast(&w.sol.reserve).unwrap();
    let now = w.cluster.unix_time().unwrap();
    let params = sol.risk_params(now);
    assert!(sol.risk.last_push_ts > 0);
    let sigma = ballast::engine::fx::Fx::to_num::<f64>(sol.risk.sigma.get());
    assert!((sigma - 0.8).abs() < 0.01, "pushed sigma {sigma}");
    assert_eq!(
        (params.ltv_bps, params.liquidation_threshold_bps),
        (7_524, 8_109)
    );

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

    let metrics = format!("127.0.0.1:{}", free_port().unwrap());
    let mut keeper = KeeperProcess::spawn(
        "keeper",
        &w.url(),
        &w.admin.path,
        &w.run_args(
            CAPACITY,
            &["--metrics-addr", &metrics, "--log-format", "json"],
        ),
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
    // The ranking the keeper will see, computed before the price is written
    // (afterwards a keeper may already be acting on it).
    let at_crash = w.scan_with_sol_price(CRASH_PRICE).expect("scan");
    let ranking: Vec<Address> = at_crash.candidates.iter().map(|c| c.obligation).collect();
    w.set_sol_price(CRASH_PRICE).expect("crash");
    let crash = Instant::now();
    // LT 81.1%: debts above $1,135 of $1,400 of SOL are unhealthy.
    assert_eq!(ranking.len(), 9, "unhealthy after the crash: {ranking:?}");
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
    // Two more ticks, so that the gauges show the settled market; then
    // scrape, and stop the keeper so that its log and the chain stay put.
    let scrape_ticks = |m: &std::collections::HashMap<String, f64>| {
        metric_sum(m, "ballast_keeper_ticks_total", &[])
    };
    let settled_at = scrape_ticks(&scrape(&metrics).expect("scrape"));
    w.wait_for("two ticks after settling", Duration::from_secs(30), |_| {
        Ok(scrape_ticks(&scrape(&metrics)?) >= settled_at + 2.0)
    })
    .expect("ticks");
    let m = scrape(&metrics).expect("scrape");
    keeper.kill9().expect("stop the keeper");
    let liqs = w.liquidations().expect("liquidations");
    let socialized = w.socializations().expect("socializations");
    let rebalances = w.rebalances().expect("rebalances");
    let log = keeper.log_text();
    assert!(!log.contains("panicked"), "{log}");

    // The JSON logs: every line an object; the ticks' figures add up to
    // what the chain shows.
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let ticks: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "tick")
        .collect();
    let logged = |f: &str| {
        ticks
            .iter()
            .map(|t| t["fields"][f].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    // A dust sweep of the bad-debt task is a `liquidate` too.
    assert_eq!(logged("liquidated") + logged("swept"), liqs.len() as u64);
    // Bad debt is written off by socialize_bad_debt, or by the liquidation
    // (or dust sweep) that takes an obligation's last collateral: both emit
    // BadDebtSocialized.
    assert_eq!(
        logged("socialized") + logged("written_off_in_liquidations"),
        socialized.len() as u64
    );
    assert_eq!(logged("rebalanced"), rebalances.len() as u64);

    // The metrics endpoint, against the chain.
    let get = |name: &str| metric_sum(&m, name, &[]);
    assert!(get("ballast_keeper_ticks_total") as usize <= ticks.len());
    assert_eq!(
        get("ballast_keeper_liquidations_total") as usize,
        liqs.len()
    );
    let repaid_usd: f64 = liqs.iter().map(|(_, _, e)| e.repaid as f64 / 1e6).sum();
    let usd = get("ballast_keeper_liquidated_usd_total");
    assert!((usd - repaid_usd).abs() < 1e-3, "{usd} vs {repaid_usd}");
    assert_eq!(
        get("ballast_keeper_bad_debt_socialized_total") as usize,
        socialized.len()
    );
    assert_eq!(
        get("ballast_keeper_rebalances_total") as usize,
        rebalances.len()
    );
    assert_eq!(
        get("ballast_keeper_obligations_scanned") as usize,
        w.borrowers.len() + 1
    );
    assert!(
        get("ballast_keeper_lowest_health") >= 1.0,
        "settled: everyone healthy"
    );
    let age = metric_sum(
        &m,
        "ballast_keeper_seconds_since_push",
        &[&w.sol.reserve.to_string()],
    );
    assert!((0.0..3_600.0).contains(&age), "{age}");
    assert!(get("ballast_keeper_rpc_requests_total") > 0.0);
    assert_eq!(
        get("ballast_keeper_task_duration_seconds_count"),
        get("ballast_keeper_ticks_total") * 5.0,
        "five tasks a tick"
    );

    measure(
        "lifecycle",
        serde_json::json!({
            "borrowers": w.borrowers.len(),
            "setup_secs": w.setup_secs,
            "validator_start_secs": w.validator.startup_secs,
            "liquidations": liqs.len(),
            "crash_to_settled_secs": settle_secs,
            "liquidations_per_sec": liqs.len() as f64 / settle_secs,
            "liquidations_per_sec_within_the_task": metric_sum(&m, "ballast_keeper_liquidations_total", &[])
                / metric_sum(&m, "ballast_keeper_task_duration_seconds_sum", &["task=\"liquidation\""]),
            "bad_debt_positions": socialized.len(),
            "bad_debt_covered_usdc": covered as f64 / 1e6,
            "bad_debt_written_off_usdc": written_off as f64 / 1e6,
            "rebalances": rebalances.len(),
            "crash_wall_secs": crash.elapsed().as_secs_f64(),
            "total_secs": t0.elapsed().as_secs_f64(),
        }),
    );
}
