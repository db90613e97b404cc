//! Adapters building [`AlmBook`]s from chain state: a market
//! [`Snapshot`] (captured from a cluster or the embedded chain, or read
//! from a file), one book per reserve.
//!
//! ## Ballast's book today
//!
//! On `main` every loan is floating and every deposit on demand, so the
//! whole book reprices overnight and every liability can leave overnight:
//!
//! * assets: loans (`borrowed`, floating at the reserve's borrow rate),
//!   deposits in the treasury strategy (`deployed`, floating at the
//!   strategy reserve's supply rate), cash in the vault (`liquid`,
//!   non-sensitive: it earns nothing);
//! * liabilities: depositors' claims (`liabilities`, floating at the
//!   supply rate `borrow rate * utilisation * (1 - reserve factor)`, can
//!   run overnight);
//! * equity: the protocol's fees (`assets - liabilities`), plus the
//!   insurance vault outside the book when its balance is given.
//!
//! Amounts are the engine's `balance_sheet` at the snapshot's time,
//! converted to USD at the oracle's spot price; a reserve whose oracle
//! fails the program's checks is skipped (and named). The discount curve
//! is flat at the reserve's floating borrow rate (the overnight point):
//! there are no term rates to put knots at yet.
//!
//! ## The seam for term positions
//!
//! [`term_items`] and [`reserve_curve`] are where fixed-rate term loans
//! (`PositionKind::TermDebt`: face, maturity, rate) and the reserve's
//! term-rate curve enter once the program has them: each term loan becomes
//! an [`AlmItem`] with [`Repricing::Fixed`] and each quoted tenor a knot.

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use ballast::engine::balance_sheet::{balance_sheet, BalanceSheet};
use ballast::state::{Obligation, Reserve};
use solana_address::Address;

use super::book::{AlmBook, AlmItem, Repricing, Side};
use super::curve::ZeroCurve;
use crate::snapshot::Snapshot;

/// A reserve's book and what it was built from.
#[derive(Clone, Debug)]
pub struct ReserveBook {
    /// The reserve.
    pub reserve: Address,
    /// The engine's balance sheet at the snapshot's time, base units.
    pub sheet: BalanceSheet,
    /// USD per base unit.
    pub usd_per_unit: f64,
    /// The book.
    pub book: AlmBook,
}

/// The floating borrow rate of `r` (continuous, annual fraction).
pub fn borrow_rate(r: &Reserve) -> Result<f64> {
    Ok(r.borrow_rate().map_err(|e| anyhow!("{e}"))?.to_num::<f64>())
}

/// The supply rate of `r`: `borrow rate * utilisation * (1 - reserve
/// factor)`, annual fraction.
pub fn supply_rate(r: &Reserve) -> Result<f64> {
    let u = r.utilization().map_err(|e| anyhow!("{e}"))?.to_num::<f64>();
    Ok(borrow_rate(r)? * u * (1.0 - r.config.reserve_factor_bps as f64 / 1e4))
}

/// The reserve's discount curve: today flat at its floating borrow rate
/// (module doc, "The seam for term positions").
pub fn reserve_curve(r: &Reserve) -> Result<ZeroCurve> {
    Ok(ZeroCurve::flat(borrow_rate(r)?))
}

/// The term items of reserve `key` held by `obligations`: none on a
/// program without term positions (module doc).
pub fn term_items(
    _key: &Address,
    _r: &Reserve,
    _obligations: &[(Address, Obligation)],
    _usd_per_unit: f64,
    _now: i64,
) -> Vec<AlmItem> {
    vec![]
}

/// One book per reserve of `snap` whose oracle passes the program's checks
/// now, and the reserves skipped with why. `insurance` gives insurance
/// vault balances (base units) by vault address, when known.
pub fn books_from_snapshot(
    snap: &Snapshot,
    insurance: &HashMap<Address, u64>,
) -> Result<(Vec<ReserveBook>, Vec<String>)> {
    let ms = snap.market_snapshot();
    let now = snap.unix_time;
    let mut books = vec![];
    let mut skipped = vec![];
    for (key, r) in &snap.reserves {
        let price = match ms.price(key) {
            Some(Ok(p)) => p.price as f64 * 10f64.powi(p.exponent),
            Some(Err(why)) => {
                skipped.push(format!("{key}: {why}"));
                continue;
            }
            None => {
                skipped.push(format!("{key}: no price"));
                continue;
            }
        };
        let strategy = if r.treasury.has_strategy() {
            snap.strategies
                .iter()
                .find(|(k, _)| *k == r.treasury.strategy_reserve)
                .map(|(_, s)| {
                    let mut s = *s;
                    s.accrue_interest(now).map(|_| s)
                })
                .transpose()
                .map_err(|e| anyhow!("strategy reserve of {key}: {e}"))?
        } else {
            None
        };
        let ins = insurance.get(&r.insurance_vault).copied().unwrap_or(0);
        let sheet = balance_sheet(
            *key,
            r,
            strategy.as_ref(),
            ins,
            snap.market_state.paused,
            now,
        )
        .map_err(|e| anyhow!("balance sheet of {key}: {e}"))?;
        let usd_per_unit = price / 10f64.powi(r.mint_decimals as i32);
        let usd = |units: u64| units as f64 * usd_per_unit;
        let (rb, rs) = (borrow_rate(r)?, supply_rate(r)?);
        let strategy_rate = match &strategy {
            Some(s) => supply_rate(s)?,
            None => 0.0,
        };
        let name = format!("{key}");
        let item = |label: &str, side, amount, rate, repricing, can_run| AlmItem {
            label: label.to_string(),
            side,
            amount_usd: amount,
            rate,
            repricing,
            can_run,
        };
        let mut items = vec![
            item(
                "loans (floating)",
                Side::Asset,
                usd(sheet.borrowed),
                rb,
                Repricing::Floating,
                false,
            ),
            item(
                "treasury strategy",
                Side::Asset,
                usd(sheet.deployed),
                strategy_rate,
                Repricing::Floating,
                false,
            ),
            item(
                "vault cash",
                Side::Asset,
                usd(sheet.liquid),
                0.0,
                Repricing::NonSensitive,
                false,
            ),
            item(
                "deposits (on demand)",
                Side::Liability,
                usd(sheet.liabilities),
                rs,
                Repricing::Floating,
                true,
            ),
        ];
        items.extend(term_items(key, r, &snap.obligations, usd_per_unit, now));
        books.push(ReserveBook {
            reserve: *key,
            sheet,
            usd_per_unit,
            book: AlmBook {
                label: name,
                items,
                curve: reserve_curve(r)?,
                outside_capital_usd: usd(ins),
            },
        });
    }
    Ok((books, skipped))
}
