//! Compute-unit benchmark: runs each instruction of the real `ballast.so` in
//! LiteSVM in a stated scenario and writes `target/bench/cu.json` (instruction
//! name -> compute units) and `target/bench/cu-scenarios.json` (name ->
//! scenario), then prints both. CU counts are deterministic for a given `.so`,
//! so one run per scenario is the measurement (the median of identical runs).

use std::collections::BTreeMap;

use ballast::instructions::InitMarketParams;
use ballast_tests::*;

struct Bench {
    cu: BTreeMap<&'static str, u64>,
    scenarios: BTreeMap<&'static str, &'static str>,
}

impl Bench {
    fn record(&mut self, name: &'static str, scenario: &'static str, samples: &mut [u64]) {
        samples.sort_unstable();
        let median = samples[samples.len() / 2];
        self.cu.insert(name, median);
        self.scenarios.insert(name, scenario);
    }
}

fn main() {
    let mut bench = Bench {
        cu: BTreeMap::new(),
        scenarios: BTreeMap::new(),
    };

    let mut samples: Vec<u64> = (0..5)
        .map(|_| {
            let mut ctx = TestContext::new();
            let admin = ctx.funded_user(10);
            let market = Keypair::new();
            let ix = ix::init_market(
                &admin.pubkey(),
                &market.pubkey(),
                InitMarketParams {
                    risk_authority: admin.pubkey(),
                    paused: false,
                },
            );
            expect_ok(ctx.chain.send(&[ix], &[&admin, &market]))
        })
        .collect();
    bench.record(
        "init_market",
        "create a market account (keypair, 8 + Market::SIZE bytes) and derive the authority PDA bump",
        &mut samples,
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&root).expect("create target/bench");
    let cu = serde_json::to_string_pretty(&bench.cu).unwrap();
    std::fs::write(root.join("cu.json"), format!("{cu}\n")).expect("write cu.json");
    let sc = serde_json::to_string_pretty(&bench.scenarios).unwrap();
    std::fs::write(root.join("cu-scenarios.json"), format!("{sc}\n"))
        .expect("write cu-scenarios.json");
    println!("{:<22} {:>8}  scenario", "instruction", "CU");
    for (name, cu) in &bench.cu {
        println!("{name:<22} {cu:>8}  {}", bench.scenarios[name]);
    }
    println!("\ntarget/bench/cu.json:\n{cu}");
}
