//! Runs sequences of operations on clones of one set-up [`World`] under
//! proptest's runner (seeded generation, shrinking of a failing sequence),
//! counts instructions and refusal codes, and prints a failing sequence as a
//! ready Rust test.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::time::Instant;

use proptest::collection::vec;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed, TestCaseError, TestError, TestRunner};

use super::check::{after_op, attacker_gain, attacker_only, net_worth};
use super::op::{op_strategy, Op};
use super::world::{World, ATTACKER};

/// Counts per operation name and outcome (`ok` or the refusal's error name).
pub type Stats = BTreeMap<String, BTreeMap<String, u64>>;

/// A fuzz run's parameters.
#[derive(Clone, Debug)]
pub struct FuzzConfig {
    /// The proptest RNG seed (ChaCha).
    pub seed: u64,
    /// Operations to generate in total (cases x `case_len`).
    pub steps: u64,
    /// Operations per case (each case starts from a clone of the set-up
    /// world).
    pub case_len: usize,
    /// Shrinking budget, in re-runs of a candidate sequence.
    pub max_shrink_iters: u32,
    /// Whether to draw a progress bar on stderr.
    pub progress: bool,
}

impl FuzzConfig {
    /// The configuration of `make fuzz`: `FUZZ_SEED` (default 14),
    /// `FUZZ_STEPS` (default 1,000,000), `FUZZ_CASE_LEN` (default 200).
    pub fn from_env() -> Self {
        let get = |k: &str, d: u64| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.replace('_', "").parse().ok())
                .unwrap_or(d)
        };
        Self {
            seed: get("FUZZ_SEED", 14),
            steps: get("FUZZ_STEPS", 1_000_000),
            case_len: get("FUZZ_CASE_LEN", 200) as usize,
            max_shrink_iters: get("FUZZ_SHRINK_ITERS", 2_000) as u32,
            progress: true,
        }
    }
}

/// What a run did.
#[derive(Debug)]
pub struct FuzzReport {
    /// Operations executed (shrinking re-runs included).
    pub ops: u64,
    /// Operations executed before the first failure (or all).
    pub ops_to_failure: u64,
    /// Wall time, seconds.
    pub secs: f64,
    /// Counts per operation and outcome, up to the first failure.
    pub stats: Stats,
    /// The failure: the invariant's message and the shrunk sequence.
    pub failure: Option<(String, Vec<Op>)>,
}

impl World {
    /// One operation and every invariant after it; counts into `stats`.
    pub fn apply(&mut self, op: &Op, stats: &mut Stats) -> Result<(), String> {
        self.refresh_oracles();
        let pre = self.observe();
        let nw = attacker_only(op).then(|| net_worth(self, ATTACKER));
        let sents = self.exec(op)?;
        let entry = stats.entry(op.name().to_string()).or_default();
        if sents.is_empty() {
            *entry.entry("-".into()).or_default() += 1;
        }
        for s in &sents {
            *entry.entry(s.code.clone()).or_default() += 1;
        }
        let post = self.observe();
        if let Some(before) = nw {
            attacker_gain(&before, &net_worth(self, ATTACKER))?;
        }
        after_op(self, &pre, &post, &sents)
    }

    /// Runs `ops` in order on this world; the first violation, with the
    /// operation's index.
    pub fn run_ops(&mut self, ops: &[Op], stats: &mut Stats) -> Result<(), String> {
        for (i, op) in ops.iter().enumerate() {
            self.apply(op, stats)
                .map_err(|e| format!("op {i} {op:?}: {e}"))?;
        }
        Ok(())
    }
}

/// Runs `ops` on a fresh world with the known-open gates (the regression
/// tests' entry point).
pub fn replay(ops: &[Op]) -> Result<(), String> {
    World::new().run_ops(ops, &mut Stats::new())
}

/// Runs `ops` on a fresh world with the checks gated behind `ungate`
/// applied (the regression tests of known-open defects).
pub fn replay_ungated(ops: &[Op], ungate: &[super::known::Known]) -> Result<(), String> {
    let mut w = World::new();
    w.ungate = ungate.to_vec();
    w.run_ops(ops, &mut Stats::new())
}

/// A failing sequence as a ready Rust test (for `tests/tests/integration/fuzz.rs`).
pub fn rust_test(name: &str, message: &str, ops: &[Op]) -> String {
    let mut s = format!("/// Found by the fuzzer: {}\n#[test]\nfn {name}() {{\n    use ballast_tests::fuzz::op::*;\n    let ops = vec![\n", message.replace('\n', " "));
    for op in ops {
        s.push_str(&format!("        Op::{op:?},\n"));
    }
    s.push_str("    ];\n    ballast_tests::fuzz::replay(&ops).unwrap();\n}\n");
    s
}

/// Runs the fuzzer: `steps / case_len` cases of `case_len` operations from
/// the seed; on a failure proptest shrinks the sequence.
pub fn run(cfg: &FuzzConfig) -> FuzzReport {
    let start = Instant::now();
    let base = World::new();
    let cases = (cfg.steps / cfg.case_len as u64).max(1);
    let config = Config {
        cases: cases.min(u32::MAX as u64) as u32,
        failure_persistence: None,
        max_shrink_iters: cfg.max_shrink_iters,
        max_shrink_time: 0,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(cfg.seed),
        ..Config::default()
    };
    let bar = cfg.progress.then(|| {
        let b = indicatif::ProgressBar::new(cases * cfg.case_len as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{bar:40}] {pos}/{len} ops {per_sec} eta {eta} {msg}",
            )
            .expect("template"),
        );
        b
    });
    let ops = RefCell::new(0u64);
    let to_failure = RefCell::new(None::<u64>);
    let stats = RefCell::new(Stats::new());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&vec(op_strategy(), cfg.case_len), |seq| {
        let mut w = base.clone();
        let mut local = Stats::new();
        let shrinking = to_failure.borrow().is_some();
        let mut n = 0u64;
        let mut res = Ok(());
        for (i, op) in seq.iter().enumerate() {
            n += 1;
            if let Err(e) = w.apply(op, &mut local) {
                res = Err(format!("op {i} {op:?}: {e}"));
                break;
            }
        }
        let before = *ops.borrow();
        *ops.borrow_mut() += n;
        if let Some(b) = &bar {
            b.inc(n);
            // Without a terminal the bar is hidden: a line every 10,000.
            if b.is_hidden() && (before / 10_000) != (before + n) / 10_000 {
                let secs = start.elapsed().as_secs_f64();
                eprintln!(
                    "[fuzz] {} ops in {secs:.0} s = {:.0} ops/s",
                    before + n,
                    (before + n) as f64 / secs
                );
            }
        }
        // `FUZZ_STATS_FILE`: the summary so far, every 20,000 operations
        // (a run stopped early still leaves its counts).
        if let Ok(path) = std::env::var("FUZZ_STATS_FILE") {
            if (before / 20_000) != (before + n) / 20_000 && !shrinking {
                let partial = FuzzReport {
                    ops: before + n,
                    ops_to_failure: before + n,
                    secs: start.elapsed().as_secs_f64(),
                    stats: stats.borrow().clone(),
                    failure: None,
                };
                let _ = std::fs::write(&path, summary(cfg, &partial));
            }
        }
        if !shrinking {
            let mut s = stats.borrow_mut();
            for (k, v) in local {
                for (c, x) in v {
                    *s.entry(k.clone()).or_default().entry(c).or_default() += x;
                }
            }
        }
        match res {
            Ok(()) => Ok(()),
            Err(e) => {
                if !shrinking {
                    *to_failure.borrow_mut() = Some(*ops.borrow());
                    eprintln!(
                        "[fuzz] first failure after {} ops (shrinking): {e}",
                        *ops.borrow()
                    );
                    if let Some(b) = &bar {
                        b.set_message("shrinking");
                    }
                }
                Err(TestCaseError::fail(e))
            }
        }
    });
    if let Some(b) = &bar {
        b.finish();
    }
    let failure = match result {
        Ok(()) => None,
        Err(TestError::Fail(reason, seq)) => {
            Some(minimize(&base, reason.message().to_string(), seq))
        }
        Err(TestError::Abort(reason)) => Some((format!("aborted: {}", reason.message()), vec![])),
    };
    let total = *ops.borrow();
    let to_fail = to_failure.borrow().unwrap_or(total);
    FuzzReport {
        ops: total,
        ops_to_failure: to_fail,
        secs: start.elapsed().as_secs_f64(),
        stats: stats.into_inner(),
        failure,
    }
}

/// The invariant a failure message names (`invariant N`), or the start of
/// the message.
fn kind(e: &str) -> String {
    match e.find("invariant ") {
        Some(i) => e[i..].split(':').next().unwrap_or(e).to_string(),
        None => e.chars().take(40).collect(),
    }
}

/// Runs `seq` from `base`: the index of the failing operation, the full
/// message, and the violation alone.
fn failing(base: &World, seq: &[Op]) -> Option<(usize, String, String)> {
    let mut w = base.clone();
    let mut stats = Stats::new();
    for (i, op) in seq.iter().enumerate() {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.apply(op, &mut stats)));
        let e = match r {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e,
            Err(_) => "panicked".to_string(),
        };
        return Some((i, format!("op {i} {op:?}: {e}"), e));
    }
    None
}

/// After proptest's shrinking: cuts the sequence after the failing
/// operation, then drops every operation whose removal keeps the same
/// invariant failing (one pass from the end, within 90 s).
fn minimize(base: &World, msg: String, seq: Vec<Op>) -> (String, Vec<Op>) {
    let Some((i, m, e)) = failing(base, &seq) else {
        return (msg, seq);
    };
    let want = kind(&e);
    let mut seq = seq[..=i].to_vec();
    let mut msg = m;
    let start = Instant::now();
    let mut j = seq.len();
    while j > 0 && start.elapsed().as_secs() < 90 {
        j -= 1;
        let mut cand = seq.clone();
        cand.remove(j);
        if let Some((k, m, e)) = failing(base, &cand) {
            if kind(&e) == want {
                cand.truncate(k + 1);
                seq = cand;
                msg = m;
                j = j.min(seq.len());
            }
        }
    }
    (msg, seq)
}

/// The report as text: throughput, then each operation's outcomes.
pub fn summary(cfg: &FuzzConfig, r: &FuzzReport) -> String {
    let mut s = format!(
        "fuzz: seed {} | {} ops ({} to the first failure) in {:.1} s = {:.0} ops/s\n",
        cfg.seed,
        r.ops,
        r.ops_to_failure,
        r.secs,
        r.ops as f64 / r.secs.max(1e-9)
    );
    let mut codes: BTreeMap<&str, u64> = BTreeMap::new();
    for (op, outcomes) in &r.stats {
        let total: u64 = outcomes.values().sum();
        let list: Vec<String> = outcomes.iter().map(|(c, n)| format!("{c} {n}")).collect();
        s.push_str(&format!("  {op:<28} {total:>9}: {}\n", list.join(", ")));
        for (c, n) in outcomes {
            *codes.entry(c.as_str()).or_default() += n;
        }
    }
    s.push_str("outcomes over all operations:\n");
    for (c, n) in codes {
        s.push_str(&format!("  {c:<36} {n:>9}\n"));
    }
    if let Some((msg, seq)) = &r.failure {
        s.push_str(&format!(
            "FAILED: {msg}\nshrunk to {} operations:\n",
            seq.len()
        ));
        s.push_str(&rust_test(&format!("fuzz_seed_{}", cfg.seed), msg, seq));
    }
    s
}
