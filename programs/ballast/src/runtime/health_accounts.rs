//! Health checks over an obligation's reserves passed as remaining accounts.
//!
//! Layout of the remaining accounts: for each distinct reserve of the
//! obligation's open positions, in slot order of first appearance
//! ([`Obligation::health_reserves`]), the reserve, then its oracle, then --
//! only when the reserve has a treasury strategy configured
//! ([`TreasuryState::has_strategy`], whether or not shares are deployed now,
//! so a rebalance landing first never changes the layout) -- its strategy
//! reserve. That is the obligation's reserves as they were before the
//! instruction, plus the borrowed reserve when a borrow opens a new debt
//! position (it takes the first free slot); a withdraw that empties a
//! position frees its slot only after the check. Each entry is validated:
//! the reserve key is the expected one (so none is missing, duplicated or
//! substituted), it is a `Reserve` owned by this program and belongs to this
//! market, the oracle is that reserve's configured `PriceUpdateV2`, fresh
//! and tight enough, and the strategy account's key is the reserve's
//! configured strategy ([`BallastError::StrategyAccountRequired`] otherwise)
//! and it is a `Reserve` owned by this program
//! ([`BallastError::TreasuryAccountsMismatch`] otherwise).
//!
//! Deployed treasury shares are valued conservatively: a reserve's deposit
//! shares are worth its supply with the deployed shares at the lower of
//! their book value (last mark) and their value now at the strategy's
//! exchange rate (its interest projected to now, read-only, rounded down:
//! [`marked_deployed`]). A loss in the strategy lowers every health check at
//! once, before any crank marks it; a gain counts only once marked. Debts
//! are valued as before.
//!
//! [`TreasuryState::has_strategy`]: crate::engine::treasury::TreasuryState::has_strategy

use anchor_lang::prelude::*;

use crate::engine::fx::FxExt;
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
    /// Per reserve: 0 when its oracle passed every check; otherwise (only
    /// under [`HealthAccounts::load_for_liquidation`]) the check it failed,
    /// [`UNPRICED_STALE`] or [`UNPRICED_WIDE`], for a reserve held only as
    /// collateral below the dust value, whose Maintenance weight is then 0.
    pub unpriced: [u8; MAX_POSITIONS],
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
        Self::load_inner(obligation, market, remaining, now, None)
    }

    /// [`HealthAccounts::load`] for a liquidation: a reserve the obligation
    /// holds only as collateral whose oracle is stale or too wide (but is
    /// the reserve's configured, fully verified feed with a positive price)
    /// does not block when the position is worth at most `dust_micro_usd`
    /// at that last price: it is valued at zero (weights 0) and marked in
    /// [`HealthAccounts::unpriced`]. So a borrower cannot park dust in a
    /// reserve whose oracle goes stale in stress to block its own
    /// liquidation; a larger position still needs its oracle, and a debt
    /// always does. Valuing collateral at zero only lowers health, so this
    /// never shields an obligation. Errors: as [`HealthAccounts::load`].
    pub fn load_for_liquidation<'info>(
        obligation: &Obligation,
        market: &Pubkey,
        remaining: &'info [AccountInfo<'info>],
        now: i64,
        dust_micro_usd: u64,
    ) -> Result<Self> {
        Self::load_inner(obligation, market, remaining, now, Some(dust_micro_usd))
    }

    /// Fails with the oracle error of `reserve` if it was loaded unpriced
    /// (the two reserves of a liquidation must be priced).
    pub fn require_priced(&self, reserve: &Pubkey) -> Result<()> {
        let i = self.keys[..self.len].iter().position(|k| k == reserve);
        match i.map(|i| self.unpriced[i]) {
            Some(UNPRICED_STALE) => err!(BallastError::OracleStale),
            Some(UNPRICED_WIDE) => err!(BallastError::OracleConfidenceTooWide),
            _ => Ok(()),
        }
    }

    fn load_inner<'info>(
        obligation: &Obligation,
        market: &Pubkey,
        remaining: &'info [AccountInfo<'info>],
        now: i64,
        dust_micro_usd: Option<u64>,
    ) -> Result<Self> {
        let (keys, kinds, n) = obligation.health_reserves_with_kinds();
        require!(
            remaining.len() >= 2 * n,
            BallastError::HealthAccountsMismatch
        );
        let mut loaded: [Option<(ReserveView, OraclePrice)>; MAX_POSITIONS] = [None; MAX_POSITIONS];
        let mut unpriced = [0u8; MAX_POSITIONS];
        let mut at = 0;
        for i in 0..n {
            crate::cu_trace!("health: pair start");
            let reserve_info = remaining
                .get(at)
                .ok_or_else(|| error!(BallastError::HealthAccountsMismatch))?;
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
            let oracle = remaining
                .get(at + 1)
                .ok_or_else(|| error!(BallastError::HealthAccountsMismatch))?;
            let strategy = if reserve.treasury.has_strategy() {
                let s = remaining
                    .get(at + 2)
                    .filter(|s| *s.key == reserve.treasury.strategy_reserve)
                    .ok_or_else(|| error!(BallastError::StrategyAccountRequired))?;
                at += 3;
                Some(s)
            } else {
                at += 2;
                None
            };
            let collateral = kinds[i] & 1 != 0;
            // Only what this obligation's positions in the reserve value.
            let (mut view, price) = match super::oracle_account::load_price(oracle, &reserve, now) {
                Ok(price) => {
                    crate::cu_trace!("health: price loaded", price);
                    let view = reserve.view_for(now, collateral, kinds[i] & 2 != 0)?;
                    (view, price)
                }
                Err(e) => {
                    let collateral_only = kinds[i] == 1;
                    let dust = match dust_micro_usd {
                        Some(d) if collateral_only => {
                            unpriced_dust(obligation, &keys[i], &reserve, oracle, now, d)?
                        }
                        _ => None,
                    };
                    let (view, price, tag) = dust.ok_or(e)?;
                    unpriced[i] = tag;
                    (view, price)
                }
            };
            if let (Some(s), true) = (strategy, collateral) {
                let marked = marked_deployed(&reserve, s, now)?;
                view.supply = crate::engine::treasury::health_supply(
                    view.supply,
                    reserve.treasury.deployed_amount,
                    marked,
                )?;
                crate::cu_trace!("health: strategy marked");
            }
            crate::cu_trace!("health: view built", view);
            loaded[i] = Some((view, price));
        }
        require!(at == remaining.len(), BallastError::HealthAccountsMismatch);
        Ok(Self {
            keys,
            len: n,
            loaded,
            unpriced,
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

/// The value now of `reserve`'s deployed treasury shares, base units,
/// rounded down: the shares at the exchange rate of the strategy reserve
/// `strategy` (key, owner and discriminator checked against `reserve`'s
/// configuration), its interest projected to `now` in place
/// ([`Reserve::projected_supply`]: no copy, nothing written; the value the
/// `deposit`/`withdraw` mark, [`treasury_cpi::mark_readonly`], would write).
/// 0 without deployed shares (the account is then not read). Errors: [`BallastError::TreasuryAccountsMismatch`]
/// (not the configured strategy, or not a `Reserve` of this program),
/// [`BallastError::MathOverflow`].
///
/// [`treasury_cpi::mark_readonly`]: super::treasury_cpi::mark_readonly
pub fn marked_deployed(reserve: &Reserve, strategy: &AccountInfo, now: i64) -> Result<u64> {
    let shares = reserve.treasury.deployed_shares;
    if shares == 0 {
        return Ok(0);
    }
    require!(
        reserve.treasury.has_strategy()
            && *strategy.key == reserve.treasury.strategy_reserve
            && *strategy.owner == crate::ID
            && strategy.data_len() >= 8 + Reserve::SIZE,
        BallastError::TreasuryAccountsMismatch
    );
    let data = strategy.try_borrow_data()?;
    require!(
        data[..8] == *Reserve::DISCRIMINATOR,
        BallastError::TreasuryAccountsMismatch
    );
    // In place (no copy): the supply the strategy's accrual to now would
    // leave ([`Reserve::projected_supply`]).
    let s: &Reserve = bytemuck::from_bytes(&data[8..8 + Reserve::SIZE]);
    crate::engine::shares::tokens_for_shares_floor(
        shares,
        s.projected_supply(now)?,
        s.deposit_shares,
    )?
    .to_floor_u64()
}

/// Splits `remaining` into the obligation's health accounts (see the module
/// doc) and what follows them (an instruction's own trailing accounts, such
/// as `withdraw`'s recall accounts or the strategy reserve that marks the
/// instruction's reserve). Walks the layout by keys, reading only the last
/// reserve's configured strategy; [`HealthAccounts::load`] validates the
/// rest (a misplaced account is refused there). When
/// `remaining` does not start with the obligation's first health reserve
/// (no health accounts passed, as a `withdraw` without debt may), the
/// health part is empty. Errors: [`BallastError::HealthAccountsMismatch`]
/// (a reserve out of place or missing, or its oracle missing),
/// [`BallastError::StrategyAccountRequired`] (the accounts end where a
/// strategy reserve is due), [`BallastError::HealthReserveInvalid`] (not a
/// `Reserve` of this program).
pub fn split<'a, 'info>(
    obligation: &Obligation,
    remaining: &'a [AccountInfo<'info>],
) -> Result<(&'a [AccountInfo<'info>], &'a [AccountInfo<'info>])> {
    let (keys, n) = obligation.health_reserves();
    if n == 0 || remaining.first().map(|a| *a.key) != Some(keys[0]) {
        return Ok((&remaining[..0], remaining));
    }
    // Keys only, except for the last reserve: a strategy reserve is in
    // another market, so it is never the next health reserve's key; whether
    // the last reserve has one is read from its account.
    let mut at = 0;
    for i in 0..n {
        require!(
            remaining.get(at).map(|a| a.key) == Some(&keys[i]) && at + 2 <= remaining.len(),
            BallastError::HealthAccountsMismatch
        );
        at += 2;
        let strategy = match keys[..n].get(i + 1) {
            Some(next) => remaining.get(at).is_some_and(|a| a.key != next),
            None => {
                let info = &remaining[at - 2];
                let data = info.try_borrow_data()?;
                require!(
                    *info.owner == crate::ID
                        && data.len() >= 8 + Reserve::SIZE
                        && data[..8] == *Reserve::DISCRIMINATOR,
                    BallastError::HealthReserveInvalid
                );
                let reserve: &Reserve = bytemuck::from_bytes(&data[8..8 + Reserve::SIZE]);
                reserve.treasury.has_strategy()
            }
        };
        if strategy {
            at += 1;
            require!(at <= remaining.len(), BallastError::StrategyAccountRequired);
        }
    }
    Ok(remaining.split_at(at))
}

/// [`HealthAccounts::unpriced`]: the oracle was stale.
pub const UNPRICED_STALE: u8 = 1;
/// [`HealthAccounts::unpriced`]: the oracle's confidence was too wide.
pub const UNPRICED_WIDE: u8 = 2;

/// For a reserve whose oracle failed the age or confidence check: when the
/// oracle passes every other check (configured account, fully verified,
/// the reserve's feed, positive prices) and the obligation's collateral in
/// it is worth at most `dust` micro-USD at that last price (unweighted,
/// rounded up), its view with zero weights, the last price and the check
/// it failed; otherwise `None` (the caller returns the oracle's error).
/// Out of line: the health loop's common path stays as it was.
#[cold]
#[inline(never)]
fn unpriced_dust(
    obligation: &Obligation,
    reserve_key: &Pubkey,
    reserve: &Reserve,
    oracle: &AccountInfo,
    now: i64,
    dust: u64,
) -> Result<Option<(ReserveView, OraclePrice, u8)>> {
    use crate::engine::fx::{fx_u64, BPS};
    use crate::engine::health::UnitPrice;
    use crate::engine::oracle::{validate_price, OracleLimits};
    if *oracle.key != reserve.oracle || *oracle.owner != pyth_solana_receiver_sdk::ID {
        return Ok(None);
    }
    let update = {
        let data = oracle.try_borrow_data()?;
        super::oracle_account::read_price_fields(&data)?
    };
    let strict = super::oracle_account::limits(reserve);
    let relaxed = OracleLimits {
        max_age_secs: u64::MAX,
        max_conf_bps: u16::MAX,
        ..strict
    };
    let Ok(price) = validate_price(&update, &relaxed, now) else {
        return Ok(None);
    };
    let age = now.saturating_sub(update.price_message.publish_time).max(0) as u64;
    let tag = if age > strict.max_age_secs {
        UNPRICED_STALE
    } else {
        UNPRICED_WIDE
    };
    let Some(i) = obligation.find(reserve_key, crate::state::PositionKind::Collateral) else {
        return Ok(None);
    };
    let mut view = reserve.view_for(now, true, false)?;
    let tokens = view.collateral_tokens(obligation.positions[i].deposit_shares)?;
    let value = UnitPrice::new(price.price as i128, BPS, view.decimals, price.exponent)?
        .value_ceil(tokens)?;
    if value > fx_u64(dust) || value.to_ceil_u64().is_err() {
        return Ok(None);
    }
    view.ltv_bps = 0;
    view.liquidation_threshold_bps = 0;
    Ok(Some((view, price, tag)))
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
