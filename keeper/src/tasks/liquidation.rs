//! The liquidation task: load every obligation of a market, score them with
//! the program's engine ([`crate::scan`]) and liquidate the unhealthy ones
//! worst first, up to a capacity per run. Also the [`Liquidator`] that signs
//! and funds them.
//!
//! An obligation someone else liquidated (or that recovered) since the scan
//! fails with `ObligationHealthy`: it is counted as skipped and not retried,
//! so the task never spins on it; the next run re-reads the chain.

use std::collections::HashMap;

use ballast::errors::BallastError;
use ballast::state::{Obligation, Reserve};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

use super::TaskError;
use crate::accounts::{decode_obligation, load_reserves};
use crate::chain::{Chain, ChainError, TransactionError};
use crate::ix::{self, ReserveKeys};
use crate::scan::{Candidate, MarketSnapshot};

/// A liquidator: its signer and a token account per mint it pays or receives.
pub struct Liquidator {
    /// Signs the liquidations and owns the token accounts.
    pub keypair: Keypair,
    /// Token account for each mint (debt paid from it, collateral received).
    pub token_accounts: HashMap<Address, Address>,
}

/// What one run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LiquidationRun {
    /// Unhealthy obligations found, worst first.
    pub candidates: usize,
    /// Liquidations that went through: (obligation, debt repaid in base
    /// units as the program's `Liquidated` event reports it, compute units).
    pub liquidated: Vec<(Address, u64, u64)>,
    /// Obligations healthy by the time the transaction ran (liquidated by
    /// someone else, or recovered).
    pub skipped: Vec<Address>,
    /// Other failures: (obligation, message).
    pub failed: Vec<(Address, String)>,
    /// Obligations not liquidatable now (e.g. a stale oracle), with the reason.
    pub blocked: Vec<(Address, String)>,
}

/// The associated token account of `owner` for `mint` under `token_program`
/// (spl-associated-token-account's derivation).
pub fn associated_token_address(
    owner: &Address,
    mint: &Address,
    token_program: &Address,
) -> Address {
    spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        owner,
        mint,
        token_program,
    )
}

/// A liquidator paying from and receiving into `keypair`'s associated token
/// accounts for every reserve mint of `market`.
pub fn liquidator_with_atas(
    chain: &impl Chain,
    market: &Address,
    keypair: Keypair,
) -> Result<Liquidator, ChainError> {
    let owner = keypair.pubkey();
    let token_accounts: HashMap<Address, Address> = load_reserves(chain, market)?
        .into_iter()
        .map(|(_, r)| {
            (
                r.mint,
                associated_token_address(&owner, &r.mint, &r.token_program),
            )
        })
        .collect();
    Ok(Liquidator {
        keypair,
        token_accounts,
    })
}

/// One pass: scan `market` and liquidate up to `capacity` candidates, worst
/// first, each for as much as the close factor allows.
pub fn run(
    chain: &mut impl Chain,
    market: &Address,
    liquidator: &Liquidator,
    capacity: usize,
) -> Result<LiquidationRun, TaskError> {
    let now = chain.unix_time()?;
    let snapshot = MarketSnapshot::load(chain, market, now)?;
    let obligations = chain.ballast_accounts::<Obligation>(market)?;
    let report = snapshot.scan_report(obligations.iter().map(|(k, d)| (*k, d.as_slice())));
    let by_key: HashMap<Address, &Reserve> =
        snapshot.reserves().iter().map(|(k, r)| (*k, r)).collect();
    let keys_of = |reserve: &Address| -> Option<ReserveKeys> {
        let r = by_key.get(reserve)?;
        Some(ReserveKeys::derive(
            market,
            &r.mint,
            &r.token_program,
            &r.oracle,
        ))
    };

    let mut out = LiquidationRun {
        candidates: report.candidates.len(),
        blocked: report
            .not_liquidatable
            .iter()
            .map(|n| (n.obligation, n.to_string()))
            .collect(),
        ..Default::default()
    };
    for c in report.candidates.iter().take(capacity) {
        match liquidate_one(chain, &obligations, c, liquidator, &keys_of, &by_key) {
            Ok((repaid, cu)) => out.liquidated.push((c.obligation, repaid, cu)),
            Err(LiquidateError::AlreadyHealthy) => out.skipped.push(c.obligation),
            Err(LiquidateError::Other(m)) => out.failed.push((c.obligation, m)),
        }
    }
    Ok(out)
}

enum LiquidateError {
    AlreadyHealthy,
    Other(String),
}

fn liquidate_one(
    chain: &mut impl Chain,
    obligations: &[(Address, Vec<u8>)],
    c: &Candidate,
    liquidator: &Liquidator,
    keys_of: &impl Fn(&Address) -> Option<ReserveKeys>,
    reserves: &HashMap<Address, &Reserve>,
) -> Result<(u64, u64), LiquidateError> {
    let other = |m: &str| LiquidateError::Other(m.to_string());
    let (debt, coll) = (
        keys_of(&c.debt_reserve).ok_or_else(|| other("unknown debt reserve"))?,
        keys_of(&c.collateral_reserve).ok_or_else(|| other("unknown collateral reserve"))?,
    );
    let (pay_from, receive_to) = (
        liquidator
            .token_accounts
            .get(&debt.mint)
            .ok_or_else(|| other("no token account for the debt mint"))?,
        liquidator
            .token_accounts
            .get(&coll.mint)
            .ok_or_else(|| other("no token account for the collateral mint"))?,
    );
    let data = &obligations
        .iter()
        .find(|(k, _)| *k == c.obligation)
        .ok_or_else(|| other("obligation vanished"))?
        .1;
    let ob = decode_obligation(data).ok_or_else(|| other("not an obligation"))?;
    let health = ix::health_accounts(&ob, None, |r| {
        reserves.get(r).map(|x| x.oracle).unwrap_or_default()
    });
    let strategy = reserves
        .get(&c.collateral_reserve)
        .and_then(|r| ix::strategy_account(r));
    let ix = ix::with_accounts(
        ix::liquidate(
            &liquidator.keypair.pubkey(),
            &c.obligation,
            &debt,
            &coll,
            pay_from,
            receive_to,
            c.repay,
            health,
        ),
        strategy,
    );
    match chain.send(&[ix], &[&liquidator.keypair]) {
        // What was repaid, from the program's event (less than `c.repay`
        // when the collateral position capped it).
        Ok(sent) => Ok((
            crate::events::events::<ballast::events::Liquidated>(&sent.logs)
                .first()
                .map_or(c.repay, |e| e.repaid),
            sent.compute_units,
        )),
        Err(ChainError::Transaction { err, .. })
            if is_ballast(&err, BallastError::ObligationHealthy) =>
        {
            Err(LiquidateError::AlreadyHealthy)
        }
        Err(e) => Err(LiquidateError::Other(e.to_string())),
    }
}

/// Whether `err` is the Ballast error `e`.
pub fn is_ballast(err: &TransactionError, e: BallastError) -> bool {
    use solana_instruction::error::InstructionError;
    matches!(
        err,
        TransactionError::InstructionError(_, InstructionError::Custom(c))
            if *c == anchor_lang::error::ERROR_CODE_OFFSET + e as u32
    )
}
