//! A position slot of an obligation: the plain data the margin engine and the
//! liquidation plan value, stored as-is in `state::Obligation`
//! (which re-exports both types). Defined here, below `state`, so that the
//! engine reads positions without naming the account type.

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::fx::WrappedFx;

/// What a position slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum PositionKind {
    /// Free slot.
    Empty = 0,
    /// Deposit shares of a reserve, counted as collateral.
    Collateral = 1,
    /// Debt shares of a reserve.
    Debt = 2,
    /// A fixed-rate term loan of a reserve (see [`Position`]'s term
    /// accessors and [`super::term`]); debt in every health check.
    TermDebt = 3,
}

/// One position. 80 bytes.
///
/// A [`PositionKind::TermDebt`] slot reuses the fields below (typed
/// accessors `term_*`; little-endian):
///
/// | bytes (from the slot's start) | field | meaning |
/// |---|---|---|
/// | 40..48 (`deposit_shares`) | face, `u64` | base units owed at maturity |
/// | 48..56 (`borrow_shares[0..8]`) | maturity, `i64` | unix seconds |
/// | 56..64 (`borrow_shares[8..16]`) | open time, `i64` | unix seconds |
/// | 64..72 (`_reserved[0..8]`) | principal, `u64` | base units lent at opening (the price paid out) |
/// | 72..76 (`_reserved[8..12]`) | rate, `u32` | term rate at opening, millionths a year (informative, rounded down) |
/// | 76..78 (`_reserved[12..14]`) | penalty, `u16` | penalty APR past maturity, bps, fixed at opening |
/// | 78..80 (`_reserved[14..16]`) | zero | |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize)]
#[repr(C)]
pub struct Position {
    /// The reserve; default when the slot is empty.
    pub reserve: Pubkey,
    /// [`PositionKind`] as `u8`.
    pub kind: u8,
    /// Padding; zero.
    pub _padding: [u8; 7],
    /// Collateral: deposit shares of the reserve.
    pub deposit_shares: u64,
    /// Debt: debt shares (`Fx`); debt = shares * the reserve's borrow index.
    pub borrow_shares: WrappedFx,
    /// Reserved; zero.
    pub _reserved: [u8; 16],
}

impl Position {
    /// The slot's kind (unknown values read as empty).
    pub fn kind(&self) -> PositionKind {
        match self.kind {
            1 => PositionKind::Collateral,
            2 => PositionKind::Debt,
            3 => PositionKind::TermDebt,
            _ => PositionKind::Empty,
        }
    }

    /// Whether the slot is debt of either kind (floating or term).
    pub fn is_debt(&self) -> bool {
        matches!(self.kind(), PositionKind::Debt | PositionKind::TermDebt)
    }

    /// Term loan: face owed at maturity, base units.
    pub fn term_face(&self) -> u64 {
        self.deposit_shares
    }

    /// Term loan: maturity, unix seconds.
    pub fn term_maturity(&self) -> i64 {
        i64::from_le_bytes(self.borrow_shares.bits[0..8].try_into().unwrap_or_default())
    }

    /// Term loan: opening time, unix seconds.
    pub fn term_open_ts(&self) -> i64 {
        i64::from_le_bytes(
            self.borrow_shares.bits[8..16]
                .try_into()
                .unwrap_or_default(),
        )
    }

    /// Term loan: principal lent at opening, base units.
    pub fn term_principal(&self) -> u64 {
        u64::from_le_bytes(self._reserved[0..8].try_into().unwrap_or_default())
    }

    /// Term loan: the term rate at opening, millionths a year (rounded down).
    pub fn term_rate_micro(&self) -> u32 {
        u32::from_le_bytes(self._reserved[8..12].try_into().unwrap_or_default())
    }

    /// Term loan: the penalty APR past maturity, bps.
    pub fn term_penalty_bps(&self) -> u16 {
        u16::from_le_bytes(self._reserved[12..14].try_into().unwrap_or_default())
    }

    /// Writes a term loan's fields into this slot (kind and reserve are
    /// the caller's).
    pub fn set_term(&mut self, t: &TermLoan) {
        self.deposit_shares = t.face;
        self.borrow_shares.bits[0..8].copy_from_slice(&t.maturity.to_le_bytes());
        self.borrow_shares.bits[8..16].copy_from_slice(&t.open_ts.to_le_bytes());
        self._reserved[0..8].copy_from_slice(&t.principal.to_le_bytes());
        self._reserved[8..12].copy_from_slice(&t.rate_micro.to_le_bytes());
        self._reserved[12..14].copy_from_slice(&t.penalty_bps.to_le_bytes());
        self._reserved[14..16].copy_from_slice(&[0, 0]);
    }

    /// This slot's term loan fields.
    pub fn term(&self) -> TermLoan {
        TermLoan {
            face: self.term_face(),
            maturity: self.term_maturity(),
            open_ts: self.term_open_ts(),
            principal: self.term_principal(),
            rate_micro: self.term_rate_micro(),
            penalty_bps: self.term_penalty_bps(),
        }
    }
}

/// A term loan's terms, as a [`PositionKind::TermDebt`] slot stores them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TermLoan {
    /// Face owed at maturity, base units.
    pub face: u64,
    /// Maturity, unix seconds.
    pub maturity: i64,
    /// Opening time, unix seconds.
    pub open_ts: i64,
    /// Principal lent, base units.
    pub principal: u64,
    /// Term rate at opening, millionths a year.
    pub rate_micro: u32,
    /// Penalty APR past maturity, bps.
    pub penalty_bps: u16,
}

/// Index of the `kind` position in `reserve` among `positions`, if any.
pub fn find_position(
    positions: &[Position],
    reserve: &Pubkey,
    kind: PositionKind,
) -> Option<usize> {
    positions
        .iter()
        .position(|p| p.kind() == kind && p.reserve == *reserve)
}

const _: () = assert!(core::mem::size_of::<Position>() == 80);
