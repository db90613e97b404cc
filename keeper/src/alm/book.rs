//! The book the ALM analysis takes, independent of the program's account
//! layout: items on either side of the balance sheet, each with its amount
//! now in USD, how it reprices and (liabilities) whether it can leave
//! overnight; plus the discount curve and the capital outside the book.

use serde::Serialize;

use super::curve::{ZeroCurve, DAYS_PER_YEAR};

/// Which side of the balance sheet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// What the reserve owns (loans, cash, strategy deposits).
    Asset,
    /// What it owes (depositors' claims).
    Liability,
}

/// How an item's rate is set.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Repricing {
    /// Earns or pays no rate that moves with the market (cash in the
    /// vault): outside the repricing gap, valued at its amount under every
    /// scenario.
    NonSensitive,
    /// Reprices overnight (floating loans, on-demand deposits): one cash
    /// flow `amount * exp(rate * 1 day)` one day out.
    Floating,
    /// Fixed rate until one cash flow of `face_usd` at `maturity_days`
    /// (a zero-coupon term loan or term deposit); reprices at maturity.
    Fixed {
        /// Face value due at maturity, USD.
        face_usd: f64,
        /// Days from now to maturity (> 0).
        maturity_days: f64,
    },
}

/// The repricing date of a floating item, days (overnight).
pub const OVERNIGHT_DAYS: f64 = 1.0;

/// One item of the book.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlmItem {
    /// What it is (e.g. `USDC loans (floating)`).
    pub label: String,
    /// Its side.
    pub side: Side,
    /// Its value now, USD (book value: principal plus accrued interest).
    pub amount_usd: f64,
    /// Its current rate, annual fraction (the floating rate, or the fixed
    /// rate of a term item); what net interest income accrues at.
    pub rate: f64,
    /// How it reprices.
    pub repricing: Repricing,
    /// Liabilities: whether the holder can withdraw it overnight (an
    /// on-demand deposit; `false` for a locked term deposit). Assets:
    /// whether the reserve can turn it into cash overnight (vault cash,
    /// what the treasury strategy could return now); a floating loan has no
    /// date at which it turns into cash, a term loan turns at maturity.
    pub can_run: bool,
}

impl AlmItem {
    /// The item's repricing date, days from now (`None`: not rate
    /// sensitive).
    pub fn repricing_days(&self) -> Option<f64> {
        match self.repricing {
            Repricing::NonSensitive => None,
            Repricing::Floating => Some(OVERNIGHT_DAYS),
            Repricing::Fixed { maturity_days, .. } => Some(maturity_days),
        }
    }

    /// The date by which a liability can leave, days: overnight when it can
    /// run, else its maturity (or overnight for a non-maturing one).
    pub fn outflow_days(&self) -> f64 {
        match (self.can_run, self.repricing) {
            (false, Repricing::Fixed { maturity_days, .. }) => maturity_days,
            _ => OVERNIGHT_DAYS,
        }
    }

    /// The item's cash flows `(t years, USD)`: none for a non-sensitive
    /// item (valued at its amount), one overnight for a floating one, the
    /// face at maturity for a fixed one.
    pub fn cash_flows(&self) -> Vec<(f64, f64)> {
        match self.repricing {
            Repricing::NonSensitive => vec![],
            Repricing::Floating => {
                let t = OVERNIGHT_DAYS / DAYS_PER_YEAR;
                vec![(t, self.amount_usd * (self.rate * t).exp())]
            }
            Repricing::Fixed {
                face_usd,
                maturity_days,
            } => vec![(maturity_days / DAYS_PER_YEAR, face_usd)],
        }
    }

    /// Assets: the date the item turns into cash, days (overnight when
    /// [`AlmItem::can_run`], the maturity of a fixed item, `None` for an
    /// open-ended floating loan).
    pub fn inflow_days(&self) -> Option<f64> {
        match (self.can_run, self.repricing) {
            (true, _) => Some(OVERNIGHT_DAYS),
            (false, Repricing::Fixed { maturity_days, .. }) => Some(maturity_days),
            _ => None,
        }
    }

    /// Present value under `curve`, USD.
    pub fn pv(&self, curve: &ZeroCurve) -> f64 {
        match self.repricing {
            Repricing::NonSensitive => self.amount_usd,
            _ => self
                .cash_flows()
                .iter()
                .map(|(t, c)| c * curve.df(*t))
                .sum(),
        }
    }
}

/// A book: items, the curve its cash flows are discounted on, and the
/// capital outside it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlmBook {
    /// What the book is (a reserve's address and mint, or `synthetic`).
    pub label: String,
    /// The items.
    pub items: Vec<AlmItem>,
    /// The discount curve (continuous zero rates).
    pub curve: ZeroCurve,
    /// Loss-absorbing capital outside the items (the insurance vault),
    /// USD: the "% of equity" figures divide by the economic value of
    /// equity plus this.
    pub outside_capital_usd: f64,
    /// The pass-through of a move of the loans' rate to the on-demand
    /// deposits' rate, in [0, 1], used by ΔNII unless the calibration
    /// overrides it. In a pool the supply rate is `borrow rate *
    /// utilisation * (1 - reserve factor)`, so the chain adapter sets it to
    /// `utilisation * (1 - reserve factor)`: what the program itself passes
    /// on.
    pub deposit_beta: f64,
}

impl AlmBook {
    /// The items of one side.
    pub fn side(&self, side: Side) -> impl Iterator<Item = &AlmItem> {
        self.items.iter().filter(move |i| i.side == side)
    }

    /// Book value of one side, USD.
    pub fn total(&self, side: Side) -> f64 {
        self.side(side).map(|i| i.amount_usd).sum()
    }

    /// Every cash-flow date of the book, days (for sampling shocks).
    pub fn flow_days(&self) -> Vec<f64> {
        self.items
            .iter()
            .flat_map(|i| i.cash_flows())
            .map(|(t, _)| t * DAYS_PER_YEAR)
            .collect()
    }
}
