//! The six IRRBB interest rate shock scenarios of BCBS 368 (*Interest rate
//! risk in the banking book*, April 2016, Annex 2) and their calibrations.
//!
//! ## Shapes (BCBS 368, Annex 2, "Step 3")
//!
//! With `t` the tenor in years and `x` the decay horizon:
//!
//! * parallel: `ΔR(t) = ±R_parallel`;
//! * short rates: `ΔR_short(t) = ±R_short * exp(-t / x)`;
//! * long rates: `ΔR_long(t) = ±R_long * (1 - exp(-t / x))`;
//! * steepener: `-0.65 |ΔR_short(t)| + 0.9 |ΔR_long(t)|`;
//! * flattener: `+0.8 |ΔR_short(t)| - 0.6 |ΔR_long(t)|`.
//!
//! Post-shock rates are floored: `r' = max(r + ΔR, min(r, floor))` (a rate
//! already below the floor is not raised). Both calibrations here use a
//! zero floor: a utilisation-kinked borrow rate cannot be negative.
//!
//! ## Calibrations
//!
//! * [`Calibration::bcbs`]: BCBS 368 Table 1 for USD, `R_parallel` 200 bp,
//!   `R_short` 300 bp, `R_long` 150 bp, `x` = 4 years. On a book whose
//!   longest tenor is 90 days the long-rate shock is nearly nil
//!   (`1 - exp(-0.25/4)` = 6%), so the steepener is almost a short-down.
//! * [`Calibration::crypto`] (the default): the magnitudes times 3 (600 /
//!   900 / 450 bp) and `x` = 30 days. Why: BCBS's magnitudes are the 99.9th
//!   percentile of six-month changes of fiat rates (2000-2015).
//!   Stablecoin borrow rates on pool lenders follow utilisation through
//!   kinked curves, so they move by the curve's slopes rather than by
//!   central-bank steps: on the stablecoin curve of
//!   `migrations/replay-sol-usdc.toml` (Aave v3's: 4% at 90% utilisation,
//!   +60% above) a utilisation move from 90% to 95% alone adds 300 bp, and
//!   such moves happen within hours when deposits leave. A factor of 3 on
//!   the fiat magnitudes is a judgement, not a measured ratio (README,
//!   "Duration risk: `alm`": to be revisited with a measured history of
//!   stablecoin borrow rates). The decay horizon is scaled to the book's
//!   tenors (7-90 days) so that the short shock differs between them
//!   (`exp(-7/30)` = 0.79, `exp(-30/30)` = 0.37, `exp(-90/30)` = 0.05) and
//!   the long shock is near full at 90 days: with BCBS's 4 years every
//!   tenor of the book would get the same short shock and the six scenarios
//!   would collapse into two.

use serde::Serialize;

use super::curve::DAYS_PER_YEAR;

/// Shock magnitudes and shape parameters.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Calibration {
    /// Name (`crypto` or `bcbs`).
    pub name: String,
    /// `R_parallel`, annual fraction.
    pub parallel: f64,
    /// `R_short`, annual fraction.
    pub short: f64,
    /// `R_long`, annual fraction.
    pub long: f64,
    /// Decay horizon `x`, years.
    pub x_years: f64,
    /// Floor on post-shock rates (annual fraction), `None` for none.
    pub floor: Option<f64>,
    /// Pass-through of a shock to the rate of on-demand deposits (the
    /// "deposit beta" of non-maturity deposits), in [0, 1], overriding the
    /// book's own ([`super::AlmBook::deposit_beta`]: the pool's
    /// `utilisation * (1 - reserve factor)`) when given: 1 keeps the
    /// deposits by paying the market's move in full, as a bank must when
    /// every deposit can leave overnight. Applies to ΔNII (a floating
    /// deposit's value over one day does not depend on it).
    pub deposit_beta: Option<f64>,
}

impl Calibration {
    /// BCBS 368 Table 1, USD, with a zero floor.
    pub fn bcbs() -> Self {
        Self {
            name: "bcbs".into(),
            parallel: 0.02,
            short: 0.03,
            long: 0.015,
            x_years: 4.0,
            floor: Some(0.0),
            deposit_beta: None,
        }
    }

    /// The crypto calibration (module doc): BCBS USD x 3, `x` = 30 days,
    /// zero floor.
    pub fn crypto() -> Self {
        Self {
            name: "crypto".into(),
            parallel: 0.06,
            short: 0.09,
            long: 0.045,
            x_years: 30.0 / DAYS_PER_YEAR,
            floor: Some(0.0),
            deposit_beta: None,
        }
    }

    /// `ΔR_short(t)` for an up shock, `t` years.
    pub fn short_shock(&self, t: f64) -> f64 {
        self.short * (-t / self.x_years).exp()
    }

    /// `ΔR_long(t)` for an up shock, `t` years.
    pub fn long_shock(&self, t: f64) -> f64 {
        self.long * (1.0 - (-t / self.x_years).exp())
    }

    /// The shock of `scenario` at tenor `t` years, annual fraction (before
    /// the floor).
    pub fn shock(&self, scenario: Scenario, t: f64) -> f64 {
        let (s, l) = (self.short_shock(t).abs(), self.long_shock(t).abs());
        match scenario {
            Scenario::ParallelUp => self.parallel,
            Scenario::ParallelDown => -self.parallel,
            Scenario::Steepener => -0.65 * s + 0.9 * l,
            Scenario::Flattener => 0.8 * s - 0.6 * l,
            Scenario::ShortUp => s,
            Scenario::ShortDown => -s,
        }
    }

    /// `r` after a shock of `delta`, floored (module doc).
    pub fn floored(&self, r: f64, delta: f64) -> f64 {
        match self.floor {
            Some(f) => (r + delta).max(r.min(f)),
            None => r + delta,
        }
    }
}

/// The six scenarios, in BCBS 368's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// (i) parallel shock up.
    ParallelUp,
    /// (ii) parallel shock down.
    ParallelDown,
    /// (iii) steepener (short rates down, long rates up).
    Steepener,
    /// (iv) flattener (short rates up, long rates down).
    Flattener,
    /// (v) short rates up.
    ShortUp,
    /// (vi) short rates down.
    ShortDown,
}

impl Scenario {
    /// All six.
    pub const ALL: [Scenario; 6] = [
        Scenario::ParallelUp,
        Scenario::ParallelDown,
        Scenario::Steepener,
        Scenario::Flattener,
        Scenario::ShortUp,
        Scenario::ShortDown,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::ParallelUp => "parallel up",
            Scenario::ParallelDown => "parallel down",
            Scenario::Steepener => "steepener",
            Scenario::Flattener => "flattener",
            Scenario::ShortUp => "short up",
            Scenario::ShortDown => "short down",
        }
    }
}
