//! Time of `ballast-keeper alm`'s analysis ([`ballast_keeper::alm::analyse`]:
//! ladder, durations with their two bumped curves, the curve table, six
//! scenarios' ΔEVE and ΔNII) on a synthetic market: 16 reserves, each with
//! floating loans, a treasury strategy, vault cash, on-demand deposits and
//! 16 term-loan buckets (the program's `TERM_BUCKETS`) due 1 to 112 days
//! out, on a curve with knots at 1, 7, 30 and 90 days. 5 runs of 1,000
//! analyses each; writes the median per analysis to
//! `target/bench/alm.json`:
//!
//! ```text
//! {"alm_reserve_analysis_micros": .., "items_per_reserve": 20, "runs": 5}
//! ```
//!
//! Run: `cargo bench -p ballast-keeper --bench alm`.

use std::hint::black_box;
use std::time::Instant;

use ballast_keeper::alm::{analyse, AlmBook, AlmItem, Calibration, Repricing, Side, ZeroCurve};

const RESERVES: usize = 16;
const ANALYSES: usize = 1_000;
const RUNS: usize = 5;

fn book(k: usize) -> AlmBook {
    let f = 1.0 + k as f64 / 10.0;
    let item = |label: &str, side, amount, rate, repricing, can_run| AlmItem {
        label: label.into(),
        side,
        amount_usd: amount * f,
        rate,
        repricing,
        can_run,
    };
    let mut items = vec![
        item("loans", Side::Asset, 5e6, 0.06, Repricing::Floating, false),
        item(
            "strategy",
            Side::Asset,
            1e6,
            0.04,
            Repricing::Floating,
            false,
        ),
        item(
            "cash",
            Side::Asset,
            2e6,
            0.0,
            Repricing::NonSensitive,
            false,
        ),
        item(
            "deposits",
            Side::Liability,
            9e6,
            0.04,
            Repricing::Floating,
            true,
        ),
    ];
    for b in 0..16 {
        let days = 1.0 + 7.0 * b as f64;
        items.push(item(
            "term",
            Side::Asset,
            1e5 * (-0.07 * days / 365.0f64).exp(),
            0.07,
            Repricing::Fixed {
                face_usd: 1e5 * f,
                maturity_days: days,
            },
            false,
        ));
    }
    AlmBook {
        label: format!("reserve {k}"),
        items,
        curve: ZeroCurve::new(&[(1.0, 0.06), (7.0, 0.065), (30.0, 0.07), (90.0, 0.075)])
            .expect("curve"),
        outside_capital_usd: 1e5,
        deposit_beta: 0.5,
    }
}

fn main() {
    let books: Vec<AlmBook> = (0..RESERVES).map(book).collect();
    let cal = Calibration::crypto();
    let mut times = vec![];
    for _ in 0..RUNS {
        let start = Instant::now();
        for i in 0..ANALYSES {
            black_box(analyse(black_box(&books[i % RESERVES]), &cal, 30.0));
        }
        times.push(start.elapsed().as_secs_f64() / ANALYSES as f64);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[RUNS / 2];
    let text = format!(
        "{{\"alm_reserve_analysis_micros\": {:.2}, \"items_per_reserve\": {}, \"runs\": {RUNS}}}",
        median * 1e6,
        books[0].items.len()
    );
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&dir).expect("create target/bench");
    std::fs::write(dir.join("alm.json"), format!("{text}\n")).expect("write alm.json");
    println!("target/bench/alm.json:\n{text}");
}
