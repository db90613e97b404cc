//! What the scan reports: per obligation an [`Assessment`] (a liquidation
//! [`Candidate`], or why not), per pass a [`ScanReport`].

use std::fmt;

use anchor_lang::prelude::Pubkey;
use ballast::engine::fx::Fx;
use ballast::errors::BallastError;

/// A program error as the keeper reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramFailure {
    /// Anchor error code (`6000 + position` for [`BallastError`]), when the
    /// error is an Anchor error.
    pub code: Option<u32>,
    /// Error name, e.g. `OracleStale`.
    pub name: String,
    /// Error message, e.g. `oracle price is stale`.
    pub message: String,
}

impl ProgramFailure {
    pub(super) fn from_error(e: &anchor_lang::error::Error) -> Self {
        match e {
            anchor_lang::error::Error::AnchorError(a) => Self {
                code: Some(a.error_code_number),
                name: a.error_name.clone(),
                message: a.error_msg.clone(),
            },
            anchor_lang::error::Error::ProgramError(p) => Self {
                code: None,
                name: format!("{:?}", p.program_error),
                message: p.program_error.to_string(),
            },
        }
    }

    /// Whether this is `e`.
    pub fn is(&self, e: BallastError) -> bool {
        self.code == Some(u32::from(e))
    }
}

impl fmt::Display for ProgramFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.name)
    }
}

/// Why an obligation cannot be liquidated now although it may be unhealthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The reserve's oracle account was not given to the snapshot.
    OracleMissing {
        /// The reserve's configured oracle account.
        oracle: Pubkey,
    },
    /// The program would refuse the reserve's oracle now
    /// (`ballast::runtime::oracle_account::decode_bytes` or `validate_price` failed: stale,
    /// confidence too wide, wrong feed, not fully verified, undecodable...).
    Oracle {
        /// The reserve's configured oracle account.
        oracle: Pubkey,
        /// The program's error.
        error: ProgramFailure,
    },
    /// The reserve belongs to another market (the program's health check
    /// refuses it).
    ReserveOfOtherMarket,
    /// The reserve's state could not be projected to now
    /// (`Reserve::view` failed).
    ReserveState(ProgramFailure),
    /// A position's reserve is not in the snapshot.
    UnknownReserve,
    /// Valuing or sizing failed (overflow, invalid price).
    Valuation(ProgramFailure),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::OracleMissing { oracle } => write!(f, "oracle {oracle}: account not loaded"),
            Reason::Oracle { oracle, error } => write!(f, "oracle {oracle}: {error}"),
            Reason::ReserveOfOtherMarket => write!(f, "reserve of another market"),
            Reason::ReserveState(e) => write!(f, "reserve state: {e}"),
            Reason::UnknownReserve => write!(f, "reserve not in the snapshot"),
            Reason::Valuation(e) => write!(f, "valuation: {e}"),
        }
    }
}

/// An obligation the keeper cannot liquidate now, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotLiquidatable {
    /// The obligation account.
    pub obligation: Pubkey,
    /// The reserve at fault, when one is.
    pub reserve: Option<Pubkey>,
    /// Why.
    pub reason: Reason,
    /// Maintenance health (collateral / debt ratio) at the last prices the
    /// oracles carry, unvalidated: an indication of whether it will be
    /// liquidatable once the oracle is fresh. `None` when a price is missing
    /// or undecodable, or there is no debt.
    pub last_health: Option<Fx>,
}

impl fmt::Display for NotLiquidatable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "obligation {} not liquidatable now: ", self.obligation)?;
        if let Some(r) = &self.reserve {
            write!(f, "reserve {r}: ")?;
        }
        write!(f, "{}", self.reason)?;
        if let Some(h) = self.last_health {
            write!(f, " (health {h:.4} at the last prices)")?;
        }
        Ok(())
    }
}

/// A liquidation the keeper can send now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Candidate {
    /// The obligation account.
    pub obligation: Pubkey,
    /// Maintenance health: weighted collateral / weighted debt, rounded down
    /// (< 1).
    pub health: Fx,
    /// The reserve of the debt to repay.
    pub debt_reserve: Pubkey,
    /// The reserve of the collateral to seize.
    pub collateral_reserve: Pubkey,
    /// Debt to repay, base units of the debt mint (rounded down): the
    /// `max_repay` argument of `liquidate`. When the collateral position
    /// cannot pay for it, the program repays less (what the position covers,
    /// rounded up) and seizes the whole position; the `Liquidated` event
    /// says what was repaid.
    pub repay: u64,
    /// Collateral the program will seize for `repay` at the snapshot's
    /// prices, base units of the collateral mint (rounded down; the whole
    /// position when it cannot pay for `repay`).
    pub expected_seize: u64,
    /// The liquidation bonus, bps of the repaid value.
    pub bonus_bps: u16,
}

/// What the scan makes of one obligation.
#[derive(Clone, Debug, PartialEq)]
pub enum Assessment {
    /// No debt.
    NoDebt,
    /// The Maintenance requirement holds.
    Healthy {
        /// Weighted collateral / weighted debt (>= 1).
        health: Fx,
    },
    /// Unhealthy and liquidatable now.
    Liquidatable(Candidate),
    /// Unhealthy, but no collateral position (in a reserve other than the
    /// debt's) can pay for a non-zero repay: left to the bad-debt path.
    NothingToSeize {
        /// Weighted collateral / weighted debt (< 1).
        health: Fx,
    },
    /// Its health cannot be established or acted on now.
    NotLiquidatable(NotLiquidatable),
}

/// The outcome of [`super::MarketSnapshot::scan_report`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScanReport {
    /// Liquidations, worst health first.
    pub candidates: Vec<Candidate>,
    /// Obligations that touch a reserve unusable now, or whose valuation
    /// failed, in input order.
    pub not_liquidatable: Vec<NotLiquidatable>,
    /// Unhealthy obligations with nothing to seize (bad-debt path).
    pub nothing_to_seize: Vec<(Pubkey, Fx)>,
    /// Obligations of this market that were assessed.
    pub assessed: usize,
    /// Obligations of other markets, skipped.
    pub other_market: usize,
    /// Accounts that are not obligations (discriminator or length), skipped.
    pub undecodable: usize,
}
