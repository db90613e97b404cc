//! Tests of the candle reader: both file forms, every row check with its
//! line number, symbols, bounds and the shared data files.

use super::*;

fn read(text: &str) -> Result<PriceSeries, PriceError> {
    read_prices_from(text.as_bytes(), &ReadOptions::default())
}

const HEADER_FORM: &str = "\
timestamp,open,high,low,close,volume
2024-01-01 00:00:00,100.0,101.5,99.0,101.0,10.5
2024-01-01 01:00:00,101.0,103.0,100.5,102.25,7
2024-01-01 02:00:00,102.25,102.5,98.0,98.5,20.125
";

// The same rows as Binance writes them: open time in ms, open, high, low,
// close, volume, close time, quote volume, trades, taker base, taker
// quote, ignore.
const BINANCE_MS: &str = "\
1704067200000,100.0,101.5,99.0,101.0,10.5,1704070799999,1050.0,12,5.0,500.0,0
1704070800000,101.0,103.0,100.5,102.25,7,1704074399999,700.0,9,3.0,300.0,0
1704074400000,102.25,102.5,98.0,98.5,20.125,1704077999999,2000.0,30,9.0,900.0,0
";

const BINANCE_US: &str = "\
1704067200000000,100.0,101.5,99.0,101.0,10.5,1704070799999999,1050.0,12,5.0,500.0,0
1704070800000000,101.0,103.0,100.5,102.25,7,1704074399999999,700.0,9,3.0,300.0,0
1704074400000000,102.25,102.5,98.0,98.5,20.125,1704077999999999,2000.0,30,9.0,900.0,0
";

#[test]
fn header_form_is_parsed() {
    let s = read(HEADER_FORM).unwrap();
    assert_eq!(s.format, FileFormat::Header);
    assert_eq!(s.period_seconds, 3600);
    assert_eq!(s.candles.len(), 3);
    assert_eq!(
        s.candles[1],
        Candle {
            ts: 1_704_070_800,
            open: 101.0,
            high: 103.0,
            low: 100.5,
            close: 102.25,
            volume: 7.0
        }
    );
}

#[test]
fn binance_headerless_matches_header_form() {
    let h = read(HEADER_FORM).unwrap();
    let ms = read(BINANCE_MS).unwrap();
    let us = read(BINANCE_US).unwrap();
    assert_eq!(ms.format, FileFormat::BinanceKlines);
    assert_eq!(us.format, FileFormat::BinanceKlines);
    assert_eq!(h.candles, ms.candles);
    assert_eq!(h.candles, us.candles);
    assert_eq!(h.period_seconds, ms.period_seconds);
    assert_eq!(h.period_seconds, us.period_seconds);
}

#[test]
fn binance_first_rows_of_shared_file_match() {
    // The first rows of SOLUSDT_1h.csv, rewritten as a Binance dump.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/SOLUSDT_1h.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let head: Vec<&str> = text.lines().take(200).collect();
    let header_form = head.join("\n");
    let binance: String = head[1..]
        .iter()
        .map(|l| {
            let (t, rest) = l.split_once(',').unwrap();
            let ts = parse_text_ts(t, 0).unwrap();
            format!("{},{rest},{},0,0,0,0,0\n", ts * 1000, ts * 1000 + 3_599_999)
        })
        .collect();
    let a = read(&header_form).unwrap();
    let b = read(&binance).unwrap();
    assert_eq!(a.candles.len(), 199);
    assert_eq!(a.candles, b.candles);
}

#[test]
fn malformed_number_names_its_line() {
    let text = "\
timestamp,open,high,low,close,volume
2024-01-01 00:00:00,100,101,99,100,1
2024-01-01 01:00:00,100,101,99,100,1
2024-01-01 02:00:00,100,101,99,10O.5,1
2024-01-01 03:00:00,100,101,99,100,1
";
    let e = read(text).unwrap_err();
    assert!(
        matches!(e, PriceError::Number { line: 4, field: "close", ref value } if value == "10O.5"),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("line 4:"), "{e}");
}

#[test]
fn wrong_field_count_names_its_line() {
    let text = "\
timestamp,open,high,low,close,volume
2024-01-01 00:00:00,100,101,99,100,1
2024-01-01 01:00:00,100,101,99,100
";
    let e = read(text).unwrap_err();
    assert!(
        matches!(
            e,
            PriceError::FieldCount {
                line: 3,
                expected: 6,
                found: 5
            }
        ),
        "{e:?}"
    );
    let e = read("1704067200000,1,1,1,1,1,0\n1704070800000,1,1,1,1,1\n").unwrap_err();
    assert!(matches!(e, PriceError::FieldCount { line: 2, .. }), "{e:?}");
}

#[test]
fn bad_timestamp_names_its_line() {
    let text = "\
timestamp,open,high,low,close,volume
2024-01-01 00:00:00,100,101,99,100,1
2024-01-01 25:00:00,100,101,99,100,1
";
    let e = read(text).unwrap_err();
    assert!(matches!(e, PriceError::Timestamp { line: 3, .. }), "{e:?}");
    let e = read("1704067200000,1,1,1,1,1\n1704070800x00,1,1,1,1,1\n").unwrap_err();
    assert!(matches!(e, PriceError::Timestamp { line: 2, .. }), "{e:?}");
    let e = read("1704067200,1,1,1,1,1\n").unwrap_err();
    assert!(matches!(e, PriceError::Timestamp { line: 1, .. }), "{e:?}");
}

#[test]
fn non_positive_price_names_its_line() {
    let text = "\
timestamp,open,high,low,close,volume
2024-01-01 00:00:00,100,101,99,100,1
2024-01-01 01:00:00,100,101,0,100,1
";
    let e = read(text).unwrap_err();
    assert!(
        matches!(
            e,
            PriceError::NonPositivePrice {
                line: 3,
                field: "low",
                ..
            }
        ),
        "{e:?}"
    );
    let e = read(&text.replace(",0,100,1", ",99,-5,1")).unwrap_err();
    assert!(
        matches!(
            e,
            PriceError::NonPositivePrice {
                line: 3,
                field: "close",
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn non_increasing_timestamps_name_the_line() {
    let text = "\
timestamp,open,high,low,close,volume
2024-01-01 00:00:00,100,101,99,100,1
2024-01-01 01:00:00,100,101,99,100,1
2024-01-01 02:00:00,100,101,99,100,1
2024-01-01 02:00:00,100,101,99,100,1
";
    let e = read(text).unwrap_err();
    assert!(
        matches!(
            e,
            PriceError::NotIncreasing {
                line: 5,
                prev_line: 4,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().starts_with("line 5:"), "{e}");
    let backwards = text.replace(
        "2024-01-01 02:00:00,100,101,99,100,1\n2024-01-01 02:00:00",
        "2024-01-01 02:00:00,100,101,99,100,1\n2024-01-01 00:30:00",
    );
    let e = read(&backwards).unwrap_err();
    assert!(
        matches!(e, PriceError::NotIncreasing { line: 5, .. }),
        "{e:?}"
    );
}

#[test]
fn blank_lines_do_not_shift_line_numbers() {
    let text = "timestamp,open,high,low,close,volume\n\n2024-01-01 00:00:00,1,1,1,1,1\n\n2024-01-01 01:00:00,1,1,1,x,1\n";
    let e = read(text).unwrap_err();
    assert!(matches!(e, PriceError::Number { line: 5, .. }), "{e:?}");
}

#[test]
fn line_numbers_with_crlf_and_lone_cr() {
    let text = "timestamp,open,high,low,close,volume\r\n\r\n2024-01-01 00:00:00,1,1,1,1,1\r\n2024-01-01 01:00:00,1,1,1,-1,1\r\n";
    let e = read(text).unwrap_err();
    assert!(
        matches!(e, PriceError::NonPositivePrice { line: 4, .. }),
        "{e:?}"
    );
    let e = read(&text.replace("\r\n", "\r")).unwrap_err();
    assert!(
        matches!(e, PriceError::NonPositivePrice { line: 4, .. }),
        "{e:?}"
    );
    let bom = format!("\u{feff}{}", &BINANCE_MS[..BINANCE_MS.len() - 1]);
    assert_eq!(
        read(&bom).unwrap().candles,
        read(HEADER_FORM).unwrap().candles
    );
    let bom = format!("\u{feff}{HEADER_FORM}");
    assert_eq!(read(&bom).unwrap().candles.len(), 3);
}

#[test]
fn symbols() {
    let text = "\
timestamp,symbol,open,high,low,close,volume
2024-01-01 00:00:00,AAA,1,1,1,1,1
2024-01-01 01:00:00,AAA,1,1,1,2,1
2024-01-01 00:00:00,BBB,5,5,5,5,1
2024-01-01 01:00:00,BBB,5,5,5,6,1
2024-01-01 02:00:00,BBB,5,5,5,7,1
";
    let e = read(text).unwrap_err();
    match e {
        PriceError::SeveralSymbols { symbols } => assert_eq!(symbols, ["AAA", "BBB"]),
        e => panic!("{e:?}"),
    }
    let opts = |s: &str| ReadOptions {
        symbol: Some(s.to_string()),
        ..ReadOptions::default()
    };
    let b = read_prices_from(text.as_bytes(), &opts("BBB")).unwrap();
    assert_eq!(b.symbol.as_deref(), Some("BBB"));
    assert_eq!(
        b.candles.iter().map(|c| c.close).collect::<Vec<_>>(),
        [5.0, 6.0, 7.0]
    );
    let e = read_prices_from(text.as_bytes(), &opts("CCC")).unwrap_err();
    assert!(matches!(e, PriceError::UnknownSymbol { .. }), "{e:?}");
    let e = read_prices_from(HEADER_FORM.as_bytes(), &opts("AAA")).unwrap_err();
    assert!(matches!(e, PriceError::NoSymbolColumn { .. }), "{e:?}");
    // A single-symbol file with a symbol column needs no choice.
    let one: String = text.lines().take(3).map(|l| format!("{l}\n")).collect();
    assert_eq!(read(&one).unwrap().symbol.as_deref(), Some("AAA"));
}

#[test]
fn shared_btc_eth_file_needs_a_symbol() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/BTC_ETH_USDT_1h_2020-02-15_2020-04-15.csv");
    let e = read_prices(&path, &ReadOptions::default()).unwrap_err();
    assert!(matches!(e, PriceError::SeveralSymbols { .. }), "{e:?}");
    let eth = read_prices(
        &path,
        &ReadOptions {
            symbol: Some("ETHUSDT".into()),
            from: Some(parse_time_bound("2020-03-13 02:00").unwrap()),
            to: Some(parse_time_bound("2020-03-13 02:00").unwrap()),
        },
    )
    .unwrap();
    assert_eq!(eth.candles.len(), 1);
    assert_eq!(eth.candles[0].low, 86.0);
    assert_eq!(eth.period_seconds, 3600);
}

#[test]
fn from_to_are_inclusive() {
    let opts = ReadOptions {
        symbol: None,
        from: Some(parse_time_bound("2024-01-01 01:00").unwrap()),
        to: Some(parse_time_bound("2024-01-01T02:00:00Z").unwrap()),
    };
    let s = read_prices_from(HEADER_FORM.as_bytes(), &opts).unwrap();
    assert_eq!(
        s.candles.iter().map(|c| c.close).collect::<Vec<_>>(),
        [102.25, 98.5]
    );
    let day = ReadOptions {
        to: Some(parse_time_bound("2024-01-01").unwrap()),
        ..ReadOptions::default()
    };
    let s = read_prices_from(HEADER_FORM.as_bytes(), &day).unwrap();
    assert_eq!(s.candles.len(), 1);
    // The period is measured on the whole file, not the selection.
    assert_eq!(s.period_seconds, 3600);
}

#[test]
fn empty_selection_is_an_error() {
    let opts = ReadOptions {
        symbol: None,
        from: Some(parse_time_bound("2025-01-01").unwrap()),
        to: None,
    };
    let e = read_prices_from(HEADER_FORM.as_bytes(), &opts).unwrap_err();
    assert!(matches!(e, PriceError::EmptySelection { .. }), "{e:?}");
    let opts = ReadOptions {
        symbol: None,
        from: Some(parse_time_bound("2024-01-01 00:30").unwrap()),
        to: Some(parse_time_bound("2024-01-01 00:40").unwrap()),
    };
    let e = read_prices_from(HEADER_FORM.as_bytes(), &opts).unwrap_err();
    assert!(matches!(e, PriceError::EmptySelection { .. }), "{e:?}");
    let opts = ReadOptions {
        symbol: None,
        from: Some(parse_time_bound("2024-01-02").unwrap()),
        to: Some(parse_time_bound("2024-01-01").unwrap()),
    };
    let e = read_prices_from(HEADER_FORM.as_bytes(), &opts).unwrap_err();
    assert!(matches!(e, PriceError::BoundsReversed { .. }), "{e:?}");
}

#[test]
fn time_bounds() {
    assert_eq!(parse_time_bound("1970-01-02").unwrap(), 86_400);
    assert_eq!(parse_time_bound("1970-01-01 01:02").unwrap(), 3_720);
    assert_eq!(parse_time_bound("1970-01-01 01:02:03").unwrap(), 3_723);
    assert_eq!(
        parse_time_bound(" 2022-11-09 23:00 ").unwrap(),
        1_668_034_800
    );
    for bad in [
        "",
        "2022-13-01",
        "2022-11-09 24:00",
        "yesterday",
        "1668034800",
    ] {
        assert!(parse_time_bound(bad).is_err(), "{bad}");
    }
    assert_eq!(format_ts(1_668_034_800), "2022-11-09 23:00:00");
}

#[test]
fn nominal_period_with_gaps() {
    let c = |ts| Candle {
        ts,
        open: 1.0,
        high: 1.0,
        low: 1.0,
        close: 1.0,
        volume: 0.0,
    };
    let hours = [0, 1, 2, 5, 6, 7, 9].map(|h| c(h * 3600));
    assert_eq!(nominal_period(&hours), Some(3600));
    assert_eq!(nominal_period(&hours[..1]), None);
    // A tie picks the smaller step.
    assert_eq!(nominal_period(&[c(0), c(60), c(180)]), Some(60));
    let e =
        read("timestamp,open,high,low,close,volume\n2024-01-01 00:00:00,1,1,1,1,1\n").unwrap_err();
    assert!(matches!(e, PriceError::TooFewRows { rows: 1 }), "{e:?}");
}

#[test]
fn shared_sol_file_reads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/SOLUSDT_1h.csv");
    let s = read_prices(&path, &ReadOptions::default()).unwrap();
    assert_eq!(s.candles.len(), 47_360);
    assert_eq!(s.period_seconds, 3600);
    let gaps = s
        .candles
        .windows(2)
        .filter(|w| w[1].ts - w[0].ts != 3600)
        .count();
    assert_eq!(gaps, 10);
}
