//! The margin engine: prices, weights and the health of an obligation.
//!
//! An obligation's positions are margined together (cross-margin). Health
//! compares weighted collateral with weighted debt, both in USD:
//!
//! ```text
//! collateral = sum over collateral positions of tokens * asset_price * weight
//! debt       = sum over debt positions of tokens * liability_price * borrow_factor
//! satisfied  <=> debt <= collateral          (health = collateral / debt >= 1)
//! ```
//!
//! Two requirements, kept apart (marginfi's `RequirementType`, `PriceBias`):
//!
//! * **Initial** gates borrow and withdraw: weight = LTV; assets at
//!   `min(spot - conf, ema - ema_conf)`, debt at `max(spot + conf, ema + ema_conf)`.
//! * **Maintenance** gates liquidation: weight = liquidation threshold; spot
//!   price for both sides.
//!
//! Rounding: collateral values round down, debt values round up (in health
//! checks to whole base units and whole micro-USD).
//! Units: token amounts in base units, prices as Pyth mantissas with a decimal
//! exponent, weights in bps, values in micro-USD (`Fx`, 10^-6 USD, see
//! [`VALUE_DECIMALS`]).

use anchor_lang::prelude::*;

use super::fx::*;
use super::oracle::OraclePrice;
use super::position::{Position, PositionKind};
use super::safe_math::{checked, SafeCast};
use super::shares::{debt_for_shares, tokens_for_shares_floor};
use crate::errors::BallastError;

/// Which requirement a health check applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requirement {
    /// LTV with confidence- and EMA-biased prices: gates borrow and withdraw.
    Initial,
    /// Liquidation threshold with spot prices: gates liquidation.
    Maintenance,
}

/// Values are in units of `10^-VALUE_DECIMALS` USD (micro-USD). The unit
/// is free (health compares collateral with debt in the same unit); this one
/// keeps the divisor of [`UnitPrice`] below 2^64 for every real feed, where
/// `u128` division is fast on sBPF, and still spans 6e17 USD.
pub const VALUE_DECIMALS: i32 = 6;

/// A weighted price as a fraction of integers `num / den`: micro-USD per
/// token base unit times `weight_bps / 10,000` = `mantissa * weight_bps /
/// 10^(decimals + 4 - exponent - VALUE_DECIMALS)`. Kept as integers so that a value costs one
/// `i128` multiplication and one `i128` division on sBPF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnitPrice {
    /// `mantissa * weight_bps` (times `10^-scale` when the scale is negative).
    pub num: i128,
    /// `10^scale`.
    pub den: i128,
}

impl UnitPrice {
    /// Builds the weighted price. Errors: [`BallastError::OracleInvalidPrice`]
    /// for a negative mantissa, [`BallastError::MathOverflow`].
    // On every health check's path: inlined whatever its other call sites
    // (called, the health helpers cost ~240 CU more a position: README).
    #[inline(always)]
    pub fn new(mantissa: i128, weight_bps: u64, decimals: u8, exponent: i32) -> Result<Self> {
        require!(mantissa >= 0, BallastError::OracleInvalidPrice);
        let num = checked(mul_i128(mantissa, weight_bps as i128))?;
        // 10^(decimals + 4 - exponent - 6); for Pyth exponents (-12..=0) and
        // SPL decimals (0..=9) it lies in -2..=19 (an `i32` can't overflow
        // here: `exponent` would have to be beyond +-2^31 - 30).
        let scale = checked((decimals as i32 + 4 - VALUE_DECIMALS).checked_sub(exponent))?;
        if scale < 0 {
            let num = checked(mul_i128(num, pow10(scale.unsigned_abs())?))?;
            return Ok(Self { num, den: 1 });
        }
        Ok(Self {
            num,
            den: pow10(scale as u32)?,
        })
    }

    /// `tokens * num / den` rounded down.
    // On every health check's path: inlined whatever its other call sites
    // (called, the health helpers cost ~240 CU more a position: README).
    #[inline(always)]
    pub fn value_floor(&self, tokens: Fx) -> Result<Fx> {
        tokens.mul_div_int_floor(self.num, self.den)
    }

    /// `tokens * num / den` rounded up.
    // On every health check's path: inlined whatever its other call sites
    // (called, the health helpers cost ~240 CU more a position: README).
    #[inline(always)]
    pub fn value_ceil(&self, tokens: Fx) -> Result<Fx> {
        tokens.mul_div_int_ceil(self.num, self.den)
    }

    /// `floor(tokens * num / den)` in whole value units (micro-USD), for a
    /// whole number of base units: one `u128` division instead of the
    /// three of [`UnitPrice::value_floor`]'s 192-bit path; at most one
    /// micro-USD below it. Falls back to the exact path past 128 bits.
    pub fn value_floor_units(&self, tokens: u64) -> Result<Fx> {
        self.value_units(tokens, false)
    }

    /// `ceil(tokens * num / den)` in whole value units (micro-USD); at most
    /// one micro-USD above [`UnitPrice::value_ceil`].
    pub fn value_ceil_units(&self, tokens: u64) -> Result<Fx> {
        self.value_units(tokens, true)
    }

    fn value_units(&self, tokens: u64, ceil: bool) -> Result<Fx> {
        let (num, den) = (self.num as u128, self.den as u128);
        match (tokens as u128).checked_mul(num) {
            Some(p) if self.num >= 0 && self.den > 0 => {
                let q = p / den;
                let q = if ceil && q * den != p { q + 1 } else { q };
                let q: i128 = q.cast()?;
                Ok(Fx::from_bits(checked(
                    q.checked_mul(1i128 << Fx::FRAC_NBITS),
                )?))
            }
            _ => {
                let exact = if ceil {
                    self.value_ceil(fx_u64(tokens))?.checked_ceil()
                } else {
                    self.value_floor(fx_u64(tokens))?.checked_floor()
                };
                checked(exact)
            }
        }
    }
}

/// Risk weights and state of one reserve, as the engine needs them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReserveView {
    /// Token decimals of the mint.
    pub decimals: u8,
    /// Total supply (liquid + deployed + borrowed - protocol fees), base units.
    pub supply: Fx,
    /// Deposit shares outstanding.
    pub deposit_shares: u64,
    /// Cumulative borrow index, projected to now.
    pub borrow_index: Fx,
    /// Loan-to-value, bps (Initial collateral weight).
    pub ltv_bps: u16,
    /// Liquidation threshold, bps (Maintenance collateral weight).
    pub liquidation_threshold_bps: u16,
    /// Borrow factor, bps >= 10,000 (debt weight under both requirements).
    pub borrow_factor_bps: u32,
    /// Unix time the view is taken at: a term loan past its maturity owes
    /// its face plus the penalty accrued to it ([`super::term::owed`]).
    pub now: i64,
}

impl ReserveView {
    /// Collateral weight under `req`, bps.
    pub fn collateral_weight_bps(&self, req: Requirement) -> u64 {
        match req {
            Requirement::Initial => self.ltv_bps as u64,
            Requirement::Maintenance => self.liquidation_threshold_bps as u64,
        }
    }

    /// Tokens (base units, rounded down) that `shares` deposit shares redeem.
    // On every health check's path: inlined whatever its other call sites
    // (called, the health helpers cost ~240 CU more a position: README).
    #[inline(always)]
    pub fn collateral_tokens(&self, shares: u64) -> Result<Fx> {
        tokens_for_shares_floor(shares, self.supply, self.deposit_shares)
    }

    /// Debt (base units, rounded up) of `borrow_shares` debt shares.
    pub fn debt_tokens(&self, borrow_shares: Fx) -> Result<Fx> {
        debt_for_shares(borrow_shares, self.borrow_index)
    }

    /// Weighted value of `shares` deposit shares, micro-USD: the tokens they
    /// redeem rounded down to whole base units, valued and rounded down to
    /// whole micro-USD.
    pub fn collateral_value(
        &self,
        shares: u64,
        price: &OraclePrice,
        req: Requirement,
    ) -> Result<Fx> {
        // Whole base units, then whole micro-USD, each rounded down: health
        // needs no finer grain, and this costs two `u128` divisions where
        // fractional units cost four.
        let tokens = self.collateral_tokens(shares)?.to_floor_u64()?;
        UnitPrice::new(
            price.asset_mantissa(req),
            self.collateral_weight_bps(req),
            self.decimals,
            price.exponent,
        )?
        .value_floor_units(tokens)
    }

    /// What a term-loan position owes at the view's time, base units
    /// rounded up: its face until maturity, then face plus the penalty
    /// accrual ([`super::term::owed`]). Health values term debt at this, not
    /// at its present value: the face is at least the PV at any
    /// non-negative rate, so health never overstates solvency and needs no
    /// rate oracle.
    pub fn term_debt_tokens(&self, p: &Position) -> Result<u64> {
        super::term::owed(
            p.term_face(),
            p.term_maturity(),
            p.term_penalty_bps(),
            self.now,
        )?
        .to_ceil_u64()
    }

    /// Weighted value of a term-loan position, micro-USD
    /// ([`ReserveView::term_debt_tokens`] valued as debt, rounded up).
    pub fn term_debt_value(
        &self,
        p: &Position,
        price: &OraclePrice,
        req: Requirement,
    ) -> Result<Fx> {
        UnitPrice::new(
            price.liability_mantissa(req),
            self.borrow_factor_bps as u64,
            self.decimals,
            price.exponent,
        )?
        .value_ceil_units(self.term_debt_tokens(p)?)
    }

    /// Weighted value of `borrow_shares` debt shares, micro-USD: the debt
    /// rounded up to whole base units, valued and rounded up to whole
    /// micro-USD.
    pub fn debt_value(
        &self,
        borrow_shares: Fx,
        price: &OraclePrice,
        req: Requirement,
    ) -> Result<Fx> {
        // Whole base units, then whole micro-USD, each rounded up.
        let tokens = self.debt_tokens(borrow_shares)?.to_ceil_u64()?;
        UnitPrice::new(
            price.liability_mantissa(req),
            self.borrow_factor_bps as u64,
            self.decimals,
            price.exponent,
        )?
        .value_ceil_units(tokens)
    }
}

/// Weighted collateral and debt of an obligation under one requirement, USD.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Health {
    /// Sum of weighted collateral values (rounded down).
    pub collateral: Fx,
    /// Sum of weighted debt values (rounded up).
    pub debt: Fx,
}

impl Health {
    /// Adds a collateral value.
    pub fn add_collateral(&mut self, v: Fx) -> Result<()> {
        self.collateral = self.collateral.add_(v)?;
        Ok(())
    }

    /// Adds a debt value.
    pub fn add_debt(&mut self, v: Fx) -> Result<()> {
        self.debt = self.debt.add_(v)?;
        Ok(())
    }

    /// Whether the requirement holds: `debt <= collateral`.
    pub fn is_satisfied(&self) -> bool {
        self.debt <= self.collateral
    }

    /// `collateral / debt` rounded down, or `None` without debt.
    pub fn ratio(&self) -> Option<Fx> {
        if self.debt <= FX_ZERO {
            return None;
        }
        self.collateral.div_floor(self.debt).ok()
    }
}

/// The health of an obligation's `positions` under `req`, each valued with
/// the reserve view and price that `lookup` returns for its reserve. The loop
/// the program runs on-chain and the keeper runs off-chain. Errors:
/// [`BallastError::HealthAccountsMismatch`] when `lookup` has no entry for a
/// position's reserve, and the valuation errors.
pub fn obligation_health<'a>(
    positions: &[Position],
    lookup: impl Fn(&Pubkey) -> Option<(&'a ReserveView, &'a OraclePrice)>,
    req: Requirement,
) -> Result<Health> {
    let mut health = Health::default();
    for p in positions {
        let kind = p.kind();
        if kind == PositionKind::Empty {
            continue;
        }
        let (view, price) =
            lookup(&p.reserve).ok_or(error!(BallastError::HealthAccountsMismatch))?;
        match kind {
            PositionKind::Collateral => {
                health.add_collateral(view.collateral_value(p.deposit_shares, price, req)?)?
            }
            PositionKind::Debt => {
                health.add_debt(view.debt_value(p.borrow_shares.get(), price, req)?)?
            }
            PositionKind::TermDebt => health.add_debt(view.term_debt_value(p, price, req)?)?,
            PositionKind::Empty => {}
        }
    }
    Ok(health)
}

/// Unweighted spot values of an obligation's collateral and debt, micro-USD
/// (collateral rounded down, debt up): solvent, in the liquidation sense,
/// when the first is at least the second.
pub fn spot_values<'a>(
    positions: &[Position],
    lookup: impl Fn(&Pubkey) -> Option<(&'a ReserveView, &'a OraclePrice)>,
) -> Result<(Fx, Fx)> {
    let (mut coll, mut debt) = (FX_ZERO, FX_ZERO);
    for p in positions {
        let kind = p.kind();
        if kind == PositionKind::Empty {
            continue;
        }
        let (view, price) =
            lookup(&p.reserve).ok_or(error!(BallastError::HealthAccountsMismatch))?;
        let unit = UnitPrice::new(price.price as i128, BPS, view.decimals, price.exponent)?;
        match kind {
            PositionKind::Collateral => {
                coll = coll.add_(unit.value_floor(view.collateral_tokens(p.deposit_shares)?)?)?
            }
            PositionKind::Debt => {
                debt = debt.add_(unit.value_ceil(view.debt_tokens(p.borrow_shares.get())?)?)?
            }
            PositionKind::TermDebt => {
                debt = debt.add_(unit.value_ceil(fx_u64(view.term_debt_tokens(p)?))?)?
            }
            PositionKind::Empty => {}
        }
    }
    Ok((coll, debt))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// USD value of one token base unit weighted by `weight_bps`, rounded up
    /// when `ceil`, down otherwise.
    fn unit_value(
        mantissa: i128,
        weight_bps: u64,
        decimals: u8,
        exponent: i32,
        ceil: bool,
    ) -> Result<Fx> {
        let p = UnitPrice::new(mantissa, weight_bps, decimals, exponent)?;
        if ceil {
            p.value_ceil(FX_ONE)
        } else {
            p.value_floor(FX_ONE)
        }
    }

    fn sol_price(usd: f64, conf: f64, ema: f64) -> OraclePrice {
        OraclePrice {
            price: (usd * 1e8) as i64,
            conf: (conf * 1e8) as u64,
            ema_price: (ema * 1e8) as i64,
            ema_conf: (conf * 1e8) as u64,
            exponent: -8,
        }
    }

    fn view(decimals: u8) -> ReserveView {
        ReserveView {
            decimals,
            supply: fx_u64(1_000_000_000_000),
            deposit_shares: 1_000_000_000_000,
            borrow_index: FX_ONE,
            ltv_bps: 7_500,
            liquidation_threshold_bps: 8_000,
            borrow_factor_bps: 10_000,
            now: 0,
        }
    }

    #[test]
    fn unit_value_scales_by_decimals_and_exponent() {
        // $20 SOL, 9 decimals: one lamport is worth 2e-8 USD = 0.02 micro-USD.
        let v = unit_value(2_000_000_000, 10_000, 9, -8, false).unwrap();
        assert!((v.to_num::<f64>() - 2e-2).abs() < 1e-14);
        // Weighted at 75%.
        let w = unit_value(2_000_000_000, 7_500, 9, -8, false).unwrap();
        assert!((w.to_num::<f64>() - 1.5e-2).abs() < 1e-14);
        let up = unit_value(2_000_000_000, 7_500, 9, -8, true).unwrap();
        assert!(up >= w && up - w <= Fx::DELTA);
        // Huge positions take the divide-first path and stay within 1e-9.
        let p = UnitPrice::new(2_000_000_000, 7_500, 9, -8).unwrap();
        let big = fx_u64(u64::MAX);
        let v = p.value_floor(big).unwrap().to_num::<f64>();
        let exact = u64::MAX as f64 * 1.5e-2;
        assert!(((v - exact) / exact).abs() < 1e-9, "{v} vs {exact}");
        assert!(p.value_ceil(big).unwrap() >= p.value_floor(big).unwrap());
        // Positive exponent and large scales are handled.
        assert!(unit_value(5, 10_000, 0, 2, false).unwrap() == fx_u64(500_000_000));
        assert!(unit_value(1, 10_000, 9, -12, false).is_ok());
        assert!(unit_value(-1, 10_000, 9, -8, false).is_err());
    }

    #[test]
    fn initial_biases_assets_down_and_debt_up() {
        let p = sol_price(20.0, 0.1, 19.0);
        assert_eq!(p.asset_mantissa(Requirement::Initial), 1_890_000_000); // ema - conf
        assert_eq!(p.liability_mantissa(Requirement::Initial), 2_010_000_000); // spot + conf
        assert_eq!(p.asset_mantissa(Requirement::Maintenance), 2_000_000_000);
        assert_eq!(
            p.liability_mantissa(Requirement::Maintenance),
            2_000_000_000
        );
        // A confidence wider than the price clamps the asset price at zero.
        let wild = sol_price(1.0, 2.0, 1.0);
        assert_eq!(wild.asset_mantissa(Requirement::Initial), 0);
    }

    #[test]
    fn health_under_price_bias() {
        // 10 SOL collateral at $20 (conf $0.10, EMA $19), 100 USDC debt at $1.
        let sol = view(9);
        let usdc = view(6);
        let psol = sol_price(20.0, 0.1, 19.0);
        let pusdc = sol_price(1.0, 0.001, 1.0);
        let mut init = Health::default();
        init.add_collateral(
            sol.collateral_value(10_000_000_000, &psol, Requirement::Initial)
                .unwrap(),
        )
        .unwrap();
        init.add_debt(
            usdc.debt_value(fx_u64(100_000_000), &pusdc, Requirement::Initial)
                .unwrap(),
        )
        .unwrap();
        // 10 * 18.9 * 0.75 = $141.75 vs 100 * 1.001 = $100.1, in micro-USD.
        assert_eq!(init.collateral, fx_u64(141_750_000));
        assert_eq!(init.debt, fx_u64(100_100_000));
        assert!(init.is_satisfied());

        let mut maint = Health::default();
        maint
            .add_collateral(
                sol.collateral_value(10_000_000_000, &psol, Requirement::Maintenance)
                    .unwrap(),
            )
            .unwrap();
        maint
            .add_debt(
                usdc.debt_value(fx_u64(100_000_000), &pusdc, Requirement::Maintenance)
                    .unwrap(),
            )
            .unwrap();
        // 10 * 20 * 0.8 = 160 vs 100
        assert_eq!(maint.collateral, fx_u64(160_000_000));
        assert!(maint.collateral > init.collateral && maint.debt < init.debt);
        let r = maint.ratio().unwrap().to_num::<f64>();
        assert!((r - 1.6).abs() < 1e-9);
    }

    #[test]
    fn no_debt_means_no_ratio_and_satisfied() {
        let h = Health {
            collateral: FX_ZERO,
            debt: FX_ZERO,
        };
        assert!(h.is_satisfied());
        assert!(h.ratio().is_none());
    }

    #[test]
    fn borrow_factor_inflates_debt() {
        let mut v = view(6);
        let p = sol_price(1.0, 0.0, 1.0);
        let base = v
            .debt_value(fx_u64(1_000_000), &p, Requirement::Maintenance)
            .unwrap();
        v.borrow_factor_bps = 12_500;
        let weighted = v
            .debt_value(fx_u64(1_000_000), &p, Requirement::Maintenance)
            .unwrap();
        assert_eq!(weighted, base.mul_ceil(Fx::from_num(1.25)).unwrap());
    }
}
