//! Duration risk (issue 19, keeper side): `ballast-keeper alm`, the
//! maturity ladder, the repricing gap, durations, zero and forward rates,
//! and delta-EVE / delta-NII under the six IRRBB shock scenarios of
//! BCBS 368.
//!
//! The math takes an [`AlmBook`] (items with a side, an amount in USD, a
//! repricing rule and a can-run flag, plus a zero curve), so it does not
//! depend on the program's account layout; [`chain`] builds books from a
//! market snapshot (a cluster, the embedded chain, or a snapshot file).
//!
//! * [`curve`]: continuous zero rates, interpolation in `r t`, discount
//!   factors, forward rates;
//! * [`book`]: the book;
//! * [`irrbb`]: the six scenarios and the calibrations;
//! * [`analysis`]: ladder, durations, ΔEVE, ΔNII ([`analysis::analyse`]);
//! * [`chain`]: adapters from chain state;
//! * [`report`]: a market's report (per reserve and total), its table;
//! * `chart` (feature `embedded`, which brings plotters): the ladder's PNG;
//! * `synthetic` (feature `embedded`): the replay's seeded population as a
//!   book (`alm --url embedded --population N`).

pub mod analysis;
pub mod book;
pub mod chain;
#[cfg(feature = "embedded")]
pub mod chart;
pub mod curve;
pub mod irrbb;
pub mod report;
#[cfg(feature = "embedded")]
pub mod synthetic;
#[cfg(test)]
mod tests;

pub use analysis::{analyse, AlmReport};
pub use book::{AlmBook, AlmItem, Repricing, Side};
pub use curve::ZeroCurve;
pub use irrbb::{Calibration, Scenario};
pub use report::{market_alm, market_alm_on_chain, MarketAlm};
