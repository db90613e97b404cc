//! `make fuzz`: the invariant fuzzer on `target/deploy/ballast.so` (or
//! `$BALLAST_SO`). `FUZZ_SEED` (default 14), `FUZZ_STEPS` (default
//! 1,000,000 operations), `FUZZ_CASE_LEN` (default 200), `FUZZ_UNGATE=1`
//! applies the checks gated behind known-open defects. Prints operations per
//! second and the count of each instruction and refusal code; on a failure,
//! the shrunk sequence as a ready Rust test, and exits 1.

fn main() {
    let cfg = ballast_tests::fuzz::FuzzConfig::from_env();
    eprintln!(
        "ballast-fuzz: seed {}, {} operations in cases of {}",
        cfg.seed, cfg.steps, cfg.case_len
    );
    let report = ballast_tests::fuzz::run(&cfg);
    println!("{}", ballast_tests::fuzz::summary(&cfg, &report));
    if report.failure.is_some() {
        std::process::exit(1);
    }
}
