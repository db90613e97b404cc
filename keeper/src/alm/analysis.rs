//! What `alm` computes from an [`AlmBook`]: the maturity ladder and
//! repricing gap, present values and durations, the zero and forward curve
//! at the ladder's tenors, and delta-EVE and delta-NII under the six IRRBB
//! scenarios.
//!
//! ## Measures and their assumptions
//!
//! * **Ladder** ([`ladder`]): buckets overnight (repricing within 1 day),
//!   `<= 7 d`, `<= 30 d`, `<= 90 d`, beyond; upper bounds inclusive. Per
//!   bucket the book value (USD) of the rate-sensitive assets and
//!   liabilities repricing in it, the liabilities that can leave in it (an
//!   on-demand deposit overnight, a locked one at its maturity), the gap
//!   (assets - liabilities repricing) and the cumulative gap.
//!   Non-sensitive items (cash in the vault) are a separate row. Beside
//!   it the liquidity ladder: per bucket the assets that turn into cash
//!   in it (vault cash and what the treasury strategy could return now,
//!   overnight; term loans at maturity; floating loans have no date), the
//!   liquidity gap (those minus the liabilities that can leave) and its
//!   running sum.
//! * **Durations** ([`durations`]): Macaulay `D = sum(t PV_i) / sum(PV_i)`
//!   over each side's discounted cash flows (non-sensitive items weigh in
//!   at `t = 0`); modified (effective) duration
//!   `(PV(-h) - PV(+h)) / (2 h PV)` with a parallel shift `h` = 1 bp of the
//!   zero curve; under continuous compounding the two agree to `O(h^2)`.
//!   Convexity `sum(t^2 PV_i) / PV`. Duration gap `D_A - (L/A) D_L` with
//!   `A`, `L` the sides' present values (modified durations).
//! * **ΔEVE** ([`scenario`]): economic value of equity `PV(A) - PV(L)` on
//!   the shocked curve minus on the base curve, run-off balance sheet (the
//!   book's cash flows as they are, nothing replaced).
//! * **ΔNII** over a horizon `H` (default 30 days): constant balance
//!   sheet; an item earns (pays) its current rate until its repricing date
//!   `t_r`, then is replaced by a like item at its rate plus the scenario's
//!   shock at `t_r` (floored), until `H`; simple interest,
//!   `ΔNII = sum_A - sum_L amount * (r' - r) * max(H - t_r, 0)`. The
//!   shocks are of the market's rate level; they pass through fully to
//!   assets and fixed liabilities, and to on-demand deposits by the book's
//!   pass-through (a pool's `utilisation * (1 - reserve factor)`: its
//!   depositors are paid what the loans earn, less the protocol's share),
//!   or the calibration's `deposit_beta` when given (1: a bank keeping
//!   deposits that can leave overnight). The program's own
//!   utilisation-driven response of its rates is not modelled.
//! * **% of equity**: divided by the base EVE plus the capital outside
//!   the book (the insurance vault); `None` when that is not positive.

use serde::Serialize;

use super::book::{AlmBook, Repricing, Side};
use super::curve::{ZeroCurve, DAYS_PER_YEAR};
use super::irrbb::{Calibration, Scenario};

/// Upper bounds of the ladder's buckets, days (the last bucket is open).
pub const BUCKET_DAYS: [f64; 4] = [1.0, 7.0, 30.0, 90.0];

/// Names of the ladder's buckets.
pub const BUCKET_NAMES: [&str; 5] = ["overnight", "<= 7 d", "<= 30 d", "<= 90 d", "> 90 d"];

/// Parallel shift for the effective durations, annual fraction (1 bp).
pub const DURATION_BUMP: f64 = 1e-4;

/// The bucket of a date `days` from now.
pub fn bucket_of(days: f64) -> usize {
    BUCKET_DAYS
        .iter()
        .position(|b| days <= *b + 1e-9)
        .unwrap_or(BUCKET_DAYS.len())
}

/// One row of the ladder, USD.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LadderRow {
    /// Bucket name.
    pub bucket: String,
    /// Rate-sensitive assets repricing or maturing in it.
    pub assets: f64,
    /// Rate-sensitive liabilities repricing or maturing in it.
    pub liabilities: f64,
    /// Liabilities that can leave in it.
    pub can_leave: f64,
    /// `assets - liabilities`.
    pub gap: f64,
    /// Running sum of `gap`.
    pub cumulative_gap: f64,
    /// Assets that turn into cash in it (vault cash and what the strategy
    /// can return overnight, term loans at maturity; floating loans never).
    pub inflows: f64,
    /// `inflows - can_leave`.
    pub liquidity_gap: f64,
    /// Running sum of `liquidity_gap`: negative where the deposits that can
    /// leave by then exceed the cash the reserve can have by then.
    pub cumulative_liquidity_gap: f64,
}

/// The ladder (module doc).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ladder {
    /// One row per bucket of [`BUCKET_NAMES`].
    pub rows: Vec<LadderRow>,
    /// Non-sensitive assets (cash), USD.
    pub non_sensitive_assets: f64,
    /// Non-sensitive liabilities, USD.
    pub non_sensitive_liabilities: f64,
}

impl Ladder {
    /// Assets over every row and the non-sensitive ones: the book's assets.
    pub fn total_assets(&self) -> f64 {
        self.rows.iter().map(|r| r.assets).sum::<f64>() + self.non_sensitive_assets
    }

    /// Liabilities likewise.
    pub fn total_liabilities(&self) -> f64 {
        self.rows.iter().map(|r| r.liabilities).sum::<f64>() + self.non_sensitive_liabilities
    }

    /// The sum of two ladders (a market of several reserves).
    pub fn add(&self, o: &Ladder) -> Ladder {
        let mut rows = self.rows.clone();
        let (mut cum, mut cum_l) = (0.0, 0.0);
        for (r, b) in rows.iter_mut().zip(&o.rows) {
            r.assets += b.assets;
            r.liabilities += b.liabilities;
            r.can_leave += b.can_leave;
            r.gap += b.gap;
            cum += r.gap;
            r.cumulative_gap = cum;
            r.inflows += b.inflows;
            r.liquidity_gap += b.liquidity_gap;
            cum_l += r.liquidity_gap;
            r.cumulative_liquidity_gap = cum_l;
        }
        Ladder {
            rows,
            non_sensitive_assets: self.non_sensitive_assets + o.non_sensitive_assets,
            non_sensitive_liabilities: self.non_sensitive_liabilities + o.non_sensitive_liabilities,
        }
    }

    /// An empty ladder.
    pub fn empty() -> Ladder {
        Ladder {
            rows: BUCKET_NAMES
                .iter()
                .map(|n| LadderRow {
                    bucket: n.to_string(),
                    ..Default::default()
                })
                .collect(),
            non_sensitive_assets: 0.0,
            non_sensitive_liabilities: 0.0,
        }
    }
}

/// The maturity ladder and repricing gap of `book`.
pub fn ladder(book: &AlmBook) -> Ladder {
    let mut l = Ladder::empty();
    for i in &book.items {
        match (i.repricing_days(), i.side) {
            (None, Side::Asset) => l.non_sensitive_assets += i.amount_usd,
            (None, Side::Liability) => l.non_sensitive_liabilities += i.amount_usd,
            (Some(d), Side::Asset) => l.rows[bucket_of(d)].assets += i.amount_usd,
            (Some(d), Side::Liability) => l.rows[bucket_of(d)].liabilities += i.amount_usd,
        }
        match i.side {
            Side::Liability => l.rows[bucket_of(i.outflow_days())].can_leave += i.amount_usd,
            Side::Asset => {
                if let Some(d) = i.inflow_days() {
                    l.rows[bucket_of(d)].inflows += i.amount_usd;
                }
            }
        }
    }
    let (mut cum, mut cum_l) = (0.0, 0.0);
    for r in &mut l.rows {
        r.gap = r.assets - r.liabilities;
        cum += r.gap;
        r.cumulative_gap = cum;
        r.liquidity_gap = r.inflows - r.can_leave;
        cum_l += r.liquidity_gap;
        r.cumulative_liquidity_gap = cum_l;
    }
    l
}

/// Present value of one side on `curve`, USD.
pub fn pv(book: &AlmBook, side: Side, curve: &ZeroCurve) -> f64 {
    book.side(side).map(|i| i.pv(curve)).sum()
}

/// Durations of one side, years.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct SideDurations {
    /// Present value, USD.
    pub pv: f64,
    /// Macaulay duration, years.
    pub macaulay: f64,
    /// Modified (effective, 1 bp parallel) duration, years.
    pub modified: f64,
    /// Convexity, years^2.
    pub convexity: f64,
}

/// Durations of both sides and the gap.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Durations {
    /// Assets.
    pub assets: SideDurations,
    /// Liabilities.
    pub liabilities: SideDurations,
    /// `D_A - (L/A) D_L` (modified durations, PVs), years.
    pub gap: f64,
}

/// [`SideDurations`] of one side of `book` on its curve (zeros when the
/// side is empty).
pub fn side_durations(book: &AlmBook, side: Side) -> SideDurations {
    let curve = &book.curve;
    let pv0 = pv(book, side, curve);
    if pv0 <= 0.0 {
        return SideDurations::default();
    }
    let (mut t1, mut t2) = (0.0, 0.0);
    for i in book.side(side) {
        for (t, c) in i.cash_flows() {
            let v = c * curve.df(t);
            t1 += t * v;
            t2 += t * t * v;
        }
    }
    let days = book.flow_days();
    let up = pv(book, side, &curve.shifted(|_| DURATION_BUMP, None, &days));
    let down = pv(book, side, &curve.shifted(|_| -DURATION_BUMP, None, &days));
    SideDurations {
        pv: pv0,
        macaulay: t1 / pv0,
        modified: (down - up) / (2.0 * DURATION_BUMP * pv0),
        convexity: t2 / pv0,
    }
}

/// [`Durations`] of `book`.
pub fn durations(book: &AlmBook) -> Durations {
    let a = side_durations(book, Side::Asset);
    let l = side_durations(book, Side::Liability);
    let gap = if a.pv > 0.0 {
        a.modified - l.pv / a.pv * l.modified
    } else {
        0.0
    };
    Durations {
        assets: a,
        liabilities: l,
        gap,
    }
}

/// One point of the curve table.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Tenor, days.
    pub tenor_days: f64,
    /// Continuous zero rate, annual fraction.
    pub zero: f64,
    /// Discount factor.
    pub df: f64,
    /// Forward rate from the previous tenor (from 0 for the first).
    pub forward: f64,
}

/// The curve at the ladder's bucket bounds and the book's own knots.
pub fn curve_points(curve: &ZeroCurve) -> Vec<CurvePoint> {
    let mut days: Vec<f64> = BUCKET_DAYS.to_vec();
    days.extend(curve.knots.iter().map(|k| k.tenor_days));
    days.sort_by(|a, b| a.total_cmp(b));
    days.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    let mut prev = 0.0;
    days.into_iter()
        .map(|d| {
            let t = d / DAYS_PER_YEAR;
            let p = CurvePoint {
                tenor_days: d,
                zero: curve.zero(t),
                df: curve.df(t),
                forward: curve.forward(prev, t),
            };
            prev = t;
            p
        })
        .collect()
}

/// One scenario's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ScenarioResult {
    /// The scenario.
    pub scenario: Scenario,
    /// Its name.
    pub name: &'static str,
    /// The shock at 1, 7, 30 and 90 days, bp.
    pub shock_bps: [f64; 4],
    /// Change of the economic value of equity, USD.
    pub delta_eve: f64,
    /// Change of net interest income over the horizon, USD.
    pub delta_nii: f64,
    /// `delta_eve` / capital, percent.
    pub delta_eve_pct: Option<f64>,
    /// `delta_nii` / capital, percent.
    pub delta_nii_pct: Option<f64>,
}

/// Net interest income of `book` over `horizon_days` at current rates,
/// USD (simple interest; assets earn, liabilities pay).
pub fn base_nii(book: &AlmBook, horizon_days: f64) -> f64 {
    let h = horizon_days / DAYS_PER_YEAR;
    book.items
        .iter()
        .map(|i| {
            let s = if i.side == Side::Asset { 1.0 } else { -1.0 };
            s * i.amount_usd * i.rate * h
        })
        .sum()
}

/// ΔEVE and ΔNII of `book` under `scenario` (module doc). `capital` is
/// the denominator of the percentages.
pub fn scenario(
    book: &AlmBook,
    cal: &Calibration,
    scenario: Scenario,
    horizon_days: f64,
    capital: f64,
) -> ScenarioResult {
    let base = &book.curve;
    let shock = |t: f64| cal.shock(scenario, t);
    let shocked = floored_shift(base, cal, scenario, &book.flow_days());
    let eve = |c: &ZeroCurve| pv(book, Side::Asset, c) - pv(book, Side::Liability, c);
    let delta_eve = eve(&shocked) - eve(base);
    let h = horizon_days / DAYS_PER_YEAR;
    let mut delta_nii = 0.0;
    for i in &book.items {
        let Some(d) = i.repricing_days() else {
            continue;
        };
        let tr = d / DAYS_PER_YEAR;
        let after = (h - tr).max(0.0);
        let beta = match (i.side, i.can_run, i.repricing) {
            (Side::Liability, true, Repricing::Floating) => {
                cal.deposit_beta.unwrap_or(book.deposit_beta)
            }
            _ => 1.0,
        };
        let r2 = cal.floored(i.rate, beta * shock(tr));
        let s = if i.side == Side::Asset { 1.0 } else { -1.0 };
        delta_nii += s * i.amount_usd * (r2 - i.rate) * after;
    }
    let pct = |v: f64| (capital > 0.0).then(|| v / capital * 100.0);
    ScenarioResult {
        scenario,
        name: scenario.name(),
        shock_bps: BUCKET_DAYS.map(|d| shock(d / DAYS_PER_YEAR) * 1e4),
        delta_eve,
        delta_nii,
        delta_eve_pct: pct(delta_eve),
        delta_nii_pct: pct(delta_nii),
    }
}

/// `base` shocked by `scenario` with the calibration's floor, sampled at
/// its knots, the ladder's bounds and `flow_days`.
pub fn floored_shift(
    base: &ZeroCurve,
    cal: &Calibration,
    scenario: Scenario,
    flow_days: &[f64],
) -> ZeroCurve {
    let mut days = flow_days.to_vec();
    days.extend(BUCKET_DAYS);
    let mut c = base.shifted(|t| cal.shock(scenario, t), None, &days);
    // Floor each knot against the base rate there (a rate already below
    // the floor is not raised).
    for k in &mut c.knots {
        let t = k.tenor_days / DAYS_PER_YEAR;
        let r = base.zero(t);
        k.zero = cal.floored(r, k.zero - r);
    }
    c
}

/// Everything `alm` reports on one book.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlmReport {
    /// The book's label.
    pub label: String,
    /// Ladder and gap.
    pub ladder: Ladder,
    /// Durations.
    pub durations: Durations,
    /// Economic value of equity on the base curve, USD.
    pub eve: f64,
    /// Capital outside the book, USD.
    pub outside_capital: f64,
    /// The percentages' denominator: `eve + outside_capital`, USD.
    pub capital: f64,
    /// NII over the horizon at current rates, USD.
    pub base_nii: f64,
    /// The curve at the ladder's tenors.
    pub curve: Vec<CurvePoint>,
    /// The six scenarios.
    pub scenarios: Vec<ScenarioResult>,
}

/// Analyses `book` under `cal` with NII over `horizon_days`.
pub fn analyse(book: &AlmBook, cal: &Calibration, horizon_days: f64) -> AlmReport {
    let durations = durations(book);
    let eve = durations.assets.pv - durations.liabilities.pv;
    let capital = eve + book.outside_capital_usd;
    AlmReport {
        label: book.label.clone(),
        ladder: ladder(book),
        durations,
        eve,
        outside_capital: book.outside_capital_usd,
        capital,
        base_nii: base_nii(book, horizon_days),
        curve: curve_points(&book.curve),
        scenarios: Scenario::ALL
            .iter()
            .map(|s| scenario(book, cal, *s, horizon_days, capital))
            .collect(),
    }
}
