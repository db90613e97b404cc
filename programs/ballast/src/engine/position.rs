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
}

/// One position. 80 bytes.
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
            _ => PositionKind::Empty,
        }
    }
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
