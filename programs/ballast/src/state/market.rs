//! The lending market: who may configure it, who may push risk parameters, and
//! whether it is paused.

use anchor_lang::prelude::*;
use core::mem::size_of;

use crate::engine::liquidation::LiquidationConfig;

/// Seed of the market authority PDA (`[MARKET_AUTHORITY_SEED, market]`), the
/// owner of every vault of the market and of its treasury receipts.
#[constant]
pub const MARKET_AUTHORITY_SEED: &[u8] = b"authority";

/// A lending market. Zero-copy; 8-byte Anchor discriminator + [`Market::SIZE`].
#[account(zero_copy)]
#[repr(C)]
pub struct Market {
    /// Key allowed to configure reserves, change authorities and pause.
    pub admin: Pubkey,
    /// Key allowed to push volatility (`update_volatility`); bounded on-chain.
    pub risk_authority: Pubkey,
    /// 1 when paused (borrow and withdraw refused), 0 otherwise.
    pub paused: u8,
    /// Bump of the market authority PDA `[MARKET_AUTHORITY_SEED, market]`.
    pub authority_bump: u8,
    /// Padding to an 8-byte boundary.
    pub _padding0: [u8; 6],
    /// Number of reserves created in this market.
    pub reserve_count: u64,
    /// Liquidation parameters (close factor, bonus, protocol share).
    pub liquidation: LiquidationConfig,
    /// Admin proposed by `propose_admin`, who becomes the admin by signing
    /// `accept_admin`; the default key when no transfer is pending.
    pub pending_admin: Pubkey,
    /// Reserved for later fields; zero.
    pub _reserved: [u8; 200],
}

impl Market {
    /// Size of the account data after the discriminator, in bytes: the
    /// sum of the fields' sizes (pinned below).
    pub const SIZE: usize = 2 * size_of::<Pubkey>()
        + 2 * size_of::<u8>()
        + 6
        + size_of::<u64>()
        + size_of::<LiquidationConfig>()
        + size_of::<Pubkey>()
        + 200;

    /// Whether the market is paused.
    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }
}

const _: () = assert!(size_of::<Market>() == Market::SIZE);
const _: () = assert!(Market::SIZE == 336);
