//! `ballast-keeper vol`, run as a process.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sol() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/SOLUSDT_1h.csv")
}

fn keeper(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ballast-keeper"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("running ballast-keeper")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}, stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// `timestamp,close,sigma,sigma_annual` rows, header checked.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,close,sigma,sigma_annual"));
    lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn reference_row_csv() {
    let sol = sol();
    let out = keeper(&[
        "vol",
        "--prices",
        sol.to_str().unwrap(),
        "--from",
        "2022-10-01",
        "--lambda",
        "0.94",
    ]);
    let rows = csv_rows(&stdout(&out));
    // --from includes the row at T, which has no return yet.
    assert_eq!(rows[0], ["2022-10-01 00:00:00", "32.83", "", ""]);
    let row = rows
        .iter()
        .find(|r| r[0] == "2022-11-09 23:00:00")
        .expect("the reference row");
    assert_eq!(row[1], "14.08");
    let sigma: f64 = row[2].parse().unwrap();
    let annual: f64 = row[3].parse().unwrap();
    assert!((sigma - 0.06358237).abs() < 1e-8, "{sigma}");
    assert!((annual - 5.95098336).abs() < 1e-8, "{annual}");
    // At least 10 significant digits.
    assert!(
        row[2]
            .trim_start_matches("0.")
            .trim_start_matches('0')
            .len()
            >= 10,
        "{}",
        row[2]
    );
    assert_eq!(rows.last().unwrap()[0], "2026-01-06 09:00:00");
}

#[test]
fn reference_row_json_and_to_is_inclusive() {
    let sol = sol();
    let out = keeper(&[
        "vol",
        "--prices",
        sol.to_str().unwrap(),
        "--from",
        "2022-10-01",
        "--to",
        "2022-11-09 23:00",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows[0]["timestamp"], "2022-10-01 00:00:00");
    assert!(rows[0]["sigma"].is_null() && rows[0]["sigma_annual"].is_null());
    let last = rows.last().unwrap();
    assert_eq!(last["timestamp"], "2022-11-09 23:00:00");
    assert_eq!(last["close"], 14.08);
    assert!((last["sigma"].as_f64().unwrap() - 0.06358237).abs() < 1e-8);
    assert!((last["sigma_annual"].as_f64().unwrap() - 5.95098336).abs() < 1e-8);
}

#[test]
fn realized_and_garch_methods() {
    let sol = sol();
    let sol = sol.to_str().unwrap();
    let base = ["vol", "--prices", sol, "--from", "2023-03-24 10:00"];
    let run = |extra: &[&str]| {
        let args: Vec<&str> = base.iter().chain(extra).copied().collect();
        csv_rows(&stdout(&keeper(&args)))
    };
    let rows = run(&[
        "--to",
        "2023-03-24 16:00",
        "--method",
        "realized",
        "--window",
        "3",
    ]);
    // 10:00, 11:00, 12:00, (gap) 14:00, 15:00, 16:00.
    let ts: Vec<&str> = rows.iter().map(|r| &r[0][11..16]).collect();
    assert_eq!(ts, ["10:00", "11:00", "12:00", "14:00", "15:00", "16:00"]);
    assert!(rows[..3].iter().all(|r| r[2].is_empty()));
    let close = |i: usize| rows[i][1].parse::<f64>().unwrap();
    let x = |i: usize, k: f64| (close(i) / close(i - 1)).ln().powi(2) / k;
    let want = ((x(1, 1.0) + x(2, 1.0) + x(3, 2.0)) / 3.0).sqrt();
    let got: f64 = rows[3][2].parse().unwrap();
    assert!((got - want).abs() < 1e-15, "{got} {want}");

    let rows = run(&[
        "--to",
        "2023-03-24 16:00",
        "--method",
        "garch",
        "--omega",
        "0",
        "--alpha",
        "0.06",
        "--beta",
        "0.94",
    ]);
    let ewma = run(&["--to", "2023-03-24 16:00", "--lambda", "0.94"]);
    for (g, e) in rows.iter().zip(&ewma) {
        assert_eq!(g[0], e[0]);
        if !e[2].is_empty() {
            let (a, b): (f64, f64) = (g[2].parse().unwrap(), e[2].parse().unwrap());
            assert!((a - b).abs() < 1e-15);
        }
    }
}

#[test]
fn malformed_file_fails_naming_the_line() {
    let dir = std::env::temp_dir().join(format!("ballast-vol-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "timestamp,open,high,low,close,volume\n\
         2024-01-01 00:00:00,100,101,99,100,1\n\
         2024-01-01 01:00:00,100,101,99,100,1\n\
         2024-01-01 02:00:00,100,101,99,abc,1\n",
    )
    .unwrap();
    let out = keeper(&["vol", "--prices", bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "nothing printed on failure");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("abc"), "{err}");

    let backwards = dir.join("backwards.csv");
    std::fs::write(
        &backwards,
        "timestamp,open,high,low,close,volume\n\
         2024-01-01 01:00:00,100,101,99,100,1\n\
         2024-01-01 00:00:00,100,101,99,100,1\n",
    )
    .unwrap();
    let out = keeper(&["vol", "--prices", backwards.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3") && err.contains("strictly increasing"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_fail() {
    let sol = sol();
    let sol = sol.to_str().unwrap();
    for args in [
        &["vol", "--prices", sol, "--from", "2022-13-01"][..],
        &["vol", "--prices", sol, "--from", "2030-01-01"],
        &[
            "vol", "--prices", sol, "--method", "realized", "--lambda", "0.9",
        ],
        &["vol", "--prices", sol, "--lambda", "1.5"],
        &["vol", "--prices", sol, "--symbol", "SOLUSDT"],
    ] {
        let out = keeper(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!out.stderr.is_empty());
    }
    let several = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/BTC_ETH_USDT_1h_2020-02-15_2020-04-15.csv");
    let several = several.to_str().unwrap();
    let out = keeper(&["vol", "--prices", several]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("BTCUSDT, ETHUSDT"));
    let rows = csv_rows(&stdout(&keeper(&[
        "vol",
        "--prices",
        several,
        "--symbol",
        "ETHUSDT",
        "--to",
        "2020-02-15 01:00",
    ])));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][1], "279.28");
}
