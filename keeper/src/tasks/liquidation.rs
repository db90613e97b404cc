//! The liquidation task: load every obligation of a market, score them with
//! the program's engine ([`crate::scan`]) and liquidate the unhealthy ones
//! worst first, up to a capacity per run. Also the [`Liquidator`] that signs
//! and funds them.
//!
//! An obligation someone else liquidated (or that recovered) since the scan
//! fails with `ObligationHealthy`, or with another refusal once its account
//! has changed since the scan (another keeper closed it out first): it is
//! counted as skipped, logged, and not retried, so the task never spins on
//! it; the next run re-reads the chain. A refusal of an obligation that did
//! not change is a failure.

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
    /// The liquidator's own obligation in the market, if it has one: when
    /// a collateral vault lacks the cash to pay a seizure, the collateral
    /// is taken as deposit shares credited to it (`liquidate_for_shares`).
    pub obligation: Option<Address>,
}

/// What one run did.
#[derive(Debug, Default, PartialEq)]
pub struct LiquidationRun {
    /// Obligations of the market assessed by the scan.
    pub scanned: usize,
    /// The lowest Maintenance health among them (those with debt), as a
    /// ratio.
    pub lowest_health: Option<f64>,
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
    /// USD value of the debt repaid by `liquidated`, at the snapshot's
    /// oracle prices (an operator's figure, in f64).
    pub liquidated_usd: f64,
    /// USD value of the collateral the program seized for `liquidated`
    /// (its events' `seized`, insurance share included) at the snapshot's
    /// oracle prices: `seized_usd - liquidated_usd` is the bonus borrowers
    /// paid.
    pub seized_usd: f64,
    /// Debt written off by the liquidations that took an obligation's last
    /// collateral (the program's `BadDebtSocialized` events in their
    /// logs; `expected_debt` is the event's `debt`).
    pub written_off: Vec<super::bad_debt::Socialized>,
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
/// accounts for every reserve mint of `market`, and taking collateral as
/// deposit shares into its obligation 0 in `market` when it exists.
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
    // Its obligation 0 in the market, when it has opened one: the
    // destination of collateral taken as shares.
    let own = ix::obligation_address(market, &owner, 0);
    let obligation = chain.account_data(&own)?.map(|_| own);
    Ok(Liquidator {
        keypair,
        token_accounts,
        obligation,
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
    run_selected(chain, market, liquidator, &mut |_, c| {
        c.iter().take(capacity).copied().collect()
    })
}

/// Chooses the liquidations of a pass: given the snapshot and the scan's
/// candidates (worst first), the candidates to send, in order, each
/// possibly with a smaller `repay` (and its `expected_seize` scaled).
pub type Select<'a> = dyn FnMut(&MarketSnapshot, &[Candidate]) -> Vec<Candidate> + 'a;

/// One pass: scan `market` and send the liquidations `select` picks out of
/// the candidates (the replay's USD capacity and profitability rule,
/// [`crate::liquidators`]).
pub fn run_selected(
    chain: &mut impl Chain,
    market: &Address,
    liquidator: &Liquidator,
    select: &mut Select<'_>,
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
        scanned: report.assessed,
        lowest_health: report.lowest_health().map(|h| h.to_num::<f64>()),
        candidates: report.candidates.len(),
        blocked: report
            .not_liquidatable
            .iter()
            .map(|n| (n.obligation, n.to_string()))
            .collect(),
        ..Default::default()
    };
    let chosen = select(&snapshot, &report.candidates);
    for c in &chosen {
        match liquidate_one(chain, &obligations, c, liquidator, &keys_of, &by_key) {
            Ok((repaid, seized, cu, written_off)) => {
                out.liquidated_usd += usd(&snapshot, &c.debt_reserve, repaid);
                out.seized_usd += usd(&snapshot, &c.collateral_reserve, seized);
                out.liquidated.push((c.obligation, repaid, cu));
                out.written_off.extend(written_off);
            }
            Err(LiquidateError::AlreadyHealthy) => skip(&mut out, c, "healthy by now"),
            Err(LiquidateError::Refused(m, raced)) => {
                let scanned = obligations.iter().find(|(k, _)| *k == c.obligation);
                let now = chain.account_data(&c.obligation).ok().flatten();
                if scanned.map(|(_, d)| Some(d)) != Some(now.as_ref()) {
                    skip(&mut out, c, "changed since the scan");
                } else if raced {
                    skip(
                        &mut out,
                        c,
                        "the market changed between simulation and execution",
                    );
                } else {
                    out.failed.push((c.obligation, m));
                }
            }
            Err(LiquidateError::Other(m)) => out.failed.push((c.obligation, m)),
        }
    }
    Ok(out)
}

/// The USD value of `amount` base units of `reserve`'s mint at the
/// snapshot's oracle price (0 when it has none).
pub fn usd(snapshot: &MarketSnapshot, reserve: &Address, amount: u64) -> f64 {
    let (Some(r), Some(Ok(p))) = (snapshot.reserve(reserve), snapshot.price(reserve)) else {
        return 0.0;
    };
    amount as f64 / 10f64.powi(r.mint_decimals as i32) * p.price as f64 * 10f64.powi(p.exponent)
}

/// Records a skipped candidate and logs it (the loser of a race says so).
fn skip(out: &mut LiquidationRun, c: &Candidate, why: &str) {
    tracing::info!(
        obligation = %c.obligation,
        "liquidation skipped: {why} (another liquidator got there first, or it recovered)"
    );
    out.skipped.push(c.obligation);
}

enum LiquidateError {
    AlreadyHealthy,
    /// The program refused the transaction; `true` when it passed its
    /// simulation and failed on chain (a race lost).
    Refused(String, bool),
    Other(String),
}

fn liquidate_one(
    chain: &mut impl Chain,
    obligations: &[(Address, Vec<u8>)],
    c: &Candidate,
    liquidator: &Liquidator,
    keys_of: &impl Fn(&Address) -> Option<ReserveKeys>,
    reserves: &HashMap<Address, &Reserve>,
) -> Result<(u64, u64, u64, Vec<super::bad_debt::Socialized>), LiquidateError> {
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
    let raw = decode_obligation(data).ok_or_else(|| other("not an obligation"))?;
    let keys = |r: &Address| {
        reserves
            .get(r)
            .map(|x| ix::health_keys(x))
            .unwrap_or_default()
    };
    // Term debt first becomes floating debt (the program refuses to
    // liquidate it unconverted): the conversions lead the transaction, and
    // the liquidation's accounts follow the obligation as they leave it.
    let conversions = ix::term_conversions(&debt.market, &c.obligation, &raw, keys);
    let ob = ix::after_term_conversion(&raw);
    let health = ix::health_accounts(&ob, None, keys);
    // When this liquidation takes the last collateral, the program writes
    // the obligation's debt off in every reserve in the same instruction:
    // its other debt reserves writable, with their write-off groups.
    let health = ix::with_write_off_accounts(health, &ob, &c.debt_reserve, |r| {
        reserves.get(r).map(|x| **x)
    });
    let strategy = reserves
        .get(&c.collateral_reserve)
        .and_then(|r| ix::strategy_account(r));
    // Cash or shares: `liquidate` pays the seizure from the collateral
    // vault and fails with `InsufficientLiquidity` when it cannot; then the
    // liquidator takes deposit shares into its own obligation, if it has one.
    let cash = reserves
        .get(&c.collateral_reserve)
        .map_or(0, |r| r.available_amount);
    let for_shares = match liquidator.obligation {
        Some(o) if cash < c.expected_seize => Some(o),
        _ => None,
    };
    let ix = match for_shares {
        Some(own) => ix::liquidate_for_shares(
            &liquidator.keypair.pubkey(),
            &c.obligation,
            &own,
            &debt,
            &coll,
            pay_from,
            c.repay,
            health,
        ),
        None => ix::liquidate(
            &liquidator.keypair.pubkey(),
            &c.obligation,
            &debt,
            &coll,
            pay_from,
            receive_to,
            c.repay,
            health,
        ),
    };
    let ix = ix::with_accounts(ix, strategy);
    let mut ixs = conversions;
    ixs.push(ix);
    match chain.send(&ixs, &[&liquidator.keypair]) {
        // What was repaid and seized, from the program's event (less than
        // `c.repay` when the collateral position capped it).
        Ok(sent) => Ok((
            crate::events::events::<ballast::events::Liquidated>(&sent.logs)
                .first()
                .map(|e| e.repaid)
                .or_else(|| {
                    crate::events::events::<ballast::events::LiquidatedForShares>(&sent.logs)
                        .first()
                        .map(|e| e.repaid)
                })
                .unwrap_or(c.repay),
            crate::events::events::<ballast::events::Liquidated>(&sent.logs)
                .first()
                .map(|e| e.seized)
                .or_else(|| {
                    crate::events::events::<ballast::events::LiquidatedForShares>(&sent.logs)
                        .first()
                        .map(|e| e.seized)
                })
                .unwrap_or(c.expected_seize),
            sent.compute_units,
            crate::events::events::<ballast::events::BadDebtSocialized>(&sent.logs)
                .iter()
                .map(|e| super::bad_debt::Socialized {
                    obligation: e.obligation,
                    reserve: e.reserve,
                    expected_debt: e.debt,
                    debt: e.debt,
                    covered_by_insurance: e.covered_by_insurance,
                    written_off: e.written_off,
                })
                .collect(),
        )),
        Err(ChainError::Transaction { err, .. })
            if is_ballast(&err, BallastError::ObligationHealthy) =>
        {
            Err(LiquidateError::AlreadyHealthy)
        }
        Err(e @ ChainError::Transaction { .. }) => Err(LiquidateError::Refused(
            e.to_string(),
            crate::chain::lost_race(&e),
        )),
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
