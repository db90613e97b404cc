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

use crate::engine::health::{Health, OraclePrice, Requirement, ReserveView};
use crate::errors::BallastError;
use crate::state::{Obligation, PositionKind, Reserve, MAX_POSITIONS};

/// The obligation's health under `req`, with prices and reserve states read
/// from `remaining` at unix time `now`.
///
/// Errors: [`BallastError::HealthAccountsMismatch`] (wrong count or order),
/// [`BallastError::HealthReserveInvalid`] (not a reserve of `market`), any
/// oracle error, [`BallastError::MathOverflow`].
pub fn obligation_health<'info>(
    obligation: &Obligation,
    market: &Pubkey,
    remaining: &'info [AccountInfo<'info>],
    now: i64,
    req: Requirement,
) -> Result<Health> {
    let (keys, n) = obligation.health_reserves();
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
        let price = crate::oracle::load_price(&remaining[2 * i + 1], &reserve, now)?;
        crate::cu_trace!("health: price loaded");
        loaded[i] = Some((reserve.view(now)?, price));
        crate::cu_trace!("health: view built");
    }
    let mut health = Health::default();
    for p in obligation.positions.iter() {
        let kind = p.kind();
        if kind == PositionKind::Empty {
            continue;
        }
        let i = keys[..n]
            .iter()
            .position(|k| *k == p.reserve)
            .ok_or(error!(BallastError::HealthAccountsMismatch))?;
        let (view, price) = loaded[i]
            .as_ref()
            .ok_or(error!(BallastError::HealthAccountsMismatch))?;
        crate::cu_trace!("health: value start");
        match kind {
            PositionKind::Collateral => {
                health.add_collateral(view.collateral_value(p.deposit_shares, price, req)?)?
            }
            PositionKind::Debt => {
                health.add_debt(view.debt_value(p.borrow_shares.get(), price, req)?)?
            }
            PositionKind::Empty => {}
        }
        crate::cu_trace!("health: value done");
    }
    Ok(health)
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
