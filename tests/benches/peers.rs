//! Compute units side by side with Kamino Lend (klend 1.7.x) and Save/Solend
//! (2.0.2), on Ballast's bench scenario, in one run: `make bench-peers`
//! (also run by `make bench`) writes `target/bench/peers.json` and prints a
//! Markdown table (the one in README.md, "Compute units").
//!
//! Every VM is Ballast's own harness (`TestContext`, LiteSVM with the
//! mainnet feature set and `ballast.so`) with the two peer programs from
//! `../shared/peers/` added beside it. One generic scenario runs over the
//! three programs ([`ballast_tests::peers::Protocol`]); it is the scenario of
//! `tests/benches/cu.rs`, step for step:
//!
//! * a market with USDC ($1, 6 dp) and two collateral reserves, SOL ($20, 9
//!   dp) and ETH ($2,000, 8 dp); a supplier deposits 10M USDC and borrows 1
//!   SOL and 1 ETH (every reserve lent); the user deposits 100 SOL and 100
//!   ETH, then, one hour later with fresh prices, opens a 500 USDC loan
//!   (2 collateral + 1 debt positions);
//! * each measured operation comes one hour (7,200 slots) after the previous
//!   step, with every price republished (confidence 0.1%): deposit 1 SOL,
//!   withdraw 1 SOL, borrow 100 USDC, repay 50 USDC;
//! * liquidation: 2 stablecoin debts and 2 collateral ($1,000 each, 74%
//!   borrowed), one hour later every collateral price -15%; the liquidator
//!   repays as much of the first debt as one call allows (`u64::MAX`,
//!   capped by each program's 20% close factor) against the first
//!   collateral;
//! * health per position: a borrow with 1..=5 collateral positions + 1 debt
//!   (2..=6 positions; klend allows at most 5 borrows, which the supplier
//!   of the 5-collateral market reaches), each collateral in its own
//!   reserve; the median step between successive position counts.
//!
//! For each peer the bench records its instruction alone ("ix", its own
//! `consumed` line) and the whole transaction ("tx"). The transaction is the
//! smallest one the program accepts, found by trying, in order: the
//! instruction alone; after `refresh_reserve` of the reserve(s) it touches;
//! after `refresh_reserve` of every reserve of the obligation and
//! `refresh_obligation`. Ballast needs no refresh: its instruction is its
//! transaction. Ratios are peer / Ballast.
//!
//! What differs between the scenarios, and why it does not favour Ballast:
//!
//! * klend's market and reserves are written directly with klend 1.7.2's
//!   layouts (its `init_lending_market` / `init_reserve` overflow the stack
//!   in LiteSVM); Solend's are made by its own init instructions, the owner
//!   depositing 1,000 base units per reserve (Solend refuses an empty
//!   reserve). Nothing measured is an init instruction.
//! * Oracles are in the form each program reads: legacy Pyth v2 accounts
//!   for klend, `PriceUpdateV2` for Solend and Ballast; the same prices and
//!   confidence for all three.
//! * Reserve parameters follow Ballast's `test_config` where the peer has
//!   the knob (LTV 75%, LT 80%, 10% of interest to the protocol, 5%
//!   liquidation bonus (klend: 2% to 5% by how unhealthy), 20% close
//!   factor, the same borrow curve; Solend's rates are whole percents, so
//!   its curve is 0% / 8% / 68% instead of 0.5% / 8.5% / 68.5%). Interest
//!   is accrued on the same hour in all three; Solend compounds it over the
//!   elapsed slots, so its refreshes cost more after an hour than on a
//!   reserve refreshed every slot (45,000 CU against 32,000): the scenario's
//!   hour, the same for all three, is kept.
//! * Solend only lets a liquidator repay an obligation's first borrow (the
//!   largest once refreshed): with two equal debts its liquidator repays
//!   whichever that is.
//! * Every optional peer feature is off (klend: farms, referrers, elevation
//!   groups, Scope, Switchboard, TWAP; Solend: extra oracle, borrow weights,
//!   Switchboard): the peers' cheapest paths.
//! * Peers withdraw in collateral tokens (exchange rate ~1, 1 SOL's worth);
//!   Ballast in tokens.
//! * The peers' transaction is the smallest accepted, not the full refresh
//!   set their SDKs send; no transaction of any program carries a
//!   compute-budget instruction (150 CU each, the same for all).
//!
//! Every figure is the median over [`RUNS`] independent runs (fresh VM, fresh
//! keys; [`CURVE_RUNS`] per point of the health curve), as in `cu.rs`.
//! klend's figures still move by up to a few hundred CU between runs (its
//! Anchor PDA bump searches depend on the fresh keys). A cell that cannot be measured is `null` in the JSON with the
//! reason beside it, and says why in the table.

use std::collections::BTreeMap;

use ballast_tests::peers::ballast::BallastMarket;
use ballast_tests::peers::klend::KlendMarket;
use ballast_tests::peers::solend::SolendMarket;
use ballast_tests::peers::{Cost, Protocol};
use ballast_tests::{Address, Keypair, Signer};
use serde_json::{json, Map, Value};

/// Independent runs per figure (the median is kept), as in `cu.rs`.
const RUNS: usize = 5;
/// Runs per point of the health curve, as in `cu.rs`.
const CURVE_RUNS: usize = 3;
/// Seconds between steps: one hour of interest to accrue.
const DT: i64 = 3_600;

type Measure = Result<Cost, String>;

/// Ballast's bench scenario on protocol `P` (see `cu.rs`'s `Scenario`).
struct Scenario<P: Protocol> {
    p: P,
    reserves: Vec<P::Reserve>,
    prices: Vec<f64>,
    user: Keypair,
    ob: P::Obligation,
    token_accounts: Vec<Address>,
}

fn setup<T>(step: &str, r: Result<T, String>) -> Result<T, String> {
    r.map_err(|e| format!("setup ({step}) failed: {e}"))
}

impl<P: Protocol> Scenario<P> {
    fn new(extra_collateral: usize) -> Result<Self, String> {
        let mut p = P::new();
        let usdc = p.add_reserve(6, 1.0);
        let mut reserves = vec![usdc];
        let mut prices = vec![1.0];
        for i in 0..extra_collateral {
            let (dp, px) = if i % 2 == 0 { (9, 20.0) } else { (8, 2_000.0) };
            reserves.push(p.add_reserve(dp, px));
            prices.push(px);
        }
        let supplier = p.funded_user();
        let s_ta = p.token_account(&usdc, &supplier.pubkey(), p.units(&usdc, 10_000_000.0));
        let mut so = p.open_obligation(&supplier);
        let amount = p.units(&usdc, 10_000_000.0);
        setup(
            "supplier deposit",
            p.deposit(&supplier, &mut so, &usdc, &s_ta, amount),
        )?;

        let user = p.funded_user();
        let mut ob = p.open_obligation(&user);
        let mut token_accounts =
            vec![p.token_account(&usdc, &user.pubkey(), p.units(&usdc, 1_000.0))];
        for r in reserves.clone().iter().skip(1) {
            let ta = p.token_account(r, &user.pubkey(), p.units(r, 1_000.0));
            let amount = p.units(r, 100.0);
            setup("user deposit", p.deposit(&user, &mut ob, r, &ta, amount))?;
            token_accounts.push(ta);
            let s_r = p.token_account(r, &supplier.pubkey(), 0);
            let amount = p.units(r, 1.0);
            setup(
                "supplier borrow",
                p.borrow(&supplier, &mut so, r, &s_r, amount),
            )?;
        }
        Ok(Self {
            p,
            reserves,
            prices,
            user,
            ob,
            token_accounts,
        })
    }

    fn warp(&mut self) {
        self.p.warp(DT);
        for (r, px) in self.reserves.clone().iter().zip(self.prices.clone()) {
            self.p.set_price(r, px);
        }
    }

    fn borrow_usdc(&mut self, whole: f64) -> Measure {
        let usdc = self.reserves[0];
        let amount = self.p.units(&usdc, whole);
        let (user, ta) = (self.user.insecure_clone(), self.token_accounts[0]);
        self.p.borrow(&user, &mut self.ob, &usdc, &ta, amount)
    }
}

/// deposit, withdraw, borrow, repay on a 2 collateral + 1 debt obligation.
fn user_ops<P: Protocol>() -> [Measure; 4] {
    let mut s = match Scenario::<P>::new(2) {
        Ok(s) => s,
        Err(e) => return std::array::from_fn(|_| Err(e.clone())),
    };
    s.warp();
    if let Err(e) = s.borrow_usdc(500.0) {
        let e = format!("setup (opening the USDC loan) failed: {e}");
        return std::array::from_fn(|_| Err(e.clone()));
    }
    let (sol, user, sol_ta, usdc_ta) = (
        s.reserves[1],
        s.user.insecure_clone(),
        s.token_accounts[1],
        s.token_accounts[0],
    );
    let usdc = s.reserves[0];
    s.warp();
    let amount = s.p.units(&sol, 1.0);
    let dep = s.p.deposit(&user, &mut s.ob, &sol, &sol_ta, amount);
    s.warp();
    let wd = s.p.withdraw(&user, &mut s.ob, &sol, &sol_ta, amount);
    s.warp();
    let bor = s.borrow_usdc(100.0);
    s.warp();
    let amount = s.p.units(&usdc, 50.0);
    let rep = s.p.repay(&user, &mut s.ob, &usdc, &usdc_ta, amount);
    [dep, wd, bor, rep]
}

/// One liquidation of an obligation with `coll` collateral and `debt` debt
/// positions (see `cu.rs`'s `liquidation`).
fn liquidation<P: Protocol>(coll: usize, debt: usize) -> Measure {
    let mut p = P::new();
    let stables: Vec<P::Reserve> = (0..debt).map(|_| p.add_reserve(6, 1.0)).collect();
    let collats: Vec<(P::Reserve, f64)> = (0..coll)
        .map(|i| {
            let (dp, px) = if i % 2 == 0 { (9, 20.0) } else { (8, 2_000.0) };
            (p.add_reserve(dp, px), px)
        })
        .collect();
    for s in &stables {
        let sup = p.funded_user();
        let amount = p.units(s, 1_000_000.0);
        let ta = p.token_account(s, &sup.pubkey(), amount);
        let mut o = p.open_obligation(&sup);
        setup("supplier deposit", p.deposit(&sup, &mut o, s, &ta, amount))?;
    }
    let user = p.funded_user();
    let mut ob = p.open_obligation(&user);
    let mut value = 0.0;
    for (r, px) in &collats {
        let amount = p.units(r, 1_000.0 / px);
        let ta = p.token_account(r, &user.pubkey(), amount);
        setup("user deposit", p.deposit(&user, &mut ob, r, &ta, amount))?;
        value += 1_000.0;
    }
    let per_debt = value * 0.74 / debt as f64;
    for s in &stables {
        let ta = p.token_account(s, &user.pubkey(), 0);
        let amount = p.units(s, per_debt);
        setup("user borrow", p.borrow(&user, &mut ob, s, &ta, amount))?;
    }
    p.warp(DT);
    for (r, px) in &collats {
        p.set_price(r, px * 0.85);
    }
    for s in &stables {
        p.set_price(s, 1.0);
    }
    let liq = p.funded_user();
    let amount = p.units(&stables[0], 1_000_000.0);
    let src = p.token_account(&stables[0], &liq.pubkey(), amount);
    p.liquidate(&liq, &mut ob, &stables[0], &collats[0].0, &src)
}

/// The borrow after the loan is open, with `collateral` collateral
/// positions + 1 debt.
fn curve_point<P: Protocol>(collateral: usize) -> Measure {
    let mut s = Scenario::<P>::new(collateral)?;
    s.warp();
    setup("opening the USDC loan", s.borrow_usdc(10.0))?;
    s.warp();
    s.borrow_usdc(10.0)
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// The median (ix, tx) over runs, the first run's shape and refusals; the
/// first failure if any run failed.
fn median_cost(runs: Vec<Measure>) -> Measure {
    let mut ok = vec![];
    for r in runs {
        ok.push(r?);
    }
    let first = ok[0].clone();
    Ok(Cost {
        ix: median(ok.iter().map(|c| c.ix).collect()),
        tx: median(ok.iter().map(|c| c.tx).collect()),
        ..first
    })
}

/// Every figure of one protocol.
struct Column {
    ops: BTreeMap<&'static str, Measure>,
    /// positions -> borrow cost
    curve: BTreeMap<usize, Measure>,
}

fn measure<P: Protocol>() -> Column {
    let started = std::time::Instant::now();
    let mut per_op: [Vec<Measure>; 4] = Default::default();
    for _ in 0..RUNS {
        for (i, m) in user_ops::<P>().into_iter().enumerate() {
            per_op[i].push(m);
        }
    }
    let mut ops = BTreeMap::new();
    for (name, runs) in ["deposit", "withdraw", "borrow", "repay"]
        .into_iter()
        .zip(per_op)
    {
        ops.insert(name, median_cost(runs));
    }
    ops.insert(
        "liquidate",
        median_cost((0..RUNS).map(|_| liquidation::<P>(2, 2)).collect()),
    );
    let mut curve = BTreeMap::new();
    for collateral in 1..=5 {
        let runs = (0..CURVE_RUNS)
            .map(|_| curve_point::<P>(collateral))
            .collect();
        curve.insert(collateral + 1, median_cost(runs));
    }
    eprintln!(
        "[peers] {} measured in {:.1} s",
        P::NAME,
        started.elapsed().as_secs_f64()
    );
    Column { ops, curve }
}

/// The median step of `f(cost)` between successive position counts.
fn marginal(curve: &BTreeMap<usize, Measure>, f: fn(&Cost) -> u64) -> Result<u64, String> {
    let mut points = vec![];
    for (n, m) in curve {
        match m {
            Ok(c) => points.push(f(c)),
            Err(e) => return Err(format!("{n} positions: {e}")),
        }
    }
    let steps: Vec<u64> = points
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .collect();
    Ok(median(steps))
}

/// One operation's row: Ballast's figure and each peer cell.
struct Row {
    name: &'static str,
    scenario: &'static str,
    ballast: Result<u64, String>,
    /// (cell name, value or reason, transaction shape)
    cells: Vec<(String, Result<u64, String>, Option<String>)>,
}

fn fmt_cu(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn short(reason: &str) -> String {
    let r: String = reason.chars().take(90).collect();
    if r.len() < reason.len() {
        format!("{r}...")
    } else {
        r
    }
}

fn main() {
    let started = std::time::Instant::now();
    let ballast = measure::<BallastMarket>();
    let klend = measure::<KlendMarket>();
    let solend = measure::<SolendMarket>();

    let scenarios: [(&str, &str); 6] = [
        ("deposit", "adds 1 SOL to the SOL position of a 2 collateral + 1 debt obligation, every reserve lent, 1 h to accrue"),
        ("withdraw", "withdraws 1 SOL (peers: 1 SOL of collateral tokens) from that obligation; health checked over its 3 reserves"),
        ("borrow", "borrows 100 more USDC against that obligation; health checked over its 3 reserves"),
        ("repay", "repays 50 USDC of that obligation's loan"),
        ("liquidate", "2 collateral + 2 stablecoin debt positions, collateral prices -15%, 1 h to accrue; one call repaying the first debt (up to the 20% close factor) against the first collateral"),
        ("health_per_position", "median marginal CU of one more collateral position (own reserve + oracle) in a borrow, 2..=6 positions"),
    ];
    let mut rows = vec![];
    for (name, scenario) in scenarios {
        let mut cells = vec![];
        let b = if name == "health_per_position" {
            marginal(&ballast.curve, |c| c.ix)
        } else {
            ballast.ops[name]
                .as_ref()
                .map(|c| c.ix)
                .map_err(Clone::clone)
        };
        for (peer, col) in [("klend", &klend), ("solend", &solend)] {
            if name == "health_per_position" {
                cells.push((format!("{peer}_ix"), marginal(&col.curve, |c| c.ix), None));
                cells.push((format!("{peer}_tx"), marginal(&col.curve, |c| c.tx), None));
            } else {
                let m = &col.ops[name];
                let shape = m.as_ref().ok().map(|c| c.shape.clone());
                cells.push((
                    format!("{peer}_ix"),
                    m.as_ref().map(|c| c.ix).map_err(Clone::clone),
                    None,
                ));
                cells.push((
                    format!("{peer}_tx"),
                    m.as_ref().map(|c| c.tx).map_err(Clone::clone),
                    shape,
                ));
            }
        }
        rows.push(Row {
            name,
            scenario,
            ballast: b,
            cells,
        });
    }

    // JSON: operation -> {ballast, klend_ix, klend_tx, solend_ix, solend_tx, ratios, ...}
    let mut out = Map::new();
    for row in &rows {
        let mut o = Map::new();
        let mut reasons = Map::new();
        let mut ratios = Map::new();
        match &row.ballast {
            Ok(v) => {
                o.insert("ballast".into(), json!(v));
            }
            Err(e) => {
                o.insert("ballast".into(), Value::Null);
                reasons.insert("ballast".into(), json!(e));
            }
        }
        for (cell, v, shape) in &row.cells {
            match v {
                Ok(v) => {
                    o.insert(cell.clone(), json!(v));
                    let ratio = row
                        .ballast
                        .as_ref()
                        .ok()
                        .map(|b| (*v as f64 / *b as f64 * 100.0).round() / 100.0);
                    ratios.insert(cell.clone(), json!(ratio));
                }
                Err(e) => {
                    o.insert(cell.clone(), Value::Null);
                    ratios.insert(cell.clone(), Value::Null);
                    reasons.insert(cell.clone(), json!(e));
                }
            }
            if let Some(shape) = shape {
                o.insert(format!("{cell}_shape"), json!(shape));
            }
        }
        o.insert("ratios".into(), Value::Object(ratios));
        if !reasons.is_empty() {
            o.insert("reasons".into(), Value::Object(reasons));
        }
        o.insert("scenario".into(), json!(row.scenario));
        if row.name == "health_per_position" {
            let mut curves = Map::new();
            let pts = |col: &Column, f: fn(&Cost) -> u64| -> Value {
                let mut m = Map::new();
                for (n, c) in &col.curve {
                    m.insert(
                        n.to_string(),
                        c.as_ref().map(f).map_or(Value::Null, |v| json!(v)),
                    );
                }
                Value::Object(m)
            };
            curves.insert("ballast".into(), pts(&ballast, |c| c.ix));
            curves.insert("klend_ix".into(), pts(&klend, |c| c.ix));
            curves.insert("klend_tx".into(), pts(&klend, |c| c.tx));
            curves.insert("solend_ix".into(), pts(&solend, |c| c.ix));
            curves.insert("solend_tx".into(), pts(&solend, |c| c.tx));
            o.insert("borrow_cu_by_positions".into(), Value::Object(curves));
        } else {
            let mut refused = Map::new();
            for (peer, col) in [("klend", &klend), ("solend", &solend)] {
                if let Ok(c) = &col.ops[row.name] {
                    if !c.rejected.is_empty() {
                        refused.insert(peer.into(), json!(c.rejected));
                    }
                }
            }
            if !refused.is_empty() {
                o.insert(
                    "smaller_transactions_refused".into(),
                    Value::Object(refused),
                );
            }
        }
        out.insert(row.name.into(), Value::Object(o));
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&root).expect("create target/bench");
    let text = serde_json::to_string_pretty(&Value::Object(out)).unwrap();
    std::fs::write(root.join("peers.json"), format!("{text}\n")).expect("write peers.json");

    // The Markdown table.
    let cell = |v: &Result<u64, String>| match v {
        Ok(v) => fmt_cu(*v),
        Err(e) => format!("n/a: {}", short(e)),
    };
    let ratio = |v: &Result<u64, String>, b: &Result<u64, String>| match (v, b) {
        (Ok(v), Ok(b)) => format!("{:.2}", *v as f64 / *b as f64),
        _ => "n/a".into(),
    };
    let label = |name: &str| match name {
        "liquidate" => "liquidate (2 collateral + 2 debt)".to_string(),
        "health_per_position" => "health per extra position (2..6)".to_string(),
        n => n.to_string(),
    };
    println!();
    println!("| operation | Ballast | klend ix | klend tx | Solend ix | Solend tx | klend ix / Ballast | klend tx / Ballast | Solend ix / Ballast | Solend tx / Ballast |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for row in &rows {
        let c: Vec<&Result<u64, String>> = row.cells.iter().map(|(_, v, _)| v).collect();
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            label(row.name),
            cell(&row.ballast),
            cell(c[0]),
            cell(c[1]),
            cell(c[2]),
            cell(c[3]),
            ratio(c[0], &row.ballast),
            ratio(c[1], &row.ballast),
            ratio(c[2], &row.ballast),
            ratio(c[3], &row.ballast),
        );
    }
    println!();
    println!("Transactions measured (the smallest each program accepts):");
    for row in &rows {
        for (name, _, shape) in &row.cells {
            if let Some(shape) = shape {
                println!("- {} {}: {shape}", row.name, name.trim_end_matches("_tx"));
            }
        }
    }
    for row in &rows {
        for (name, v, _) in &row.cells {
            if let Err(e) = v {
                println!("- {} {name} not measured: {e}", row.name);
            }
        }
    }

    // Ballast's figures against cu.json of the same `make bench`, if any.
    if let Ok(text) = std::fs::read_to_string(root.join("cu.json")) {
        if let Ok(Value::Object(cu)) = serde_json::from_str::<Value>(&text) {
            for op in ["deposit", "withdraw", "borrow", "repay", "liquidate"] {
                let here = ballast.ops[op].as_ref().map(|c| c.ix).ok();
                let there = cu.get(op).and_then(Value::as_u64);
                if let (Some(h), Some(t)) = (here, there) {
                    if h != t {
                        println!("note: Ballast {op} {h} CU here, {t} in cu.json");
                    }
                }
            }
        }
    }
    println!(
        "\ntarget/bench/peers.json written ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
}
