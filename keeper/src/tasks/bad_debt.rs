//! The bad-debt task: every obligation of a market that still owes debt but
//! holds no collateral (typically what a full liquidation of an insolvent
//! obligation leaves) is passed to `socialize_bad_debt`, once per debt
//! position. The program covers the debt from the reserve's insurance vault
//! first and writes the rest down against its depositors.
//!
//! Before sending, the task computes each debt off-chain (debt shares times
//! the borrow index projected to now, rounded up, as the program does) and
//! reports it beside the program's own `BadDebtSocialized` event, so that a
//! caller can check the two agree.
//!
//! **Dust sweep.** The liquidation scan sizes a close-out of an insolvent
//! obligation so that the collateral seized fits the position, rounded
//! down, which can leave a few base units of collateral behind: too little
//! to pay for one base unit of debt ([`Assessment::NothingToSeize`]), so no
//! liquidation takes it, yet enough to make `socialize_bad_debt` refuse
//! (`ObligationHasCollateral`). Given a liquidator, the task first sweeps
//! such dust: a `liquidate` with `max_repay = u64::MAX`, which the program
//! caps at what the position covers (about one base unit of debt) while
//! taking the whole position; then it socialises the rest.
//!
//! **Dust the sweep cannot take** (its oracle stale or too wide, so no
//! liquidation can seize it): `socialize_bad_debt` forfeits dust collateral
//! itself (issue 12), so such an obligation is socialised with its
//! collateral reserves and oracles passed ([`ix::dust_accounts`]); the
//! program refuses (`ObligationHasCollateral`) if the collateral is worth
//! more than the market's dust value.

use std::collections::HashMap;

use ballast::engine::fx::FxExt;
use ballast::events::BadDebtSocialized;
use ballast::state::{Obligation, PositionKind, Reserve};
use solana_address::Address;
use solana_signer::Signer;

use super::liquidation::Liquidator;
use super::TaskError;
use crate::accounts::{decode_obligation, load_reserves};
use crate::chain::Chain;
use crate::ix::{self, ReserveKeys};
use crate::scan::{Assessment, MarketSnapshot};

/// One socialised debt position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Socialized {
    /// The obligation.
    pub obligation: Address,
    /// The reserve the debt was owed to.
    pub reserve: Address,
    /// The debt as the task computed it before sending, token base units.
    pub expected_debt: u64,
    /// The debt the program socialised (its `BadDebtSocialized` event),
    /// token base units.
    pub debt: u64,
    /// Part of `debt` paid from the insurance vault, token base units.
    pub covered_by_insurance: u64,
    /// Part of `debt` written down against depositors, token base units.
    pub written_off: u64,
}

/// What one run did.
#[derive(Debug, Default)]
pub struct BadDebtRun {
    /// Obligations found with debt and no collateral, or only dust the
    /// sweep could not take (after the sweeps).
    pub found: usize,
    /// Dust sweeps that went through: (obligation, collateral reserve).
    pub swept: Vec<(Address, Address)>,
    /// Debt positions socialised.
    pub socialized: Vec<Socialized>,
    /// Debt written off by the program inside a dust sweep that took the
    /// obligation's last collateral (`BadDebtSocialized` emitted by
    /// `liquidate`), as (obligation, debt reserve, written-off base units).
    pub swept_written_off: Vec<(Address, Address, u64)>,
    /// Positions whose transaction failed: (obligation, reserve, message).
    pub failed: Vec<(Address, Address, String)>,
    /// Positions someone else socialised or swept first (the program found
    /// nothing left to do, or the transaction lost a race): (obligation,
    /// reserve).
    pub skipped: Vec<(Address, Address)>,
}

/// Whether `e` says another keeper did it first: a race lost, or
/// `NothingToRepay` (the debt was socialised already).
fn done_by_someone_else(e: &crate::chain::ChainError) -> bool {
    use ballast::errors::BallastError;
    crate::chain::lost_race(e)
        || matches!(e, crate::chain::ChainError::Transaction { err, .. }
            if crate::tasks::liquidation::is_ballast(err, BallastError::NothingToRepay))
}

/// Whether `ob` owes debt and holds no collateral.
pub fn is_bad_debt(ob: &Obligation) -> bool {
    ob.has_debt()
        && !ob
            .positions
            .iter()
            .any(|p| p.kind() == PositionKind::Collateral)
}

/// One pass over `market`: sweeps dust collateral off insolvent
/// obligations when `sweeper` is given (see the module docs), then
/// socialises every debt position of every obligation with debt and no
/// collateral.
pub fn run(
    chain: &mut impl Chain,
    market: &Address,
    sweeper: Option<&Liquidator>,
) -> Result<BadDebtRun, TaskError> {
    let now = chain.unix_time()?;
    let mut out = BadDebtRun::default();
    let mut obligations: Vec<(Address, Obligation)> = chain
        .ballast_accounts::<Obligation>(market)?
        .into_iter()
        .filter_map(|(k, d)| decode_obligation(&d).map(|o| (k, o)))
        .filter(|(_, o)| o.has_debt())
        .collect();
    if obligations.is_empty() {
        return Ok(out);
    }
    // The sweep scores obligations, so it needs the whole snapshot (market
    // and oracles too); socialising needs the reserves only.
    let snapshot = match sweeper {
        Some(_) => Some(MarketSnapshot::load(chain, market, now)?),
        None => None,
    };
    let loaded;
    let reserves: &[(Address, Reserve)] = match &snapshot {
        Some(s) => s.reserves(),
        None => {
            loaded = load_reserves(chain, market)?;
            &loaded
        }
    };
    let by_key: HashMap<Address, &Reserve> = reserves.iter().map(|(k, r)| (*k, r)).collect();
    let keys_of = |r: &Reserve| ReserveKeys::derive(market, &r.mint, &r.token_program, &r.oracle);

    // Obligations whose dust the sweep left (it could not be seized).
    let mut dusty: Vec<Address> = Vec::new();
    if let (Some(liq), Some(snapshot)) = (sweeper, &snapshot) {
        for (key, ob) in obligations.iter_mut() {
            if is_bad_debt(ob)
                || !matches!(snapshot.assess(key, ob), Assessment::NothingToSeize { .. })
            {
                continue;
            }
            sweep_dust(chain, liq, key, ob, &by_key, &keys_of, &mut out)?;
            if ob.has_debt() && !is_bad_debt(ob) {
                dusty.push(*key);
            }
        }
    }
    for (key, ob) in obligations
        .iter()
        .filter(|(k, o)| is_bad_debt(o) || (o.has_debt() && dusty.contains(k)))
    {
        out.found += 1;
        socialize(chain, key, ob, &by_key, &keys_of, now, &mut out);
    }
    Ok(out)
}

/// Takes every collateral position of `ob` (account `key`), left with
/// nothing to seize, with a `liquidate` of `max_repay = u64::MAX` signed by
/// `liq` (module docs), then re-reads the obligation into `ob`.
fn sweep_dust(
    chain: &mut impl Chain,
    liq: &Liquidator,
    key: &Address,
    ob: &mut Obligation,
    by_key: &HashMap<Address, &Reserve>,
    keys_of: &impl Fn(&Reserve) -> ReserveKeys,
    out: &mut BadDebtRun,
) -> Result<(), TaskError> {
    let Some(debt) = ob
        .positions
        .iter()
        .find(|p| p.kind() == PositionKind::Debt)
        .and_then(|p| by_key.get(&p.reserve))
    else {
        return Ok(());
    };
    let debt_keys = keys_of(debt);
    let colls: Vec<Address> = ob
        .positions
        .iter()
        .filter(|p| p.kind() == PositionKind::Collateral)
        .map(|p| p.reserve)
        .collect();
    for coll in colls {
        let Some(c) = by_key.get(&coll) else {
            continue;
        };
        let coll_keys = keys_of(c);
        let (Some(pay), Some(receive)) = (
            liq.token_accounts.get(&debt_keys.mint),
            liq.token_accounts.get(&coll_keys.mint),
        ) else {
            continue;
        };
        let health = ix::health_accounts(ob, None, |r| {
            by_key
                .get(r)
                .map(|x| ix::health_keys(x))
                .unwrap_or_default()
        });
        // The sweep takes the last collateral: the other debts are written
        // off in the same instruction (their reserves writable).
        let health = ix::with_write_off_accounts(health, ob, &debt_keys.reserve, |r| {
            by_key.get(r).map(|x| **x)
        });
        // As the liquidation task does: a collateral reserve with funds
        // deployed to its strategy names the strategy too.
        let sweep = ix::with_accounts(
            ix::liquidate(
                &liq.keypair.pubkey(),
                key,
                &debt_keys,
                &coll_keys,
                pay,
                receive,
                u64::MAX,
                health,
            ),
            ix::strategy_account(c),
        );
        match chain.send(&[sweep], &[&liq.keypair]) {
            Ok(sent) => {
                for e in crate::events::events::<BadDebtSocialized>(&sent.logs) {
                    out.swept_written_off.push((*key, e.reserve, e.written_off));
                }
                out.swept.push((*key, coll))
            }
            Err(e) if done_by_someone_else(&e) => {
                tracing::info!(obligation = %key, "dust sweep skipped: done by someone else first");
                out.skipped.push((*key, coll))
            }
            Err(e) => out.failed.push((*key, coll, format!("dust sweep: {e}"))),
        }
    }
    if let Some(d) = chain.account_data(key)? {
        if let Some(fresh) = decode_obligation(&d) {
            *ob = fresh;
        }
    }
    Ok(())
}

/// Sends `socialize_bad_debt` for every debt position of `ob` (account
/// `key`), recording the debt computed beforehand beside the program's event.
fn socialize(
    chain: &mut impl Chain,
    key: &Address,
    ob: &Obligation,
    by_key: &HashMap<Address, &Reserve>,
    keys_of: &impl Fn(&Reserve) -> ReserveKeys,
    now: i64,
    out: &mut BadDebtRun,
) {
    // Term loans are written off as floating debt: convert them first
    // (the obligation, without collateral, is below Maintenance), then
    // socialise what the program made of them.
    let fresh;
    let ob = if ob.has_term_debt() {
        let conversions = ix::term_conversions(&ob.market, key, ob, |r| {
            by_key
                .get(r)
                .map(|x| ix::health_keys(x))
                .unwrap_or_default()
        });
        if let Err(e) = chain.send(&conversions, &[]) {
            let reserve = ob
                .positions
                .iter()
                .find(|p| p.kind() == PositionKind::TermDebt)
                .map(|p| p.reserve)
                .unwrap_or_default();
            out.failed
                .push((*key, reserve, format!("convert_term_debt: {e}")));
            return;
        }
        match chain
            .account_data(key)
            .ok()
            .flatten()
            .and_then(|d| decode_obligation(&d))
        {
            Some(o) => {
                fresh = o;
                &fresh
            }
            None => return,
        }
    } else {
        ob
    };
    for p in ob
        .positions
        .iter()
        .filter(|p| p.kind() == PositionKind::Debt)
    {
        let Some(r) = by_key.get(&p.reserve) else {
            out.failed
                .push((*key, p.reserve, "unknown reserve".to_string()));
            continue;
        };
        let expected_debt = r
            .projected_borrow_index(now)
            .and_then(|i| ballast::engine::shares::debt_for_shares(p.borrow_shares.get(), i))
            .and_then(|d| d.to_ceil_u64())
            .unwrap_or(u64::MAX);
        // Its collateral (dust), forfeited by the program; none usually.
        let dust = ix::dust_accounts(ob, |c| by_key.get(c).map(|x| x.oracle).unwrap_or_default());
        let socialize = ix::with_accounts(ix::socialize_bad_debt(key, &keys_of(r)), dust);
        match chain.send(&[socialize], &[]) {
            Ok(sent) => match crate::events::events::<BadDebtSocialized>(&sent.logs).pop() {
                Some(e) => out.socialized.push(Socialized {
                    obligation: *key,
                    reserve: p.reserve,
                    expected_debt,
                    debt: e.debt,
                    covered_by_insurance: e.covered_by_insurance,
                    written_off: e.written_off,
                }),
                None => out.failed.push((
                    *key,
                    p.reserve,
                    "no BadDebtSocialized event in the logs".to_string(),
                )),
            },
            Err(e) if done_by_someone_else(&e) => {
                tracing::info!(obligation = %key, "socialize_bad_debt skipped: done by someone else first");
                out.skipped.push((*key, p.reserve))
            }
            Err(e) => out.failed.push((*key, p.reserve, e.to_string())),
        }
    }
}
