//! An obligation: one borrower's collateral and debt positions in a market,
//! margined together.

use anchor_lang::prelude::*;
use bytemuck::Zeroable;
use core::mem::size_of;

use crate::engine::fx::*;
pub use crate::engine::position::{Position, PositionKind, TermLoan};
use crate::errors::BallastError;

/// Seed of an obligation PDA: `[OBLIGATION_SEED, market, owner,
/// index.to_le_bytes()]` (the index is a `u8`: one byte), so that one owner
/// (a wallet or a program's PDA) can hold up to 256.
#[constant]
pub const OBLIGATION_SEED: &[u8] = b"obligation";
/// Position slots per obligation, collateral and debt in any mix (the IDL's
/// constant; [`MAX_POSITIONS`] is the same as an array length).
#[constant]
pub const MAX_OBLIGATION_POSITIONS: u8 = 8;
/// [`MAX_OBLIGATION_POSITIONS`] as a `usize`.
pub const MAX_POSITIONS: usize = MAX_OBLIGATION_POSITIONS as usize;
/// Index (the last seed) of the treasury obligation: the obligation that a
/// market's authority PDA holds in a strategy market, `[OBLIGATION_SEED,
/// strategy market, market authority, [TREASURY_OBLIGATION_INDEX]]`.
#[constant]
pub const TREASURY_OBLIGATION_INDEX: u8 = 0;
/// [`TREASURY_OBLIGATION_INDEX`] as its seed bytes.
pub const TREASURY_OBLIGATION_INDEX_SEED: [u8; 1] = [TREASURY_OBLIGATION_INDEX];

/// An obligation. Zero-copy; 8-byte discriminator + [`Obligation::SIZE`].
#[account(zero_copy)]
#[repr(C)]
pub struct Obligation {
    /// The market.
    pub market: Pubkey,
    /// The owner: signs deposit, withdraw and borrow. May be a program's PDA.
    pub owner: Pubkey,
    /// Index in the PDA seeds.
    pub index: u8,
    /// Bump of the PDA.
    pub bump: u8,
    /// Padding; zero.
    pub _padding0: [u8; 6],
    /// Position slots.
    pub positions: [Position; MAX_POSITIONS],
    /// Reserved for later fields; zero.
    pub _reserved: [u8; 256],
}

impl Obligation {
    /// Size of the account data after the discriminator, in bytes: the
    /// sum of the fields' sizes (pinned below).
    pub const SIZE: usize = 2 * size_of::<Pubkey>()
        + 2 * size_of::<u8>()
        + 6
        + MAX_POSITIONS * size_of::<Position>()
        + 256;

    /// Index of the `kind` position in `reserve`, if any.
    pub fn find(&self, reserve: &Pubkey, kind: PositionKind) -> Option<usize> {
        crate::engine::position::find_position(&self.positions, reserve, kind)
    }

    /// Index of the `kind` position in `reserve`, opening one in a free slot
    /// if needed. Errors: [`BallastError::ObligationFull`].
    pub fn find_or_open(&mut self, reserve: &Pubkey, kind: PositionKind) -> Result<usize> {
        if let Some(i) = self.find(reserve, kind) {
            return Ok(i);
        }
        let i = self
            .positions
            .iter()
            .position(|p| p.kind() == PositionKind::Empty)
            .ok_or(error!(BallastError::ObligationFull))?;
        self.positions[i] = Position::zeroed();
        self.positions[i].reserve = *reserve;
        self.positions[i].kind = kind as u8;
        Ok(i)
    }

    /// Frees slot `i` if it holds nothing.
    pub fn close_if_empty(&mut self, i: usize) {
        let p = &self.positions[i];
        let empty = match p.kind() {
            PositionKind::Collateral => p.deposit_shares == 0,
            PositionKind::Debt => p.borrow_shares.get() <= FX_ZERO,
            PositionKind::TermDebt => p.term_face() == 0,
            PositionKind::Empty => true,
        };
        if empty {
            self.positions[i] = Position::zeroed();
        }
    }

    /// Whether any debt position (floating or term) is open.
    pub fn has_debt(&self) -> bool {
        self.positions.iter().any(|p| p.is_debt())
    }

    /// Whether any term-loan position is open (liquidation and write-off
    /// refuse such an obligation until `convert_term_debt`).
    pub fn has_term_debt(&self) -> bool {
        self.positions
            .iter()
            .any(|p| p.kind() == PositionKind::TermDebt)
    }

    /// The distinct reserves of the open positions, in slot order of first
    /// appearance: the order in which health checks expect their
    /// (reserve, oracle[, strategy reserve]) entries. Returns the keys and
    /// their count.
    pub fn health_reserves(&self) -> ([Pubkey; MAX_POSITIONS], usize) {
        let (keys, _, n) = self.health_reserves_with_kinds();
        (keys, n)
    }

    /// [`Obligation::health_reserves`] with, for each reserve, whether the
    /// obligation holds collateral (bit 0) and debt, floating or term, (bit
    /// 1) in it.
    pub fn health_reserves_with_kinds(
        &self,
    ) -> ([Pubkey; MAX_POSITIONS], [u8; MAX_POSITIONS], usize) {
        let mut keys = [Pubkey::default(); MAX_POSITIONS];
        let mut kinds = [0u8; MAX_POSITIONS];
        let mut n = 0;
        for p in &self.positions {
            let bit = match p.kind() {
                PositionKind::Empty => continue,
                PositionKind::Collateral => 1,
                PositionKind::Debt | PositionKind::TermDebt => 2,
            };
            match keys[..n].iter().position(|k| *k == p.reserve) {
                Some(i) => kinds[i] |= bit,
                None => {
                    keys[n] = p.reserve;
                    kinds[n] = bit;
                    n += 1;
                }
            }
        }
        (keys, kinds, n)
    }
}

const _: () = assert!(size_of::<Obligation>() == Obligation::SIZE);
// The layout is pinned: new fields come out of `_reserved`.
const _: () = assert!(Obligation::SIZE == 968);
