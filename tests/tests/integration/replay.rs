//! `ballast-keeper replay` on the embedded chain running the real .so: a
//! short replay of real crash data and a synthetic gap, with the accounting
//! invariants checked after every step, and the replay's errors on bad
//! input.

use std::path::{Path, PathBuf};

use ballast::engine::fx::{fx_u64, Fx, FxExt, FX_ZERO};
use ballast::state::{Obligation, PositionKind, Reserve};
use ballast_keeper::chain::Chain;
use ballast_keeper::keeper_loop::KeeperConfig;
use ballast_keeper::market::{MarketDef, PolicyName, REPLAY_SOL_USDC};
use ballast_keeper::replay::{
    default_capacity, draw_population, load_window, run_policy, OracleModel, Replay, ReplayOptions,
    RunResult, StepOutcome, Window,
};
use ballast_keeper::tasks::bad_debt::is_bad_debt;
use ballast_keeper::volatility::candles::parse_time_bound;

fn sol_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/SOLUSDT_1h.csv")
}

fn options(policy: PolicyName, capacity: usize) -> ReplayOptions {
    ReplayOptions {
        policy,
        capacity_per_candle: capacity,
        oracle: OracleModel::default(),
        keeper: KeeperConfig::default(),
        so_path: ballast_keeper::chain::embedded::EmbeddedChain::default_so_path(),
        outage: None,
    }
}

/// What the checks accumulate over a run.
#[derive(Default)]
struct Ledger {
    steps: usize,
    socialized_units: u128,
    socializations: usize,
}

/// The invariants after one step:
/// * every reserve's liquidity vault holds exactly `available_amount`;
/// * its deposit shares are the obligations' collateral shares summed, and
///   its debt shares the obligations' debt shares summed (exactly, in `Fx`);
/// * nothing is negative: the raw supply identity `available + borrowed -
///   fees`, the fees, the debt shares of the reserve and of every position;
/// * every socialisation of the step socialised the debt the keeper
///   computed off-chain (shares x projected index, rounded up), split into
///   insurance cover + write-off; afterwards no obligation owes debt
///   without collateral; the recorded bad debt is the sum of the
///   socialised debts.
fn check_step(replay: &Replay, out: &StepOutcome, ledger: &mut Ledger, usd_per_unit: f64) {
    let at = format!("step {} ts {}", ledger.steps, out.record.ts);
    let chain = &replay.chain;
    let market = replay.deployment.market;
    let obligations: Vec<(solana_address::Address, Obligation)> = chain
        .ballast_accounts::<Obligation>(&market)
        .unwrap()
        .into_iter()
        .map(|(k, d)| (k, ballast_keeper::accounts::decode_obligation(&d).unwrap()))
        .collect();
    assert_eq!(
        obligations.len(),
        replay.obligations.len(),
        "[{at}] every obligation the population opened, and no other"
    );
    for r in [&replay.collateral, &replay.debt] {
        let reserve: Reserve = chain.zero_copy(&r.keys.reserve).unwrap();
        let vault = chain.token_balance(&r.keys.liquidity_vault).unwrap();
        assert_eq!(
            vault, reserve.available_amount,
            "[{at}] {} vault vs available_amount",
            r.symbol
        );
        let (mut deposit_shares, mut borrow_shares) = (0u64, FX_ZERO);
        for (k, ob) in &obligations {
            for p in &ob.positions {
                if p.reserve != r.keys.reserve {
                    continue;
                }
                match p.kind() {
                    PositionKind::Collateral => deposit_shares += p.deposit_shares,
                    PositionKind::Debt => {
                        assert!(
                            p.borrow_shares.get() >= FX_ZERO,
                            "[{at}] negative debt shares in {k}"
                        );
                        borrow_shares += p.borrow_shares.get();
                    }
                    // The replay opens no term loans (their books are the
                    // reserve's term buckets, checked by the term tests).
                    PositionKind::TermDebt | PositionKind::Empty => {}
                }
            }
        }
        assert_eq!(
            reserve.deposit_shares, deposit_shares,
            "[{at}] {} deposit shares vs the obligations' sum",
            r.symbol
        );
        assert_eq!(
            reserve.borrow_shares.get(),
            borrow_shares,
            "[{at}] {} debt shares vs the obligations' sum",
            r.symbol
        );
        let fees = reserve.protocol_fees.get();
        assert!(fees >= FX_ZERO, "[{at}] {} negative fees", r.symbol);
        let raw_supply = fx_u64(reserve.available_amount)
            + fx_u64(reserve.treasury.deployed_amount)
            + reserve
                .borrow_shares
                .get()
                .mul_floor(reserve.borrow_index.get())
                .unwrap()
            - fees;
        assert!(
            raw_supply >= FX_ZERO,
            "[{at}] {} supply identity negative: {raw_supply}",
            r.symbol
        );
        assert!(reserve.borrow_index.get() >= Fx::ONE);
    }
    // Written off by `socialize_bad_debt`, or by the liquidation that took
    // the last collateral.
    let in_liquidations = out.tick.liquidation.iter().flat_map(|l| &l.written_off);
    for s in out.tick.bad_debt.socialized.iter().chain(in_liquidations) {
        assert_eq!(
            s.debt, s.expected_debt,
            "[{at}] socialised debt of {} vs shares x index",
            s.obligation
        );
        assert_eq!(s.covered_by_insurance + s.written_off, s.debt, "[{at}]");
        ledger.socialized_units += s.debt as u128;
        ledger.socializations += 1;
    }
    for (k, ob) in &obligations {
        assert!(!is_bad_debt(ob), "[{at}] {k} owes debt without collateral");
    }
    let recorded = ledger.socialized_units as f64 * usd_per_unit;
    assert!(
        (out.record.bad_debt_usd - recorded).abs() <= 1e-9 * recorded.max(1.0),
        "[{at}] recorded bad debt {} vs socialised {recorded}",
        out.record.bad_debt_usd
    );
    assert!(out.record.debt_at_risk_usd >= 0.0 && out.record.shortfall_usd >= 0.0);
    ledger.steps += 1;
}

fn checked_run(
    def: &MarketDef,
    window: &Window,
    borrowers: usize,
    policy: PolicyName,
    capacity: usize,
) -> (RunResult, Ledger) {
    let population = draw_population(7, borrowers);
    let usd_per_unit = def.replay.as_ref().unwrap().debt_price_usd / 1e6;
    let mut ledger = Ledger::default();
    let run = run_policy(
        def,
        window,
        &population,
        options(policy, capacity),
        |r, out| {
            check_step(r, out, &mut ledger, usd_per_unit);
            Ok(())
        },
    )
    .unwrap_or_else(|e| panic!("{policy} run: {e:#}"));
    assert_eq!(ledger.steps, window.candles.len() * 4);
    assert_eq!(run.summary.steps, ledger.steps);
    assert_eq!(run.summary.borrowers, borrowers);
    let total = ledger.socialized_units as f64 * usd_per_unit;
    assert!((run.summary.bad_debt_usd - total).abs() <= 1e-9 * total.max(1.0));
    (run, ledger)
}

fn def() -> MarketDef {
    MarketDef::parse(REPLAY_SOL_USDC).unwrap()
}

/// 48 hourly candles of the FTX collapse (SOL -50% in two days), 50
/// borrowers, both policies, the default liquidator capacity.
#[test]
fn ftx_48_candles_keep_the_books_at_every_step() {
    let window = load_window(
        &sol_file(),
        parse_time_bound("2022-11-08").unwrap(),
        parse_time_bound("2022-11-09 23:00").unwrap(),
        168 * 3_600,
        None,
    )
    .unwrap();
    assert_eq!(window.candles.len(), 48);
    let def = def();
    for policy in [PolicyName::Dynamic, PolicyName::Static] {
        let (run, _) = checked_run(&def, &window, 50, policy, default_capacity(50));
        let s = &run.summary;
        println!("{}", serde_json::to_string(s).unwrap());
        // SOL halves: with LTVs of 30..95% of the borrowing power, the more
        // levered borrowers cross their liquidation threshold.
        assert!(s.liquidations > 0, "{s:?}");
        assert!(s.liquidated_debt_usd > 0.0 && s.initial_debt_usd > 0.0);
        assert!(s.min_ltv_bps as f64 <= s.mean_ltv_bps);
        if policy == PolicyName::Static {
            assert_eq!((s.min_ltv_bps, s.mean_ltv_bps), (7_500, 7_500.0));
        }
    }
}

/// A synthetic gap: 30 flat hours at $100, then one candle whose low is $30
/// (close $35), then flat. At $30 every borrower who borrowed more than 30%
/// of its collateral's first value is insolvent, i.e. most of them (drawn
/// between 30% and 95% of a 75% LTV, or of the dynamic LTV); one
/// liquidation per candle cannot get ahead of that, so the liquidator's
/// full close-outs of insolvent obligations leave debt without collateral,
/// which the bad-debt task must socialise.
#[test]
fn a_gap_leaves_bad_debt_that_is_socialised_and_accounted() {
    let dir = std::env::temp_dir().join(format!("ballast-replay-gap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("gap.csv");
    let t0 = parse_time_bound("2024-01-01").unwrap();
    let mut csv = String::from("timestamp,open,high,low,close,volume\n");
    for h in 0..40i64 {
        let (o, hi, lo, c) = match h {
            30 => (100.0, 100.0, 30.0, 35.0),
            h if h > 30 => (35.0, 35.5, 34.5, 35.0),
            h => {
                // Small alternating moves so the EWMA has something to see.
                let p = if h % 2 == 0 { 100.0 } else { 100.5 };
                (p, p + 0.3, p - 0.3, p)
            }
        };
        csv.push_str(&format!(
            "{},{o},{hi},{lo},{c},1\n",
            ballast_keeper::volatility::candles::format_ts(t0 + h * 3_600)
        ));
    }
    std::fs::write(&path, csv).unwrap();
    let window = load_window(&path, t0, t0 + 39 * 3_600, 0, None).unwrap();
    assert!(window.warmup.is_empty());
    let def = def();
    for policy in [PolicyName::Dynamic, PolicyName::Static] {
        let (run, ledger) = checked_run(&def, &window, 30, policy, 1);
        let s = &run.summary;
        println!("{}", serde_json::to_string(s).unwrap());
        assert!(
            ledger.socializations > 0,
            "{policy}: no bad debt socialised: {s:?}"
        );
        assert!(s.bad_debt_usd > 0.0 && s.written_off_usd <= s.bad_debt_usd);
        // Recognised bad debt cannot exceed the debt that existed.
        assert!(s.bad_debt_usd < s.initial_debt_usd * 1.01);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let window = load_window(
        &sol_file(),
        parse_time_bound("2022-11-08 12:00").unwrap(),
        parse_time_bound("2022-11-09 06:00").unwrap(),
        48 * 3_600,
        None,
    )
    .unwrap();
    let def = def();
    let run = |seed: u64| {
        let mut s = run_policy(
            &def,
            &window,
            &draw_population(seed, 20),
            options(PolicyName::Dynamic, 1),
            |_, _| Ok(()),
        )
        .unwrap()
        .summary;
        s.wall_seconds = 0.0;
        s
    };
    let (a, b) = (run(3), run(3));
    assert_eq!(a, b);
    assert_ne!(a.initial_debt_usd, run(4).initial_debt_usd);
}

fn write_csv(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ballast-replay-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn load_err(path: &Path, from: &str, to: &str) -> String {
    let e = load_window(
        path,
        parse_time_bound(from).unwrap(),
        parse_time_bound(to).unwrap(),
        0,
        None,
    )
    .unwrap_err();
    format!("{e:#}")
}

const HEADER: &str = "timestamp,open,high,low,close,volume\n";

#[test]
fn a_malformed_row_is_named_by_its_line() {
    let p = write_csv(
        "malformed.csv",
        &format!(
            "{HEADER}2022-11-01 00:00:00,20,21,19,20.5,10\n\
             2022-11-01 01:00:00,20.5,21,19,20,10\n\
             2022-11-01 02:00:00,20,abc,19,20,10\n"
        ),
    );
    let e = load_err(&p, "2022-11-01", "2022-11-02");
    assert!(e.contains("line 4") && e.contains("high `abc`"), "{e}");
    assert!(e.contains("malformed.csv"), "the file is named: {e}");
}

#[test]
fn a_non_monotone_timestamp_is_named() {
    let p = write_csv(
        "unordered.csv",
        &format!(
            "{HEADER}2022-11-01 00:00:00,20,21,19,20.5,10\n\
             2022-11-01 02:00:00,20.5,21,19,20,10\n\
             2022-11-01 01:00:00,20,21,19,20,10\n"
        ),
    );
    let e = load_err(&p, "2022-11-01", "2022-11-02");
    assert!(
        e.contains("line 4") && e.contains("strictly increasing"),
        "{e}"
    );
}

#[test]
fn an_empty_window_is_an_error() {
    let p = write_csv(
        "short.csv",
        &format!(
            "{HEADER}2022-11-01 00:00:00,20,21,19,20.5,10\n\
             2022-11-01 01:00:00,20.5,21,19,20,10\n"
        ),
    );
    // Nothing at all in the range.
    let e = load_err(&p, "2023-01-01", "2023-01-02");
    assert!(e.contains("no row between"), "{e}");
    // Rows only in the warm-up before --from.
    let e = format!(
        "{:#}",
        load_window(
            &p,
            parse_time_bound("2022-11-01 05:00").unwrap(),
            parse_time_bound("2022-11-01 09:00").unwrap(),
            24 * 3_600,
            None
        )
        .unwrap_err()
    );
    assert!(e.contains("empty window"), "{e}");
    // Reversed bounds.
    let e = load_err(&p, "2022-11-02", "2022-11-01");
    assert!(e.contains("is after"), "{e}");
}

/// The replay records the balance sheet with the program's engine instead of
/// a transaction per step: at every step of a crash window it equals what
/// the `balance_sheet` instruction returns on the same chain.
#[test]
fn the_recorded_balance_sheet_is_the_instructions() {
    let window = load_window(
        &sol_file(),
        parse_time_bound("2022-11-08").unwrap(),
        parse_time_bound("2022-11-08 11:00").unwrap(),
        168 * 3_600,
        None,
    )
    .unwrap();
    let def = def();
    let population = draw_population(7, 30);
    let opts = options(PolicyName::Dynamic, default_capacity(30));
    let mut replay = Replay::new(&def, &window, &population, opts).unwrap();
    let mut steps = 0;
    while replay.step().unwrap().is_some() {
        let computed = replay.balance_sheet().unwrap();
        let keys = replay.debt.keys;
        let sent = Chain::send(
            &mut replay.chain,
            &[ballast_keeper::ix::balance_sheet(&keys)],
            &[],
        )
        .unwrap();
        let reported =
            ballast_keeper::events::events::<ballast::events::BalanceSheetReported>(&sent.logs)
                .pop()
                .unwrap()
                .sheet;
        assert_eq!(computed, reported, "step {steps}");
        steps += 1;
    }
    assert_eq!(steps, window.candles.len() * 4);
}
