//! [`ReserveBook`]: what the treasury and balance-sheet functions read and
//! move of a reserve. `state::Reserve` implements it (in
//! `state/reserve.rs`): the engine sits below `state` and never names the
//! account type, and a test can implement the trait on a plain struct. The
//! functions are generic over it, so each call compiles to the direct field
//! accesses it replaces (no dynamic dispatch).

use anchor_lang::prelude::*;

use super::fx::{Fx, FxExt};
use super::liquidity::LiquidityConfig;
use super::treasury::TreasuryState;

/// A reserve's books, in token base units.
pub trait ReserveBook {
    /// Tokens in the liquidity vault (`available_amount`).
    fn liquid(&self) -> u64;
    /// Deposit shares outstanding.
    fn deposit_shares(&self) -> u64;
    /// Depositors' claims (the supply the deposit shares divide): liquid +
    /// deployed at book value + debt rounded down - protocol fees, never
    /// negative.
    fn claims(&self) -> Result<Fx>;
    /// Outstanding debt with interest projected to unix time `now`, rounded
    /// up; nothing is written.
    fn debt_at(&self, now: i64) -> Result<Fx>;
    /// Interest owed to the protocol (fractional).
    fn protocol_fees(&self) -> Fx;
    /// The most the supply may reach by deposits.
    fn deposit_cap(&self) -> u64;
    /// Buffer band, rehypothecation cap, outflow limiter, stress run rate.
    fn liquidity(&self) -> &LiquidityConfig;
    /// What the outflow limiter still lets out at `now` (`u64::MAX` when it
    /// is off).
    fn outflow_remaining(&self, now: i64) -> u64;
    /// Deposit shares locked in term deposits that cannot run before unix
    /// time `at` (liabilities the buffer band and the liquidity coverage
    /// leave out of the runnable deposits); 0 by default.
    fn locked_shares_until(&self, _at: i64) -> u64 {
        0
    }
    /// The part of `claims` that can run before `at`: `claims` less the
    /// locked shares' part ([`super::term_deposit::locked_claims`], rounded
    /// down, so the runnable part rounds up), base units.
    fn runnable(&self, claims: Fx, at: i64) -> Result<Fx> {
        let locked = super::term_deposit::locked_claims(
            claims,
            self.locked_shares_until(at),
            self.deposit_shares(),
        )?;
        claims.sub_(locked)
    }
    /// The treasury strategy and what is deployed to it.
    fn treasury(&self) -> &TreasuryState;
    /// The treasury, writable (marking moves its book value).
    fn treasury_mut(&mut self) -> &mut TreasuryState;
    /// Accrues interest up to `now` (a no-op when already there).
    fn accrue(&mut self, now: i64) -> Result<()>;
}
