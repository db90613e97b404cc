//! The liquidation sizing: for an unhealthy obligation, which collateral to
//! seize and what `liquidate` will then repay and seize.
//!
//! The amounts are not the keeper's: each candidate collateral is planned by
//! the program's own [`plan_liquidation`] over the same views and prices the
//! program will read (the two reserves accrued to now, the collateral's
//! treasury marked; see [`super::MarketSnapshot`]), so `expected_seize` is
//! exactly what the program seizes at the snapshot's state. The keeper only
//! chooses among the plans: the one that pays the liquidator most, i.e. the
//! largest value of `seize - protocol cut` minus the value of the repay
//! (ties: the larger collateral).

use anchor_lang::prelude::Pubkey;
use ballast::engine::fx::{fx_u64, Fx, FxExt};
use ballast::engine::health::ReserveView;
use ballast::engine::liquidation::{plan_liquidation, LiquidationConfig, LiquidationPlan};
use ballast::engine::oracle::OraclePrice;
use ballast::engine::position::Position;
use ballast::errors::BallastError;

use super::Valued;

/// What [`size`] decides for one unhealthy obligation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Sizing {
    /// The reserve of the collateral to seize.
    pub(super) collateral: Pubkey,
    /// The liquidation bonus, bps.
    pub(super) bonus_bps: u16,
    /// The `max_repay` to send, base units of the debt mint.
    pub(super) repay: u64,
    /// The collateral the program will seize for it, base units.
    pub(super) expected_seize: u64,
}

/// The liquidation sizing (module docs): for the obligation's `positions`,
/// its largest `debt` and its collateral positions `colls` (valued at spot),
/// under the market's liquidation parameters `cfg`, with `lookup(collateral,
/// reserve)` giving each reserve's view and price as `liquidate` with that
/// collateral sees them: the plan that
/// pays the liquidator most. `None` when no collateral in another reserve
/// can pay for a non-zero repay.
///
/// The `max_repay` sent is the plan's repay, except when the plan takes the
/// whole collateral position (the program's capped path): then it is the
/// plan's allowance (close factor or restore-to-health), as it was made with, so that the program
/// takes the same path and leaves no collateral dust behind.
pub(super) fn size<'a: 'b, 'b, 'v>(
    cfg: &LiquidationConfig,
    positions: &[Position],
    debt: &Valued<'a>,
    colls: impl Iterator<Item = &'b Valued<'a>>,
    lookup: impl Fn(&Pubkey, &Pubkey) -> Option<(&'v ReserveView, &'v OraclePrice)> + Copy,
) -> anchor_lang::Result<Option<Sizing>> {
    let mut best: Option<(Valued<'a>, LiquidationPlan, Fx)> = None;
    for c in colls {
        if c.entry.address == debt.entry.address {
            continue;
        }
        let plan = match plan_liquidation(
            cfg,
            positions,
            &debt.entry.address,
            &c.entry.address,
            |r| lookup(&c.entry.address, r),
            u64::MAX,
        ) {
            Ok(p) => p,
            // Nothing to seize, or this collateral cannot improve the
            // obligation's health (another pair can).
            Err(e)
                if is_error(&e, BallastError::ZeroAmount)
                    || is_error(&e, BallastError::LiquidationCannotImproveHealth) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        let paid = c
            .entry
            .spot
            .value_floor(fx_u64(plan.to_liquidator()?))?
            .sub_(debt.entry.spot.value_ceil(fx_u64(plan.repay))?)?;
        let better = match &best {
            None => true,
            Some((b, _, best_paid)) => {
                paid > *best_paid || (paid == *best_paid && c.value > b.value)
            }
        };
        if better {
            best = Some((*c, plan, paid));
        }
    }
    let Some((coll, plan, _)) = best else {
        return Ok(None);
    };
    let whole_position = fx_u64(plan.seize) >= coll.tokens.floor();
    let repay = if whole_position {
        plan.allowance.max(plan.repay)
    } else {
        plan.repay
    };
    Ok(Some(Sizing {
        collateral: coll.entry.address,
        bonus_bps: plan.bonus_bps,
        repay,
        expected_seize: plan.seize,
    }))
}

/// Whether `e` is Ballast's error `code`.
fn is_error(e: &anchor_lang::error::Error, code: BallastError) -> bool {
    matches!(e, anchor_lang::error::Error::AnchorError(a)
        if a.error_code_number == anchor_lang::error::ERROR_CODE_OFFSET + code as u32)
}
