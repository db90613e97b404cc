//! Liquidation economics: how much of a debt a liquidator may repay, the
//! bonus they earn, and the collateral they receive.
//!
//! An obligation whose Maintenance health `h = weighted collateral / weighted
//! debt` is below 1 can be liquidated by anyone: the liquidator repays part of
//! one debt position and receives collateral from one collateral position worth
//! the repaid value times `1 + bonus`, valued at spot prices.
//!
//! * **Close factor** (Compound, Solend, Aave): at most `close_factor` of the
//!   debt position per liquidation; all of it when `h` is below
//!   `full_liquidation_health_bps` (Aave's 100% below HF 0.95) or when the
//!   position's value is dust (so nothing unliquidatable is left behind).
//! * **Bonus** grows with the shortfall, Euler v1's "discount = 1 - health"
//!   (a soft Dutch auction): `bonus = clamp(bonus_min + (1 - h), bonus_min,
//!   bonus_max)`.
//! * **Strict-improvement cap**: taking collateral at weight `LT_c` for
//!   debt at weight `BF_d` changes `h` by the sign of `h * BF_d - (1 +
//!   bonus) * LT_c`; the bonus that leaves `h` unchanged is `m = h * BF_d /
//!   LT_c - 1` (for one collateral and one debt at `BF = 1`, `m` is the
//!   collateral's excess over the debt, `C / D - 1`: Mars's and klend's
//!   "CR - 1" solvency cap). A bonus of `m` made a liquidation neutral, so
//!   it could be repeated at the close factor until the position was gone
//!   (53 calls closed a health-0.99 obligation at close factor 20%). For a
//!   solvent obligation the bonus is now capped at `m / 2`: the excess is
//!   shared evenly between the liquidator and the obligation's health, so
//!   every liquidation strictly improves it. A pair with `m <= 0` (a
//!   collateral whose LT is at least `h * BF_d`) cannot improve health with
//!   any bonus and is refused ([`BallastError::LiquidationCannotImproveHealth`]);
//!   a solvent obligation always has another pair that can (its
//!   highest-BF debt against its lowest-LT collateral). An insolvent
//!   obligation (collateral worth at most its debt at spot) cannot be made
//!   healthier by any liquidation; it is closed out in full at the uncapped
//!   bonus and what debt remains goes to the bad-debt path (insurance, then
//!   depositors).
//! * **Repay allowance**: the larger of the close factor and the repay that
//!   restores health to 1 ([`restore_repay`], Mars's "target health
//!   factor" with a target of 1), capped at the position. So one
//!   liquidation at the full allowance either restores health (after which
//!   `liquidate` refuses with `ObligationHealthy`), repays the debt position
//!   in full, or takes the collateral position in full: an obligation with
//!   `n` open positions needs at most `n - 1` liquidations. (Aave v3 instead
//!   requires `LT * (1 + bonus) < 1` per asset and lets HF < 0.95 close
//!   100%; klend closes 100% above its insolvency-risk LTV.)
//! * **Protocol share**: `protocol_bonus_share_bps` of the bonus goes to the
//!   collateral reserve's insurance vault (Aave takes 10% of the bonus,
//!   marginfi 2.5 of 5 points).
//!
//! [`plan_liquidation`] puts these together into everything one liquidation
//! moves ([`LiquidationPlan`]), from an obligation's positions and each
//! reserve's view and price: `liquidate` books and pays exactly that plan,
//! and the keeper calls it on decoded accounts to know the seize in advance.
//!
//! Units: bps for shares and health thresholds, micro-USD for values, token
//! base units for amounts. Rounding: the repay cap rounds down, the
//! collateral seized rounds down, the protocol's cut rounds down (the
//! liquidator is never paid more than the formula).

use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use super::bounds;
use super::fx::*;
use super::health::{obligation_health, spot_values, Health, Requirement, ReserveView, UnitPrice};
use super::oracle::OraclePrice;
use super::position::{find_position, Position, PositionKind};
use super::safe_math::{checked, SafeCast, SafeMath};
use super::shares::{
    debt_for_shares, debt_shares_for_repay, shares_for_withdraw_ceil, tokens_for_shares_floor,
};
use crate::errors::BallastError;

/// The market's liquidation parameters (set by the admin).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Pod, Zeroable, AnchorSerialize, AnchorDeserialize,
)]
#[repr(C)]
pub struct LiquidationConfig {
    /// Remaining debt value below which a position may be closed in full,
    /// micro-USD.
    pub dust_debt_micro_usd: u64,
    /// Share of a debt position repayable in one liquidation, bps (1..=10,000).
    pub close_factor_bps: u16,
    /// Maintenance health below which the whole position may be repaid, bps
    /// of 1 (e.g. 9,500: health < 0.95).
    pub full_liquidation_health_bps: u16,
    /// Least bonus, bps of the repaid value.
    pub bonus_min_bps: u16,
    /// Greatest bonus, bps (<= 5,000).
    pub bonus_max_bps: u16,
    /// Share of the bonus paid to the insurance vault, bps.
    pub protocol_bonus_share_bps: u16,
    /// Padding; zero.
    pub _padding: [u8; 6],
}

impl LiquidationConfig {
    /// Solend's published parameters: close factor 20%, bonus 5%, no
    /// protocol share; full liquidation below health 0.95 or under $1 of debt.
    pub const SOLEND_LIKE: Self = Self {
        dust_debt_micro_usd: 1_000_000,
        close_factor_bps: 2_000,
        full_liquidation_health_bps: 9_500,
        bonus_min_bps: 500,
        bonus_max_bps: 500,
        protocol_bonus_share_bps: 0,
        _padding: [0; 6],
    };

    /// Checks ranges (the constants of [`super::bounds`]) and
    /// `bonus_min_bps <= bonus_max_bps`. Errors:
    /// [`BallastError::InvalidLiquidationConfig`].
    pub fn validate(&self) -> Result<()> {
        require!(
            bounds::CLOSE_FACTOR_BPS.contains(&self.close_factor_bps)
                && bounds::FULL_LIQUIDATION_HEALTH_BPS.contains(&self.full_liquidation_health_bps)
                && self.bonus_min_bps <= self.bonus_max_bps
                && bounds::LIQUIDATION_BONUS_BPS.contains(&self.bonus_max_bps)
                && bounds::PROTOCOL_BONUS_SHARE_BPS.contains(&self.protocol_bonus_share_bps)
                && self._padding == [0; 6],
            BallastError::InvalidLiquidationConfig
        );
        Ok(())
    }

    /// The bonus for an obligation of Maintenance health `health` (a ratio)
    /// taking collateral of liquidation threshold `lt_c_bps` for debt of
    /// borrow factor `bf_d_bps`; `solvent` when its collateral is worth more
    /// than its debt at spot. In bps, rounded down: `clamp(bonus_min + (1 -
    /// h), bonus_min, bonus_max)`, and for a solvent obligation at most half
    /// the neutral bonus `m = h * BF_d / LT_c - 1` (module doc), so that the
    /// liquidation strictly improves health. Errors:
    /// [`BallastError::LiquidationCannotImproveHealth`] (solvent and `m <=
    /// 0`), [`BallastError::MathOverflow`].
    pub fn bonus_bps(
        &self,
        health: Fx,
        solvent: bool,
        lt_c_bps: u16,
        bf_d_bps: u32,
    ) -> Result<u16> {
        let bps = BPS as i128;
        let shortfall = FX_ONE
            .sub_(health.min(FX_ONE))?
            .mul_int(bps)?
            .to_floor_u64()?;
        let bonus = (self.bonus_min_bps as u64 + shortfall)
            .clamp(self.bonus_min_bps as u64, self.bonus_max_bps as u64);
        if !solvent || lt_c_bps == 0 {
            return bonus.cast();
        }
        // (1 + b) * LT_c < h * BF_d  <=>  b < m = h * BF_d / LT_c - 1; the
        // cap is m / 2 (in bps, rounded down).
        let m = health
            .mul_div_int_floor(bf_d_bps as i128 * bps, lt_c_bps as i128)?
            .sub_(fx_u64(BPS))?;
        require!(m > FX_ZERO, BallastError::LiquidationCannotImproveHealth);
        let cap = m.div_int_floor(2)?.to_floor_u64()?;
        bonus.min(cap).cast()
    }

    /// The most debt (base units) a liquidator may repay on a position owing
    /// `debt_tokens` worth `debt_value` micro-USD (unweighted, spot) when the
    /// obligation's Maintenance health is `health`: all of it when
    /// `health < full_liquidation_health` or the value is dust, else
    /// `close_factor` of it, rounded down.
    pub fn max_repay(&self, debt_tokens: Fx, debt_value: Fx, health: Fx) -> Result<Fx> {
        let full = health < fx_bps_floor(self.full_liquidation_health_bps as u64)?
            || debt_value <= fx_u64(self.dust_debt_micro_usd);
        if full {
            return Ok(debt_tokens);
        }
        debt_tokens.mul_div_int_floor(self.close_factor_bps as i128, BPS as i128)
    }
}

/// Collateral seized for repaying `repay_tokens` of debt: `repay value * (1 +
/// bonus)` converted to collateral base units at spot, rounded down; and the
/// part of it that is bonus. `debt_price` and `coll_price` are unweighted
/// ([`UnitPrice`] with weight 10,000); `bonus_bps` from
/// [`LiquidationConfig::bonus_bps`].
pub fn seize_for_repay(
    repay_tokens: Fx,
    debt_price: &UnitPrice,
    coll_price: &UnitPrice,
    bonus_bps: u16,
) -> Result<(Fx, Fx)> {
    let value = debt_price.value_floor(repay_tokens)?;
    let with_bonus = value.mul_div_int_floor(BPS as i128 + bonus_bps as i128, BPS as i128)?;
    // tokens = value * den / num (inverse of the unit price), rounded down.
    let to_tokens = |v: Fx| -> Result<Fx> {
        require!(coll_price.num > 0, BallastError::OracleInvalidPrice);
        v.mul_div_int_floor(coll_price.den, coll_price.num)
    };
    let seized = to_tokens(with_bonus)?;
    let bonus_part = seized.sub_(to_tokens(value)?)?.max(FX_ZERO);
    Ok((seized, bonus_part))
}

/// The repay (debt base units, rounded up) after which an obligation of
/// Maintenance health `health` (weighted collateral `C_w` and debt `D_w`,
/// micro-USD) is healthy again, when `bonus_bps` is paid in collateral of
/// liquidation threshold `lt_c_bps` for debt of borrow factor `bf_d_bps`;
/// `debt_price` and `coll_price` are the unweighted spot unit prices. Each
/// debt base unit repaid (spot value `v_d`) removes `v_d * BF_d` of
/// weighted debt and `v_d * (1 + b) * LT_c` of weighted collateral, so
///
/// ```text
/// R = (D_w - C_w + slack) / (v_d * (BF_d - (1 + b) * LT_c))
/// ```
///
/// where `slack` (4 micro-USD plus two base units of each token at spot,
/// the debt weighted) absorbs the rounding of the liquidation and of the
/// health check after it (whole base units, whole micro-USD, shares).
/// `None` when no repay can restore health (`(1 + b) * LT_c >= BF_d`).
/// Errors: [`BallastError::OracleInvalidPrice`], [`BallastError::MathOverflow`].
pub fn restore_repay(
    health: &Health,
    debt_price: &UnitPrice,
    coll_price: &UnitPrice,
    bonus_bps: u16,
    lt_c_bps: u16,
    bf_d_bps: u32,
) -> Result<Option<Fx>> {
    let bps = BPS as i128;
    // BF_d - (1 + b) * LT_c, in bps^2.
    let k = (bf_d_bps as i128 * bps).safe_sub((bps + bonus_bps as i128) * lt_c_bps as i128)?;
    if k <= 0 {
        return Ok(None);
    }
    require!(debt_price.num > 0, BallastError::OracleInvalidPrice);
    let slack = fx_u64(4).add_(coll_price.value_ceil(fx_u64(2))?)?.add_(
        debt_price
            .value_ceil(fx_u64(2))?
            .mul_div_int_ceil(bf_d_bps as i128, bps)?,
    )?;
    let need = health
        .debt
        .sub_(health.collateral)?
        .max(FX_ZERO)
        .add_(slack)?;
    // tokens = need / (num / den * k / bps^2) = need * den * bps^2 / (num * k).
    let m = checked(mul_i128(debt_price.den, bps * bps))?;
    let d = checked(mul_i128(debt_price.num, k))?;
    Ok(Some(need.mul_div_int_ceil(m, d)?))
}

/// What one liquidation moves: the output of [`plan_liquidation`], which
/// `liquidate` books and transfers as it is. Token amounts in base units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiquidationPlan {
    /// Debt tokens the liquidator pays (at most the debt, rounded up).
    pub repay: u64,
    /// Collateral tokens taken out of the position: to the liquidator, and
    /// [`LiquidationPlan::protocol_cut`] of them to the insurance vault.
    pub seize: u64,
    /// The protocol's share of the bonus, part of `seize`, rounded down.
    pub protocol_cut: u64,
    /// Deposit shares burned from the collateral position (the seized
    /// tokens' worth rounded up, or the whole position).
    pub shares_burned: u64,
    /// Debt shares removed from the debt position (`repay / index` rounded
    /// down, or the whole position when the whole debt is repaid).
    pub debt_removed: Fx,
    /// The bonus, bps of the repaid value ([`LiquidationConfig::bonus_bps`]).
    pub bonus_bps: u16,
    /// Maintenance health before the liquidation (collateral / debt,
    /// weighted, rounded down).
    pub health_before: Fx,
    /// The most the liquidator could have repaid (base units, rounded up):
    /// the whole debt for an insolvent obligation, else the larger of the
    /// close factor's share and [`restore_repay`], at most the debt. What
    /// the keeper sends as `max_repay` when the plan takes the whole
    /// collateral position.
    pub allowance: u64,
}

impl LiquidationPlan {
    /// Collateral tokens paid to the liquidator: `seize - protocol_cut`.
    pub fn to_liquidator(&self) -> Result<u64> {
        self.seize.safe_sub(self.protocol_cut)
    }
}

/// Plans the liquidation of an obligation with `positions` that repays up to
/// `max_repay` base units (> 0; `u64::MAX`: as much as the close factor
/// allows) of its debt in `debt_reserve` and seizes from its collateral in
/// `collateral_reserve`, under the market's `cfg`. `lookup` gives the view
/// (interest projected to now, supply for a reserve held as collateral) and
/// validated price of every reserve of the positions, as for
/// [`obligation_health`]: on-chain from the health accounts, off-chain
/// (the keeper) from decoded reserves and oracles. Writes nothing.
///
/// The steps: Maintenance health must be below 1; the bonus is
/// [`LiquidationConfig::bonus_bps`] (the strict-improvement cap applies
/// while the obligation is solvent at spot); the repay allowance is the
/// whole debt for an insolvent obligation, else the larger of
/// [`LiquidationConfig::max_repay`] and [`restore_repay`], capped at
/// `max_repay` (the whole debt, rounded up, when the allowance covers it);
/// the collateral seized is [`seize_for_repay`] at spot. When
/// that would exceed the collateral position, the repay is scaled down to
/// what the position covers (rounded up, the borrower's favour, at least one
/// base unit) and the whole position is seized. Otherwise the shares burned
/// are the seized tokens' worth rounded up (the whole position, and what it
/// redeems, when that reaches it).
///
/// Errors, in the order checked: [`BallastError::HealthAccountsMismatch`]
/// (a reserve missing from `lookup`), valuation errors,
/// [`BallastError::ObligationHealthy`], [`BallastError::PositionNotFound`]
/// (no debt in `debt_reserve` or no collateral in `collateral_reserve`),
/// [`BallastError::OracleInvalidPrice`],
/// [`BallastError::LiquidationCannotImproveHealth`] (solvent, and this
/// collateral's LT is at least `health * BF_d`), [`BallastError::ZeroAmount`] (the
/// seize rounds to nothing), [`BallastError::MathOverflow`].
pub fn plan_liquidation<'a>(
    cfg: &LiquidationConfig,
    positions: &[Position],
    debt_reserve: &Pubkey,
    collateral_reserve: &Pubkey,
    lookup: impl Fn(&Pubkey) -> Option<(&'a ReserveView, &'a OraclePrice)>,
    max_repay: u64,
) -> Result<LiquidationPlan> {
    // Maintenance health at fresh prices.
    let health = obligation_health(positions, &lookup, Requirement::Maintenance)?;
    require!(!health.is_satisfied(), BallastError::ObligationHealthy);
    let ratio = health.ratio().unwrap_or(FX_ZERO);
    let (coll_value, debt_value_all) = spot_values(positions, &lookup)?;
    let solvent = coll_value > debt_value_all;

    let i_d = find_position(positions, debt_reserve, PositionKind::Debt)
        .ok_or(error!(BallastError::PositionNotFound))?;
    let i_c = find_position(positions, collateral_reserve, PositionKind::Collateral)
        .ok_or(error!(BallastError::PositionNotFound))?;
    let (view_d, price_d) =
        lookup(debt_reserve).ok_or(error!(BallastError::HealthAccountsMismatch))?;
    let (view_c, price_c) =
        lookup(collateral_reserve).ok_or(error!(BallastError::HealthAccountsMismatch))?;
    let unit_d = UnitPrice::new(
        price_d.price as i128,
        BPS,
        view_d.decimals,
        price_d.exponent,
    )?;
    let unit_c = UnitPrice::new(
        price_c.price as i128,
        BPS,
        view_c.decimals,
        price_c.exponent,
    )?;

    let held_debt = positions[i_d].borrow_shares.get();
    let debt_tokens = debt_for_shares(held_debt, view_d.borrow_index)?;
    let debt_value = unit_d.value_ceil(debt_tokens)?;
    let bonus_bps = cfg.bonus_bps(
        ratio,
        solvent,
        view_c.liquidation_threshold_bps,
        view_d.borrow_factor_bps,
    )?;
    // The allowance: everything for an insolvent obligation; otherwise the
    // close factor's share or, when larger, what restores health to 1.
    let allowed = if solvent {
        let by_factor = cfg.max_repay(debt_tokens, debt_value, ratio)?;
        match restore_repay(
            &health,
            &unit_d,
            &unit_c,
            bonus_bps,
            view_c.liquidation_threshold_bps,
            view_d.borrow_factor_bps,
        )? {
            Some(r) => by_factor.max(r).min(debt_tokens),
            None => debt_tokens,
        }
    } else {
        debt_tokens
    };
    let allowance = allowed.to_ceil_u64()?;
    let allowed = allowed.min(fx_u64(max_repay));

    // Never seize more than the collateral position holds: scale the
    // repay down to what it can pay for.
    let held_coll = positions[i_c].deposit_shares;
    let coll_tokens = view_c.collateral_tokens(held_coll)?;
    // The liquidator pays whole base units and is paid collateral for
    // exactly what it pays: the allowance rounded down, or, when it is
    // the whole debt, the debt rounded up (nothing fractional is left).
    let debt_ceil = debt_tokens.to_ceil_u64()?;
    // At least one base unit: a close factor of a debt under `1 /
    // close_factor` base units floors to zero, which would leave it
    // unliquidatable (with `dust_debt_micro_usd = 0`, or a debt token whose
    // base unit is worth more than the dust value).
    let mut repay = if allowed >= debt_tokens {
        debt_ceil.min(max_repay)
    } else {
        allowed.to_floor_u64()?.max(1).min(max_repay)
    };
    let (mut seize, mut bonus_part) = seize_for_repay(fx_u64(repay), &unit_d, &unit_c, bonus_bps)?;
    let capped = seize >= coll_tokens;
    if capped {
        // The position cannot pay that much: repay what it covers, rounded
        // up (the borrower's favour), for the whole position:
        // `repay * coll_tokens / seize`, the ratio taken on raw bits through
        // a 256-bit intermediate (`coll_tokens * repay` alone exceeds
        // I80F48 for, e.g., 2.9e13 base units of SOL against 7.4e10 of
        // USDC); `seize >= coll_tokens > 0`, so the result is <= `repay`.
        repay = if seize > FX_ZERO {
            fx_u64(repay)
                .mul_div_int_ceil(coll_tokens.to_bits(), seize.to_bits())?
                .to_ceil_u64()?
                .min(debt_ceil)
        } else {
            0
        };
        (seize, bonus_part) = seize_for_repay(fx_u64(repay), &unit_d, &unit_c, bonus_bps)?;
    }
    let (supply_c, total_c) = (view_c.supply, view_c.deposit_shares);
    let (shares_burned, seize) = if capped {
        repay = repay.max(1);
        (
            held_coll,
            tokens_for_shares_floor(held_coll, supply_c, total_c)?.to_floor_u64()?,
        )
    } else {
        require!(repay > 0, BallastError::ZeroAmount);
        let seize = seize.to_floor_u64()?;
        // Burn the shares the seized tokens are worth (rounded up).
        let shares = shares_for_withdraw_ceil(seize, supply_c, total_c)?;
        if shares >= held_coll {
            (
                held_coll,
                tokens_for_shares_floor(held_coll, supply_c, total_c)?.to_floor_u64()?,
            )
        } else {
            (shares, seize)
        }
    };
    let protocol_cut = bonus_part
        .min(fx_u64(seize))
        .mul_div_int_floor(cfg.protocol_bonus_share_bps as i128, BPS as i128)?
        .to_floor_u64()?;
    let debt_removed = if repay >= debt_ceil {
        held_debt
    } else {
        debt_shares_for_repay(repay, view_d.borrow_index)?.min(held_debt)
    };
    Ok(LiquidationPlan {
        repay: repay.min(debt_ceil),
        seize,
        protocol_cut,
        shares_burned,
        debt_removed,
        bonus_bps,
        health_before: ratio,
        allowance,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(usd: f64, decimals: u8) -> UnitPrice {
        UnitPrice::new((usd * 1e8) as i128, BPS, decimals, -8).unwrap()
    }

    #[test]
    fn solend_vector() {
        // Collateral 1,000 tokens worth $100, debt 800 tokens worth $80 (one
        // token = $0.10, 0 decimals): repay ceil(0.2 * 800) = 160 and
        // withdraw floor(0.2 * 1.05 * 800) = 168.
        let c = LiquidationConfig::SOLEND_LIKE;
        let debt = fx_u64(800);
        let health = Fx::from_num(0.99); // just unhealthy, above the full threshold
        let repay = c.max_repay(debt, fx_u64(80_000_000), health).unwrap();
        assert_eq!(repay, fx_u64(160));
        // With LT = BF = 1 no bonus improves health (h - 1 < 0): refused
        // for a solvent obligation; Solend has no such cap, so the vector
        // uses the uncapped bonus (our insolvent close-out).
        assert!(c.bonus_bps(health, true, 10_000, 10_000).is_err());
        let uncapped = c.bonus_bps(health, false, 10_000, 10_000).unwrap();
        assert_eq!(uncapped, 500);
        let p = price(0.1, 0);
        let (seized, bonus_part) = seize_for_repay(repay, &p, &p, uncapped).unwrap();
        assert_eq!(seized.to_floor_u64().unwrap(), 168);
        assert_eq!(bonus_part.to_floor_u64().unwrap(), 8);
    }

    #[test]
    fn bonus_grows_with_the_shortfall_within_bounds() {
        let c = LiquidationConfig {
            bonus_min_bps: 200,
            bonus_max_bps: 1_000,
            ..LiquidationConfig::SOLEND_LIKE
        };
        let b = |h: f64| c.bonus_bps(Fx::from_num(h), false, 8_000, 10_000).unwrap();
        assert_eq!(b(0.99), 300);
        assert_eq!(b(0.9375), 825);
        assert_eq!(b(0.5), 1_000, "max binds");
        assert_eq!(b(1.2), 200, "min binds");
    }

    #[test]
    fn the_cap_makes_a_solvent_obligation_strictly_healthier() {
        let c = LiquidationConfig {
            bonus_min_bps: 500,
            bonus_max_bps: 1_500,
            ..LiquidationConfig::SOLEND_LIKE
        };
        // h = 0.9 with LT 0.8, BF 1: neutral bonus m = 0.9 / 0.8 - 1 =
        // 12.5%, cap m / 2 = 6.25%; the formula's 15% -> 6.25%.
        let b = c.bonus_bps(Fx::from_num(0.9), true, 8_000, 10_000).unwrap();
        assert!(b == 624 || b == 625, "{b}");
        // Health after: (C - R(1+b)LT) / (D - R) with C = 0.9 D rises.
        let (cw, d, r) = (0.9, 1.0, 0.2);
        let after = (cw - r * (1.0 + b as f64 / 1e4) * 0.8) / (d - r);
        assert!(after > 0.9 + 0.01, "{after}");
        // A collateral whose LT is at least h * BF cannot improve health.
        let e = c.bonus_bps(Fx::from_num(0.9), true, 9_000, 10_000);
        assert!(e.is_err());
        // Insolvent: the uncapped bonus, whatever the weights.
        assert_eq!(
            c.bonus_bps(Fx::from_num(0.9), false, 9_500, 10_000)
                .unwrap(),
            1_500
        );
    }

    #[test]
    fn restore_repay_brings_health_back_to_one() {
        // One collateral at LT 97%, one $1 debt (6 decimals) at BF 1:
        // weighted collateral 990,000 vs debt 1,000,000 (h = 0.99), the
        // bonus capped at half of 0.99 / 0.97 - 1 (103 bps).
        let h = Health {
            collateral: fx_u64(990_000_000_000),
            debt: fx_u64(1_000_000_000_000),
        };
        let (pd, pc) = (price(1.0, 6), price(20.0, 9));
        let r = restore_repay(&h, &pd, &pc, 103, 9_700, 10_000)
            .unwrap()
            .unwrap();
        // R = (D - C) / (1 - 1.0103 * 0.97) = 1e10 / 0.020009 ~= 4.998e11
        // base units ($499,775), plus the rounding slack.
        let exact = 1e10 / (1.0 - 1.0103 * 0.97);
        let got = r.to_num::<f64>();
        assert!(got >= exact && got < exact + 1_000.0, "{got} vs {exact}");
        // Health after, exactly: (C - R(1+b)LT) / (D - R) >= 1.
        let (c, d) = (990_000_000_000.0, 1_000_000_000_000.0);
        let after = (c - got * 1.0103 * 0.97) / (d - got);
        assert!(after >= 1.0, "{after}");
        // No repay restores health when (1 + b) * LT_c >= BF_d.
        assert!(restore_repay(&h, &pd, &pc, 500, 9_600, 10_000)
            .unwrap()
            .is_none());
    }

    #[test]
    fn full_close_below_the_deep_threshold_or_for_dust() {
        let c = LiquidationConfig::SOLEND_LIKE;
        let debt = fx_u64(1_000_000);
        assert_eq!(
            c.max_repay(debt, fx_u64(10_000_000), Fx::from_num(0.94))
                .unwrap(),
            debt
        );
        assert_eq!(
            c.max_repay(debt, fx_u64(999_999), Fx::from_num(0.99))
                .unwrap(),
            debt
        );
        assert_eq!(
            c.max_repay(debt, fx_u64(10_000_000), Fx::from_num(0.99))
                .unwrap(),
            fx_u64(200_000)
        );
    }

    #[test]
    fn config_validation() {
        assert!(LiquidationConfig::SOLEND_LIKE.validate().is_ok());
        let bad = [
            LiquidationConfig {
                close_factor_bps: 0,
                ..LiquidationConfig::SOLEND_LIKE
            },
            LiquidationConfig {
                bonus_min_bps: 600,
                ..LiquidationConfig::SOLEND_LIKE
            },
            LiquidationConfig {
                bonus_max_bps: 6_000,
                bonus_min_bps: 0,
                ..LiquidationConfig::SOLEND_LIKE
            },
            LiquidationConfig {
                protocol_bonus_share_bps: 10_001,
                ..LiquidationConfig::SOLEND_LIKE
            },
        ];
        for c in bad {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }
}
