//! Health checks over an obligation's reserves passed as remaining accounts.
//!
//! Layout of the remaining accounts: for each distinct reserve of the
//! obligation's open positions, in slot order of first appearance
//! ([`Obligation::health_reserves`]), the reserve and then its oracle. That
//! is the obligation's reserves as they were before the instruction, plus the
//! borrowed reserve when a borrow opens a new debt position (it takes the
//! first free slot); a withdraw that empties a position frees its slot only
//! after the check. Each
//! pair is validated: the reserve key is the expected one (so none is
//! missing, duplicated or substituted), it is a `Reserve` owned by this
//! program and belongs to this market, and the oracle is that reserve's
//! configured `PriceUpdateV2`, fresh and tight enough.

use anchor_lang::prelude::*;

use crate::engine::health::{Health, Requirement, ReserveView};
use crate::engine::oracle::OraclePrice;
use crate::errors::BallastError;
use crate::state::{Obligation, Reserve, MAX_POSITIONS};

/// The validated (reserve view, price) of each distinct reserve of the
/// obligation, read from `remaining` at unix time `now`, in the order of
/// [`Obligation::health_reserves`].
pub struct HealthAccounts {
    /// The reserves' addresses.
    pub keys: [Pubkey; MAX_POSITIONS],
    /// How many are in use.
    pub len: usize,
    /// Their views and prices.
    pub loaded: [Option<(ReserveView, OraclePrice)>; MAX_POSITIONS],
    /// Where the last [`HealthAccounts::get`] found its reserve: positions
    /// are valued in slot order and the keys are in order of first
    /// appearance, so the next lookup is almost always here or just after.
    next: core::cell::Cell<usize>,
}

impl HealthAccounts {
    /// Loads and validates the remaining accounts (see the module doc).
    ///
    /// Errors: [`BallastError::HealthAccountsMismatch`] (wrong count or order),
    /// [`BallastError::HealthReserveInvalid`] (not a reserve of `market`), any
    /// oracle error, [`BallastError::MathOverflow`].
    pub fn load<'info>(
        obligation: &Obligation,
        market: &Pubkey,
        remaining: &'info [AccountInfo<'info>],
        now: i64,
    ) -> Result<Self> {
        let (keys, kinds, n) = obligation.health_reserves_with_kinds();
        require!(
            remaining.len() == 2 * n,
            BallastError::HealthAccountsMismatch
        );
        let mut loaded: [Option<(ReserveView, OraclePrice)>; MAX_POSITIONS] = [None; MAX_POSITIONS];
        for i in 0..n {
            crate::cu_trace!("health: pair start");
            let reserve_info = &remaining[2 * i];
            require_keys_eq!(
                *reserve_info.key,
                keys[i],
                BallastError::HealthAccountsMismatch
            );
            let loader = AccountLoader::<Reserve>::try_from(reserve_info)
                .map_err(|_| error!(BallastError::HealthReserveInvalid))?;
            let reserve = loader.load()?;
            require_keys_eq!(reserve.market, *market, BallastError::HealthReserveInvalid);
            crate::cu_trace!("health: reserve loaded");
            let price = super::oracle_account::load_price(&remaining[2 * i + 1], &reserve, now)?;
            crate::cu_trace!("health: price loaded", price);
            // Only what this obligation's positions in the reserve value.
            let view = reserve.view_for(now, kinds[i] & 1 != 0, kinds[i] & 2 != 0)?;
            crate::cu_trace!("health: view built", view);
            loaded[i] = Some((view, price));
        }
        Ok(Self {
            keys,
            len: n,
            loaded,
            next: core::cell::Cell::new(0),
        })
    }

    /// The view and price of `reserve`, if it is one of the obligation's.
    pub fn get(&self, reserve: &Pubkey) -> Option<(&ReserveView, &OraclePrice)> {
        let keys = &self.keys[..self.len];
        let hint = self.next.get();
        let i = [hint, hint + 1]
            .into_iter()
            .find(|&j| keys.get(j) == Some(reserve))
            .or_else(|| keys.iter().position(|k| k == reserve))?;
        self.next.set(i);
        self.loaded[i].as_ref().map(|(v, p)| (v, p))
    }

    /// The obligation's health under `req`.
    pub fn health(&self, obligation: &Obligation, req: Requirement) -> Result<Health> {
        crate::engine::health::obligation_health(&obligation.positions, |r| self.get(r), req)
    }
}

/// The obligation's health under `req`, with prices and reserve states read
/// from `remaining` at unix time `now` (see [`HealthAccounts::load`]).
pub fn obligation_health<'info>(
    obligation: &Obligation,
    market: &Pubkey,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    req: Requirement,
) -> Result<Health> {
    HealthAccounts::load(obligation, market, remaining, now)?.health(obligation, req)
}

/// Requires the Initial requirement after a borrow or withdraw. Skipped (no
/// oracle needed) when the obligation has no debt. Errors: those of
/// [`obligation_health`], [`BallastError::InitialRequirementNotMet`].
pub fn require_initial<'info>(
    obligation: &Obligation,
    market: &Pubkey,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
) -> Result<()> {
    if !obligation.has_debt() {
        return Ok(());
    }
    let h = obligation_health(obligation, market, remaining, now, Requirement::Initial)?;
    require!(h.is_satisfied(), BallastError::InitialRequirementNotMet);
    Ok(())
}
