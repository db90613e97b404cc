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
//!   strategy reserve's supply rate; split into what the strategy could
//!   return now, its liquid tokens and outflow limiter as the engine's
//!   liquidity coverage counts it, and the rest), cash in the vault
//!   (`liquid`, non-sensitive: it earns nothing);
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
//! ## Term loans (the program's term layout, `ballast::engine::term`)
//!
//! A reserve's term book is a set of maturity buckets (face outstanding,
//! interest not yet earned, decaying linearly to maturity; see
//! `ballast::engine::term`). Each bucket with face becomes one asset:
//!
//! * maturity in the future: [`Repricing::Fixed`] with the bucket's face at
//!   its maturity, valued now at its book value `face - unearned` (the
//!   unearned interest decayed to the snapshot's time as the program
//!   decays it); its rate is the rate at which the program recognises the
//!   interest, `unearned / (book * tau)` (simple, a year of 365 days), so
//!   that ΔNII counts what the books would earn;
//! * matured and not yet converted to floating debt: floating (it converts
//!   at the next `convert_term_debt`), at its face, at the floating borrow
//!   rate (the per-loan penalty is in the obligations, not the bucket).
//!
//! The loans are read from the reserve's buckets, not from the
//! obligations' `TermDebt` positions: the buckets are what the reserve's
//! balance sheet is made of, and they sum the positions.
//!
//! The floating loans are the reserve's borrow shares at the projected
//! index; the depositors' claims are the engine's `liabilities` plus the
//! term book when the engine's `borrowed` does not count it (it did not
//! when the term layout was first committed; the adapter works either
//! way).
//!
//! The discount curve ([`reserve_curve`]) has the floating borrow rate as
//! its overnight (1-day) knot and, for a reserve with term loans enabled,
//! a knot per tenor at the time to the maturity a new loan of that tenor
//! would get (`maturity_for`), at the term rate the program would quote a
//! marginal borrow there (`term_rate`, rounded up as at a borrow).
//!
//! Term deposits ([`term_deposit_item`]): the reserve's aggregates
//! (`Reserve::term_deposits`: locked shares, face, earliest maturity) make
//! one liability with [`Repricing::Fixed`] and `can_run = false`: the
//! locked shares' value at the exchange rate, the whole locked face due at
//! the earliest maturity (the conservative side for liquidity: the
//! per-maturity split is in the reserve's `TermDepositBook`, which the
//! program's `maturity_ladder` reads and the snapshot does not carry yet).
//! Once any locked deposit has matured they are all on demand, as the
//! program's liquidity coverage counts them.

use std::collections::HashMap;

use anyhow::{anyhow, Result};
use ballast::engine::balance_sheet::{balance_sheet, BalanceSheet};
use ballast::state::Reserve;
use solana_address::Address;

use ballast::engine::fx::FxExt;
use ballast::engine::term::{maturity_for, term_rate};
use ballast::engine::treasury::recallable_of;

use super::book::{AlmBook, AlmItem, Repricing, Side, OVERNIGHT_DAYS};
use super::curve::{ZeroCurve, DAYS_PER_YEAR};
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

/// The reserve's discount curve at `now` (module doc): the floating
/// borrow rate overnight, and the term rates quoted at each tenor's
/// maturity when term loans are enabled; flat at the floating rate
/// otherwise.
pub fn reserve_curve(r: &Reserve, now: i64) -> Result<ZeroCurve> {
    let float = r.borrow_rate().map_err(|e| anyhow!("{e}"))?;
    let mut knots = vec![(OVERNIGHT_DAYS, float.to_num::<f64>())];
    let cfg = &r.term_config;
    if cfg.enabled() {
        let supply = r.supply().map_err(|e| anyhow!("{e}"))?;
        let mut quotes = vec![];
        for &tenor in cfg.tenors_secs.iter().filter(|t| **t != 0) {
            let maturity = maturity_for(now, tenor, cfg.grid_secs).map_err(|e| anyhow!("{e}"))?;
            let rate = term_rate(float, cfg, r.term.face_at(maturity), supply, true)
                .map_err(|e| anyhow!("{e}"))?;
            quotes.push(((maturity - now) as f64 / 86_400.0, rate.to_num::<f64>()));
        }
        quotes.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (d, rate) in quotes {
            if d > knots.last().expect("one").0 + 1e-9 {
                knots.push((d, rate));
            }
        }
    }
    ZeroCurve::new(&knots).map_err(|e| anyhow!("curve of the reserve: {e}"))
}

/// The term loans of `r` at `now` as assets (module doc), USD at
/// `usd_per_unit`, and their book value in base units.
pub fn term_items(r: &Reserve, now: i64, usd_per_unit: f64) -> Result<(Vec<AlmItem>, f64)> {
    let float = borrow_rate(r)?;
    let last = r.term.last_update_ts;
    let mut items = vec![];
    let mut book_units = 0.0;
    for b in r.term.buckets.iter().filter(|b| b.face > 0) {
        let face = b.face as f64;
        let u = b.unearned.get().to_num::<f64>();
        // The program's linear decay to maturity (`engine::term`).
        let unearned = if now >= b.maturity {
            0.0
        } else if now <= last {
            u
        } else {
            u * (b.maturity - now) as f64 / (b.maturity - last) as f64
        };
        let book = (face - unearned).max(0.0);
        book_units += book;
        let tau_days = (b.maturity - now) as f64 / 86_400.0;
        items.push(if tau_days <= 0.0 {
            AlmItem {
                label: "term loans (matured)".into(),
                side: Side::Asset,
                amount_usd: book * usd_per_unit,
                rate: float,
                repricing: Repricing::Floating,
                // Converted to floating debt, not repaid: no cash date.
                can_run: false,
            }
        } else {
            let rate = if book > 0.0 {
                unearned / (book * tau_days / DAYS_PER_YEAR)
            } else {
                0.0
            };
            AlmItem {
                label: format!("term loans due in {tau_days:.1} d"),
                side: Side::Asset,
                amount_usd: book * usd_per_unit,
                rate,
                repricing: Repricing::Fixed {
                    face_usd: face * usd_per_unit,
                    maturity_days: tau_days,
                },
                can_run: false,
            }
        });
    }
    Ok((items, book_units))
}

/// The locked term deposits of `r` at `now` out of `claims` (the
/// depositors' claims, base units) as one fixed liability (module doc),
/// USD at `usd_per_unit`, and their value in base units; `None` when none
/// is locked past `now`.
pub fn term_deposit_item(
    r: &Reserve,
    now: i64,
    claims: f64,
    usd_per_unit: f64,
) -> Option<(AlmItem, f64)> {
    let t = &r.term_deposits;
    let locked = t.locked_until(now);
    if locked == 0 || r.deposit_shares == 0 {
        return None;
    }
    let value = claims * locked as f64 / r.deposit_shares as f64;
    let tau_days = (t.next_maturity - now) as f64 / 86_400.0;
    let face = t.locked_face as f64;
    // The fixed rate the face implies over the value (simple, annual).
    let rate = if value > 0.0 {
        (face - value).max(0.0) / (value * tau_days / DAYS_PER_YEAR)
    } else {
        0.0
    };
    Some((
        AlmItem {
            label: format!("term deposits (locked, first due in {tau_days:.1} d)"),
            side: Side::Liability,
            amount_usd: value * usd_per_unit,
            rate,
            repricing: Repricing::Fixed {
                face_usd: face * usd_per_unit,
                maturity_days: tau_days,
            },
            can_run: false,
        },
        value,
    ))
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
        let (term, term_book) = term_items(r, now, usd_per_unit)?;
        // Floating debt: the borrow shares at the projected index.
        let floating = r
            .borrow_shares
            .get()
            .mul_ceil(r.projected_borrow_index(now).map_err(|e| anyhow!("{e}"))?)
            .map_err(|e| anyhow!("{e}"))?
            .to_num::<f64>();
        // The engine's `borrowed` may or may not count the term book yet.
        let term_in_sheet = term_book > 0.0 && sheet.borrowed as f64 >= floating + term_book - 1.0;
        let liabilities = if term_in_sheet {
            sheet.liabilities as f64
        } else {
            sheet.liabilities as f64 + term_book
        };
        // What the strategy could return now (its liquid tokens and its
        // outflow limiter), as the engine's liquidity coverage counts it.
        let recallable = match &strategy {
            Some(s) if r.treasury.has_strategy() => recallable_of(sheet.deployed, s, now),
            _ => 0,
        };
        let strategy_rate = match &strategy {
            Some(s) => supply_rate(s)?,
            None => 0.0,
        };
        // Locked term deposits leave the on-demand deposits.
        let locked = term_deposit_item(r, now, liabilities, usd_per_unit);
        let on_demand = liabilities - locked.as_ref().map_or(0.0, |(_, v)| *v);
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
                floating * usd_per_unit,
                rb,
                Repricing::Floating,
                false,
            ),
            item(
                "treasury strategy (recallable now)",
                Side::Asset,
                usd(recallable),
                strategy_rate,
                Repricing::Floating,
                true,
            ),
            item(
                "treasury strategy (beyond)",
                Side::Asset,
                usd(sheet.deployed - recallable),
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
                true,
            ),
            item(
                "deposits (on demand)",
                Side::Liability,
                on_demand * usd_per_unit,
                rs,
                Repricing::Floating,
                true,
            ),
        ];
        items.extend(term);
        items.extend(locked.map(|(i, _)| i));
        books.push(ReserveBook {
            reserve: *key,
            sheet,
            usd_per_unit,
            book: AlmBook {
                label: name,
                items,
                curve: reserve_curve(r, now)?,
                outside_capital_usd: usd(ins),
                deposit_beta: r.utilization().map_err(|e| anyhow!("{e}"))?.to_num::<f64>()
                    * (1.0 - r.config.reserve_factor_bps as f64 / 1e4),
            },
        });
    }
    Ok((books, skipped))
}
