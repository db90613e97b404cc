//! Price series: reading candle (kline) CSV files into [`Candle`]s.
//!
//! Two forms are accepted, told apart by the first line:
//!
//! * **With a header** (the files in `shared/data`): a first line naming the
//!   columns, at least `timestamp,open,high,low,close,volume` (any order, names
//!   case-insensitive, extra columns ignored), optionally a `symbol` column
//!   (the BTC/ETH file has one after `timestamp`). `timestamp` is
//!   `YYYY-MM-DD HH:MM:SS` in UTC, the candle's open time. A header may name an
//!   `open_time` column instead of `timestamp`, in which case it holds Binance
//!   epoch integers as described next.
//! * **Binance kline dumps** (no header): every row starts with the open time
//!   as an integer number of milliseconds since the Unix epoch (microseconds
//!   when the value is above 10^14, as in newer Binance dumps), then open, high,
//!   low, close, volume; further columns (close time, quote volume, trades, ...)
//!   are ignored. Every row must have as many fields as the first.
//!
//! Every row is checked: field count, numbers (finite), prices strictly
//! positive, volume not negative, timestamps strictly increasing. An error
//! names the 1-based line number of the file (see [`PriceError`]).
//!
//! Prices are in quote currency per unit of base (USDT per SOL for
//! `SOLUSDT`), volumes in base units, times in Unix seconds (UTC).

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// One candle (kline) of a price series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    /// Open time of the candle, Unix seconds (UTC).
    pub ts: i64,
    /// First traded price of the period, quote currency per unit of base.
    pub open: f64,
    /// Highest traded price of the period, quote currency per unit of base.
    pub high: f64,
    /// Lowest traded price of the period, quote currency per unit of base.
    pub low: f64,
    /// Last traded price of the period, quote currency per unit of base.
    pub close: f64,
    /// Traded volume over the period, in units of base.
    pub volume: f64,
}

/// The form a price file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// A header line naming the columns (the `shared/data` files).
    Header,
    /// Binance's header-less kline rows, open time in ms (or µs) first.
    BinanceKlines,
}

/// What to read from a price file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// The symbol to keep, for files with a `symbol` column. Required when the
    /// file holds more than one symbol; an error when the file has no such
    /// column.
    pub symbol: Option<String>,
    /// Keep rows whose open time is at or after this instant (Unix seconds,
    /// inclusive). See [`parse_time_bound`].
    pub from: Option<i64>,
    /// Keep rows whose open time is at or before this instant (Unix seconds,
    /// inclusive). See [`parse_time_bound`].
    pub to: Option<i64>,
}

/// A validated, time-ordered price series.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSeries {
    /// The candles kept (after symbol selection and `from`/`to` filtering),
    /// strictly increasing in [`Candle::ts`], never empty.
    pub candles: Vec<Candle>,
    /// Nominal period of the series, seconds (3600 for hourly candles): the
    /// most common difference between consecutive open times, measured over
    /// the whole file (the selected symbol's rows) before `from`/`to`
    /// filtering. See [`nominal_period`].
    pub period_seconds: i64,
    /// The symbol the rows belong to, when the file has a `symbol` column.
    pub symbol: Option<String>,
    /// The form the file had.
    pub format: FileFormat,
}

/// Why a price file could not be read. Every variant about a row names the
/// 1-based line number of the file.
#[derive(Debug, thiserror::Error)]
pub enum PriceError {
    /// The file could not be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The path given.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file could not be read.
    #[error("cannot read the price file: {source}")]
    Read {
        /// The underlying error.
        source: std::io::Error,
    },
    /// The CSV layer failed (I/O error, invalid UTF-8, ...).
    #[error("line {line}: {source}")]
    Csv {
        /// 1-based line number (0 when the CSV layer did not say).
        line: u64,
        /// The underlying error.
        source: csv::Error,
    },
    /// Nothing but possibly blank lines.
    #[error("the file has no rows")]
    EmptyFile,
    /// The header line is not usable.
    #[error("line {line}: bad header: {problem}")]
    Header {
        /// 1-based line number of the header.
        line: u64,
        /// What is wrong with it.
        problem: String,
    },
    /// A row has the wrong number of fields.
    #[error("line {line}: expected {expected} fields, found {found}")]
    FieldCount {
        /// 1-based line number.
        line: u64,
        /// Fields the header (or, header-less, the first row) has.
        expected: usize,
        /// Fields this row has.
        found: usize,
    },
    /// A field that must be a finite number is not.
    #[error("line {line}: {field} `{value}` is not a finite number")]
    Number {
        /// 1-based line number.
        line: u64,
        /// Column name (`open`, `close`, ...).
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// A timestamp that cannot be read.
    #[error("line {line}: bad timestamp `{value}`: {reason}")]
    Timestamp {
        /// 1-based line number.
        line: u64,
        /// The text found.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A price that is zero or negative.
    #[error("line {line}: {field} price {value} is not positive")]
    NonPositivePrice {
        /// 1-based line number.
        line: u64,
        /// Column name (`open`, `high`, `low` or `close`).
        field: &'static str,
        /// The value found.
        value: f64,
    },
    /// A negative volume.
    #[error("line {line}: volume {value} is negative")]
    NegativeVolume {
        /// 1-based line number.
        line: u64,
        /// The value found.
        value: f64,
    },
    /// A timestamp not after the previous row's.
    #[error(
        "line {line}: timestamp {ts} is not after {prev_ts} (line {prev_line}): \
         timestamps must be strictly increasing"
    )]
    NotIncreasing {
        /// 1-based line number of the offending row.
        line: u64,
        /// Its timestamp, `YYYY-MM-DD HH:MM:SS` UTC.
        ts: String,
        /// 1-based line number of the previous row (of the same symbol).
        prev_line: u64,
        /// Its timestamp, `YYYY-MM-DD HH:MM:SS` UTC.
        prev_ts: String,
    },
    /// The file holds several symbols and none was chosen.
    #[error("the file holds several symbols ({}): choose one", symbols.join(", "))]
    SeveralSymbols {
        /// The symbols found, sorted.
        symbols: Vec<String>,
    },
    /// The chosen symbol has no row in the file.
    #[error("symbol `{symbol}` is not in the file (it has: {})", available.join(", "))]
    UnknownSymbol {
        /// The symbol asked for.
        symbol: String,
        /// The symbols found, sorted.
        available: Vec<String>,
    },
    /// A symbol was chosen but the file has no `symbol` column.
    #[error("symbol `{symbol}` was asked for, but the file has no symbol column")]
    NoSymbolColumn {
        /// The symbol asked for.
        symbol: String,
    },
    /// Fewer than two rows: no period can be measured.
    #[error("the series has {rows} row(s): at least 2 are needed to find its period")]
    TooFewRows {
        /// Rows found.
        rows: usize,
    },
    /// `from` is after `to`.
    #[error("from {from} is after to {to}")]
    BoundsReversed {
        /// `from`, `YYYY-MM-DD HH:MM:SS` UTC.
        from: String,
        /// `to`, `YYYY-MM-DD HH:MM:SS` UTC.
        to: String,
    },
    /// No row lies in [`from`, `to`].
    #[error("no row between {from} and {to} (the series runs from {first} to {last})")]
    EmptySelection {
        /// `from`, `YYYY-MM-DD HH:MM:SS` UTC, or `the start`.
        from: String,
        /// `to`, `YYYY-MM-DD HH:MM:SS` UTC, or `the end`.
        to: String,
        /// First timestamp of the series.
        first: String,
        /// Last timestamp of the series.
        last: String,
    },
    /// A `from`/`to` bound that cannot be read.
    #[error("bad time `{value}`: expected YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS] (UTC)")]
    TimeBound {
        /// The text given.
        value: String,
    },
}

/// Formats Unix seconds as `YYYY-MM-DD HH:MM:SS` (UTC), the form of the
/// `timestamp` column.
pub fn format_ts(ts: i64) -> String {
    match DateTime::from_timestamp(ts, 0) {
        Some(dt) => dt.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => format!("@{ts}"),
    }
}

/// Parses a `from`/`to` bound, UTC: `YYYY-MM-DD` (meaning 00:00:00 of that
/// day), `YYYY-MM-DD HH:MM` or `YYYY-MM-DD HH:MM:SS` (a `T` may stand for the
/// space, a trailing `Z` is allowed). Returns Unix seconds.
///
/// A bound is an instant: `to = 2022-11-09` keeps rows up to and including
/// the one opening at 2022-11-09 00:00:00, not the rest of that day.
pub fn parse_time_bound(s: &str) -> Result<i64, PriceError> {
    let t = s.trim();
    let t = t.strip_suffix('Z').unwrap_or(t);
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(dt.and_utc().timestamp());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(dt.and_utc().timestamp());
        }
    }
    Err(PriceError::TimeBound {
        value: s.to_string(),
    })
}

/// The nominal period of a series, seconds: the most common difference
/// between consecutive open times (the smallest such difference on a tie).
/// `None` for fewer than two candles.
///
/// With a few missing candles (exchange outages) the nominal period is still
/// the regular step: 3600 for the hourly files.
pub fn nominal_period(candles: &[Candle]) -> Option<i64> {
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for w in candles.windows(2) {
        *counts.entry(w[1].ts - w[0].ts).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|(da, ca), (db, cb)| ca.cmp(cb).then(db.cmp(da)))
        .map(|(d, _)| d)
}

/// Reads and validates a price file (see the module documentation), then
/// keeps the rows asked for by `opts`.
pub fn read_prices(path: &Path, opts: &ReadOptions) -> Result<PriceSeries, PriceError> {
    let file = File::open(path).map_err(|source| PriceError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    read_prices_from(file, opts)
}

/// Like [`read_prices`], from any reader (the whole CSV text).
pub fn read_prices_from<R: Read>(reader: R, opts: &ReadOptions) -> Result<PriceSeries, PriceError> {
    let (candles, format, symbol) = read_all(reader, opts.symbol.as_deref())?;
    let period_seconds = nominal_period(&candles).ok_or(PriceError::TooFewRows {
        rows: candles.len(),
    })?;
    let candles = select(candles, opts.from, opts.to)?;
    Ok(PriceSeries {
        candles,
        period_seconds,
        symbol,
        format,
    })
}

/// Keeps the candles with `from <= ts <= to`; an error if none is left.
fn select(
    candles: Vec<Candle>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<Candle>, PriceError> {
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(PriceError::BoundsReversed {
                from: format_ts(f),
                to: format_ts(t),
            });
        }
    }
    let first = candles.first().map(|c| c.ts).unwrap_or_default();
    let last = candles.last().map(|c| c.ts).unwrap_or_default();
    let kept: Vec<Candle> = candles
        .into_iter()
        .filter(|c| from.is_none_or(|f| c.ts >= f) && to.is_none_or(|t| c.ts <= t))
        .collect();
    if kept.is_empty() {
        return Err(PriceError::EmptySelection {
            from: from.map_or_else(|| "the start".to_string(), format_ts),
            to: to.map_or_else(|| "the end".to_string(), format_ts),
            first: format_ts(first),
            last: format_ts(last),
        });
    }
    Ok(kept)
}

#[derive(Debug, Clone, Copy)]
enum TsKind {
    /// `YYYY-MM-DD HH:MM:SS`, UTC.
    Text,
    /// Integer milliseconds (microseconds above 10^14) since the epoch.
    Epoch,
}

#[derive(Debug)]
struct Layout {
    fields: usize,
    ts: usize,
    ts_kind: TsKind,
    symbol: Option<usize>,
    open: usize,
    high: usize,
    low: usize,
    close: usize,
    volume: usize,
}

impl Layout {
    fn binance(fields: usize) -> Self {
        Layout {
            fields,
            ts: 0,
            ts_kind: TsKind::Epoch,
            symbol: None,
            open: 1,
            high: 2,
            low: 3,
            close: 4,
            volume: 5,
        }
    }

    fn from_header(rec: &csv::StringRecord, line: u64) -> Result<Self, PriceError> {
        let names: Vec<String> = rec
            .iter()
            .map(|f| f.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
            .collect();
        let find = |name: &str| -> Result<Option<usize>, PriceError> {
            let mut at = names.iter().enumerate().filter(|(_, n)| *n == name);
            match (at.next(), at.next()) {
                (Some((i, _)), None) => Ok(Some(i)),
                (None, _) => Ok(None),
                (Some(_), Some(_)) => Err(PriceError::Header {
                    line,
                    problem: format!("column `{name}` appears twice"),
                }),
            }
        };
        let need = |name: &str| -> Result<usize, PriceError> {
            find(name)?.ok_or_else(|| PriceError::Header {
                line,
                problem: format!(
                    "no `{name}` column (expected timestamp,open,high,low,close,volume; found {})",
                    names.join(",")
                ),
            })
        };
        let (ts, ts_kind) = match (find("timestamp")?, find("open_time")?) {
            (Some(i), _) => (i, TsKind::Text),
            (None, Some(i)) => (i, TsKind::Epoch),
            (None, None) => (need("timestamp")?, TsKind::Text),
        };
        Ok(Layout {
            fields: names.len(),
            ts,
            ts_kind,
            symbol: find("symbol")?,
            open: need("open")?,
            high: need("high")?,
            low: need("low")?,
            close: need("close")?,
            volume: need("volume")?,
        })
    }
}

/// 1-based line numbers from byte offsets. The `csv` crate's own
/// [`csv::Position`] puts a record after a blank line at the start of the
/// blank line (byte and line both), so the line is computed here from the
/// text: blank lines are skipped to the record's first byte, and `\n`,
/// `\r\n` and a lone `\r` each end a line.
struct LineIndex<'a> {
    data: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(data: &'a [u8]) -> Self {
        let mut starts = vec![0];
        for (i, &b) in data.iter().enumerate() {
            if b == b'\n' || (b == b'\r' && data.get(i + 1) != Some(&b'\n')) {
                starts.push(i + 1);
            }
        }
        LineIndex { data, starts }
    }

    /// The line of the first non-blank byte at or after `byte`.
    fn line(&self, pos: Option<&csv::Position>) -> u64 {
        let Some(pos) = pos else { return 0 };
        let mut i = usize::try_from(pos.byte())
            .unwrap_or(usize::MAX)
            .min(self.data.len());
        while i < self.data.len() && matches!(self.data[i], b'\n' | b'\r') {
            i += 1;
        }
        self.starts.partition_point(|&s| s <= i) as u64
    }

    fn csv_error(&self, e: csv::Error) -> PriceError {
        PriceError::Csv {
            line: self.line(e.position()),
            source: e,
        }
    }
}

fn is_epoch_integer(s: &str) -> bool {
    let s = s.trim();
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn parse_text_ts(value: &str, line: u64) -> Result<i64, PriceError> {
    NaiveDateTime::parse_from_str(
        value.trim_start_matches('\u{feff}').trim(),
        "%Y-%m-%d %H:%M:%S",
    )
    .map(|dt| dt.and_utc().timestamp())
    .map_err(|e| PriceError::Timestamp {
        line,
        value: value.to_string(),
        reason: format!("expected YYYY-MM-DD HH:MM:SS (UTC): {e}"),
    })
}

/// Binance open times: milliseconds, or microseconds above 10^14.
fn parse_epoch_ts(value: &str, line: u64) -> Result<i64, PriceError> {
    let bad = |reason: &str| PriceError::Timestamp {
        line,
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let v = value.trim_start_matches('\u{feff}').trim();
    if !is_epoch_integer(v) {
        return Err(bad("expected an integer open time in ms (or µs)"));
    }
    let n: i64 = v.parse().map_err(|_| bad("integer out of range"))?;
    // 10^11 ms is 1973-03-03: anything smaller is seconds, not milliseconds.
    if n < 100_000_000_000 {
        return Err(bad(
            "too small for an open time in milliseconds (before 1973): seconds?",
        ));
    }
    let per_second = if n > 100_000_000_000_000 {
        1_000_000
    } else {
        1_000
    };
    if n % per_second != 0 {
        return Err(bad("open time is not a whole second"));
    }
    Ok(n / per_second)
}

fn parse_number(value: &str, field: &'static str, line: u64) -> Result<f64, PriceError> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(PriceError::Number {
            line,
            field,
            value: value.to_string(),
        }),
    }
}

fn parse_price(value: &str, field: &'static str, line: u64) -> Result<f64, PriceError> {
    let v = parse_number(value, field, line)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err(PriceError::NonPositivePrice {
            line,
            field,
            value: v,
        })
    }
}

fn parse_candle(rec: &csv::StringRecord, l: &Layout, line: u64) -> Result<Candle, PriceError> {
    let ts_field = &rec[l.ts];
    let ts = match l.ts_kind {
        TsKind::Text => parse_text_ts(ts_field, line)?,
        TsKind::Epoch => parse_epoch_ts(ts_field, line)?,
    };
    let volume = parse_number(&rec[l.volume], "volume", line)?;
    if volume < 0.0 {
        return Err(PriceError::NegativeVolume {
            line,
            value: volume,
        });
    }
    Ok(Candle {
        ts,
        open: parse_price(&rec[l.open], "open", line)?,
        high: parse_price(&rec[l.high], "high", line)?,
        low: parse_price(&rec[l.low], "low", line)?,
        close: parse_price(&rec[l.close], "close", line)?,
        volume,
    })
}

type ReadAll = (Vec<Candle>, FileFormat, Option<String>);

fn read_all<R: Read>(mut reader: R, want: Option<&str>) -> Result<ReadAll, PriceError> {
    let mut data = Vec::new();
    reader
        .read_to_end(&mut data)
        .map_err(|source| PriceError::Read { source })?;
    let lines = LineIndex::new(&data);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data.as_slice());
    let mut records = rdr.records();
    let first = match records.next() {
        None => return Err(PriceError::EmptyFile),
        Some(r) => r.map_err(|e| lines.csv_error(e))?,
    };
    let first_line = lines.line(first.position());
    let first_field = first.get(0).unwrap_or("").trim_start_matches('\u{feff}');

    let (layout, format, pending) = if is_epoch_integer(first_field) {
        if first.len() < 6 {
            return Err(PriceError::FieldCount {
                line: first_line,
                expected: 6,
                found: first.len(),
            });
        }
        (
            Layout::binance(first.len()),
            FileFormat::BinanceKlines,
            Some(first),
        )
    } else {
        (
            Layout::from_header(&first, first_line)?,
            FileFormat::Header,
            None,
        )
    };
    if let (Some(symbol), None) = (want, layout.symbol) {
        return Err(PriceError::NoSymbolColumn {
            symbol: symbol.to_string(),
        });
    }

    let mut candles: Vec<Candle> = Vec::new();
    let mut prev_line = 0u64;
    // Symbol of the rows kept so far (with a symbol column), and every symbol
    // seen (to name them in an error).
    let mut kept_symbol: Option<String> = want.map(str::to_string);
    let mut symbols: BTreeSet<String> = BTreeSet::new();
    let mut several = false;

    let rest = records.map(|r| r.map_err(|e| lines.csv_error(e)));
    for rec in pending.into_iter().map(Ok).chain(rest) {
        let rec = rec?;
        let line = lines.line(rec.position());
        if rec.len() != layout.fields {
            return Err(PriceError::FieldCount {
                line,
                expected: layout.fields,
                found: rec.len(),
            });
        }
        if let Some(si) = layout.symbol {
            let sym = rec[si].trim();
            if !symbols.contains(sym) {
                symbols.insert(sym.to_string());
            }
            match &kept_symbol {
                None => kept_symbol = Some(sym.to_string()),
                Some(k) if k == sym => {}
                Some(_) => {
                    if want.is_none() {
                        // Keep scanning only to name every symbol.
                        several = true;
                    }
                    continue;
                }
            }
            if several {
                continue;
            }
        }
        let candle = parse_candle(&rec, &layout, line)?;
        if let Some(prev) = candles.last() {
            if candle.ts <= prev.ts {
                return Err(PriceError::NotIncreasing {
                    line,
                    ts: format_ts(candle.ts),
                    prev_line,
                    prev_ts: format_ts(prev.ts),
                });
            }
        }
        prev_line = line;
        candles.push(candle);
    }

    if several {
        return Err(PriceError::SeveralSymbols {
            symbols: symbols.into_iter().collect(),
        });
    }
    if let Some(symbol) = want {
        if candles.is_empty() {
            return Err(PriceError::UnknownSymbol {
                symbol: symbol.to_string(),
                available: symbols.into_iter().collect(),
            });
        }
    }
    if candles.is_empty() {
        return Err(PriceError::EmptyFile);
    }
    let symbol = layout.symbol.and(kept_symbol);
    Ok((candles, format, symbol))
}

#[cfg(test)]
mod tests {
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
        let e = read("timestamp,open,high,low,close,volume\n2024-01-01 00:00:00,1,1,1,1,1\n")
            .unwrap_err();
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
}
