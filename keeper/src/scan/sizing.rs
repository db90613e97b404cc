//! The liquidation sizing: given an unhealthy obligation's positions valued
//! at spot, which collateral to seize, at which bonus, for which repay
//! allowance (the rules are in the [`super`] module docs).
//!
//! [`size`] is the keeper's copy of the program's sizing, in one function:
//! the place to call an engine-side liquidation plan instead, should the
//! program provide one.

use anchor_lang::prelude::Pubkey;
use ballast::engine::fx::{fx_u64, Fx, FxExt, BPS};
use ballast::engine::liquidation::{seize_for_repay, LiquidationConfig};

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

/// The liquidation sizing (module docs): for the obligation's largest
/// `debt` and its collateral positions `colls`, all valued at spot, at
/// Maintenance health `ratio` and `solvent` or not, under the market's
/// liquidation parameters `cfg`: the collateral that pays the liquidator
/// most, its bonus, the repay allowance and the collateral it seizes.
/// `None` when no collateral in another reserve can pay for a non-zero
/// repay.
pub(super) fn size<'a: 'b, 'b>(
    cfg: &LiquidationConfig,
    ratio: Fx,
    solvent: bool,
    debt: &Valued<'a>,
    colls: impl Iterator<Item = &'b Valued<'a>>,
) -> anchor_lang::Result<Option<Sizing>> {
    let max_repay = cfg
        .max_repay(debt.tokens, debt.value, ratio)?
        .to_floor_u64()?;
    let repay_value = debt.entry.spot.value_floor(fx_u64(max_repay))?;

    // The collateral that pays the most.
    let mut best: Option<(Valued<'a>, u16, Fx)> = None;
    for c in colls {
        if c.entry.address == debt.entry.address {
            continue;
        }
        let bonus = cfg.bonus_bps(
            ratio,
            solvent,
            c.entry.view.liquidation_threshold_bps,
            debt.entry.view.borrow_factor_bps,
        )?;
        let paid = repay_value
            .mul_div_int_floor(BPS as i128 + bonus as i128, BPS as i128)?
            .min(c.value)
            .mul_div_int_floor(bonus as i128, BPS as i128)?;
        let better = match &best {
            None => true,
            Some((b, _, best_paid)) => {
                paid > *best_paid || (paid == *best_paid && c.value > b.value)
            }
        };
        if better {
            best = Some((*c, bonus, paid));
        }
    }
    let Some((coll, bonus_bps, _)) = best else {
        return Ok(None);
    };

    let repay = max_repay;
    let seized = seize_for_repay(fx_u64(repay), &debt.entry.spot, &coll.entry.spot, bonus_bps)?.0;
    let sizing = |seized: Fx| -> anchor_lang::Result<Option<Sizing>> {
        Ok(Some(Sizing {
            collateral: coll.entry.address,
            bonus_bps,
            repay,
            expected_seize: seized.to_floor_u64()?,
        }))
    };
    if seized > coll.tokens {
        // The position cannot pay for the whole allowance: send the
        // allowance and let the program take its capped path, which seizes
        // the whole position for the repay it covers (rounded up, at most
        // the allowance). Sizing the repay down here instead would leave a
        // few base units of collateral behind, too little to liquidate and
        // enough to block `socialize_bad_debt`.
        return sizing(coll.tokens);
    }
    if repay == 0 {
        return Ok(None);
    }
    sizing(seized)
}
