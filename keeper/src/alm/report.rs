//! A market's ALM report: one [`AlmReport`] per reserve and the market's
//! total (ladders, values and scenario outcomes summed in USD; durations
//! PV-weighted across reserves, each reserve on its own curve), and its
//! text table.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;
use solana_address::Address;

use super::analysis::{analyse, AlmReport, Ladder, SideDurations};
use super::chain::books_from_snapshot;
use super::irrbb::{Calibration, Scenario};
use crate::snapshot::Snapshot;

/// One scenario summed over the market.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TotalScenario {
    /// Its name.
    pub name: &'static str,
    /// ΔEVE, USD.
    pub delta_eve: f64,
    /// ΔNII over the horizon, USD.
    pub delta_nii: f64,
    /// ΔEVE / capital, percent.
    pub delta_eve_pct: Option<f64>,
    /// ΔNII / capital, percent.
    pub delta_nii_pct: Option<f64>,
}

/// The market's totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Totals {
    /// Ladders summed, USD.
    pub ladder: Ladder,
    /// Assets (PV-weighted durations across reserves).
    pub assets: SideDurations,
    /// Liabilities likewise.
    pub liabilities: SideDurations,
    /// `D_A - (L/A) D_L` of the totals, years.
    pub duration_gap: f64,
    /// EVE, USD.
    pub eve: f64,
    /// EVE plus outside capital, USD.
    pub capital: f64,
    /// NII over the horizon at current rates, USD.
    pub base_nii: f64,
    /// The six scenarios.
    pub scenarios: Vec<TotalScenario>,
}

/// What `ballast-keeper alm` prints.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MarketAlm {
    /// The market.
    pub market: String,
    /// Unix time of the state, seconds.
    pub unix_time: i64,
    /// The calibration.
    pub calibration: Calibration,
    /// NII horizon, days.
    pub horizon_days: f64,
    /// Per reserve.
    pub reserves: Vec<AlmReport>,
    /// Reserves left out, with why (an oracle failing the checks).
    pub skipped: Vec<String>,
    /// The market's totals.
    pub total: Totals,
}

fn weighted(parts: &[SideDurations]) -> SideDurations {
    let pv: f64 = parts.iter().map(|p| p.pv).sum();
    if pv <= 0.0 {
        return SideDurations::default();
    }
    let w = |f: fn(&SideDurations) -> f64| parts.iter().map(|p| f(p) * p.pv).sum::<f64>() / pv;
    SideDurations {
        pv,
        macaulay: w(|p| p.macaulay),
        modified: w(|p| p.modified),
        convexity: w(|p| p.convexity),
    }
}

/// The totals of per-reserve reports.
pub fn totals(reports: &[AlmReport]) -> Totals {
    let ladder = reports
        .iter()
        .fold(Ladder::empty(), |l, r| l.add(&r.ladder));
    let assets = weighted(
        &reports
            .iter()
            .map(|r| r.durations.assets)
            .collect::<Vec<_>>(),
    );
    let liabilities = weighted(
        &reports
            .iter()
            .map(|r| r.durations.liabilities)
            .collect::<Vec<_>>(),
    );
    let duration_gap = if assets.pv > 0.0 {
        assets.modified - liabilities.pv / assets.pv * liabilities.modified
    } else {
        0.0
    };
    let eve: f64 = reports.iter().map(|r| r.eve).sum();
    let capital: f64 = reports.iter().map(|r| r.capital).sum();
    let pct = |v: f64| (capital > 0.0).then(|| v / capital * 100.0);
    let scenarios = Scenario::ALL
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let de: f64 = reports.iter().map(|r| r.scenarios[k].delta_eve).sum();
            let dn: f64 = reports.iter().map(|r| r.scenarios[k].delta_nii).sum();
            TotalScenario {
                name: s.name(),
                delta_eve: de,
                delta_nii: dn,
                delta_eve_pct: pct(de),
                delta_nii_pct: pct(dn),
            }
        })
        .collect();
    Totals {
        ladder,
        assets,
        liabilities,
        duration_gap,
        eve,
        capital,
        base_nii: reports.iter().map(|r| r.base_nii).sum(),
        scenarios,
    }
}

/// The ALM report of the market in `snap` (insurance vault balances by
/// address in `insurance`, when known).
pub fn market_alm(
    snap: &Snapshot,
    insurance: &HashMap<Address, u64>,
    cal: &Calibration,
    horizon_days: f64,
) -> Result<MarketAlm> {
    anyhow::ensure!(
        horizon_days.is_finite() && horizon_days > 0.0,
        "the NII horizon must be a positive number of days (got {horizon_days})"
    );
    let (books, skipped) = books_from_snapshot(snap, insurance)?;
    let reserves: Vec<AlmReport> = books
        .iter()
        .map(|b| analyse(&b.book, cal, horizon_days))
        .collect();
    Ok(MarketAlm {
        market: snap.market.to_string(),
        unix_time: snap.unix_time,
        calibration: cal.clone(),
        horizon_days,
        total: totals(&reserves),
        reserves,
        skipped,
    })
}

fn usd(v: f64) -> String {
    format!("{v:.2}")
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |p| format!("{p:.2}%"))
}

fn ladder_table(l: &Ladder) -> String {
    let mut out = format!(
        "  {:<10} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15}\n",
        "bucket",
        "assets repr.",
        "liabs repr.",
        "gap",
        "cumul. gap",
        "cash in",
        "can leave",
        "cumul. liq. gap"
    );
    for r in &l.rows {
        out += &format!(
            "  {:<10} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15}\n",
            r.bucket,
            usd(r.assets),
            usd(r.liabilities),
            usd(r.gap),
            usd(r.cumulative_gap),
            usd(r.inflows),
            usd(r.can_leave),
            usd(r.cumulative_liquidity_gap)
        );
    }
    out += &format!(
        "  {:<10} {:>15} {:>15}\n",
        "non-sens.",
        usd(l.non_sensitive_assets),
        usd(l.non_sensitive_liabilities)
    );
    out
}

fn durations_line(a: &SideDurations, l: &SideDurations, gap: f64) -> String {
    let days = |y: f64| y * 365.0;
    format!(
        "  PV assets {} (Macaulay {:.3} d, modified {:.3} d, convexity {:.3e} y^2); \
         PV liabilities {} (Macaulay {:.3} d, modified {:.3} d); duration gap {:.3} d\n",
        usd(a.pv),
        days(a.macaulay),
        days(a.modified),
        a.convexity,
        usd(l.pv),
        days(l.macaulay),
        days(l.modified),
        days(gap)
    )
}

/// The report as text tables (USD; durations in days).
pub fn table(m: &MarketAlm) -> String {
    let c = &m.calibration;
    let mut out = format!(
        "market {} at unix {}; calibration {} (parallel {:.0} bp, short {:.0} bp, long {:.0} bp, \
         x {:.1} d, floor {}, deposit beta {}); NII over {} d, constant balance sheet\n",
        m.market,
        m.unix_time,
        c.name,
        c.parallel * 1e4,
        c.short * 1e4,
        c.long * 1e4,
        c.x_years * 365.0,
        c.floor
            .map_or("none".into(), |f| format!("{:.2}%", f * 100.0)),
        c.deposit_beta
            .map_or("each reserve's U (1 - RF)".into(), |b| format!("{b}")),
        m.horizon_days
    );
    for s in &m.skipped {
        out += &format!("skipped {s}\n");
    }
    for r in &m.reserves {
        out += &format!("\nreserve {}\n", r.label);
        out += &ladder_table(&r.ladder);
        out += &durations_line(
            &r.durations.assets,
            &r.durations.liabilities,
            r.durations.gap,
        );
        out += "  curve   tenor     zero      DF         forward (from previous tenor)\n";
        for p in &r.curve {
            out += &format!(
                "          {:>5} d  {:>7.3}%  {:.7}  {:>7.3}%\n",
                p.tenor_days,
                p.zero * 100.0,
                p.df,
                p.forward * 100.0
            );
        }
        out += &format!(
            "  EVE {} + outside capital {} = capital {}; NII over the horizon {}\n",
            usd(r.eve),
            usd(r.outside_capital),
            usd(r.capital),
            usd(r.base_nii)
        );
        out += &format!(
            "  {:<14} {:>32} {:>16} {:>9} {:>16} {:>9}\n",
            "scenario", "shock at 1/7/30/90 d, bp", "ΔEVE", "% cap", "ΔNII", "% cap"
        );
        for s in &r.scenarios {
            let b = s.shock_bps;
            out += &format!(
                "  {:<14} {:>32} {:>16} {:>9} {:>16} {:>9}\n",
                s.name,
                format!("{:.0} / {:.0} / {:.0} / {:.0}", b[0], b[1], b[2], b[3]),
                usd(s.delta_eve),
                pct(s.delta_eve_pct),
                usd(s.delta_nii),
                pct(s.delta_nii_pct)
            );
        }
    }
    let t = &m.total;
    out += "\nmarket total\n";
    out += &ladder_table(&t.ladder);
    out += &durations_line(&t.assets, &t.liabilities, t.duration_gap);
    out += &format!(
        "  EVE {}; capital {}; NII over the horizon {}\n",
        usd(t.eve),
        usd(t.capital),
        usd(t.base_nii)
    );
    out += &format!(
        "  {:<14} {:>16} {:>9} {:>16} {:>9}\n",
        "scenario", "ΔEVE", "% cap", "ΔNII", "% cap"
    );
    for s in &t.scenarios {
        out += &format!(
            "  {:<14} {:>16} {:>9} {:>16} {:>9}\n",
            s.name,
            usd(s.delta_eve),
            pct(s.delta_eve_pct),
            usd(s.delta_nii),
            pct(s.delta_nii_pct)
        );
    }
    out
}

/// The token amount of an SPL token account's data (bytes 64..72).
fn token_amount(data: &[u8]) -> Option<u64> {
    data.get(64..72)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
}

/// The ALM report of `market` read from `chain` now: a [`Snapshot`] of
/// the market plus each reserve's insurance vault balance (the capital
/// outside the book). What `alm --url` runs.
pub fn market_alm_on_chain(
    chain: &impl crate::chain::Chain,
    market: &Address,
    cal: &Calibration,
    horizon_days: f64,
) -> Result<MarketAlm> {
    let snap = Snapshot::capture(chain, market)?;
    let mut insurance = HashMap::new();
    for (_, r) in &snap.reserves {
        if let Some(a) = chain
            .account_data(&r.insurance_vault)?
            .as_deref()
            .and_then(token_amount)
        {
            insurance.insert(r.insurance_vault, a);
        }
    }
    market_alm(&snap, &insurance, cal, horizon_days)
}
