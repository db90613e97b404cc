//! The interest task: `accrue_interest` on each reserve of a market whose
//! last accrual is at least a given age, so that rates and indices stay
//! current between user transactions.

use anyhow::{Context, Result};
use solana_address::Address;

use crate::accounts::load_reserves;
use crate::chain::Chain;
use crate::ix;

/// One pass over `market`'s reserves at unix time `now`: accrues each one
/// whose last accrual is `interval_secs` old or older. Returns the reserves
/// accrued, in the order the chain returned them.
pub fn run(
    chain: &mut impl Chain,
    market: &Address,
    now: i64,
    interval_secs: i64,
) -> Result<Vec<Address>> {
    let mut accrued = vec![];
    for (key, reserve) in load_reserves(chain, market)? {
        if now - reserve.last_update_ts >= interval_secs {
            // With a treasury strategy, the strategy reserve rides along
            // so the deployed shares are marked at its rate too.
            let strategy = reserve.treasury.has_strategy().then(|| {
                solana_instruction::AccountMeta::new_readonly(
                    reserve.treasury.strategy_reserve,
                    false,
                )
            });
            let ix = ix::with_accounts(ix::accrue_interest(&key), strategy);
            chain
                .send(&[ix], &[])
                .with_context(|| format!("accrue_interest of reserve {key}"))?;
            accrued.push(key);
        }
    }
    Ok(accrued)
}
