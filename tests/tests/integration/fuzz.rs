//! The invariant fuzzer's short seeded run (issue 14; `make fuzz` runs the
//! long one) and the sequences it found, kept as regression tests.
//!
//! The short run: seed 14, `FUZZ_SHORT_STEPS` operations (default 10,000, in
//! cases of 100) on clones of one set-up world; every invariant of
//! `ballast_tests::fuzz` after every operation. Its cost in CI is printed
//! (`[fuzz] ... ops/s`).

use ballast_tests::fuzz::{run, summary, FuzzConfig};

#[test]
fn fuzz_short_seeded_run() {
    let steps = std::env::var("FUZZ_SHORT_STEPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let cfg = FuzzConfig {
        seed: 14,
        steps,
        case_len: 100,
        max_shrink_iters: 500,
        progress: false,
    };
    let report = run(&cfg);
    let text = summary(&cfg, &report);
    println!("[fuzz] {text}");
    assert!(report.failure.is_none(), "{text}");
    assert!(
        report.ops >= steps,
        "ran {} of {steps} operations",
        report.ops
    );
    // The run reached the instructions it is there to exercise.
    for name in [
        "deposit",
        "borrow",
        "liquidate",
        "rebalance",
        "withdraw+recall",
    ] {
        let ok = report
            .stats
            .get(name)
            .and_then(|m| m.get("ok"))
            .copied()
            .unwrap_or(0);
        assert!(ok > 0, "no successful {name} in the short run:\n{text}");
    }
}
