//! The keeper's volatility estimators against an independent reference:
//! `tests/fixtures/vol_expected.csv`, computed with pandas (EWMA, rolling
//! realised) and a numpy loop (GARCH) by `tests/py/gen_vol_fixture.py` over
//! windows of `shared/data/SOLUSDT_1h.csv`, some of them across the file's
//! gaps. Python is not needed here: the fixture is committed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ballast_keeper::volatility::candles::{parse_time_bound, read_prices, ReadOptions};
use ballast_keeper::volatility::estimators::{annualisation_factor, estimate, GarchParams, Method};

const TOLERANCE: f64 = 1e-10;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn sol() -> PathBuf {
    manifest().join("../../shared/data/SOLUSDT_1h.csv")
}

struct Expected {
    ts: String,
    sigma: Option<f64>,
}

fn param(params: &BTreeMap<String, f64>, key: &str) -> f64 {
    *params
        .get(key)
        .unwrap_or_else(|| panic!("fixture params lack `{key}`: {params:?}"))
}

fn parse_params(s: &str) -> BTreeMap<String, f64> {
    s.split(';')
        .map(|kv| {
            let (k, v) = kv.split_once('=').expect("key=value");
            (k.to_string(), v.parse().expect("a number"))
        })
        .collect()
}

#[test]
fn estimators_match_the_python_reference() {
    let fixture = manifest().join("tests/fixtures/vol_expected.csv");
    let mut rdr = csv::Reader::from_path(&fixture).expect("the fixture");
    assert_eq!(
        rdr.headers().unwrap(),
        vec!["method", "params", "from", "to", "ts", "sigma"]
    );
    // (method, params, from, to) -> expected rows, in file order.
    let mut cases: BTreeMap<(String, String, String, String), Vec<Expected>> = BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.unwrap();
        let key = (
            rec[0].to_string(),
            rec[1].to_string(),
            rec[2].to_string(),
            rec[3].to_string(),
        );
        let sigma = (!rec[5].is_empty()).then(|| rec[5].parse::<f64>().unwrap());
        cases.entry(key).or_default().push(Expected {
            ts: rec[4].to_string(),
            sigma,
        });
    }

    let mut methods = std::collections::BTreeSet::new();
    let mut compared = 0usize;
    let mut across_gaps = 0usize;
    for ((method, params, from, to), expected) in &cases {
        let series = read_prices(
            &sol(),
            &ReadOptions {
                from: Some(parse_time_bound(from).unwrap()),
                to: Some(parse_time_bound(to).unwrap()),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        assert_eq!(series.period_seconds, 3600);
        let p = parse_params(params);
        let m = match method.as_str() {
            "ewma" => Method::Ewma {
                lambda: param(&p, "lambda"),
            },
            "realized" => Method::Realized {
                window: param(&p, "window") as usize,
            },
            "garch" => {
                let (alpha, beta) = (param(&p, "alpha"), param(&p, "beta"));
                Method::Garch(match p.get("omega") {
                    Some(&omega) => GarchParams { omega, alpha, beta },
                    None => {
                        GarchParams::targeting_series(&series.candles, 3600, alpha, beta).unwrap()
                    }
                })
            }
            other => panic!("unknown method {other}"),
        };
        methods.insert(method.clone());
        let rows = estimate(&series.candles, series.period_seconds, &m).unwrap();
        assert_eq!(rows.len(), series.candles.len());
        let gaps = series
            .candles
            .windows(2)
            .filter(|w| w[1].ts - w[0].ts != 3600)
            .count();
        let by_ts: BTreeMap<i64, _> = rows.iter().map(|r| (r.ts, r)).collect();
        for e in expected {
            let ts = parse_time_bound(&e.ts).unwrap();
            let row = by_ts
                .get(&ts)
                .unwrap_or_else(|| panic!("{method} {params}: no row at {}", e.ts));
            match (e.sigma, row.sigma) {
                (None, None) => assert_eq!(row.sigma_annual, None),
                (Some(want), Some(got)) => {
                    assert!(
                        (got - want).abs() <= TOLERANCE,
                        "{method} {params} [{from}, {to}] at {}: got {got}, python {want}",
                        e.ts
                    );
                    let annual = row.sigma_annual.unwrap();
                    assert!((annual - want * annualisation_factor(3600)).abs() <= 1e-8);
                    compared += 1;
                    if gaps > 0 {
                        across_gaps += 1;
                    }
                }
                (want, got) => panic!(
                    "{method} {params} at {}: python {want:?}, keeper {got:?}",
                    e.ts
                ),
            }
        }
    }
    // The fixture really exercises what it is for.
    assert_eq!(
        methods.into_iter().collect::<Vec<_>>(),
        ["ewma", "garch", "realized"]
    );
    assert!(compared > 500, "only {compared} values compared");
    assert!(
        across_gaps > 100,
        "only {across_gaps} values in windows with gaps"
    );
}
