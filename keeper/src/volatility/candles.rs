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
mod tests;
