//! The invariants, checked after every operation (successful or refused) and
//! around the transactions that need a before/after view. Each returns the
//! violated invariant's number and what broke; the known-open defects are
//! gated through [`super::known::gate`].

// Reserve and actor indices address several parallel arrays (names, mints,
// markets, observations); a range loop reads better than zipped iterators.
#![allow(clippy::needless_range_loop)]

use ballast::engine::fx::{Fx, FX_ZERO};
use ballast::engine::health::{Health, Requirement};
use ballast::engine::liquidation::LiquidationConfig;
use ballast::engine::risk::{params_in_force, RiskPolicy};
use ballast::events::{
    BadDebtSocialized, Borrowed, Deposited, Liquidated, LiquidatedForShares, Rebalanced, Repaid,
    Withdrawn,
};
use ballast::state::PositionKind;

use super::known::{gate, Known};
use super::op::Op;
use super::world::{
    Obs, Sent, World, ACTORS, ATTACKER, MINTS, RESERVES, RES_MARKET, RES_MINT, RES_NAME,
};
use crate::{events, health_not_worse};

/// Relative tolerance of the exchange-rate check (f64 over the `Fx` values).
pub const RATE_REL_TOL: f64 = 1e-12;
/// Base units a treasury move may cost A/USDC's supply: the strategy's share
/// mint and burn round against the depositing reserve.
pub const TREASURY_ROUNDING_UNITS: f64 = 2.0;
/// Base units of rounding an actor's per-mint net worth may gain over one
/// of its own transactions (claims are rounded down, debts up, each to a
/// base unit, before and after).
pub const NET_WORTH_TOL_UNITS: i128 = 2;
/// Micro-USD of rounding a liquidation may cost a solvent obligation's
/// Maintenance collateral value (whole micro-USD valuation of two
/// positions, each side rounded against the obligation).
pub const HEALTH_ROUNDING_MICRO_USD: f64 = 4.0;
/// Relative tolerance between accruing 600 s of interest in one step and in
/// two (the rate moves with the utilisation the first half-step raises).
pub const ACCRUAL_SPLIT_REL_TOL: f64 = 1e-9;

/// One risk observation: (unix time, LT in force bps, borrow factor in
/// force bps, `max_lt_step_bps`, `min_update_interval_secs`).
pub type RiskObservation = (i64, u16, u32, u16, u32);

/// What the invariants remember across the operations of one case.
#[derive(Clone, Default)]
pub struct History {
    /// Risk observations (time, LT in force, borrow factor in force, step,
    /// interval) per reserve, since it last ran the static policy.
    pub risk: Vec<Vec<RiskObservation>>,
    /// Net outflows (time, signed amount) per reserve, from the events.
    pub flows: Vec<Vec<(i64, i128)>>,
    /// Supply each reserve may lose in the current operation (write-downs).
    pub allowed_drop: Vec<f64>,
    /// Whether the strategy (B/USDC) ever wrote debt down: A/USDC's marks
    /// may then lower its exchange rate.
    pub strategy_loss: bool,
    /// Whether a liquidation or write-off took deposits out of A/USDC while
    /// shares were deployed, or a mark booked the strategy's gain: the
    /// program never refuses those for the rehypothecation cap (a
    /// liquidation must not be blocked; a mark moves no token), so A/USDC
    /// may sit above the cap until a rebalance or a withdrawal recalls the
    /// excess (then this clears).
    pub cap_exempt: bool,
}

impl History {
    /// Starts a history from the first observation.
    pub fn start(&mut self, obs: &Obs) {
        self.risk = vec![Vec::new(); RESERVES];
        if self.flows.is_empty() {
            self.flows = vec![Vec::new(); RESERVES];
        }
        self.allowed_drop = vec![0.0; RESERVES];
        let _ = obs;
    }
}

fn fx_f64(x: Fx) -> f64 {
    x.to_num::<f64>()
}

fn err(n: u8, msg: String) -> Result<(), String> {
    Err(format!("invariant {n}: {msg}"))
}

/// Per-mint net worth of `actor`: wallet + claims - debts, base units.
pub fn net_worth(w: &World, actor: usize) -> [i128; MINTS] {
    let mut nw = [0i128; MINTS];
    for (m, v) in nw.iter_mut().enumerate() {
        *v = w.ctx.token_balance(&w.wallets[actor][m]).unwrap_or(0) as i128;
    }
    for m in 0..2 {
        let o = w.ctx.obligation(&w.obligations[actor][m]);
        for r in (0..RESERVES).filter(|&r| RES_MARKET[r] == m) {
            nw[RES_MINT[r]] +=
                w.claim(&o, r) as i128 - w.debt(&o, r) as i128 - w.term_debt(&o, r) as i128;
        }
    }
    nw
}

/// Whether the attacker alone signs `op`'s transactions and takes nothing
/// from another actor by design (a liquidation of someone else pays a bonus).
pub fn attacker_only(op: &Op) -> bool {
    let u = |x: u8| World::user(x) == ATTACKER;
    match *op {
        Op::Deposit { actor, .. } | Op::Withdraw { actor, .. } | Op::Borrow { actor, .. } => {
            u(actor)
        }
        Op::Repay { payer, .. } | Op::RepayTerm { payer, .. } => u(payer),
        Op::BorrowTerm { actor, .. } => u(actor),
        // A liquidation's owner is chosen from the state (`World::exec`),
        // which checks an attacker's self-liquidation there.
        Op::Flash { .. } | Op::BorrowRepay { .. } => true,
        _ => false,
    }
}

/// Invariant 3 (second half): no transaction of the attacker alone (round
/// trips included: flash deposit -> withdraw, borrow -> repay, self
/// liquidation) raises its net worth in any mint beyond rounding.
pub fn attacker_gain(pre: &[i128; MINTS], post: &[i128; MINTS]) -> Result<(), String> {
    attacker_gain_beyond(pre, post, &[0; MINTS])
}

/// [`attacker_gain`] allowing `forgiven[m]` more in mint `m`: the debt of
/// the attacker's own obligation written off in the operation. An
/// obligation left insolvent by the prices is its owner's put: taking the
/// last collateral writes the rest of the debt off in the same instruction
/// (issue 12), whoever liquidates, so a self-liquidation keeps the borrowed
/// tokens the collateral did not cover, exactly as walking away would, and
/// no more.
pub fn attacker_gain_beyond(
    pre: &[i128; MINTS],
    post: &[i128; MINTS],
    forgiven: &[i128; MINTS],
) -> Result<(), String> {
    for m in 0..MINTS {
        if post[m] > pre[m] + forgiven[m] + NET_WORTH_TOL_UNITS {
            return err(3, format!("the attacker's net worth in mint {m} rose from {} to {} in one of its own operations", pre[m], post[m]));
        }
    }
    Ok(())
}

/// Every invariant that reads one observation or two consecutive ones.
pub fn after_op(w: &mut World, pre: &Obs, post: &Obs, sents: &[Sent]) -> Result<(), String> {
    custody(w, post)?;
    exchange_rate(w, pre, post)?;
    risk_bound(w, post)?;
    // A successful liquidation or write-off may leave A/USDC above its cap
    // (see `History::cap_exempt`); the exemption lasts until it is back
    // under the cap.
    if sents.iter().any(|s| {
        s.ok && (!events::<Liquidated>(&s.logs).is_empty()
            || !events::<LiquidatedForShares>(&s.logs).is_empty()
            || !events::<BadDebtSocialized>(&s.logs).is_empty())
    }) {
        w.hist.cap_exempt = true;
    }
    // So may a mark of the strategy's gain by a deposit or an accrual with
    // the strategy reserve: deployed grew with no rebalance, so no token
    // moved. A withdrawal that marks must still end under the cap.
    let marked_gain = post.reserves[0].treasury.deployed_amount
        > pre.reserves[0].treasury.deployed_amount
        && sents.iter().all(|s| {
            !s.ok
                || (events::<Rebalanced>(&s.logs).is_empty()
                    && events::<Withdrawn>(&s.logs).is_empty())
        });
    if marked_gain {
        w.hist.cap_exempt = true;
    }
    treasury(w, post)?;
    if !above_cap(post) {
        w.hist.cap_exempt = false;
    }
    record_flows(w, post.now, sents);
    limiter(w, post, sents)?;
    interest(pre, post)?;
    liveness(w, post)?;
    w.hist.allowed_drop = vec![0.0; RESERVES];
    Ok(())
}

/// Invariant 1: custody and books.
pub fn custody(w: &World, o: &Obs) -> Result<(), String> {
    for r in 0..RESERVES {
        if o.vault[r] < o.reserves[r].available_amount {
            return err(
                1,
                format!(
                    "{} vault {} < available_amount {}",
                    RES_NAME[r], o.vault[r], o.reserves[r].available_amount
                ),
            );
        }
    }
    for m in 0..MINTS {
        let wallets: u128 = o.wallets.iter().map(|x| x[m] as u128).sum();
        let vaults: u128 = (0..RESERVES)
            .filter(|&r| RES_MINT[r] == m)
            .map(|r| o.vault[r] as u128 + o.insurance[r] as u128)
            .sum();
        let supply = w.ctx.mint_supply(&w.mints[m]) as u128;
        if wallets + vaults != w.minted[m] as u128 || supply != w.minted[m] as u128 {
            return err(1, format!("mint {m}: wallets {wallets} + vaults and insurance {vaults} vs minted {} (supply {supply})", w.minted[m]));
        }
    }
    term_book(w, o)?;
    for r in 0..RESERVES {
        let key = w.res[r].keys.reserve;
        let m = RES_MARKET[r];
        let mut obs: Vec<&ballast::state::Obligation> =
            (0..ACTORS).map(|a| &o.obligations[a][m]).collect();
        if m == 1 {
            obs.push(&o.treasury_ob);
        }
        let mut dep = 0u128;
        let mut bor = FX_ZERO;
        let mut n = 0;
        for ob in obs {
            if let Some(i) = ob.find(&key, PositionKind::Collateral) {
                dep += ob.positions[i].deposit_shares as u128;
            }
            if let Some(i) = ob.find(&key, PositionKind::Debt) {
                bor += ob.positions[i].borrow_shares.get();
                n += 1;
            }
        }
        let reserve = &o.reserves[r];
        if dep != reserve.deposit_shares as u128 {
            return err(
                1,
                format!(
                    "{}: obligations' deposit shares {dep} vs the reserve's {}",
                    RES_NAME[r], reserve.deposit_shares
                ),
            );
        }
        // Stated bound: one ulp of `Fx` per debt position (observed: exact).
        let diff = (bor - reserve.borrow_shares.get()).abs();
        if diff > Fx::DELTA * Fx::from_num(n.max(1)) {
            return err(
                1,
                format!(
                    "{}: obligations' borrow shares {bor} vs the reserve's {}",
                    RES_NAME[r],
                    reserve.borrow_shares.get()
                ),
            );
        }
    }
    Ok(())
}

/// Invariant 1 for term loans: each reserve's term book is the sum of the
/// obligations' term loans, maturity by maturity (face), its totals are
/// the sums of its buckets (the unearned within one ulp of `Fx` per
/// bucket), no bucket holds more unearned interest than face, and none at
/// or past its maturity holds any (as of the book's last accrual).
pub fn term_book(w: &World, o: &Obs) -> Result<(), String> {
    use std::collections::BTreeMap;
    for r in 0..RESERVES {
        let key = w.res[r].keys.reserve;
        let m = RES_MARKET[r];
        let mut loans: BTreeMap<i64, u128> = BTreeMap::new();
        for a in 0..ACTORS {
            let ob = &o.obligations[a][m];
            for p in ob
                .positions
                .iter()
                .filter(|p| p.kind() == PositionKind::TermDebt && p.reserve == key)
            {
                *loans.entry(p.term_maturity()).or_default() += p.term_face() as u128;
            }
        }
        let t = &o.reserves[r].term;
        let mut book: BTreeMap<i64, u128> = BTreeMap::new();
        let (mut face, mut unearned, mut n) = (0u128, FX_ZERO, 0);
        for b in t.buckets.iter().filter(|b| b.face > 0) {
            *book.entry(b.maturity).or_default() += b.face as u128;
            face += b.face as u128;
            unearned += b.unearned.get();
            n += 1;
            if b.unearned.get() > Fx::from_num(b.face) {
                return err(
                    1,
                    format!(
                        "{}: bucket {} holds unearned {} > face {}",
                        RES_NAME[r],
                        b.maturity,
                        b.unearned.get(),
                        b.face
                    ),
                );
            }
            if b.maturity <= t.last_update_ts && b.unearned.get() > FX_ZERO {
                return err(
                    1,
                    format!(
                        "{}: bucket {} still unearned {} at {} (matured)",
                        RES_NAME[r],
                        b.maturity,
                        b.unearned.get(),
                        t.last_update_ts
                    ),
                );
            }
        }
        if loans != book {
            return err(
                1,
                format!(
                    "{}: term loans by maturity {loans:?} vs the reserve's buckets {book:?}",
                    RES_NAME[r]
                ),
            );
        }
        if face != t.total_face as u128 {
            return err(
                1,
                format!(
                    "{}: buckets' face {face} vs total_face {}",
                    RES_NAME[r], t.total_face
                ),
            );
        }
        if (unearned - t.total_unearned.get()).abs() > Fx::DELTA * Fx::from_num(n.max(1)) {
            return err(
                1,
                format!(
                    "{}: buckets' unearned {unearned} vs total_unearned {}",
                    RES_NAME[r],
                    t.total_unearned.get()
                ),
            );
        }
    }
    Ok(())
}

/// Invariant 3 (first half): a reserve's exchange rate (supply / deposit
/// shares) never falls, except by a write-down (by at most what was written
/// off) or, for A/USDC, a marked strategy loss and the strategy's rounding.
/// Measured in base units on the shares outstanding after the operation:
/// their supply must be at least their value at the rate before, less the
/// allowances, less [`RATE_REL_TOL`] of it.
pub fn exchange_rate(w: &World, pre: &Obs, post: &Obs) -> Result<(), String> {
    for r in 0..RESERVES {
        let (a, b) = (&pre.reserves[r], &post.reserves[r]);
        if a.deposit_shares == 0 || b.deposit_shares == 0 {
            continue;
        }
        if r == 0 && w.hist.strategy_loss {
            continue;
        }
        let (sa, sb) = (
            fx_f64(a.supply().unwrap_or(FX_ZERO)),
            fx_f64(b.supply().unwrap_or(FX_ZERO)),
        );
        let rate = sa / a.deposit_shares as f64;
        let owed = rate * b.deposit_shares as f64;
        let slack = w.hist.allowed_drop[r] + if r == 0 { TREASURY_ROUNDING_UNITS } else { 0.0 };
        if sb < owed - slack - owed * RATE_REL_TOL {
            return err(3, format!(
                "{}: exchange rate fell from {rate} to {} (supply {sa} / {} shares -> {sb} / {} shares: {} units short, allowance {slack})",
                RES_NAME[r], sb / b.deposit_shares as f64, a.deposit_shares, b.deposit_shares, owed - sb
            ));
        }
    }
    Ok(())
}

/// Invariant 4: under the dynamic policy, for any two observations t1 <
/// t2 since the reserve last ran the static policy, `LT(t2) >= LT(t1) -
/// step x ceil((t2 - t1) / interval)` and `BF(t2) <= BF(t1) + step x
/// ceil(...)`, with the values in force computed from the stored risk state.
pub fn risk_bound(w: &mut World, o: &Obs) -> Result<(), String> {
    for r in 0..RESERVES {
        let reserve = &o.reserves[r];
        let cfg = &reserve.config.risk;
        if cfg.policy() != RiskPolicy::Dynamic {
            w.hist.risk[r].clear();
            continue;
        }
        let p = params_in_force(cfg, &reserve.risk, o.now);
        let (lt, bf) = (p.liquidation_threshold_bps, p.borrow_factor_bps);
        let h = &mut w.hist.risk[r];
        // The value at a time is the one after its last transaction: an
        // observation at the same second replaces the previous one.
        if h.last().is_some_and(|x| x.0 == o.now) {
            h.pop();
        }
        h.push((
            o.now,
            lt,
            bf,
            cfg.max_lt_step_bps,
            cfg.min_update_interval_secs,
        ));
        let step = h.iter().map(|x| x.3 as i64).max().unwrap_or(0);
        let interval = h.iter().map(|x| x.4 as i64).min().unwrap_or(1).max(1);
        for &(t1, lt1, bf1, _, _) in h.iter().filter(|x| x.0 < o.now) {
            let k = (o.now - t1 + interval - 1).div_euclid(interval).max(0);
            if (lt as i64) < lt1 as i64 - step * k {
                return err(4, format!("{}: LT in force {} at t={} fell from {} at t={} (step {step}, interval {interval})", RES_NAME[r], lt, o.now, lt1, t1));
            }
            if bf as i64 > bf1 as i64 + step * k {
                return err(4, format!("{}: borrow factor {} at t={} rose from {} at t={} (step {step}, interval {interval})", RES_NAME[r], bf, o.now, bf1, t1));
            }
        }
        if h.len() > 64 {
            h.remove(1);
        }
    }
    Ok(())
}

/// Whether A/USDC's deployed amount is above its rehypothecation cap x
/// deposits (beyond one base unit of rounding).
fn above_cap(o: &Obs) -> bool {
    let a = &o.reserves[0];
    let cap = a.config.liquidity.rehypothecation_cap_bps as u128;
    let supply = a
        .supply()
        .map(|s| s.to_num::<f64>())
        .unwrap_or(0.0)
        .max(0.0) as u128;
    a.treasury.deployed_amount as u128 * 10_000 > cap * supply + 10_000
}

/// Invariant 7: the treasury.
pub fn treasury(w: &World, o: &Obs) -> Result<(), String> {
    let a = &o.reserves[0];
    let b_key = w.res[3].keys.reserve;
    let held = o
        .treasury_ob
        .find(&b_key, PositionKind::Collateral)
        .map_or(0, |i| o.treasury_ob.positions[i].deposit_shares);
    if a.treasury.deployed_shares != held {
        return err(
            7,
            format!(
                "A/USDC deployed shares {} vs the treasury obligation's {held} in B/USDC",
                a.treasury.deployed_shares
            ),
        );
    }
    for r in 0..RESERVES {
        let key = w.res[r].keys.reserve;
        let users = o
            .reserves
            .iter()
            .filter(|x| x.treasury.strategy_reserve == key)
            .count() as u32;
        if o.reserves[r].treasury.strategy_users != users {
            return err(
                7,
                format!(
                    "{}: strategy_users {} vs {users} reserves pointing at it",
                    RES_NAME[r], o.reserves[r].treasury.strategy_users
                ),
            );
        }
    }
    let cap = a.config.liquidity.rehypothecation_cap_bps as u128;
    let supply = a
        .supply()
        .map(|s| s.to_num::<f64>())
        .unwrap_or(0.0)
        .max(0.0) as u128;
    let above = above_cap(o);
    if above && !w.hist.cap_exempt && !gate(w, Known::Issue13CapAfterEveryInstruction) {
        return err(
            7,
            format!(
                "A/USDC deployed {} above the cap {} bps of deposits {supply}",
                a.treasury.deployed_amount, cap
            ),
        );
    }
    Ok(())
}

/// Records the limiter's flows of successful transactions from their
/// events (deposit and repay in, withdraw and borrow out; CPIs included).
pub fn record_flows(w: &mut World, now: i64, sents: &[Sent]) {
    if w.hist.flows.is_empty() {
        w.hist.flows = vec![Vec::new(); RESERVES];
    }
    for s in sents.iter().filter(|s| s.ok) {
        let idx =
            |k: &anchor_lang::prelude::Pubkey| w.res.iter().position(|r| r.keys.reserve == *k);
        let mut add = |k: anchor_lang::prelude::Pubkey, v: i128| {
            if let Some(r) = idx(&k) {
                w.hist.flows[r].push((now, v));
            }
        };
        for e in events::<Deposited>(&s.logs) {
            add(e.reserve, -(e.amount as i128));
        }
        for e in events::<Repaid>(&s.logs) {
            add(e.reserve, -(e.amount as i128));
        }
        for e in events::<Withdrawn>(&s.logs) {
            add(e.reserve, e.amount as i128);
        }
        for e in events::<Borrowed>(&s.logs) {
            add(e.reserve, e.amount as i128);
        }
        // Term loans: the principal lent leaves, a repayment comes in
        // (`borrow_term` records an outflow, `repay_term` an inflow).
        for e in events::<ballast::events::TermBorrowed>(&s.logs) {
            add(e.reserve, e.principal as i128);
        }
        for e in events::<ballast::events::TermRepaid>(&s.logs) {
            add(e.reserve, -(e.amount as i128));
        }
    }
}

/// Net outflow counted at `now` by an independent model of the netted
/// two-bucket limiter over the recorded flows.
pub fn model_used(flows: &[(i64, i128)], window: i64, now: i64) -> i128 {
    let start = now.div_euclid(window) * window;
    let prev: i128 = flows
        .iter()
        .filter(|f| f.0 >= start - window && f.0 < start)
        .map(|f| f.1)
        .sum();
    let cur: i128 = flows
        .iter()
        .filter(|f| f.0 >= start && f.0 <= now)
        .map(|f| f.1)
        .sum();
    let w = window as i128;
    let num = prev * (w - (now - start) as i128);
    num.div_euclid(w) + i128::from(num.rem_euclid(w) != 0) + cur
}

/// Invariant 8: after any transaction that let tokens out of a reserve with
/// a limiter, the net outflow of the sliding window (prorated previous
/// bucket + current, from the events) is within the cap; so the net outflow
/// of any two consecutive windows is at most 2 x cap unless inflows came
/// first.
pub fn limiter(w: &mut World, o: &Obs, sents: &[Sent]) -> Result<(), String> {
    for r in 0..RESERVES {
        let cfg = o.reserves[r].config.liquidity;
        let window = cfg.outflow_window_secs as i64;
        let flows = &mut w.hist.flows[r];
        flows.retain(|f| f.0 >= o.now - 2 * window - 1);
        if window == 0 {
            continue;
        }
        let key = w.res[r].keys.reserve;
        let out = sents.iter().filter(|s| s.ok).any(|s| {
            events::<Withdrawn>(&s.logs)
                .iter()
                .any(|e| e.reserve == key && e.amount > 0)
                || events::<Borrowed>(&s.logs).iter().any(|e| e.reserve == key)
                || events::<ballast::events::TermBorrowed>(&s.logs)
                    .iter()
                    .any(|e| e.reserve == key)
        });
        if !out {
            continue;
        }
        let used = model_used(flows, window, o.now);
        if used > cfg.outflow_cap as i128 {
            return err(
                8,
                format!(
                    "{}: net outflow in the window {used} above the cap {}",
                    RES_NAME[r], cfg.outflow_cap
                ),
            );
        }
    }
    Ok(())
}

/// Invariant 10: the borrow index never falls, and accruing 600 s in one
/// step or in two agrees within [`ACCRUAL_SPLIT_REL_TOL`].
pub fn interest(pre: &Obs, post: &Obs) -> Result<(), String> {
    for r in 0..RESERVES {
        let (a, b) = (
            pre.reserves[r].borrow_index.get(),
            post.reserves[r].borrow_index.get(),
        );
        if b < a {
            return err(
                10,
                format!("{}: borrow index fell from {a} to {b}", RES_NAME[r]),
            );
        }
        // Term buckets: at a maturity whose face did not move, the
        // unearned interest only decays (a loan booked adds its F - P, an
        // early repayment may smooth its excess in; both move the face).
        let (ta, tb) = (&pre.reserves[r].term, &post.reserves[r].term);
        for b in tb.buckets.iter().filter(|b| b.face > 0) {
            if let Some(x) = ta
                .buckets
                .iter()
                .find(|x| x.face == b.face && x.maturity == b.maturity)
            {
                if b.unearned.get() > x.unearned.get() {
                    return err(
                        10,
                        format!(
                            "{}: bucket {} unearned rose from {} to {} (face {} unchanged)",
                            RES_NAME[r],
                            b.maturity,
                            x.unearned.get(),
                            b.unearned.get(),
                            b.face
                        ),
                    );
                }
            }
        }
        let mut reserve = post.reserves[r];
        if reserve.borrow_shares.get() == FX_ZERO {
            continue;
        }
        // From the state accrued to now: the split is over the next 600 s.
        let t = reserve.last_update_ts.max(post.now);
        if reserve.accrue_interest(t).is_err() {
            continue;
        }
        let (mut one, mut two) = (reserve, reserve);
        if one.accrue_interest(t + 600).is_err()
            || two.accrue_interest(t + 300).is_err()
            || two.accrue_interest(t + 600).is_err()
        {
            continue;
        }
        let (i1, i2) = (
            fx_f64(one.borrow_index.get()),
            fx_f64(two.borrow_index.get()),
        );
        if ((i1 - i2) / i1).abs() > ACCRUAL_SPLIT_REL_TOL {
            return err(
                10,
                format!(
                    "{}: 600 s of interest in one step {i1} vs two {i2}",
                    RES_NAME[r]
                ),
            );
        }
    }
    Ok(())
}

/// Invariant 6: every obligation below Maintenance at usable prices is
/// liquidatable by the funded liquidator for some (debt, collateral) pair,
/// or, without collateral, socialisable; one with debt and only dust
/// collateral is socialisable at once.
pub fn liveness(w: &World, o: &Obs) -> Result<(), String> {
    use super::world::LIQUIDATOR;
    for owner in 0..ACTORS {
        for m in 0..2 {
            let ob = &o.obligations[owner][m];
            if !ob.has_debt() {
                continue;
            }
            let Some(h) = w.health_projected(ob, Requirement::Maintenance) else {
                continue;
            };
            let colls: Vec<usize> = (0..RESERVES)
                .filter(|&r| {
                    ob.find(&w.res[r].keys.reserve, PositionKind::Collateral)
                        .is_some()
                })
                .collect();
            // Term debt counts: the keeper converts it in the liquidation's
            // (or write-off's) transaction ([`World::liquidation_ixs`]).
            let debts: Vec<usize> = (0..RESERVES)
                .filter(|&r| {
                    ob.find(&w.res[r].keys.reserve, PositionKind::Debt)
                        .is_some()
                        || ob
                            .find(&w.res[r].keys.reserve, PositionKind::TermDebt)
                            .is_some()
                })
                .collect();
            let dust = o.markets[m].liquidation.dust_debt_micro_usd;
            // Debt behind dust collateral is resolved by a write-off
            // (`socialize_bad_debt` forfeits the dust): no liquidation owed.
            let mut socialisable = false;
            if !colls.is_empty() && !gate(w, Known::Issue12DustBlocksSocialisation) {
                if let Some((c, _)) = w.spot(ob) {
                    if c < Fx::from_num(dust) && !h.is_satisfied() {
                        let mut codes = Vec::new();
                        // `socialize_bad_debt` forfeits the dust (its
                        // reserves and oracles passed) and writes off.
                        let dust_accounts = ballast_keeper::ix::dust_accounts(ob, |k| {
                            w.reserve(w.res_index(k)).oracle
                        });
                        let _ = &dust_accounts;
                        let ok = debts.iter().any(|&d| {
                            let r = w.simulate(&w.socialize_ixs(owner, d), &[]);
                            if let Err(e) = &r {
                                codes.push(format!("socialize {}: {e}", RES_NAME[d]));
                            }
                            r.is_ok()
                        });
                        // Or a liquidation takes the dust and, with the
                        // last collateral, writes the rest off in the same
                        // instruction (issue 12).
                        let liq = &w.actors[LIQUIDATOR];
                        let ok = ok
                            || debts.iter().any(|&d| {
                                colls.iter().any(|&c| {
                                    let ixs =
                                        w.liquidation_ixs(LIQUIDATOR, owner, d, c, u64::MAX, false);
                                    let r = w.simulate(&ixs, &[liq]);
                                    if let Err(e) = &r {
                                        codes.push(format!(
                                            "liquidate {}/{}: {e}",
                                            RES_NAME[d], RES_NAME[c]
                                        ));
                                    }
                                    r.is_ok()
                                })
                            });
                        if !ok {
                            return err(6, format!("{} obligation of actor {owner}: debt with dust collateral ({c} micro-USD) is neither socialisable nor liquidatable: {codes:?}", ["A", "B"][m]));
                        }
                        socialisable = true;
                    }
                }
            }
            if h.is_satisfied() || socialisable {
                continue;
            }
            let liq = &w.actors[LIQUIDATOR];
            if colls.is_empty() {
                let codes: Vec<String> = debts
                    .iter()
                    .map(|&d| {
                        w.simulate(&w.socialize_ixs(owner, d), &[])
                            .err()
                            .unwrap_or_default()
                    })
                    .collect();
                if codes.iter().all(|c| !c.is_empty()) {
                    return err(6, format!("{} obligation of actor {owner}: no collateral, debt not socialisable: {codes:?}", ["A", "B"][m]));
                }
                continue;
            }
            let mut codes = Vec::new();
            'pairs: for &d in &debts {
                for &c in &colls {
                    let ixs = w.liquidation_ixs(LIQUIDATOR, owner, d, c, u64::MAX, false);
                    let cash = match w.simulate(&ixs, &[liq]) {
                        Ok(()) => {
                            codes.clear();
                            break 'pairs;
                        }
                        Err(e) => e,
                    };
                    // Without cash in the collateral vault, the liquidator
                    // takes the collateral as deposit shares (issue 12).
                    if cash.ends_with("InsufficientLiquidity") {
                        let ixs = w.liquidation_ixs(LIQUIDATOR, owner, d, c, u64::MAX, true);
                        match w.simulate(&ixs, &[liq]) {
                            Ok(()) => {
                                codes.clear();
                                break 'pairs;
                            }
                            Err(e) => codes.push(format!(
                                "{}/{}: {cash}; for shares: {e}",
                                RES_NAME[d], RES_NAME[c]
                            )),
                        }
                        continue;
                    }
                    codes.push(format!("{}/{}: {cash}", RES_NAME[d], RES_NAME[c]));
                }
            }
            if codes.is_empty() {
                continue;
            }
            if codes.iter().all(|c| c.contains("InsufficientLiquidity"))
                && gate(w, Known::Issue12LiquidationNeedsCash)
            {
                continue;
            }
            return err(6, format!(
                "{} obligation of actor {owner} below Maintenance (collateral {} < debt {}) is liquidatable by no pair: {codes:?}",
                ["A", "B"][m], h.collateral, h.debt
            ));
        }
    }
    Ok(())
}

/// Invariant 5, around one `liquidate`: it succeeds only below Maintenance
/// at usable prices of both reserves; a solvent obligation's health does not
/// worsen, and strictly improves; the seized value is at most the repaid
/// value x (1 + bonus max).
#[allow(clippy::too_many_arguments)]
pub fn liquidation(
    w: &World,
    d: usize,
    c: usize,
    pre_health: Option<Health>,
    pre_spot: Option<(Fx, Fx)>,
    liq_cfg: LiquidationConfig,
    owner_ob: &ballast::state::Obligation,
    sent: &Sent,
) -> Result<(), String> {
    if !sent.ok {
        return Ok(());
    }
    let now = w.now();
    let (Some(pd), Some(pc)) = (w.price(d, now), w.price(c, now)) else {
        return err(
            5,
            format!(
                "liquidation of {} against {} succeeded with an unusable oracle",
                RES_NAME[d], RES_NAME[c]
            ),
        );
    };
    let Some(before) = pre_health else {
        return err(
            5,
            "liquidation succeeded while the obligation's debt could not be priced".into(),
        );
    };
    if before.is_satisfied() {
        return err(
            5,
            format!(
                "liquidation of a healthy obligation (Maintenance collateral {} >= debt {})",
                before.collateral, before.debt
            ),
        );
    }
    let e: Vec<Liquidated> = events(&sent.logs);
    let Some(e) = e.first() else {
        return err(5, "no Liquidated event".into());
    };
    let px = |p: &ballast::engine::oracle::OraclePrice| p.price as f64 * 10f64.powi(p.exponent);
    let dec = |r: usize| w.reserve(r).mint_decimals as i32;
    let seized = e.seized as f64 / 10f64.powi(dec(c)) * px(&pc);
    let repaid = e.repaid as f64 / 10f64.powi(dec(d)) * px(&pd);
    let unit = px(&pc) / 10f64.powi(dec(c));
    if seized > repaid * (1.0 + liq_cfg.bonus_max_bps as f64 / 10_000.0) * (1.0 + 1e-9) + unit {
        return err(
            5,
            format!(
                "seized ${seized} for ${repaid} repaid, above the {} bps bonus max",
                liq_cfg.bonus_max_bps
            ),
        );
    }
    if e.bonus_bps > liq_cfg.bonus_max_bps {
        return err(
            5,
            format!(
                "bonus {} bps above the max {}",
                e.bonus_bps, liq_cfg.bonus_max_bps
            ),
        );
    }
    let after_ob = w.ctx.obligation(&e.obligation);
    // The transaction converted the obligation's term loans first: each
    // conversion books the loan's debt rounded up to a base unit, then to
    // debt shares (rounded up again), where health had valued it at its
    // face. Up to two base units of each converted reserve, at its price
    // and borrow factor, micro-USD (1M run, op 239,972: 19 micro-USD on a
    // one-unit A/ETH liquidation).
    let conversion_slack: f64 = owner_ob
        .positions
        .iter()
        .filter(|p| p.kind() == PositionKind::TermDebt)
        .map(|p| {
            let r = w.res_index(&p.reserve);
            let m = RES_MINT[r];
            let bf = w.reserve(r).risk_params(w.now()).borrow_factor_bps as f64 / 1e4;
            2.0 * w.prices[m] * 1e6 / 10f64.powi(super::world::DECIMALS[m] as i32) * bf.max(1.0)
        })
        .sum();
    if let (Some((sc, sd)), Some(after)) = (
        pre_spot,
        w.health(&after_ob, Requirement::Maintenance, true),
    ) {
        if sc >= sd {
            // Health is valued in whole micro-USD (collateral down, debt
            // up), so a liquidation of a few base units may move it by that
            // rounding: allowed up to HEALTH_ROUNDING_MICRO_USD.
            let (bc, bd, ac, ad) = (
                fx_f64(before.collateral),
                fx_f64(before.debt),
                fx_f64(after.collateral),
                fx_f64(after.debt),
            );
            // Beyond rounding it is issue 12's open defect: below health
            // LT_c / BF_d even a bonus capped at zero worsens it.
            if ad > 0.0
                && (ac + HEALTH_ROUNDING_MICRO_USD) * bd < bc * (ad - conversion_slack)
                && !gate(w, Known::Issue12CloseFactorBypass)
            {
                return err(
                    5,
                    format!(
                        "a solvent obligation's health worsened: {}/{} -> {}/{}",
                        before.collateral, before.debt, after.collateral, after.debt
                    ),
                );
            }
            // Strict improvement is owed beyond the valuation's rounding: a
            // repay worth no more than HEALTH_ROUNDING_MICRO_USD (one base
            // unit, say) moves both sides by whole micro-USD and may leave
            // the ratio a hair lower, within the bound checked above.
            // The improvement the liquidation makes before that rounding,
            // in Maintenance micro-USD: the repaid debt's weight at the
            // health ratio less the seized collateral's weight (the seize
            // itself is the event's, in whole base units). The program's
            // bonus cap (m / 2) keeps it positive, but for a repay of a few
            // units it can be a fraction of a micro-USD, which the rounding
            // of both sides can undo (1M run, op 601,886: 12 micro-USD
            // repaid, 0.3 of improvement).
            let now = w.now();
            let lt = w.reserve(c).risk_params(now).liquidation_threshold_bps as f64 / 1e4;
            let bf = w.reserve(d).risk_params(now).borrow_factor_bps as f64 / 1e4;
            let margin = (bc / bd) * repaid * 1e6 * bf - seized * 1e6 * lt;
            let material = bd - ad > HEALTH_ROUNDING_MICRO_USD + conversion_slack
                && margin > HEALTH_ROUNDING_MICRO_USD + conversion_slack;
            let strictly = after.debt <= FX_ZERO || !health_not_worse(&after, &before);
            if material && !strictly && !gate(w, Known::Issue12CloseFactorBypass) {
                return err(
                    5,
                    format!(
                        "a solvent obligation's health did not improve: {}/{} -> {}/{}",
                        before.collateral, before.debt, after.collateral, after.debt
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Invariant 9, around one `socialize_bad_debt`: covered + written off =
/// the debt; the insurance vault falls by what it covered and the liquidity
/// vault rises by it; the write-down is the supply's allowance in
/// invariant 3.
pub fn socialize(
    w: &mut World,
    pre: &Obs,
    pre_debt: u64,
    r: usize,
    sent: &Sent,
) -> Result<(), String> {
    if !sent.ok {
        return Ok(());
    }
    let e: Vec<BadDebtSocialized> = events(&sent.logs);
    let Some(e) = e.first() else {
        return err(9, "no BadDebtSocialized event".into());
    };
    if e.covered_by_insurance as u128 + e.written_off as u128 != e.debt as u128 {
        return err(
            9,
            format!(
                "covered {} + written off {} != debt {}",
                e.covered_by_insurance, e.written_off, e.debt
            ),
        );
    }
    let expected = e.debt.min(pre.insurance[r]);
    if e.covered_by_insurance != expected {
        return err(
            9,
            format!(
                "insurance {} covered {} of {} debt, not min(debt, insurance) = {expected}",
                pre.insurance[r], e.covered_by_insurance, e.debt
            ),
        );
    }
    if e.debt != pre_debt {
        return err(
            9,
            format!("event debt {} vs the obligation's debt {pre_debt}", e.debt),
        );
    }
    let post = w.observe();
    let fell = pre.insurance[r] as i128 - post.insurance[r] as i128;
    if fell != e.covered_by_insurance as i128 {
        return err(
            9,
            format!(
                "insurance fell by {fell} for {} covered",
                e.covered_by_insurance
            ),
        );
    }
    let rose = post.vault[r] as i128 - pre.vault[r] as i128;
    if rose != e.covered_by_insurance as i128 {
        return err(
            9,
            format!(
                "vault rose by {rose} for {} covered",
                e.covered_by_insurance
            ),
        );
    }
    w.hist.allowed_drop[r] += e.written_off as f64 + 1.0;
    if r == 3 && e.written_off > 0 {
        w.hist.strategy_loss = true;
    }
    Ok(())
}

/// Invariants 9 and 3 around a liquidation that took an insolvent
/// obligation's last collateral: `liquidate` then writes the remaining debt
/// off in the same instruction (issue 12), emitting `BadDebtSocialized`:
/// covered + written off = the debt, and the write-down joins the
/// allowance of the reserve written down (the debt reserve repaid, and any
/// other reserve the obligation owed: all its debt goes in that
/// instruction) in invariant 3.
pub fn liquidation_write_off(w: &mut World, _d: usize, sent: &Sent) -> Result<(), String> {
    if !sent.ok {
        return Ok(());
    }
    let es: Vec<BadDebtSocialized> = events(&sent.logs);
    for e in es {
        let d = w.res_index(&e.reserve);
        if e.covered_by_insurance as u128 + e.written_off as u128 != e.debt as u128 {
            return err(
                9,
                format!(
                    "liquidation's write-off: covered {} + written off {} != debt {}",
                    e.covered_by_insurance, e.written_off, e.debt
                ),
            );
        }
        w.hist.allowed_drop[d] += e.written_off as f64 + 1.0;
        if d == 3 && e.written_off > 0 {
            w.hist.strategy_loss = true;
        }
    }
    Ok(())
}

/// Invariant 8 (second half), around the attacker's flash round trip (when
/// it held no position in the reserve before): the reserve's remaining
/// outflow capacity is not reduced, and grows by at most what the attacker
/// left behind (the withdrawal's rounding).
pub fn flash(
    w: &World,
    pre: &Obs,
    r: usize,
    had_position: bool,
    sent: &Sent,
) -> Result<(), String> {
    if !sent.ok || had_position {
        return Ok(());
    }
    let post = w.observe();
    let (a, b) = (&pre.reserves[r], &post.reserves[r]);
    let before = a.outflow.remaining(&a.config.liquidity, pre.now) as i128;
    let after = b.outflow.remaining(&b.config.liquidity, post.now) as i128;
    let m = RES_MINT[r];
    let left = pre.wallets[ATTACKER][m] as i128 - post.wallets[ATTACKER][m] as i128;
    // Others' flows in the same transaction (the treasury's deploy of a
    // rebalance in between) move the capacity by themselves.
    let (key, mine) = (w.res[r].keys.reserve, w.ob(ATTACKER, r));
    let mut others = 0i128;
    for e in events::<Deposited>(&sent.logs)
        .iter()
        .filter(|e| e.reserve == key && e.obligation != mine)
    {
        others += e.amount as i128;
    }
    for e in events::<Withdrawn>(&sent.logs)
        .iter()
        .filter(|e| e.reserve == key && e.obligation != mine)
    {
        others -= e.amount as i128;
    }
    let before = before + others;
    if after < before || after - before > left.max(0) {
        return err(8, format!("{}: a flash deposit -> withdraw moved others' capacity from {before} to {after} (the attacker left {left})", RES_NAME[r]));
    }
    Ok(())
}

/// Invariant 11, around `balance_sheet`: the return data has the documented
/// length and reconciles with the vaults.
pub fn balance_sheet(w: &World, r: usize, sent: &Sent) -> Result<(), String> {
    use anchor_lang::AnchorDeserialize;
    use ballast::engine::balance_sheet::{BalanceSheet, BALANCE_SHEET_LEN};
    if !sent.ok {
        return err(
            11,
            format!("balance_sheet of {} refused: {}", RES_NAME[r], sent.code),
        );
    }
    if sent.return_data.len() != BALANCE_SHEET_LEN {
        return err(
            11,
            format!(
                "return data of {} bytes, documented {BALANCE_SHEET_LEN}",
                sent.return_data.len()
            ),
        );
    }
    let s = BalanceSheet::deserialize(&mut &sent.return_data[..])
        .map_err(|e| format!("invariant 11: {e}"))?;
    let bal = |a| w.ctx.token_balance(a).unwrap_or(0);
    let keys = &w.res[r].keys;
    if s.reserve != keys.reserve || s.timestamp != w.now() {
        return err(11, "reserve or timestamp".into());
    }
    if s.liquid != bal(&keys.liquidity_vault) || s.insurance != bal(&keys.insurance_vault) {
        return err(
            11,
            format!(
                "liquid {} / insurance {} vs vaults {} / {}",
                s.liquid,
                s.insurance,
                bal(&keys.liquidity_vault),
                bal(&keys.insurance_vault)
            ),
        );
    }
    if s.assets as u128 != s.liquid as u128 + s.deployed as u128 + s.borrowed as u128 {
        return err(11, "assets != liquid + deployed + borrowed".into());
    }
    if r == 0 && s.deployed != w.projected(0).treasury.deployed_amount {
        return err(
            11,
            format!(
                "deployed {} vs the shares at the strategy's rate {}",
                s.deployed,
                w.projected(0).treasury.deployed_amount
            ),
        );
    }
    Ok(())
}

/// Around one `borrow_term`: the borrower receives exactly the zero-coupon
/// price rounded down at the rate the host recomputes from the reserve as
/// the instruction accrues it (`price_floor`), never more than the face,
/// and the reserve's term book grows by exactly that principal (the
/// depositors' exchange rate does not move: invariant 3).
pub fn borrow_term(
    w: &World,
    pre: &Obs,
    actor: usize,
    r: usize,
    face: u64,
    sent: &Sent,
) -> Result<(), String> {
    use ballast::engine::term::{price_floor, term_rate};
    if !sent.ok {
        return Ok(());
    }
    let now = w.now();
    let Some(e) = events::<ballast::events::TermBorrowed>(&sent.logs).pop() else {
        return err(3, "borrow_term succeeded without TermBorrowed".into());
    };
    let mut reserve = pre.reserves[r];
    reserve.accrue_interest(now).map_err(|e| e.to_string())?;
    let committed = reserve.term.face_at(e.maturity) + face;
    let rate = term_rate(
        reserve.borrow_rate().map_err(|e| e.to_string())?,
        &reserve.term_config,
        committed,
        reserve.supply().map_err(|e| e.to_string())?,
        true,
    )
    .map_err(|e| e.to_string())?;
    let price = price_floor(face, rate, (e.maturity - now) as u64).map_err(|e| e.to_string())?;
    let got = w.ctx.token_balance(&w.wallet(actor, r)).unwrap_or(0) as i128
        - pre.wallets[actor][RES_MINT[r]] as i128;
    if e.face != face || e.principal != price || got != price as i128 || price > face {
        return err(3, format!("{}: borrow_term of face {face} paid {got} (event: face {}, principal {}), price_floor {price}", RES_NAME[r], e.face, e.principal));
    }
    // In `Fx`: a book of 1e10 units is past f64's micro-unit precision.
    let book = |x: &ballast::state::Reserve| x.term.book().unwrap_or(FX_ZERO);
    let grew = book(&w.reserve(r)) - book(&reserve);
    if (grew - Fx::from_num(price)).abs() > Fx::DELTA * Fx::from_num(2) {
        return err(
            3,
            format!(
                "{}: borrow_term of principal {price} grew the term book by {grew}",
                RES_NAME[r]
            ),
        );
    }
    Ok(())
}

/// Around one `repay_term`: the payer pays exactly what the event says,
/// at least the loan's book value before maturity (face less the interest
/// not yet earned) and at least the face with the penalty past it, and the
/// term position is gone (invariant 3: a repayment never costs the
/// depositors).
pub fn repay_term(
    w: &World,
    pre: &Obs,
    payer: usize,
    owner_ob: &ballast::state::Obligation,
    r: usize,
    sent: &Sent,
) -> Result<(), String> {
    use ballast::engine::term::{loan_unearned, owed};
    if !sent.ok {
        return Ok(());
    }
    let now = w.now();
    let Some(e) = events::<ballast::events::TermRepaid>(&sent.logs).pop() else {
        return err(3, "repay_term succeeded without TermRepaid".into());
    };
    let Some(l) = w.term_loan(owner_ob, r) else {
        return err(
            3,
            format!("{}: repay_term succeeded without a term loan", RES_NAME[r]),
        );
    };
    let min = if now < l.maturity {
        let u = loan_unearned(l.face, l.principal, l.open_ts, l.maturity, now)
            .map_err(|e| e.to_string())?;
        fx_f64(Fx::from_num(l.face) - u)
    } else {
        fx_f64(owed(l.face, l.maturity, l.penalty_bps, now).map_err(|e| e.to_string())?)
    };
    let paid = pre.wallets[payer][RES_MINT[r]] as i128
        - w.ctx.token_balance(&w.wallet(payer, r)).unwrap_or(0) as i128;
    if paid != e.amount as i128 || (e.amount as f64) < min - 1e-9 || e.face != l.face {
        return err(
            3,
            format!(
                "{}: repay_term of face {} paid {paid} (event {}), owed at least {min}",
                RES_NAME[r], l.face, e.amount
            ),
        );
    }
    let o = w.ctx.obligation(&owner_ob_key(w, owner_ob, r));
    if w.term_loan(&o, r).is_some() {
        return err(
            1,
            format!("{}: repay_term left the term position", RES_NAME[r]),
        );
    }
    Ok(())
}

fn owner_ob_key(
    w: &World,
    ob: &ballast::state::Obligation,
    r: usize,
) -> anchor_lang::prelude::Pubkey {
    (0..ACTORS)
        .map(|a| w.ob(a, r))
        .find(|k| w.ctx.obligation(k).owner == ob.owner)
        .unwrap_or_default()
}

/// Around one `convert_term_debt`: before maturity it succeeds only below
/// Maintenance (term debt valued at its face) at usable prices (invariant
/// 5); past maturity, or below Maintenance, a term loan must convert
/// (invariant 6).
pub fn convert_term(
    w: &World,
    o: &ballast::state::Obligation,
    r: usize,
    pre_health: Option<Health>,
    sent: &Sent,
) -> Result<(), String> {
    let now = w.now();
    let Some(l) = w.term_loan(o, r) else {
        if sent.ok {
            return err(
                5,
                format!(
                    "{}: convert_term_debt without a term loan succeeded",
                    RES_NAME[r]
                ),
            );
        }
        return Ok(());
    };
    let matured = now >= l.maturity;
    match (sent.ok, matured, pre_health) {
        (true, false, Some(h)) if h.is_satisfied() => err(
            5,
            format!(
                "{}: a term loan maturing at {} converted at {now} while healthy ({} >= {})",
                RES_NAME[r], l.maturity, h.collateral, h.debt
            ),
        ),
        (true, false, None) => err(
            5,
            format!(
                "{}: a term loan converted before maturity with an unusable oracle",
                RES_NAME[r]
            ),
        ),
        (false, true, _) => err(
            6,
            format!(
                "{}: a matured term loan (maturity {}, now {now}) did not convert: {}",
                RES_NAME[r], l.maturity, sent.code
            ),
        ),
        (false, false, Some(h)) if !h.is_satisfied() => err(
            6,
            format!(
                "{}: a term loan below Maintenance ({} < {}) did not convert: {}",
                RES_NAME[r], h.collateral, h.debt, sent.code
            ),
        ),
        _ => Ok(()),
    }
}
