//! `ballast-keeper snapshot`'s file on the embedded chain: written and read
//! back, it gives the live accounts and the live scan's verdicts; a damaged
//! file fails naming what is wrong.

use ballast::state::{Obligation, Reserve};
use ballast_keeper::accounts::decode_obligation;
use ballast_keeper::chain::Chain;
use ballast_keeper::scan::{Assessment, MarketSnapshot};
use ballast_keeper::snapshot::{Role, Snapshot, SnapshotError};
use ballast_tests::*;

/// Market A of the treasury fixture (USDC with its strategy in market B,
/// shares deployed) plus SOL; three borrowers with 10 SOL each and 140,
/// 100 and 50 USDC of debt; SOL then at $17, so the first is liquidatable.
fn market() -> (TestContext, Address, Address) {
    let mut ctx = TestContext::new();
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
    ctx.set_price(&sol, 17.0, 0.0);
    (ctx, t.a.market, t.b_usdc.address())
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "ballast-snapshot-{name}-{}.json",
        std::process::id()
    ))
}

#[test]
fn round_trip_gives_the_live_accounts_and_scan() {
    let (ctx, market, strategy) = market();
    let snap = Snapshot::capture(&ctx.chain, &market).expect("capture");
    let path = temp("round-trip");
    snap.write(&path).expect("write");
    let back = Snapshot::read(&path).expect("read");
    std::fs::remove_file(&path).ok();

    assert_eq!(back.market, market);
    assert_eq!(back.unix_time, ctx.clock().unix_timestamp);
    assert_eq!(back.slot, ctx.clock().slot);
    // Every account as the chain holds it.
    for (role, k, a) in &back.accounts {
        let live = ctx.svm.get_account(k).expect("exists");
        assert_eq!(
            (a.lamports, a.owner, &a.data),
            (live.lamports, live.owner, &live.data),
            "{role:?} {k}"
        );
    }
    let c = back.counts();
    assert_eq!(c[&Role::Market], 1);
    assert_eq!(c[&Role::Reserve], 2);
    assert_eq!(c[&Role::Oracle], 2);
    assert_eq!(c[&Role::StrategyReserve], 1);
    // The depositor's obligation and the three borrowers'.
    assert_eq!(c[&Role::Obligation], 4);
    let live_obligations = ctx.chain.ballast_accounts::<Obligation>(&market).unwrap();
    assert_eq!(live_obligations.len(), back.obligations.len());
    assert_eq!(back.strategies[0].0, strategy);
    let live_reserves = ctx.chain.ballast_accounts::<Reserve>(&market).unwrap();
    for (k, r) in &back.reserves {
        let (_, d) = live_reserves
            .iter()
            .find(|(a, _)| a == k)
            .expect("live reserve");
        assert_eq!(
            bytemuck::bytes_of(r),
            &d[8..8 + std::mem::size_of::<Reserve>()]
        );
    }

    // The scan from the file and from the chain agree on every obligation.
    let live = MarketSnapshot::load(&ctx.chain, &market, ctx.clock().unix_timestamp).unwrap();
    let from_file = back.market_snapshot();
    let mut liquidatable = 0;
    for (k, d) in &live_obligations {
        let o = decode_obligation(d).unwrap();
        let (_, ob) = back
            .obligations
            .iter()
            .find(|(a, _)| a == k)
            .expect("in file");
        assert_eq!(bytemuck::bytes_of(ob), bytemuck::bytes_of(&o));
        let a = live.assess(k, &o);
        assert_eq!(from_file.assess(k, ob), a, "obligation {k}");
        liquidatable += matches!(a, Assessment::Liquidatable(_)) as usize;
    }
    assert_eq!(liquidatable, 1, "the 140 USDC borrower at SOL $17");

    let (m, _, reserves, obligations, oracles, now) = back.to_chain_state();
    assert_eq!(m, market);
    assert_eq!(
        (reserves.len(), obligations.len(), oracles.len()),
        (2, 4, 2)
    );
    assert_eq!(now, back.unix_time);
}

/// Writes `text` as a snapshot file and reads it; returns the error.
fn read_err(name: &str, text: &str) -> SnapshotError {
    let path = temp(name);
    std::fs::write(&path, text).unwrap();
    let e = Snapshot::read(&path).expect_err(name);
    std::fs::remove_file(&path).ok();
    e
}

#[test]
fn damaged_files_fail_naming_what_is_wrong() {
    let (ctx, market, _) = market();
    let snap = Snapshot::capture(&ctx.chain, &market).unwrap();
    let good = serde_json::to_string_pretty(&snap.to_file()).unwrap();

    let e = read_err("truncated", &good[..good.len() / 2]);
    assert!(matches!(e, SnapshotError::Json { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("not a snapshot file (truncated or garbled?)") && msg.contains("line"),
        "{msg}"
    );

    let e = read_err("garbage", "\u{0}\u{1}garbage");
    assert!(matches!(e, SnapshotError::Json { .. }), "{e}");

    let mut f = snap.to_file();
    f.version = 2;
    let e = read_err("version", &serde_json::to_string(&f).unwrap());
    assert_eq!(
        e.to_string().split(": ").nth(1).unwrap(),
        "snapshot version 2, this keeper reads version 1"
    );

    let mut f = snap.to_file();
    let i = f
        .accounts
        .iter()
        .position(|a| a.role == Role::Reserve)
        .unwrap();
    let k = f.accounts[i].address.clone();
    f.accounts[i].data = "not base64!".into();
    let msg = read_err("base64", &serde_json::to_string(&f).unwrap()).to_string();
    assert!(
        msg.contains(&format!("accounts[{i}] ({k}): data is not base64")),
        "{msg}"
    );

    let mut f = snap.to_file();
    f.accounts[i].data = "AAAA".into();
    let msg = read_err("short", &serde_json::to_string(&f).unwrap()).to_string();
    assert!(
        msg.contains(&format!(
            "account {k} (Reserve): 3 bytes that do not decode as a Ballast Reserve"
        )),
        "{msg}"
    );

    let mut f = snap.to_file();
    f.accounts[i].owner = Address::new_unique().to_string();
    let msg = read_err("owner", &serde_json::to_string(&f).unwrap()).to_string();
    assert!(msg.contains("is not the Ballast program"), "{msg}");

    let mut f = snap.to_file();
    f.accounts.retain(|a| a.role != Role::Market);
    let msg = read_err("no market", &serde_json::to_string(&f).unwrap()).to_string();
    assert!(
        msg.contains(&format!("no market account ({market})")),
        "{msg}"
    );

    let mut f = snap.to_file();
    f.accounts[i].address = "0OIl".into();
    let msg = read_err("address", &serde_json::to_string(&f).unwrap()).to_string();
    assert!(
        msg.contains(&format!(
            "accounts[{i}].address \"0OIl\" is not a base58 address"
        )),
        "{msg}"
    );

    let e = Snapshot::read(&temp("missing")).expect_err("no file");
    assert!(matches!(e, SnapshotError::Io { .. }), "{e}");
}

/// `ballast-keeper --url embedded snapshot --market <market> --out <out>`.
fn snapshot_cli(market: &str, out: &std::path::Path) -> ballast_keeper::cli::Cli {
    use ballast_keeper::cli::{Cli, Command, LogFormat, Output, SnapshotArgs};
    Cli {
        url: "embedded".into(),
        keypair: None,
        program_so: None,
        log_format: LogFormat::Text,
        command: Command::Snapshot(SnapshotArgs {
            market: market.into(),
            out: out.to_path_buf(),
            output: Output::Json,
        }),
    }
}

#[test]
fn the_command_writes_a_file_that_reads_back() {
    // `--url embedded`: a fresh chain with the market definition applied.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let def = root.join("migrations/replay-sol-usdc.toml");
    let out = temp("cli");
    ballast_keeper::cli::run(snapshot_cli(def.to_str().unwrap(), &out)).expect("snapshot");
    let s = Snapshot::read(&out).expect("read back");
    std::fs::remove_file(&out).ok();
    let c = s.counts();
    assert_eq!(
        (c[&Role::Market], c[&Role::Reserve], c[&Role::Oracle]),
        (1, 2, 2)
    );
    assert!(s.obligations.is_empty());
    assert_eq!(s.market_snapshot().reserves().len(), 2);
    // Not a definition on the embedded chain: said so.
    let cli = snapshot_cli("So11111111111111111111111111111111111111112", &out);
    let e = ballast_keeper::cli::run(cli).unwrap_err().to_string();
    assert!(e.contains("give --market a market definition"), "{e}");
}

/// `stress --snapshot`: the book of a snapshot written and read back is the
/// book of the live state, and a seeded stress run over it gives the same
/// outcome on every path (issue 17's snapshot round trip).
#[test]
fn stress_of_a_snapshot_equals_stress_of_the_live_state() {
    use ballast_keeper::market::MarketDef;
    use ballast_keeper::stress::book::Book;
    use ballast_keeper::stress::prices::{PriceModel, ShockModel};
    use ballast_keeper::stress::run_paths;
    use ballast_keeper::stress::sim::{Policy, SimConfig};

    let (ctx, market, _) = market();
    let def_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/stress-multi.toml");
    let def = MarketDef::load(&def_path).expect("definition");
    let st = def.stress.clone().expect("[stress]");
    // The fixture's collateral reserves: SOL (the borrowers') and USDC (the
    // depositor's), mapped by address as `--asset SYMBOL=RESERVE` does.
    let live = Snapshot::capture(&ctx.chain, &market).expect("capture");
    let reserves = live.to_chain_state().2;
    let sol = reserves
        .iter()
        .find(|(_, r)| r.mint_decimals == 9)
        .map(|(k, _)| *k)
        .expect("SOL reserve");
    let usdc = reserves
        .iter()
        .find(|(k, r)| r.mint_decimals == 6 && r.market == market && *k != sol)
        .map(|(k, _)| *k)
        .expect("USDC reserve");
    let model = PriceModel::gaussian(
        &["SOL", "USDC"],
        &[17.0, 1.0],
        &[0.9, 0.01],
        &[1.0, 0.0, 0.0, 1.0],
    );
    let assets = [format!("SOL={sol}"), format!("USDC={usdc}")];
    let book_live =
        Book::from_snapshot(&live, &def, &st, &model.symbols, &model.s0, &assets).expect("book");

    let path = temp("stress");
    live.write(&path).expect("write");
    let back = Snapshot::read(&path).expect("read");
    std::fs::remove_file(&path).ok();
    let book_file =
        Book::from_snapshot(&back, &def, &st, &model.symbols, &model.s0, &assets).expect("book");
    assert_eq!(book_file, book_live);
    // Three borrowers (10 SOL at $17 each); the depositor owes nothing, so
    // it is not in the book (`Book::from_chain` keeps obligations with
    // debt, floating or term).
    let sol_held: f64 = book_live.collateral[0].iter().sum();
    assert!((sol_held - 30.0).abs() < 1e-6, "{sol_held}");
    assert_eq!(book_live.assets[0].price, 17.0);
    assert_eq!(book_live.len(), 3);

    let cfg = SimConfig {
        paths: 64,
        steps: 48,
        step_secs: 3_600,
        seed: 9,
        shocks: ShockModel::Gaussian,
        corr_stress: 0.0,
        capacity_usd_per_step: 1_000.0,
        impact_k: 1.0,
        profit: None,
        record: false,
    };
    let a = run_paths(&book_live, &model, &cfg, Policy::Static, None);
    let b = run_paths(&book_file, &model, &cfg, Policy::Static, None);
    assert_eq!(a, b);
    // The first borrower starts below Maintenance: liquidated on every path.
    assert!(a.iter().all(|o| o.liquidated_debt > 0.0));

    // A collateral reserve left unmapped is named (SOL: the depositor's
    // USDC is not in the book, so leaving it out changes nothing).
    let e = Book::from_snapshot(&back, &def, &st, &model.symbols, &model.s0, &assets[1..])
        .unwrap_err()
        .to_string();
    assert!(e.contains(&sol.to_string()) && e.contains("--asset"), "{e}");
    assert_eq!(
        Book::from_snapshot(&back, &def, &st, &model.symbols, &model.s0, &assets[..1]).unwrap(),
        book_file
    );
}
