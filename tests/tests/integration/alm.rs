//! `ballast-keeper alm` on the embedded chain running the .so: the ladder
//! of each reserve sums to the program's balance sheet (the `balance_sheet`
//! instruction's return data) converted to USD; today's all-floating book
//! puts every sensitive item overnight, so ΔEVE is nil and ΔNII is the
//! overnight gap times the shock; a snapshot file gives the same report;
//! a reserve whose oracle is stale is left out and named.

use anchor_lang::AnchorDeserialize;
use ballast::engine::balance_sheet::BalanceSheet;
use ballast_keeper::alm::report::{market_alm, market_alm_on_chain, table};
use ballast_keeper::alm::{Calibration, MarketAlm, Scenario};
use ballast_keeper::snapshot::Snapshot;
use ballast_tests::*;

/// Market A of the treasury fixture (USDC with its strategy in market B,
/// shares deployed) plus SOL; three borrowers with 10 SOL each and 140,
/// 100 and 50 USDC of debt; 500 USDC in A's insurance vault; ten days of
/// interest, prices fresh.
fn market() -> (TestContext, Treasury, TestReserve) {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
    let sol = ctx.add_reserve(&t.a, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(10_000.0));
    ctx.rebalance(&t).expect("deploy");
    assert!(ctx.reserve(&t.a_usdc).treasury.deployed_shares > 0);
    for debt in [140.0, 100.0, 50.0] {
        let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(10.0));
        let b_usdc = ctx.token_account_for(&t.a_usdc, &b.pubkey(), 0);
        let ob = ctx.open_obligation(&b, &t.a.market, 0);
        ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(10.0));
        ctx.borrow(&b, &t.a_usdc, &ob, &b_usdc, t.a_usdc.units(debt));
    }
    ctx.mint_to(
        &t.a_usdc.keys.mint,
        &t.a_usdc.keys.insurance_vault,
        t.a_usdc.units(500.0),
    )
    .expect("fund insurance");
    ctx.warp_seconds(10 * 86_400);
    // Accrue, so that the protocol's fees (the book's equity) are booked:
    // the balance sheet projects the debt but not the fees.
    let mut accrue = ix::accrue_interest(&t.a_usdc.keys.reserve);
    accrue
        .accounts
        .push(solana_instruction::AccountMeta::new_readonly(
            t.b_usdc.address(),
            false,
        ));
    ctx.ok("accrue", &[accrue], &[]);
    for r in [&sol, &t.a_usdc, &t.b_usdc, &t.b_sol] {
        ctx.set_price(
            r,
            if r.keys.mint == sol.keys.mint {
                20.0
            } else {
                1.0
            },
            0.0,
        );
    }
    (ctx, t, sol)
}

/// The balance sheet the program returns for `r` now.
fn sheet(ctx: &mut TestContext, r: &TestReserve, strategy: Option<&TestReserve>) -> BalanceSheet {
    let ix = match strategy {
        Some(s) => ix::balance_sheet_with_strategy(&r.keys, &s.address()),
        None => ix::balance_sheet(&r.keys),
    };
    let meta = ctx.chain.send(&[ix], &[]).expect("balance_sheet");
    BalanceSheet::try_from_slice(&meta.return_data.data).expect("documented layout")
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

fn report_of<'a>(m: &'a MarketAlm, r: &TestReserve) -> &'a ballast_keeper::alm::AlmReport {
    m.reserves
        .iter()
        .find(|x| x.label == r.keys.reserve.to_string())
        .expect("reserve reported")
}

#[test]
fn the_ladder_sums_to_the_programs_balance_sheet() {
    let (mut ctx, t, sol) = market();
    // Deposits paid the market's move in full (a bank's beta of 1).
    let cal = Calibration {
        deposit_beta: Some(1.0),
        ..Calibration::crypto()
    };
    let m = market_alm_on_chain(&ctx.chain, &t.a.market, &cal, 30.0).expect("alm");
    // And with each pool's own pass-through, utilisation * (1 - reserve factor).
    let pool =
        market_alm_on_chain(&ctx.chain, &t.a.market, &Calibration::crypto(), 30.0).expect("alm");
    assert_eq!(m.reserves.len(), 2, "{:?}", m.skipped);
    assert!(m.skipped.is_empty());

    let mut total_assets = 0.0;
    let mut total_liabilities = 0.0;
    for (r, strategy, price) in [(&t.a_usdc, Some(&t.b_usdc), 1.0), (&sol, None, 20.0)] {
        let s = sheet(&mut ctx, r, strategy);
        let unit = price / 10f64.powi(ctx.reserve(r).mint_decimals as i32);
        let rep = report_of(&m, r);
        let l = &rep.ladder;
        if r.keys.reserve == t.a_usdc.keys.reserve {
            assert!(s.protocol_fees > 0 && s.liabilities < s.assets, "{s:?}");
            // EVE is the fees' worth plus a day's margin between the
            // items' rates and the discount curve (the borrow rate): at
            // most a day of a 50% rate on both sides.
            let both = (s.assets + s.liabilities) as f64 * unit;
            assert!((rep.eve - s.protocol_fees as f64 * unit).abs() <= both * 0.5 / 365.0);
        }
        // The ladder's assets and liabilities are the program's, in USD.
        assert!(
            close(l.total_assets(), s.assets as f64 * unit),
            "{} vs {}",
            l.total_assets(),
            s.assets
        );
        assert!(close(l.total_liabilities(), s.liabilities as f64 * unit));
        // All floating today: loans and strategy overnight, the vault's
        // cash outside the gap, every deposit can leave overnight.
        assert!(close(
            l.rows[0].assets,
            (s.borrowed + s.deployed) as f64 * unit
        ));
        assert!(close(l.non_sensitive_assets, s.liquid as f64 * unit));
        assert!(close(l.rows[0].liabilities, s.liabilities as f64 * unit));
        assert!(close(l.rows[0].can_leave, s.liabilities as f64 * unit));
        for row in &l.rows[1..] {
            assert_eq!(
                (row.assets, row.liabilities, row.can_leave),
                (0.0, 0.0, 0.0)
            );
        }
        // Liquidity: the vault's cash and what the strategy can return now
        // come in overnight (all of it without a strategy), against every
        // deposit.
        let cash_in = l.rows[0].inflows;
        assert!(cash_in >= s.liquid as f64 * unit * (1.0 - 1e-12));
        assert!(cash_in <= (s.liquid + s.deployed) as f64 * unit * (1.0 + 1e-12));
        let recallable = match strategy {
            Some(st) => {
                let now = ctx.clock().unix_timestamp;
                let mut b = ctx.reserve(st);
                b.accrue_interest(now).unwrap();
                ballast::engine::treasury::recallable_of(s.deployed, &b, now)
            }
            None => 0,
        };
        assert!(
            close(cash_in, (s.liquid + recallable) as f64 * unit),
            "{cash_in}"
        );
        assert!(close(
            l.rows[0].cumulative_liquidity_gap,
            cash_in - s.liabilities as f64 * unit
        ));
        // Outside capital: the insurance vault.
        assert!(close(rep.outside_capital, s.insurance as f64 * unit));
        total_assets += l.total_assets();
        total_liabilities += l.total_liabilities();

        // Everything reprices within a day: ΔEVE is at most a day's worth
        // of the shock on both sides; ΔNII of the parallel up shock is the
        // overnight gap times 600 bp for the 29 days after the reset.
        let gap = l.rows[0].gap;
        for sc in &rep.scenarios {
            let bound = (l.rows[0].assets + l.rows[0].liabilities) * 0.1 / 365.0;
            assert!(
                sc.delta_eve.abs() <= bound,
                "{:?} {}",
                sc.scenario,
                sc.delta_eve
            );
        }
        let up = rep
            .scenarios
            .iter()
            .find(|x| x.scenario == Scenario::ParallelUp)
            .unwrap();
        assert!(
            (up.delta_nii - gap * 0.06 * 29.0 / 365.0).abs() <= 1e-9 * gap.abs().max(1.0),
            "{} vs gap {gap}",
            up.delta_nii
        );
        let reserve = ctx.reserve(r);
        let beta = reserve.utilization().unwrap().to_num::<f64>()
            * (1.0 - reserve.config.reserve_factor_bps as f64 / 1e4);
        let want = (l.rows[0].assets - beta * l.rows[0].liabilities) * 0.06 * 29.0 / 365.0;
        let got = report_of(&pool, r).scenarios[0].delta_nii;
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
    let usdc = report_of(&m, &t.a_usdc);
    assert!(
        usdc.ladder.rows[0].gap < 0.0,
        "cash in the vault earns nothing: a negative gap"
    );
    assert!(usdc.durations.assets.macaulay > 0.0 && usdc.durations.assets.macaulay <= 1.0 / 365.0);
    assert!(close(m.total.ladder.total_assets(), total_assets));
    assert!(close(m.total.ladder.total_liabilities(), total_liabilities));
    // The table and the JSON carry the six scenarios.
    let text = table(&m);
    for s in Scenario::ALL {
        assert!(text.contains(s.name()), "{}", s.name());
    }
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["total"]["scenarios"].as_array().unwrap().len(), 6);
    assert_eq!(json["calibration"]["name"], "crypto");
}

#[test]
fn a_snapshot_file_gives_the_same_report_without_the_insurance() {
    let (ctx, t, _) = market();
    let cal = Calibration::bcbs();
    let live = market_alm_on_chain(&ctx.chain, &t.a.market, &cal, 365.0).expect("alm");
    let snap = Snapshot::capture(&ctx.chain, &t.a.market).expect("capture");
    let path = std::env::temp_dir().join(format!("ballast-alm-{}.json", std::process::id()));
    snap.write(&path).expect("write");
    let back = Snapshot::read(&path).expect("read");
    std::fs::remove_file(&path).ok();
    let file = market_alm(&back, &Default::default(), &cal, 365.0).expect("alm");
    for (a, b) in live.reserves.iter().zip(&file.reserves) {
        assert_eq!(a.ladder, b.ladder);
        assert_eq!(a.scenarios.len(), b.scenarios.len());
        for (x, y) in a.scenarios.iter().zip(&b.scenarios) {
            assert_eq!((x.delta_eve, x.delta_nii), (y.delta_eve, y.delta_nii));
        }
        assert_eq!(b.outside_capital, 0.0, "no token accounts in the file");
    }
    assert!(
        live.total.capital > file.total.capital,
        "the insurance counts live"
    );
    // Bad horizons are refused with the reason.
    for h in [0.0, -1.0, f64::NAN] {
        let e = market_alm(&back, &Default::default(), &cal, h).unwrap_err();
        assert!(e.to_string().contains("horizon"), "{e}");
    }
}

#[test]
fn a_reserve_with_a_stale_oracle_is_left_out_and_named() {
    let (mut ctx, t, sol) = market();
    ctx.warp_seconds(3 * 86_400);
    ctx.set_price(&sol, 20.0, 0.0);
    let m =
        market_alm_on_chain(&ctx.chain, &t.a.market, &Calibration::crypto(), 30.0).expect("alm");
    assert_eq!(m.reserves.len(), 1);
    assert_eq!(m.reserves[0].label, sol.keys.reserve.to_string());
    assert_eq!(m.skipped.len(), 1);
    assert!(
        m.skipped[0].starts_with(&t.a_usdc.keys.reserve.to_string()),
        "{:?}",
        m.skipped
    );
    assert!(m.skipped[0].contains("stale"), "{:?}", m.skipped);
}

/// The replay's seeded book (`alm --url embedded --population N`): the
/// debt reserve's ladder sums to the replay's own balance sheet; every
/// sensitive item is overnight; the borrowers' debt is the overnight
/// assets of USDC.
#[test]
fn the_replays_synthetic_book_reports_its_balance_sheet() {
    use ballast_keeper::alm::synthetic::replay_book;

    let def =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/replay-sol-usdc.toml");
    let so = ballast_keeper::chain::embedded::EmbeddedChain::default_so_path();
    let replay = replay_book(&def, &so, 30, 7).expect("book");
    let sheet = replay.balance_sheet().expect("sheet");
    let m = market_alm_on_chain(
        &replay.chain,
        &replay.deployment.market,
        &Calibration::crypto(),
        30.0,
    )
    .expect("alm");
    let usdc = m
        .reserves
        .iter()
        .find(|r| r.label == replay.debt.keys.reserve.to_string())
        .expect("debt reserve");
    let unit = 1e-6; // USDC at $1, 6 decimals
    assert!(sheet.borrowed > 0, "the population borrowed");
    assert!(close(
        usdc.ladder.total_assets(),
        sheet.assets as f64 * unit
    ));
    assert!(close(
        usdc.ladder.total_liabilities(),
        sheet.liabilities as f64 * unit
    ));
    assert!(close(
        usdc.ladder.rows[0].assets,
        (sheet.borrowed + sheet.deployed) as f64 * unit
    ));
    assert!(close(
        m.total.ladder.rows[0].can_leave,
        m.total.ladder.total_liabilities()
    ));
    // The same population twice gives the same report (seeded).
    let again = replay_book(&def, &so, 30, 7).expect("book");
    let m2 = market_alm_on_chain(
        &again.chain,
        &again.deployment.market,
        &Calibration::crypto(),
        30.0,
    )
    .expect("alm");
    assert_eq!(m.total.ladder, m2.total.ladder);
    // A definition without [replay] is refused, naming it.
    let other =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/stress-multi.toml");
    let e = replay_book(&other, &so, 5, 7)
        .err()
        .expect("no [replay] section");
    assert!(format!("{e:#}").contains("no [replay] section"), "{e:#}");
}

/// The command itself (`ballast_keeper::cli::run`): `alm --snapshot FILE
/// --json OUT --chart PNG` writes a JSON with the six scenarios and a PNG;
/// bad arguments are refused with the reason.
#[test]
fn the_command_writes_its_json_and_chart_and_refuses_bad_arguments() {
    use clap::Parser;

    let (ctx, t, _) = market();
    let dir = std::env::temp_dir().join(format!("ballast-alm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = dir.join("market.json");
    Snapshot::capture(&ctx.chain, &t.a.market)
        .expect("capture")
        .write(&snap)
        .expect("write");
    let (json, png) = (dir.join("alm.json"), dir.join("ladder.png"));
    let run = |extra: &[&str]| {
        let mut argv = vec!["ballast-keeper", "alm"];
        argv.extend_from_slice(extra);
        ballast_keeper::cli::run(ballast_keeper::cli::Cli::parse_from(argv))
    };
    let (s, j, p) = (
        snap.to_str().unwrap(),
        json.to_str().unwrap(),
        png.to_str().unwrap(),
    );
    run(&[
        "--snapshot",
        s,
        "--json",
        j,
        "--chart",
        p,
        "--output",
        "json",
    ])
    .expect("alm");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["market"], t.a.market.to_string());
    assert_eq!(v["total"]["scenarios"].as_array().unwrap().len(), 6);
    assert_eq!(v["reserves"].as_array().unwrap().len(), 2);
    let png_bytes = std::fs::read(&png).unwrap();
    assert_eq!(&png_bytes[1..4], b"PNG");

    let e = run(&["--snapshot", s, "--deposit-beta", "2"]).unwrap_err();
    assert!(e.to_string().contains("--deposit-beta"), "{e}");
    let e = run(&["--snapshot", s, "--horizon-days", "0"]).unwrap_err();
    assert!(format!("{e:#}").contains("horizon"), "{e:#}");
    let e = run(&[
        "--url",
        "http://127.0.0.1:1",
        "--market",
        "x",
        "--population",
        "5",
    ])
    .unwrap_err();
    assert!(e.to_string().contains("--url embedded"), "{e}");
    let e = run(&["--snapshot", dir.join("missing.json").to_str().unwrap()]).unwrap_err();
    assert!(format!("{e:#}").contains("missing.json"), "{e:#}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A term configuration written by the program (`set_term_config`) is read
/// back into the curve: the overnight knot at the floating borrow rate, a
/// knot per tenor at the time to the maturity a loan opened now would get
/// (the next multiple of the grid at or after now + tenor), at the floating
/// rate plus the base spread (nothing committed yet), and forward rates
/// between them as `(r2 t2 - r1 t1) / (t2 - t1)`.
#[test]
fn the_programs_term_configuration_gives_the_curves_knots() {
    use anchor_lang::{InstructionData, ToAccountMetas};
    use ballast::engine::term::TermConfig;

    let (mut ctx, t, _) = market();
    const DAY: u32 = 86_400;
    let config = TermConfig {
        tenors_secs: [7 * DAY, 30 * DAY, 90 * DAY],
        // Tenors reach at most 12 grid periods: 90 days needs a grid of 8.
        grid_secs: 8 * DAY,
        base_spread_bps: 150,
        slope_bps: 2_000,
        max_commit_bps: 5_000,
        penalty_spread_bps: 1_000,
        _padding: [0; 8],
    };
    let ix = solana_instruction::Instruction {
        program_id: ballast::ID,
        accounts: ballast::accounts::SetTermConfig {
            admin: t.a.admin.pubkey(),
            market: t.a.market,
            reserve: t.a_usdc.keys.reserve,
        }
        .to_account_metas(None),
        data: ballast::instruction::SetTermConfig { config }.data(),
    };
    let admin = t.a.admin.insecure_clone();
    ctx.ok("set_term_config", &[ix], &[&admin]);
    assert_eq!(ctx.reserve(&t.a_usdc).term_config, config);

    let m =
        market_alm_on_chain(&ctx.chain, &t.a.market, &Calibration::crypto(), 30.0).expect("alm");
    let usdc = report_of(&m, &t.a_usdc);
    let now = ctx.clock().unix_timestamp;
    let float = ctx
        .reserve(&t.a_usdc)
        .borrow_rate()
        .unwrap()
        .to_num::<f64>();
    let knot_days = |tenor: u32| {
        let end = now + tenor as i64;
        let g = config.grid_secs as i64;
        ((end + g - 1).div_euclid(g) * g - now) as f64 / 86_400.0
    };
    let want: Vec<(f64, f64)> = std::iter::once((1.0, float))
        .chain(
            config
                .tenors_secs
                .iter()
                .map(|&s| (knot_days(s), float + 0.015)),
        )
        .collect();
    let snap = Snapshot::capture(&ctx.chain, &t.a.market).expect("capture");
    let (books, _) =
        ballast_keeper::alm::chain::books_from_snapshot(&snap, &Default::default()).expect("books");
    let curve = &books
        .iter()
        .find(|b| b.reserve == t.a_usdc.keys.reserve)
        .unwrap()
        .book
        .curve;
    assert_eq!(curve.knots.len(), 4, "{curve:?}");
    for (k, (d, r)) in curve.knots.iter().zip(&want) {
        assert!((k.tenor_days - d).abs() < 1e-9, "{} vs {d}", k.tenor_days);
        assert!((k.zero - r).abs() < 1e-12, "{} vs {r}", k.zero);
    }
    // The report's forward from the first tenor's knot to the second's.
    let (t1, t2) = (want[1].0, want[2].0);
    let p2 = usdc
        .curve
        .iter()
        .find(|p| (p.tenor_days - t2).abs() < 1e-9)
        .expect("the 30-day knot is a row");
    let f = ((float + 0.015) * t2 - (float + 0.015) * t1) / (t2 - t1);
    assert!((curve.forward(t1 / 365.0, t2 / 365.0) - f).abs() < 1e-12);
    assert!((p2.zero - (float + 0.015)).abs() < 1e-12);
}

/// Real term loans (`borrow_term` on the program): the reserve's maturity
/// bucket becomes a zero-coupon asset in the ladder's bucket of its
/// maturity at its book value, beside the floating loans overnight; the
/// ladder still sums to the program's balance sheet (whose `borrowed` now
/// counts the term book); the bucket is cash in at maturity; the curve's
/// 30-day knot carries the commitment premium; and a parallel rise costs
/// the term loan's value `face DF (1 - e^(-Δ τ))` within a day's shock on
/// the rest.
#[test]
fn term_loans_sit_at_their_maturity_and_carry_the_eve_risk() {
    use ballast::engine::term::{maturity_for, TermConfig};
    use ballast_keeper::alm::analysis::bucket_of;

    const DAY: i64 = 86_400;
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let l = ctx.lending(&TOKEN_PROGRAM_ID);
    let cfg = TermConfig {
        tenors_secs: [7 * DAY as u32, 30 * DAY as u32, 84 * DAY as u32],
        grid_secs: 7 * DAY as u32,
        base_spread_bps: 100,
        slope_bps: 2_000,
        max_commit_bps: 5_000,
        penalty_spread_bps: 2_000,
        _padding: [0; 8],
    };
    let ix = ix::set_term_config(&l.m.admin.pubkey(), &l.debt.keys, cfg);
    ctx.ok("set_term_config", &[ix], &[&l.m.admin]);
    ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(500.0));
    let face = l.debt.units(1_000.0);
    let health = ctx.health_accounts(&l.ob, &[&l.debt]);
    let ix = ix::borrow_term(
        &l.borrower.pubkey(),
        &l.debt.keys,
        &l.ob,
        &l.b_debt,
        1,
        face,
        0,
        health,
    );
    let opened = ctx.clock().unix_timestamp;
    ctx.ok("borrow_term", &[ix], &[&l.borrower]);
    let maturity = maturity_for(opened, cfg.tenors_secs[1], cfg.grid_secs).unwrap();
    ctx.warp_seconds(3 * DAY);
    ctx.set_price(&l.coll, 20.0, 0.0);
    ctx.set_price(&l.debt, 1.0, 0.0);
    ctx.ok("accrue", &[ix::accrue_interest(&l.debt.keys.reserve)], &[]);

    let now = ctx.clock().unix_timestamp;
    let s = sheet(&mut ctx, &l.debt, None);
    let m =
        market_alm_on_chain(&ctx.chain, &l.m.market, &Calibration::crypto(), 30.0).expect("alm");
    let usdc = report_of(&m, &l.debt);
    let unit = 1e-6;
    let r = ctx.reserve(&l.debt);
    assert_eq!(r.term.total_face, face);
    let term_book = face as f64 - r.term.total_unearned.get().to_num::<f64>();
    let l_ = &usdc.ladder;
    // The program's balance sheet counts the term book in `borrowed`.
    assert!(
        close(l_.total_assets(), s.assets as f64 * unit),
        "{} vs {}",
        l_.total_assets(),
        s.assets
    );
    assert!(close(l_.total_liabilities(), s.liabilities as f64 * unit));
    let tau = (maturity - now) as f64 / DAY as f64;
    let b = bucket_of(tau);
    assert!(b >= 2, "{tau} d");
    assert!(
        (l_.rows[b].assets - term_book * unit).abs() < 1e-5,
        "{} vs {}",
        l_.rows[b].assets,
        term_book * unit
    );
    assert!((l_.rows[b].inflows - term_book * unit).abs() < 1e-5);
    assert!(close(
        l_.rows[0].assets,
        (s.borrowed as f64 - term_book) * unit
    ));
    assert_eq!(
        l_.rows[0].inflows, l_.non_sensitive_assets,
        "floating loans bring no cash"
    );

    // The program's own ladder (`maturity_ladder`, which counts cash as
    // repricing overnight where the keeper keeps it outside the gap)
    // agrees bucket by bucket to a few base units.
    let meta = ctx
        .chain
        .send(&[ix::maturity_ladder(&l.debt.keys)], &[])
        .expect("maturity_ladder");
    let prog = ballast::engine::term::MaturityLadder::try_from_slice(&meta.return_data.data)
        .expect("documented layout");
    assert!(prog.buckets[b].assets > 0 && prog.buckets[0].liabilities > 0);
    for (i, (pb, kb)) in prog.buckets.iter().zip(&l_.rows).enumerate() {
        let keeper_assets = kb.assets + if i == 0 { l_.non_sensitive_assets } else { 0.0 };
        assert!(
            (pb.assets as f64 * unit - keeper_assets).abs() <= 3.0 * unit,
            "bucket {i}: program {} vs keeper {keeper_assets}",
            pb.assets
        );
        assert!(
            (pb.liabilities as f64 * unit - kb.can_leave).abs() <= 3.0 * unit,
            "bucket {i}: program {} vs keeper {}",
            pb.liabilities,
            kb.can_leave
        );
    }

    // The curve: the 30-day tenor's knot carries 20% x the share committed.
    let float = r.borrow_rate().unwrap().to_num::<f64>();
    let supply = r.supply().unwrap().to_num::<f64>();
    let knot = |tenor: u32| {
        let m = maturity_for(now, tenor, cfg.grid_secs).unwrap();
        let committed = r.term.face_at(m) as f64;
        (
            (m - now) as f64 / DAY as f64,
            float + 0.01 + 0.2 * committed / supply,
        )
    };
    let snap = Snapshot::capture(&ctx.chain, &l.m.market).expect("capture");
    let (books, _) =
        ballast_keeper::alm::chain::books_from_snapshot(&snap, &Default::default()).expect("books");
    let book = &books
        .iter()
        .find(|x| x.reserve == l.debt.keys.reserve)
        .unwrap()
        .book;
    for (k, tenor) in book.curve.knots[1..].iter().zip(cfg.tenors_secs) {
        let (d, rate) = knot(tenor);
        assert!(
            (k.tenor_days - d).abs() < 1e-9 && (k.zero - rate).abs() < 1e-9,
            "{k:?} vs {d} {rate}"
        );
    }
    assert!(
        book.curve
            .knots
            .iter()
            .any(|k| k.zero > float + 0.01 + 1e-6),
        "a premium where the loan is"
    );

    // ΔEVE of parallel up: the term loan's face loses e^(-Δτ) on the
    // shocked curve; the floating items only a day's worth.
    let up = &usdc.scenarios[0];
    let t = tau / 365.0;
    let df = book.curve.df(t);
    let want = face as f64 * unit * df * ((-0.06 * t).exp() - 1.0);
    let overnight = (l_.rows[0].assets + l_.rows[0].liabilities) * 0.06 / 365.0;
    assert!(
        (up.delta_eve - want).abs() <= overnight * 1.01,
        "{} vs {want}",
        up.delta_eve
    );
    assert!(usdc.durations.assets.macaulay > 0.0 && usdc.durations.gap > 0.0);
}
