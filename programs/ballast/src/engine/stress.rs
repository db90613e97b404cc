//! One obligation under a price shock: its health under both requirements
//! and the liquidation price of each collateral, what `obligation_stress`
//! returns so that an integrating program can check by CPI that a position
//! survives a stated shock, and what the keeper can compute off-chain.
//!
//! ## Shock
//!
//! One factor per health reserve of the obligation (the order of
//! `Obligation::health_reserves`: distinct reserves of the open positions in
//! slot order of first appearance), in bps of the oracle price: 10,000 is
//! unchanged, 5,000 halves it, 20,000 doubles it; bounded to
//! [`MIN_SHOCK_BPS`]`..=`[`MAX_SHOCK_BPS`] (a price can't be shocked to zero
//! or by more than 100x). The spot, confidence, EMA and EMA confidence of the
//! reserve's validated oracle reading are all multiplied by the factor (the
//! confidence stays the same fraction of the price), exactly: the mantissas
//! are multiplied by `bps` and the exponent lowered by 4 ([`shocked_price`]).
//! Everything else (reserve states projected to now, weights, roundings) is
//! the health check's own ([`super::health::obligation_health`]), so a
//! factor of 10,000 everywhere gives exactly the health `borrow` or
//! `liquidate` would compute now.
//!
//! ## Liquidation price
//!
//! For each reserve held as collateral: the smallest spot price mantissa
//! `m`, at the exponent of that reserve's oracle reading
//! ([`StressReserve::exponent`]), at which the Maintenance requirement holds
//! (`weighted debt <= weighted collateral`) with every other reserve at its
//! shocked price. `liquidate` accepts the obligation exactly when the price
//! is below it (`m - 1` and under: Maintenance health < 1; `m` and above:
//! `ObligationHealthy`). It is found on the engine's own valuation (whole
//! base units and micro-USD, rounded as the health check rounds): a
//! closed-form estimate `(D_others - C_others) / (value of the position per
//! mantissa unit)`, then a galloping search and bisection on the exact
//! predicate, which is monotone in `m`. Encodings:
//!
//! * [`LIQUIDATION_PRICE_NONE`] (0): never liquidated through this price: the
//!   obligation has no debt, or its other collateral covers the debt even
//!   with this asset worth nothing.
//! * [`LIQUIDATION_PRICE_ANY`] (`u64::MAX`): no price up to `i64::MAX`
//!   satisfies Maintenance: liquidatable whatever this asset's price.
//! * Debt reserves carry 0 (the program refuses collateral and debt in one
//!   reserve, `SameReserveLoop`, so a reserve is one or the other).
//!
//! ## Layout (the instruction's return data)
//!
//! The borsh encoding of [`ObligationStress`], [`OBLIGATION_STRESS_LEN`] =
//! 561 bytes, little endian, in field order (offsets in brackets):
//! `obligation` (32) [0], `timestamp` (i64) [32], `initial_health` [40] and
//! `maintenance_health` [56] (I80F48 bits as i128, 16 each: weighted
//! collateral / weighted debt rounded down; `i128::MAX`, [`NO_DEBT_HEALTH`],
//! without debt), `initial_collateral` [72], `initial_debt` [88],
//! `maintenance_collateral` [104], `maintenance_debt` [120] (u128 each,
//! weighted values in micro-USD, collateral rounded down and debt up, as the
//! health check values them), `spot_collateral` [136] and `spot_debt` [152]
//! (u128 micro-USD, unweighted at the shocked spot prices, collateral down,
//! debt up), `reserve_count` (u8) [168], then 8 ([`MAX_POSITIONS`]) entries
//! of 49 bytes each [169 + 49 i]: `reserve` (32), `kind` (u8: 1 collateral,
//! 2 debt, 0 unused entry), `shock_bps` (u32), `exponent` (i32),
//! `liquidation_price` (u64); entries at and past `reserve_count` are zero.

use anchor_lang::prelude::*;

use super::fx::*;
use super::health::{obligation_health, spot_values, Requirement, ReserveView, UnitPrice};
use super::oracle::OraclePrice;
use super::position::{Position, PositionKind};
use super::safe_math::checked;
use crate::errors::BallastError;

/// Positions (and so health reserves) of an obligation; the length of
/// [`ObligationStress::reserves`].
pub const MAX_POSITIONS: usize = 8;

/// Smallest shock factor, bps of the price (a price can't be shocked to 0).
pub const MIN_SHOCK_BPS: u32 = 1;
/// Largest shock factor, bps of the price (100x).
pub const MAX_SHOCK_BPS: u32 = 1_000_000;
/// A shock factor that leaves the price unchanged, bps.
pub const UNSHOCKED_BPS: u32 = 10_000;

/// [`ObligationStress::initial_health`] / `maintenance_health` bits without
/// debt (or a ratio beyond I80F48's range): `i128::MAX`.
pub const NO_DEBT_HEALTH: i128 = i128::MAX;
/// [`StressReserve::liquidation_price`]: never liquidated through this price.
pub const LIQUIDATION_PRICE_NONE: u64 = 0;
/// [`StressReserve::liquidation_price`]: liquidatable at any price of it.
pub const LIQUIDATION_PRICE_ANY: u64 = u64::MAX;

/// Length of a borsh-encoded [`ObligationStress`] (the return data of
/// `obligation_stress`), bytes: 32 + 8 + 2 * 16 + 6 * 16 + 1 + 8 * 49.
pub const OBLIGATION_STRESS_LEN: usize = 561;
/// Length of one borsh-encoded [`StressReserve`], bytes: 32 + 1 + 4 + 4 + 8.
pub const STRESS_RESERVE_LEN: usize = 49;

/// One health reserve of the stressed obligation.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StressReserve {
    /// The reserve.
    pub reserve: Pubkey,
    /// 1: the obligation holds it as collateral; 2: as debt; 0: unused entry.
    pub kind: u8,
    /// The shock applied to its price, bps (10,000: unchanged).
    pub shock_bps: u32,
    /// Decimal exponent of [`StressReserve::liquidation_price`]: that of the
    /// reserve's oracle reading (unshocked), so the price compares with the
    /// feed's own mantissa.
    pub exponent: i32,
    /// Collateral: the smallest spot price mantissa at which Maintenance
    /// holds, others at their shocked prices (see the module doc; 0 and
    /// `u64::MAX` are the "none" and "any" encodings). Debt: 0.
    pub liquidation_price: u64,
}

/// An obligation's health at shocked prices; the return data of
/// `obligation_stress` (layout in the module doc).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObligationStress {
    /// The obligation.
    pub obligation: Pubkey,
    /// Unix time of the view, seconds.
    pub timestamp: i64,
    /// Initial health (weighted collateral / weighted debt, rounded down) as
    /// I80F48 bits; [`NO_DEBT_HEALTH`] without debt.
    pub initial_health: i128,
    /// Maintenance health, as `initial_health`. Below 1 (`1 << 48`):
    /// liquidatable at the shocked prices.
    pub maintenance_health: i128,
    /// Initial weighted collateral, micro-USD, rounded down.
    pub initial_collateral: u128,
    /// Initial weighted debt, micro-USD, rounded up.
    pub initial_debt: u128,
    /// Maintenance weighted collateral, micro-USD, rounded down.
    pub maintenance_collateral: u128,
    /// Maintenance weighted debt, micro-USD, rounded up.
    pub maintenance_debt: u128,
    /// Unweighted collateral at the shocked spot prices, micro-USD, down.
    pub spot_collateral: u128,
    /// Unweighted debt at the shocked spot prices, micro-USD, up.
    pub spot_debt: u128,
    /// How many entries of `reserves` are in use (the obligation's health
    /// reserves, in their order).
    pub reserve_count: u8,
    /// Per health reserve: shock and liquidation price.
    pub reserves: [StressReserve; 8],
}

const _: () = assert!(MAX_POSITIONS == crate::state::MAX_POSITIONS);

/// `p` with its price multiplied by `bps / 10,000`: the four mantissas
/// times `bps`, the exponent lowered by 4 (less the trailing zeros of `bps`,
/// so 10,000 returns `p` itself). Exact while the mantissas fit `i64`; past
/// that all four are divided by 10 (rounded down) and the exponent raised
/// until they do, a relative error below 1.1e-18. Errors:
/// [`BallastError::PriceShockOutOfRange`] (outside
/// [`MIN_SHOCK_BPS`]`..=`[`MAX_SHOCK_BPS`]), [`BallastError::MathOverflow`].
pub fn shocked_price(p: &OraclePrice, bps: u32) -> Result<OraclePrice> {
    require!(
        (MIN_SHOCK_BPS..=MAX_SHOCK_BPS).contains(&bps),
        BallastError::PriceShockOutOfRange
    );
    let (mut s, mut shift) = (bps as i128, 4i32);
    while shift > 0 && s % 10 == 0 {
        s /= 10;
        shift -= 1;
    }
    // |mantissa| < 2^63 and s <= 10^6: products fit i128.
    let mut v = [
        p.price as i128 * s,
        p.conf as i128 * s,
        p.ema_price as i128 * s,
        p.ema_conf as i128 * s,
    ];
    let mut exponent = checked(p.exponent.checked_sub(shift))?;
    while v
        .iter()
        .any(|x| *x > i64::MAX as i128 || *x < i64::MIN as i128)
    {
        for x in v.iter_mut() {
            *x = x.div_euclid(10);
        }
        exponent = checked(exponent.checked_add(1))?;
    }
    Ok(OraclePrice {
        price: v[0] as i64,
        conf: v[1] as u64,
        ema_price: v[2] as i64,
        ema_conf: v[3] as u64,
        exponent,
    })
}

/// Micro-USD value (an `Fx` holding a whole number) as `u128`, rounded up
/// when `ceil`.
fn micro_usd(v: Fx, ceil: bool) -> Result<u128> {
    let v = if ceil {
        v.checked_ceil()
    } else {
        v.checked_floor()
    };
    checked(v.and_then(|v| v.checked_to_num::<u128>()))
}

/// Health ratio as I80F48 bits, [`NO_DEBT_HEALTH`] without debt (or beyond
/// range).
fn ratio_bits(collateral: Fx, debt: Fx) -> i128 {
    if debt <= FX_ZERO {
        return NO_DEBT_HEALTH;
    }
    collateral
        .div_floor(debt)
        .map(|r| r.to_bits())
        .unwrap_or(NO_DEBT_HEALTH)
}

/// The stress view of obligation `key` (its `positions`) at unix time `now`:
/// `reserves` are its health reserves in order (at most [`MAX_POSITIONS`]),
/// `shocks_bps` one factor per reserve, and `lookup` the view and validated
/// oracle reading of each (on-chain from the health accounts, off-chain from
/// decoded accounts), as for [`obligation_health`]. Writes nothing.
///
/// Errors: [`BallastError::PriceShockLengthMismatch`] (`shocks_bps` is not
/// one per reserve), [`BallastError::PriceShockOutOfRange`],
/// [`BallastError::HealthAccountsMismatch`] (a reserve missing from
/// `lookup`), the valuation errors, [`BallastError::MathOverflow`].
///
/// Out of line, with the shocked readings boxed: on sBPF each frame has 4
/// KiB of stack.
#[inline(never)]
pub fn obligation_stress<'a>(
    key: Pubkey,
    now: i64,
    positions: &[Position],
    reserves: &[Pubkey],
    shocks_bps: &[u32],
    lookup: impl Fn(&Pubkey) -> Option<(&'a ReserveView, &'a OraclePrice)>,
) -> Result<ObligationStress> {
    require!(
        shocks_bps.len() == reserves.len() && reserves.len() <= MAX_POSITIONS,
        BallastError::PriceShockLengthMismatch
    );
    let mut shocked: Box<[Option<(ReserveView, OraclePrice)>; MAX_POSITIONS]> =
        Box::new([None; MAX_POSITIONS]);
    let mut out = ObligationStress {
        obligation: key,
        timestamp: now,
        reserve_count: reserves.len() as u8,
        ..Default::default()
    };
    for (i, (r, &bps)) in reserves.iter().zip(shocks_bps).enumerate() {
        let (view, price) = lookup(r).ok_or(error!(BallastError::HealthAccountsMismatch))?;
        shocked[i] = Some((*view, shocked_price(price, bps)?));
        out.reserves[i] = StressReserve {
            reserve: *r,
            kind: 0,
            shock_bps: bps,
            exponent: price.exponent,
            liquidation_price: 0,
        };
    }
    let look = |r: &Pubkey| {
        let i = reserves.iter().position(|k| k == r)?;
        shocked[i].as_ref().map(|(v, p)| (v, p))
    };
    crate::cu_trace!("stress: shocked");
    let init = obligation_health(positions, look, Requirement::Initial)?;
    crate::cu_trace!("stress: initial");
    let maint = obligation_health(positions, look, Requirement::Maintenance)?;
    crate::cu_trace!("stress: maintenance");
    let (spot_c, spot_d) = spot_values(positions, look)?;
    crate::cu_trace!("stress: spot");
    out.initial_health = ratio_bits(init.collateral, init.debt);
    out.maintenance_health = ratio_bits(maint.collateral, maint.debt);
    out.initial_collateral = micro_usd(init.collateral, false)?;
    out.initial_debt = micro_usd(init.debt, true)?;
    out.maintenance_collateral = micro_usd(maint.collateral, false)?;
    out.maintenance_debt = micro_usd(maint.debt, true)?;
    out.spot_collateral = micro_usd(spot_c, false)?;
    out.spot_debt = micro_usd(spot_d, true)?;

    for (i, r) in reserves.iter().enumerate() {
        let mine = || positions.iter().filter(move |p| p.reserve == *r);
        let collateral = mine().any(|p| p.kind() == PositionKind::Collateral);
        let debt = mine().any(|p| p.is_debt());
        out.reserves[i].kind = collateral as u8 | (debt as u8) << 1;
        if !collateral || debt {
            continue;
        }
        let (view, price) = shocked[i].as_ref().expect("loaded above");
        let shares: u64 = mine()
            .filter(|p| p.kind() == PositionKind::Collateral)
            .map(|p| p.deposit_shares)
            .sum();
        let own = view.collateral_value(shares, price, Requirement::Maintenance)?;
        let others = maint.collateral.sub_(own)?;
        out.reserves[i].liquidation_price =
            liquidation_price(view, shares, out.reserves[i].exponent, others, maint.debt)?;
        crate::cu_trace!("stress: liquidation price");
    }
    Ok(out)
}

/// The smallest spot mantissa `m` (at `exponent`) at which `others +
/// collateral_value(shares at m) >= debt` under Maintenance, with the
/// [`LIQUIDATION_PRICE_NONE`] / [`LIQUIDATION_PRICE_ANY`] encodings (see the
/// module doc). `others` and `debt` are weighted micro-USD. Errors:
/// valuation errors other than an overflow at a huge `m` (which counts as
/// covering any debt).
#[inline(never)]
pub fn liquidation_price(
    view: &ReserveView,
    shares: u64,
    exponent: i32,
    others: Fx,
    debt: Fx,
) -> Result<u64> {
    const MAX_M: u64 = i64::MAX as u64;
    // `ReserveView::collateral_value` at spot mantissa `m`, with the share
    // conversion done once: whole base units, then whole micro-USD, each
    // rounded down: `floor(whole * m * unit.num / unit.den)`, where
    // `UnitPrice::new(m, ..)` has numerator `m * unit.num` and the same
    // denominator. In `u128` while it fits, as `UnitPrice::value_floor_units`
    // computes it; past that, that function's exact path. `others` and
    // `debt` are sums of such whole micro-USD values.
    let whole = view.collateral_tokens(shares)?.to_floor_u64()?;
    let weight = view.liquidation_threshold_bps as u64;
    let unit = UnitPrice::new(1, weight, view.decimals, exponent)?;
    let per_num = (whole as u128).checked_mul(unit.num as u128);
    let whole_units = |v: Fx, ceil: bool| {
        let v = if ceil {
            v.checked_ceil()
        } else {
            v.checked_floor()
        };
        v.and_then(|v| v.checked_to_num::<u128>())
    };
    let others_u = whole_units(others, false).unwrap_or(u128::MAX);
    let debt_u = whole_units(debt, true).unwrap_or(u128::MAX);
    let sat = |m: u64| -> bool {
        if m == 0 {
            return others_u >= debt_u;
        }
        let fast = per_num
            .and_then(|p| p.checked_mul(m as u128))
            .map(|p| p / unit.den as u128);
        let value = match fast {
            Some(v) => Some(v),
            // An overflow of the exact path means a value beyond I80F48's
            // range: more than any debt the health check could have valued.
            None => UnitPrice::new(m as i128, weight, view.decimals, exponent)
                .and_then(|u| u.value_floor_units(whole))
                .ok()
                .and_then(|v| whole_units(v, false)),
        };
        match value {
            Some(v) => others_u.saturating_add(v) >= debt_u,
            None => true,
        }
    };
    if sat(0) {
        return Ok(LIQUIDATION_PRICE_NONE);
    }
    if per_num == Some(0) {
        // No tokens or a zero threshold: worth nothing at any price.
        return Ok(LIQUIDATION_PRICE_ANY);
    }
    // Estimate: the shortfall in whole micro-USD over the position's value
    // per mantissa unit, `per_num / den`; the search below corrects it on
    // the exact predicate.
    let shortfall = debt_u.saturating_sub(others_u);
    let m0 = match per_num {
        Some(p) => shortfall
            .checked_mul(unit.den as u128)
            .map(|x| x.div_ceil(p))
            .unwrap_or(MAX_M as u128)
            .clamp(1, MAX_M as u128) as u64,
        // A value per unit beyond 2^128: the smallest prices.
        None => 1,
    };
    // Bracket: !sat(lo), sat(hi), lo < hi; gallop out from the estimate.
    let (mut lo, mut hi) = (0u64, m0);
    let mut step = 1u64;
    if sat(m0) {
        loop {
            let c = m0.saturating_sub(step);
            if c <= lo {
                break;
            }
            if sat(c) {
                hi = c;
                step = step.saturating_mul(2);
            } else {
                lo = c;
                break;
            }
        }
    } else {
        lo = m0;
        loop {
            let c = m0.saturating_add(step).min(MAX_M);
            if sat(c) {
                hi = c;
                break;
            }
            if c == MAX_M {
                return Ok(LIQUIDATION_PRICE_ANY);
            }
            lo = c;
            step = step.saturating_mul(2);
        }
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if sat(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::fx::WrappedFx;
    use anchor_lang::AnchorSerialize;
    use proptest::prelude::*;

    fn price(mantissa: i64, conf: u64, exponent: i32) -> OraclePrice {
        OraclePrice {
            price: mantissa,
            conf,
            ema_price: mantissa,
            ema_conf: conf,
            exponent,
        }
    }

    fn view(decimals: u8, ltv: u16, lt: u16) -> ReserveView {
        ReserveView {
            decimals,
            supply: fx_u64(1_000_000_000_000_000),
            deposit_shares: 1_000_000_000_000_000,
            borrow_index: FX_ONE,
            ltv_bps: ltv,
            liquidation_threshold_bps: lt,
            borrow_factor_bps: 10_000,
            now: 0,
        }
    }

    fn pos(reserve: Pubkey, kind: PositionKind, amount: u64) -> Position {
        let mut p = Position {
            reserve,
            kind: kind as u8,
            _padding: [0; 7],
            deposit_shares: 0,
            borrow_shares: WrappedFx::default(),
            _reserved: [0; 16],
        };
        match kind {
            PositionKind::Collateral => p.deposit_shares = amount,
            PositionKind::Debt => p.borrow_shares = WrappedFx::new(fx_u64(amount)),
            PositionKind::TermDebt => p.deposit_shares = amount,
            PositionKind::Empty => {}
        }
        p
    }

    /// SOL (9 decimals, $`sol` at exponent -8, LT 80%) and BTC (8
    /// decimals, $`btc`, LT 75%) collateral, USDC debt (6 decimals, $1).
    struct Book {
        keys: [Pubkey; 3],
        views: [ReserveView; 3],
        prices: [OraclePrice; 3],
        positions: Vec<Position>,
    }

    fn book(sol_tokens: u64, btc_tokens: u64, usdc_debt: u64, sol: i64, btc: i64) -> Book {
        let keys = [
            Pubkey::new_unique(),
            Pubkey::new_unique(),
            Pubkey::new_unique(),
        ];
        let mut positions = vec![pos(keys[0], PositionKind::Collateral, sol_tokens)];
        if btc_tokens > 0 {
            positions.push(pos(keys[1], PositionKind::Collateral, btc_tokens));
        }
        if usdc_debt > 0 {
            positions.push(pos(keys[2], PositionKind::Debt, usdc_debt));
        }
        Book {
            keys,
            views: [
                view(9, 7_500, 8_000),
                view(8, 7_000, 7_500),
                view(6, 9_000, 9_500),
            ],
            prices: [
                price(sol, 1_000_000, -8),
                price(btc, 10_000_000, -8),
                price(100_000_000, 10_000, -8),
            ],
            positions,
        }
    }

    impl Book {
        fn reserves(&self) -> Vec<Pubkey> {
            let mut r = Vec::new();
            for p in &self.positions {
                if !r.contains(&p.reserve) {
                    r.push(p.reserve);
                }
            }
            r
        }

        fn stress(&self, shocks: &[u32]) -> Result<ObligationStress> {
            obligation_stress(
                Pubkey::default(),
                0,
                &self.positions,
                &self.reserves(),
                shocks,
                |r| self.lookup(r),
            )
        }

        fn lookup(&self, r: &Pubkey) -> Option<(&ReserveView, &OraclePrice)> {
            let i = self.keys.iter().position(|k| k == r)?;
            Some((&self.views[i], &self.prices[i]))
        }

        /// Maintenance satisfied with reserve `i`'s price set to `m`.
        fn maint_ok_at(&self, i: usize, m: i64) -> bool {
            let mut b = Book {
                keys: self.keys,
                views: self.views,
                prices: self.prices,
                positions: self.positions.clone(),
            };
            b.prices[i].price = m;
            b.prices[i].ema_price = m;
            obligation_health(&b.positions, |r| b.lookup(r), Requirement::Maintenance)
                .unwrap()
                .is_satisfied()
        }
    }

    #[test]
    fn unshocked_is_the_health_check() {
        // 10 SOL at $150 and 0.1 BTC at $60,000, 1,500 USDC debt.
        let b = book(
            10_000_000_000,
            10_000_000,
            1_500_000_000,
            15_000_000_000,
            6_000_000_000_000,
        );
        let s = b.stress(&[10_000; 3]).unwrap();
        let m = obligation_health(&b.positions, |r| b.lookup(r), Requirement::Maintenance).unwrap();
        let i = obligation_health(&b.positions, |r| b.lookup(r), Requirement::Initial).unwrap();
        // 10 * 150 * 0.8 + 0.1 * 60,000 * 0.75 = 1,200 + 4,500 = 5,700 USD.
        assert_eq!(s.maintenance_collateral, 5_700_000_000);
        assert_eq!(fx_u64(s.maintenance_collateral as u64), m.collateral);
        assert_eq!(fx_u64(s.initial_collateral as u64), i.collateral);
        assert_eq!(s.maintenance_debt, 1_500_000_000);
        assert_eq!(s.maintenance_health, m.ratio().unwrap().to_bits());
        assert_eq!(s.initial_health, i.ratio().unwrap().to_bits());
        assert_eq!(s.spot_collateral, 7_500_000_000);
        assert_eq!(s.reserve_count, 3);
        assert_eq!(s.reserves[0].kind, 1);
        assert_eq!(s.reserves[2].kind, 2);
        assert_eq!(s.reserves[2].liquidation_price, 0);
        assert_eq!(s.reserves[3], StressReserve::default());
        // SOL's liquidation price: BTC covers 4,500 of 1,500: none.
        assert_eq!(s.reserves[0].liquidation_price, LIQUIDATION_PRICE_NONE);
    }

    #[test]
    fn a_shock_scales_values_and_moves_health() {
        let b = book(10_000_000_000, 0, 1_000_000_000, 15_000_000_000, 0);
        // SOL halved: 10 * 75 * 0.8 = 600 USD against 1,000 USD of debt.
        let s = b.stress(&[5_000, 10_000]).unwrap();
        assert_eq!(s.maintenance_collateral, 600_000_000);
        assert_eq!(s.spot_collateral, 750_000_000);
        assert_eq!(
            Fx::from_bits(s.maintenance_health),
            fx_u64(600).div_floor(fx_u64(1_000)).unwrap()
        );
        // USDC at 2x: debt doubles.
        let s = b.stress(&[10_000, 20_000]).unwrap();
        assert_eq!(s.maintenance_debt, 2_000_000_000);
        // Liquidation price of SOL: 1,000 / (10 * 0.8) = $125 = 12,500,000,000 at -8.
        let s = b.stress(&[10_000, 10_000]).unwrap();
        assert_eq!(s.reserves[0].liquidation_price, 12_500_000_000);
        assert_eq!(s.reserves[0].exponent, -8);
        assert!(b.maint_ok_at(0, 12_500_000_000));
        assert!(!b.maint_ok_at(0, 12_499_999_999));
        // With USDC at 2x the debt doubles, and so does the SOL price.
        let s = b.stress(&[10_000, 20_000]).unwrap();
        assert_eq!(s.reserves[0].liquidation_price, 25_000_000_000);
    }

    #[test]
    fn no_debt_and_hopeless_encodings() {
        let b = book(10_000_000_000, 0, 0, 15_000_000_000, 0);
        let s = b.stress(&[10_000]).unwrap();
        assert_eq!(s.maintenance_health, NO_DEBT_HEALTH);
        assert_eq!(s.initial_health, NO_DEBT_HEALTH);
        assert_eq!(s.reserves[0].liquidation_price, LIQUIDATION_PRICE_NONE);
        // A collateral with a zero liquidation threshold can't save it.
        let mut b = book(10_000_000_000, 0, 1_000_000_000, 15_000_000_000, 0);
        b.views[0].liquidation_threshold_bps = 0;
        let s = b.stress(&[10_000, 10_000]).unwrap();
        assert_eq!(s.reserves[0].liquidation_price, LIQUIDATION_PRICE_ANY);
    }

    #[test]
    fn shock_vector_is_checked() {
        let b = book(10_000_000_000, 0, 1_000_000_000, 15_000_000_000, 0);
        let code = |e: Error| match e {
            Error::AnchorError(a) => a.error_code_number,
            _ => 0,
        };
        let len = BallastError::PriceShockLengthMismatch as u32 + 6000;
        let range = BallastError::PriceShockOutOfRange as u32 + 6000;
        assert_eq!(code(b.stress(&[10_000]).unwrap_err()), len);
        assert_eq!(code(b.stress(&[10_000; 3]).unwrap_err()), len);
        assert_eq!(code(b.stress(&[0, 10_000]).unwrap_err()), range);
        assert_eq!(
            code(b.stress(&[10_000, MAX_SHOCK_BPS + 1]).unwrap_err()),
            range
        );
        // The extremes are accepted.
        let lo = b.stress(&[MIN_SHOCK_BPS, 10_000]).unwrap();
        assert_eq!(lo.maintenance_collateral, 120_000); // 1,200 USD * 1e-4
        let hi = b.stress(&[MAX_SHOCK_BPS, MAX_SHOCK_BPS]).unwrap();
        assert_eq!(hi.maintenance_debt, 100_000_000_000);
    }

    #[test]
    fn shocked_price_is_exact_then_rescaled() {
        let p = price(15_000_000_000, 1_000_000, -8);
        assert_eq!(shocked_price(&p, 10_000).unwrap(), p);
        let h = shocked_price(&p, 5_000).unwrap();
        assert_eq!((h.price, h.exponent), (75_000_000_000, -9));
        let odd = shocked_price(&p, 12_345).unwrap();
        assert_eq!(
            (odd.price, odd.conf, odd.exponent),
            (15_000_000_000 * 12_345, 12_345_000_000, -12)
        );
        // Past i64: rescaled by tens.
        let big = price(i64::MAX / 2, 0, -8);
        let s = shocked_price(&big, 999_999).unwrap();
        let exact = (i64::MAX / 2) as f64 * 99.9999;
        let got = s.price as f64 * 10f64.powi(s.exponent + 8);
        assert!(((got - exact) / exact).abs() < 1e-15);
    }

    #[test]
    fn layout_is_the_documented_one() {
        let mut s = ObligationStress {
            reserve_count: 1,
            ..Default::default()
        };
        s.reserves[0].liquidation_price = 0x0102_0304_0506_0708;
        s.reserves[7].liquidation_price = u64::MAX;
        s.maintenance_health = 1 << 48;
        let mut bytes = Vec::new();
        s.serialize(&mut bytes).unwrap();
        assert_eq!(bytes.len(), OBLIGATION_STRESS_LEN);
        assert_eq!(bytes[168], 1);
        assert_eq!(
            i128::from_le_bytes(bytes[56..72].try_into().unwrap()),
            1 << 48
        );
        let e0 = 169 + 32 + 1 + 4 + 4;
        assert_eq!(
            u64::from_le_bytes(bytes[e0..e0 + 8].try_into().unwrap()),
            0x0102_0304_0506_0708
        );
        let e7 = 169 + 7 * STRESS_RESERVE_LEN + 41;
        assert_eq!(&bytes[e7..e7 + 8], &[0xff; 8]);
        assert_eq!(e7 + 8, OBLIGATION_STRESS_LEN);
    }

    proptest! {
        /// The liquidation price is where Maintenance crosses 1: satisfied
        /// at it, not one mantissa unit below, with the other collateral
        /// and the debt at their shocked prices.
        #[test]
        fn liquidation_price_is_where_health_crosses_one(
            sol in 1u64..1_000_000_000_000_000,
            btc in 0u64..10_000_000_000,
            debt in 1u64..1_000_000_000_000_000,
            sol_px in 1i64..100_000_000_000_000,
            btc_px in 1i64..20_000_000_000_000,
            shock_btc in 1u32..=MAX_SHOCK_BPS,
            shock_usdc in 1u32..=MAX_SHOCK_BPS,
        ) {
            let b = book(sol, btc, debt, sol_px, btc_px);
            let reserves = b.reserves();
            let mut shocks = vec![10_000u32; reserves.len()];
            if btc > 0 { shocks[1] = shock_btc; }
            *shocks.last_mut().unwrap() = shock_usdc;
            let s = b.stress(&shocks).unwrap();
            // Apply the other shocks to the book, then move SOL alone.
            let mut shocked = Book { keys: b.keys, views: b.views, prices: b.prices, positions: b.positions.clone() };
            for (k, bps) in reserves.iter().zip(&shocks) {
                let i = b.keys.iter().position(|x| x == k).unwrap();
                shocked.prices[i] = shocked_price(&b.prices[i], *bps).unwrap();
            }
            let lp = s.reserves[0].liquidation_price;
            prop_assert_eq!(s.reserves[0].exponent, -8);
            if lp == LIQUIDATION_PRICE_NONE {
                prop_assert!(shocked.maint_ok_at(0, 0));
            } else if lp == LIQUIDATION_PRICE_ANY {
                prop_assert!(!shocked.maint_ok_at(0, i64::MAX));
            } else {
                prop_assert!(shocked.maint_ok_at(0, lp as i64));
                prop_assert!(!shocked.maint_ok_at(0, lp as i64 - 1));
            }
        }
    }
}
