//! The rebalance task: for every reserve of a market that has a treasury
//! strategy, replay the program's own decision
//! ([`ballast::engine::treasury::decide`]) on the chain's current state, with both
//! reserves accrued and the deployed shares marked exactly as `rebalance`
//! does, and send `rebalance` when the liquid share has left its buffer band
//! and a move is possible.
//!
//! A reserve inside its band, at its rehypothecation cap with nothing to
//! recall, or whose strategy can return nothing now is reported, not sent,
//! so the task never spends fees on a transaction the program would refuse.

use ballast::engine::treasury::{self, Move};
use ballast::state::Reserve;
use solana_address::Address;

use crate::accounts::{decode_reserve, load_reserves};
use crate::chain::{Chain, ChainError};
use crate::ix::{self, ReserveKeys};

/// What happened to one reserve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `rebalance` went through: the move and its compute units.
    Sent {
        /// Deploy or recall, base units.
        step: Move,
        /// Compute units consumed.
        compute_units: u64,
    },
    /// Nothing to do or nothing possible: the program's reason.
    Idle(String),
    /// The transaction failed (state changed since the read, strategy paused…).
    Failed(String),
}

/// One pass over `market`'s reserves that have a treasury strategy: the
/// reserve's address and what happened to it, in the order the chain
/// returned them.
pub fn run(
    chain: &mut impl Chain,
    market: &Address,
) -> Result<Vec<(Address, Outcome)>, ChainError> {
    let now = chain.unix_time()?;
    let reserves: Vec<(Address, Reserve)> = load_reserves(chain, market)?
        .into_iter()
        .filter(|(_, r)| r.treasury.has_strategy())
        .collect();
    let mut out = Vec::with_capacity(reserves.len());
    for (key, reserve) in reserves {
        let Some(strategy) = chain
            .account_data(&reserve.treasury.strategy_reserve)?
            .and_then(|d| decode_reserve(&d))
        else {
            out.push((key, Outcome::Failed("strategy reserve not found".into())));
            continue;
        };
        let step = match plan(reserve, strategy, now) {
            Ok(step) => step,
            Err(reason) => {
                out.push((key, Outcome::Idle(reason)));
                continue;
            }
        };
        // A deploy needs the strategy's consent (the program refuses it
        // once revoked); recalls never do.
        if matches!(step, Move::Deploy(_)) && !strategy.strategy_approvals.contains(&key) {
            let reason = ballast::errors::BallastError::StrategyNotApproved.to_string();
            out.push((key, Outcome::Idle(reason)));
            continue;
        }
        let keys = ReserveKeys::derive(
            market,
            &reserve.mint,
            &reserve.token_program,
            &reserve.oracle,
        );
        let strategy_keys = ReserveKeys::derive(
            &strategy.market,
            &strategy.mint,
            &strategy.token_program,
            &strategy.oracle,
        );
        let outcome = match chain.send(&[ix::rebalance(&keys, &strategy_keys)], &[]) {
            Ok(sent) => Outcome::Sent {
                step,
                compute_units: sent.compute_units,
            },
            Err(e) => Outcome::Failed(e.to_string()),
        };
        out.push((key, outcome));
    }
    Ok(out)
}

/// The move `rebalance` would make at `now` for `reserve` against its
/// `strategy` (both as read from the chain): the program's own
/// [`treasury::plan_rebalance`] (accrual, marking, the strategy's room
/// under its deposit cap, what it can return, the band decision) on copies.
/// `Err` carries the program's reason for refusing (e.g. "liquid share
/// inside the buffer band").
pub fn plan(mut reserve: Reserve, mut strategy: Reserve, now: i64) -> Result<Move, String> {
    let plan = treasury::plan_rebalance(&mut reserve, &mut strategy, now).map_err(|e| match e {
        anchor_lang::error::Error::AnchorError(a) => a.error_msg,
        other => other.to_string(),
    })?;
    plan.step.map_err(|idle| idle.error_code().to_string())
}
