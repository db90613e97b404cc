//! Term deposits' accounts: one [`TermDeposit`] per deposit and one
//! [`TermDepositBook`] per reserve (the locked shares and face per
//! maturity, which `maturity_ladder` reads). See
//! [`crate::engine::term_deposit`] for the economics.

use anchor_lang::prelude::*;

use crate::engine::fx::WrappedFx;
pub use crate::engine::term_deposit::{DepositBucket, DEPOSIT_BUCKETS};

/// Seed of a term deposit PDA: `[TERM_DEPOSIT_SEED, reserve, owner,
/// nonce (u64 LE)]`.
#[constant]
pub const TERM_DEPOSIT_SEED: &[u8] = b"term_deposit";
/// Seed of a reserve's term-deposit book PDA: `[TERM_DEPOSIT_BOOK_SEED,
/// reserve]`.
#[constant]
pub const TERM_DEPOSIT_BOOK_SEED: &[u8] = b"term_deposit_book";

/// One fixed-rate term deposit: deposit shares locked until `maturity`,
/// `face` owed then. Created by `deposit_term`, closed (rent to the owner)
/// by `withdraw_term`. Only this program creates accounts of this type,
/// and only at their PDA, so `has_one` pins one.
#[account]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TermDeposit {
    /// The depositor: the only one who may withdraw.
    pub owner: Pubkey,
    /// The reserve.
    pub reserve: Pubkey,
    /// Deposit shares locked (part of the reserve's `deposit_shares`).
    pub shares: u64,
    /// Tokens deposited, base units.
    pub principal: u64,
    /// Owed at maturity, base units (rounded down).
    pub face: u64,
    /// The fixed rate, a fraction a year, continuous (rounded down).
    pub rate: WrappedFx,
    /// Unix time of the deposit, seconds.
    pub opened_ts: i64,
    /// Maturity, unix seconds.
    pub maturity: i64,
    /// The PDA's nonce (the owner's choice: several deposits per reserve).
    pub nonce: u64,
    /// Bump of the PDA.
    pub bump: u8,
}

impl TermDeposit {
    /// Account size after the discriminator, bytes.
    pub const SIZE: usize = 32 + 32 + 3 * 8 + 16 + 2 * 8 + 8 + 1;
}

/// A reserve's term deposits by maturity: created by the first
/// `deposit_term` on the reserve (its payer pays the rent; the only
/// instruction that derives its address), updated by
/// `deposit_term` and `withdraw_term`, read by `maturity_ladder`.
#[account]
#[derive(Debug, PartialEq, Eq)]
pub struct TermDepositBook {
    /// The reserve.
    pub reserve: Pubkey,
    /// Bump of the PDA.
    pub bump: u8,
    /// Locked shares and face per maturity, in no order; free when
    /// `shares == 0`.
    pub buckets: [DepositBucket; DEPOSIT_BUCKETS],
}

impl TermDepositBook {
    /// Account size after the discriminator, bytes.
    pub const SIZE: usize = 32 + 1 + 24 * DEPOSIT_BUCKETS;
}
