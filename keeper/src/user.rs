//! What the `ballast` command line (depositors and borrowers) does, over any
//! [`Chain`]: read an obligation and value it with the program's own engine
//! ([`ObligationView`]: positions, health under the Initial and the
//! Maintenance requirement, borrowing power, liquidation price), build the
//! user instructions, and preview each one before it is signed: the
//! transaction is simulated by the chain and the obligation's state after it
//! valued the same way ([`preview`]), so what the user sees is what the
//! program would do, its refusal included.
//!
//! Amounts are given in whole tokens as decimal strings (`12.5`), converted
//! exactly to base units with the mint's decimals ([`parse_amount`]); `all`
//! means everything (`u64::MAX`, which `withdraw` and `repay` cap at the
//! position).

use anyhow::{anyhow, bail, Context, Result};
use ballast::engine::fx::Fx;
use ballast::engine::health::{obligation_health, Requirement, ReserveView};
use ballast::engine::oracle::OraclePrice;
use ballast::engine::position::PositionKind;
use ballast::state::{Obligation, Reserve};
use serde::Serialize;
use solana_address::Address;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::accounts::{decode_obligation, load_reserves};
use crate::chain::{Chain, ChainError};
use crate::ix::{self, ReserveKeys};
use crate::scan::MarketSnapshot;
use crate::tasks::liquidation::associated_token_address;

/// A user operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Deposit collateral.
    Deposit,
    /// Withdraw collateral.
    Withdraw,
    /// Borrow.
    Borrow,
    /// Repay debt.
    Repay,
}

/// Parses a whole-token decimal amount into base units of a mint with
/// `decimals` (exact, no floating point); `all` is `u64::MAX`. Errors on a
/// negative, empty, malformed or zero amount, more fractional digits than
/// the mint has, or an amount beyond `u64`.
pub fn parse_amount(text: &str, decimals: u8) -> Result<u64> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("all") {
        return Ok(u64::MAX);
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        bail!("amount `{text}`: expected a number of tokens such as 12.5, or `all`");
    }
    if frac.len() > decimals as usize {
        bail!("amount `{text}`: the mint has {decimals} decimals");
    }
    let scale = 10u128.pow(decimals as u32);
    let int: u128 = if int.is_empty() {
        0
    } else {
        int.parse().context("amount")?
    };
    let frac_units: u128 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u128>()? * 10u128.pow((decimals as usize - frac.len()) as u32)
    };
    let units = int
        .checked_mul(scale)
        .and_then(|v| v.checked_add(frac_units))
        .filter(|v| *v < u64::MAX as u128)
        .ok_or_else(|| anyhow!("amount `{text}` is too large"))?;
    if units == 0 {
        bail!("amount `{text}` is zero");
    }
    Ok(units as u64)
}

/// One position of an obligation, valued.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PositionView {
    /// The reserve.
    pub reserve: String,
    /// Its mint.
    pub mint: String,
    /// `collateral` or `debt`.
    pub kind: &'static str,
    /// Tokens, whole (collateral rounded down, debt up, as the program).
    pub tokens: f64,
    /// Unweighted value at the oracle's spot price, USD.
    pub value_usd: f64,
}

/// An obligation valued with the program's engine at the chain's clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ObligationView {
    /// The obligation.
    pub obligation: String,
    /// Its owner.
    pub owner: String,
    /// Its positions.
    pub positions: Vec<PositionView>,
    /// Weighted collateral / weighted debt under the Initial requirement
    /// (LTV; gates borrow and withdraw); `None` without debt.
    pub initial_health: Option<f64>,
    /// The same under the Maintenance requirement (liquidation threshold;
    /// liquidatable below 1); `None` without debt.
    pub maintenance_health: Option<f64>,
    /// Weighted collateral minus weighted debt under the Initial
    /// requirement, USD: what more may be borrowed (in debt of borrow
    /// factor 1), negative when over the limit.
    pub borrowing_power_usd: f64,
    /// The spot price of the single collateral asset at which the
    /// Maintenance health reaches 1, USD per token; `None` without debt,
    /// with several collateral reserves, or when a debt is in the same
    /// asset.
    pub liquidation_price_usd: Option<f64>,
    /// Why a figure could not be computed (e.g. a stale oracle).
    pub note: Option<String>,
}

/// Values `ob` (at `address`) against `snapshot`.
pub fn view_obligation(
    snapshot: &MarketSnapshot,
    address: &Address,
    ob: &Obligation,
) -> Result<ObligationView> {
    let now = snapshot.now();
    let mut entries: Vec<(Address, ReserveView, OraclePrice, u8, Address)> = vec![];
    let mut note = None;
    for (key, r) in snapshot.reserves() {
        // As the program values it (deployed treasury shares at the lower
        // of book and mark), falling back to the book view.
        let view = r.view(now)?;
        let view = snapshot.health_view(key).copied().unwrap_or(view);
        match snapshot.price(key) {
            Some(Ok(p)) => entries.push((*key, view, *p, r.mint_decimals, r.mint)),
            Some(Err(reason)) => note = Some(format!("reserve {key}: {reason}")),
            None => {}
        }
    }
    let lookup = |k: &Address| entries.iter().find(|e| e.0 == *k).map(|e| (&e.1, &e.2));
    let mut positions = vec![];
    let (mut coll_reserves, mut debt_reserves) = (vec![], vec![]);
    for p in ob.positions.iter() {
        let kind = p.kind();
        if kind == PositionKind::Empty {
            continue;
        }
        let Some(e) = entries.iter().find(|e| e.0 == p.reserve) else {
            positions.push(PositionView {
                reserve: p.reserve.to_string(),
                mint: String::new(),
                kind: if kind == PositionKind::Collateral {
                    "collateral"
                } else {
                    "debt"
                },
                tokens: f64::NAN,
                value_usd: f64::NAN,
            });
            continue;
        };
        let scale = 10f64.powi(e.3 as i32);
        let price = e.2.price as f64 * 10f64.powi(e.2.exponent);
        let tokens = match kind {
            PositionKind::Collateral => {
                coll_reserves.push(p.reserve);
                e.1.collateral_tokens(p.deposit_shares)?.to_num::<f64>() / scale
            }
            PositionKind::TermDebt => {
                // What it owes now: the face, plus the penalty past maturity.
                debt_reserves.push(p.reserve);
                e.1.term_debt_tokens(p)? as f64 / scale
            }
            _ => {
                debt_reserves.push(p.reserve);
                e.1.debt_tokens(p.borrow_shares.get())?.to_num::<f64>() / scale
            }
        };
        positions.push(PositionView {
            reserve: p.reserve.to_string(),
            mint: e.4.to_string(),
            kind: match kind {
                PositionKind::Collateral => "collateral",
                PositionKind::TermDebt => "term debt",
                _ => "debt",
            },
            tokens,
            value_usd: tokens * price,
        });
    }
    let usd = |v: Fx| v.to_num::<f64>() / 1e6;
    let health = |req| obligation_health(&ob.positions, lookup, req);
    let (initial, maintenance) = match (
        health(Requirement::Initial),
        health(Requirement::Maintenance),
    ) {
        (Ok(i), Ok(m)) => (Some(i), Some(m)),
        (i, m) => {
            let e = i.err().or(m.err()).expect("one failed");
            note.get_or_insert(format!("health: {e}"));
            (None, None)
        }
    };
    let ratio = |h: &Option<ballast::engine::health::Health>| {
        h.as_ref()
            .and_then(|h| h.ratio())
            .map(|r| r.to_num::<f64>())
    };
    let liquidation_price = match (&maintenance, coll_reserves.as_slice()) {
        (Some(m), [c]) if m.debt > ballast::engine::fx::FX_ZERO && !debt_reserves.contains(c) => {
            let e = entries.iter().find(|e| e.0 == *c).expect("valued above");
            let price = e.2.price as f64 * 10f64.powi(e.2.exponent);
            // Weighted collateral is linear in the collateral's price.
            Some(price * m.debt.to_num::<f64>() / m.collateral.to_num::<f64>())
        }
        _ => None,
    };
    Ok(ObligationView {
        obligation: address.to_string(),
        owner: ob.owner.to_string(),
        positions,
        initial_health: ratio(&initial),
        maintenance_health: ratio(&maintenance),
        borrowing_power_usd: initial.map_or(0.0, |h| usd(h.collateral) - usd(h.debt)),
        liquidation_price_usd: liquidation_price,
        note,
    })
}

/// The obligation at `address` valued now; an error names a missing one.
pub fn show(chain: &impl Chain, market: &Address, address: &Address) -> Result<ObligationView> {
    let data = chain
        .account_data(address)?
        .with_context(|| format!("obligation {address} does not exist (create it first)"))?;
    let ob = decode_obligation(&data).with_context(|| format!("{address} is not an obligation"))?;
    let snapshot = MarketSnapshot::load(chain, market, chain.unix_time()?)?;
    view_obligation(&snapshot, address, &ob)
}

/// The reserve of `market` for `mint`.
pub fn reserve_for_mint(
    chain: &impl Chain,
    market: &Address,
    mint: &Address,
) -> Result<(ReserveKeys, Reserve)> {
    let (key, r) = load_reserves(chain, market)?
        .into_iter()
        .find(|(_, r)| r.mint == *mint)
        .with_context(|| format!("market {market} has no reserve for mint {mint}"))?;
    let keys = ReserveKeys::derive(market, &r.mint, &r.token_program, &r.oracle);
    debug_assert_eq!(keys.reserve, key);
    Ok((keys, r))
}

/// The instructions of `op` of `amount` base units of `reserve` for the
/// obligation `obligation` of `owner`, from and to `owner`'s associated
/// token account (created first when a withdraw or borrow needs it).
pub fn instructions(
    chain: &impl Chain,
    op: Operation,
    owner: &Address,
    obligation: &Address,
    keys: &ReserveKeys,
    reserve: &Reserve,
    amount: u64,
) -> Result<Vec<Instruction>> {
    let ata = associated_token_address(owner, &keys.mint, &keys.token_program);
    let oracle_of = |reserves: &[(Address, Reserve)], r: &Address| {
        reserves
            .iter()
            .find(|(k, _)| k == r)
            .map(|(_, x)| ix::health_keys(x))
            .unwrap_or_default()
    };
    let ob = chain
        .account_data(obligation)?
        .as_deref()
        .and_then(decode_obligation)
        .with_context(|| format!("obligation {obligation} does not exist (create it first)"))?;
    let strategy = ix::strategy_account(reserve);
    let mut ixs = vec![];
    let create_ata = || {
        spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
            owner,
            owner,
            &keys.mint,
            &keys.token_program,
        )
    };
    match op {
        Operation::Deposit => ixs.push(ix::with_accounts(
            ix::deposit(owner, keys, obligation, &ata, amount),
            strategy,
        )),
        Operation::Repay => ixs.push(ix::repay(owner, keys, obligation, &ata, amount)),
        Operation::Withdraw | Operation::Borrow => {
            let reserves = load_reserves(chain, &keys.market)?;
            let borrowing = (op == Operation::Borrow).then_some(keys.reserve);
            let mut health =
                ix::health_accounts(&ob, borrowing.as_ref(), |r| oracle_of(&reserves, r));
            ixs.push(create_ata());
            if op == Operation::Withdraw {
                // While shares are deployed, the six recall accounts: the
                // program recalls what the withdrawal needs (the vault's
                // shortfall, the rehypothecation cap, the buffer band's
                // minimum) and refuses such a withdrawal without them.
                if reserve.treasury.deployed_shares > 0 {
                    let s = chain
                        .account_data(&reserve.treasury.strategy_reserve)?
                        .as_deref()
                        .and_then(crate::accounts::decode_reserve)
                        .context("treasury strategy reserve not found")?;
                    let sk = ReserveKeys::derive(&s.market, &s.mint, &s.token_program, &s.oracle);
                    health.extend(ix::recall_accounts(keys, &sk));
                } else {
                    health.extend(strategy);
                }
                ixs.push(ix::withdraw(owner, keys, obligation, &ata, amount, health));
            } else {
                ixs.push(ix::borrow(owner, keys, obligation, &ata, amount, health));
            }
        }
    }
    Ok(ixs)
}

/// The instructions of a term deposit by `owner` of `amount` base units of
/// `keys`' reserve (`reserve`, decoded) under `nonce`: `Some((tenor_index,
/// amount, min_face))` deposits from `owner`'s associated token account,
/// `None` settles the matured deposit `nonce` into it (creating it first).
/// The treasury strategy reserve is appended while shares are deployed.
pub fn term_instructions(
    owner: &Address,
    keys: &ReserveKeys,
    reserve: &Reserve,
    nonce: u64,
    deposit: Option<(u8, u64, u64)>,
) -> Vec<Instruction> {
    let ata = associated_token_address(owner, &keys.mint, &keys.token_program);
    let strategy = ix::strategy_account(reserve);
    match deposit {
        Some((tenor, amount, min_face)) => vec![ix::with_accounts(
            ix::deposit_term(owner, keys, &ata, nonce, tenor, amount, min_face),
            strategy,
        )],
        None => vec![
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                owner,
                owner,
                &keys.mint,
                &keys.token_program,
            ),
            ix::with_accounts(ix::withdraw_term(owner, keys, &ata, nonce), strategy),
        ],
    }
}

/// A previewed operation: the obligation before and after, the compute
/// units, or the program's refusal.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Preview {
    /// The operation.
    pub operation: Operation,
    /// Base units.
    pub amount: u64,
    /// Before.
    pub before: ObligationView,
    /// After (when the program accepts it).
    pub after: Option<ObligationView>,
    /// The program's refusal (error name and logs' last lines), when it
    /// refuses.
    pub refused: Option<String>,
    /// Compute units the simulation consumed.
    pub compute_units: u64,
}

/// Simulates `ixs` (signed by `owner`) and values the obligation before and
/// after with the program's engine.
pub fn preview(
    chain: &impl Chain,
    market: &Address,
    obligation: &Address,
    op: Operation,
    amount: u64,
    ixs: &[Instruction],
    owner: &Keypair,
) -> Result<Preview> {
    let before = show(chain, market, obligation)?;
    // The obligation and every reserve after the transaction: a deposit
    // changes the reserve's shares too, so both are valued as they would be.
    let reserves = load_reserves(chain, market)?;
    let mut wanted = vec![*obligation];
    wanted.extend(reserves.iter().map(|(k, _)| *k));
    match chain.simulate(ixs, &[owner], &wanted) {
        Ok(sim) => {
            let data = sim
                .accounts
                .first()
                .cloned()
                .flatten()
                .ok_or_else(|| anyhow!("the simulation returned no obligation"))?;
            let ob = decode_obligation(&data).context("the simulated obligation")?;
            let after_reserves: Vec<(Address, Reserve)> = reserves
                .iter()
                .zip(sim.accounts.iter().skip(1))
                .map(|((k, r), d)| {
                    let post = d.as_deref().and_then(crate::accounts::decode_reserve);
                    (*k, post.unwrap_or(*r))
                })
                .collect();
            let now = chain.unix_time()?;
            let market_state = crate::accounts::load_market(chain, market)?;
            let oracles = crate::accounts::load_oracles(chain, &after_reserves)?;
            let snapshot =
                MarketSnapshot::new(*market, &market_state, &after_reserves, &oracles, now);
            Ok(Preview {
                operation: op,
                amount,
                before,
                after: Some(view_obligation(&snapshot, obligation, &ob)?),
                refused: None,
                compute_units: sim.compute_units,
            })
        }
        Err(ChainError::Transaction { err, logs }) => {
            let reason = crate::keeper_loop::program_error(&err, &logs);
            Ok(Preview {
                operation: op,
                amount,
                before,
                after: None,
                refused: Some(format!("{} ({err:?})", reason.label())),
                compute_units: 0,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates obligation `index` of `owner` in `market` (paid by the chain's
/// payer); returns its address. An existing one is an error naming it.
pub fn create_obligation(
    chain: &mut impl Chain,
    market: &Address,
    owner: &Keypair,
    index: u8,
) -> Result<Address> {
    let address = ix::obligation_address(market, &owner.pubkey(), index);
    if chain.account_data(&address)?.is_some() {
        bail!("obligation {address} (index {index}) exists already");
    }
    let ixi = ix::init_obligation(&chain.payer(), &owner.pubkey(), market, index);
    chain.send(&[ixi], &[owner])?;
    Ok(address)
}

/// The text of a view, for people.
pub fn view_text(v: &ObligationView) -> String {
    let f = |x: Option<f64>| x.map_or("-".to_string(), |h| format!("{h:.4}"));
    let mut out = format!("obligation {} (owner {})\n", v.obligation, v.owner);
    for p in &v.positions {
        out += &format!(
            "  {:<10} {:>18.6} of mint {} (${:.2})\n",
            p.kind, p.tokens, p.mint, p.value_usd
        );
    }
    out += &format!(
        "  health: initial {} (borrow/withdraw need >= 1), maintenance {} (liquidatable below 1)\n",
        f(v.initial_health),
        f(v.maintenance_health)
    );
    out += &format!("  borrowing power: ${:.2}\n", v.borrowing_power_usd);
    out += &format!(
        "  liquidation price: {}\n",
        v.liquidation_price_usd
            .map_or("-".to_string(), |p| format!("${p:.4} per collateral token"))
    );
    if let Some(n) = &v.note {
        out += &format!("  note: {n}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_decimal_tokens() {
        assert_eq!(parse_amount("12.5", 6).unwrap(), 12_500_000);
        assert_eq!(parse_amount("1", 9).unwrap(), 1_000_000_000);
        assert_eq!(parse_amount("0.000001", 6).unwrap(), 1);
        assert_eq!(parse_amount(".5", 1).unwrap(), 5);
        assert_eq!(parse_amount("ALL", 6).unwrap(), u64::MAX);
        for (bad, why) in [
            ("0.0000001", "decimals"),
            ("-1", "expected a number"),
            ("1e3", "expected a number"),
            ("", "expected a number"),
            ("0", "zero"),
            ("0.000", "zero"),
            ("99999999999999999999", "too large"),
        ] {
            let e = parse_amount(bad, 6).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }
}
