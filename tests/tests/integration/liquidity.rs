//! Outflow limiter and the balance-sheet view on the real .so.

use anchor_lang::AnchorDeserialize;
use ballast::engine::balance_sheet::BalanceSheet;
use ballast::engine::liquidity::LiquidityConfig;
use ballast::errors::BallastError;
use ballast::events::BalanceSheetReported;
use ballast_tests::*;

fn sheet(ctx: &mut TestContext, r: &TestReserve) -> (BalanceSheet, u64) {
    let before = ctx.svm.get_account(&r.address()).unwrap().data;
    let meta = ctx
        .chain
        .send(&[ix::balance_sheet(&r.keys)], &[])
        .expect("balance_sheet");
    assert_eq!(
        ctx.svm.get_account(&r.address()).unwrap().data,
        before,
        "a view writes nothing"
    );
    assert_eq!(meta.return_data.program_id, ballast::ID);
    assert_eq!(meta.return_data.data.len(), 113, "the documented length");
    let s = BalanceSheet::try_from_slice(&meta.return_data.data).expect("documented layout");
    let e: Vec<BalanceSheetReported> = events(&meta.logs);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].sheet, s, "event and return data agree");
    (s, meta.compute_units_consumed)
}

#[test]
fn balance_sheet_reconciles_with_the_vaults() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let mut cfg = test_config([0; 32]);
    cfg.liquidity.stress_outflow_bps = 2_500;
    let usdc = ctx.add_reserve(&m, &TOKEN_2022_PROGRAM_ID, 6, 1.0, cfg);
    let (a, a_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let oa = ctx.open_obligation(&a, &m.market, 0);
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(1_000.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(1_000.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(8_000.0));
    ctx.chain
        .mint_to(
            &usdc.keys.mint,
            &usdc.keys.insurance_vault,
            usdc.units(123.0),
        )
        .unwrap();
    ctx.warp_seconds(30 * 86_400);

    let (s, _) = sheet(&mut ctx, &usdc);
    let r = ctx.reserve(&usdc);
    assert_eq!(
        s.liquid,
        ctx.token_balance(&usdc.keys.liquidity_vault).unwrap()
    );
    assert_eq!(s.liquid, usdc.units(2_000.0));
    assert_eq!(s.insurance, usdc.units(123.0));
    assert_eq!(s.assets, s.liquid + s.deployed + s.borrowed);
    assert!(
        s.borrowed > usdc.units(8_000.0),
        "30 days of interest projected"
    );
    assert_eq!(
        r.borrow_index,
        ctx.reserve(&usdc).borrow_index,
        "not accrued"
    );
    // Liabilities are the assets less the protocol's fees (to rounding).
    assert!((s.assets as i128 - s.protocol_fees as i128 - s.liabilities as i128).abs() <= 2);
    assert!(
        s.utilization_bps >= 8_000 && s.utilization_bps < 8_100,
        "{}",
        s.utilization_bps
    );
    assert_eq!(s.liquid_share_bps as u64, s.liquid * 10_000 / s.liabilities);
    // 2,000 liquid against a 25% run on ~10,000: coverage ~0.8.
    assert_eq!(
        s.liquidity_coverage_bps as u64,
        s.liquid * 10_000 / (s.liabilities * 2_500 / 10_000)
    );
    assert_eq!(s.outflow_remaining, u64::MAX, "no limiter configured");
}

#[test]
fn balance_sheet_rejects_substituted_accounts() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let other = ctx.setup_market();
    let twin = ctx.add_reserve(&other, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let mut keys = usdc.keys;
    keys.insurance_vault = twin.keys.insurance_vault;
    let err = ctx.fails("foreign insurance vault", &[ix::balance_sheet(&keys)], &[]);
    assert_ballast_err(&err, BallastError::ReserveAccountMismatch);
    let mut keys = usdc.keys;
    keys.market = other.market;
    let err = ctx.fails("other market", &[ix::balance_sheet(&keys)], &[]);
    assert_ballast_err(&err, BallastError::WrongMarket);
}

const DAY: i64 = 86_400;

fn limited(cap: f64) -> (TestContext, TestMarket, TestReserve, TestReserve) {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000 - 1_700_000_000 % DAY);
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let mut cfg = test_config([0; 32]);
    cfg.liquidity = LiquidityConfig {
        outflow_window_secs: DAY as u32,
        outflow_cap: (cap * 1e6) as u64,
        ..Default::default()
    };
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, cfg);
    (ctx, m, sol, usdc)
}

/// Two windows on, so the setup's deposits no longer credit the window
/// (the limiter nets inflows), with the prices refreshed.
fn fresh_window(ctx: &mut TestContext, sol: &TestReserve, usdc: &TestReserve) {
    ctx.warp_seconds(2 * DAY);
    ctx.set_price(sol, 20.0, 0.0);
    ctx.set_price(usdc, 1.0, 0.0);
}

#[test]
fn the_limiter_caps_withdraw_plus_borrow_per_sliding_window() {
    let (mut ctx, m, sol, usdc) = limited(1_000.0);
    let (a, a_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let oa = ctx.open_obligation(&a, &m.market, 0);
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), usdc.units(10.0));
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    fresh_window(&mut ctx, &sol, &usdc);

    // 600 withdrawn + 400 borrowed = the whole day's cap.
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, usdc.units(600.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(400.0));
    let before = ctx.snapshot(&[usdc.address(), oa, a_usdc]);
    let ix = ix::withdraw(&a.pubkey(), &usdc.keys, &oa, &a_usdc, 1, vec![]);
    let err = ctx.fails("one more unit", &[ix], &[&a]);
    assert_ballast_err(&err, BallastError::OutflowLimitExceeded);
    ctx.assert_unchanged("refused withdraw", &before);
    let health = ctx.health_accounts(&ob, &[]);
    let ix = ix::borrow(&b.pubkey(), &usdc.keys, &ob, &b_usdc, 1, health);
    assert_ballast_err(
        &ctx.fails("one more borrow", &[ix], &[&b]),
        BallastError::OutflowLimitExceeded,
    );
    // Deposits and repayments are never limited, and they net the window:
    // 1,000 out less 300 in leaves 700 counted.
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(100.0));
    ctx.repay(&b, &usdc, &ob, &b_usdc, usdc.units(200.0));
    let (s, _) = sheet(&mut ctx, &usdc);
    assert_eq!(s.outflow_remaining, usdc.units(300.0));

    // Half way through the next day, half of yesterday's net 700 still counts.
    ctx.warp_seconds(DAY + DAY / 2);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let (s, _) = sheet(&mut ctx, &usdc);
    assert_eq!(s.outflow_remaining, usdc.units(650.0));
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, usdc.units(650.0));
    let ix = ix::withdraw(&a.pubkey(), &usdc.keys, &oa, &a_usdc, 1, vec![]);
    assert_ballast_err(
        &ctx.fails("past the slide", &[ix], &[&a]),
        BallastError::OutflowLimitExceeded,
    );
    // Two days on, the full cap is back.
    ctx.warp_seconds(2 * DAY);
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, usdc.units(1_000.0));
    ctx.assert_vault_reconciles(&usdc);
}

/// Issue 13, the attacker's sequence: a flash-loaned deposit -> withdraw
/// round trip in one transaction. Before netting it filled the whole window
/// and refused every other withdraw and borrow for up to two windows.
#[test]
fn a_flash_round_trip_leaves_everyone_elses_capacity_as_it_was() {
    let (mut ctx, m, sol, usdc) = limited(1_000.0);
    let (victim, v_usdc) = ctx.user_with_tokens(&usdc, usdc.units(5_000.0));
    let ov = ctx.open_obligation(&victim, &m.market, 0);
    ctx.deposit(&victim, &usdc, &ov, &v_usdc, usdc.units(5_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    fresh_window(&mut ctx, &sol, &usdc);
    ctx.withdraw(&victim, &usdc, &ov, &v_usdc, usdc.units(100.0));
    let (before, _) = sheet(&mut ctx, &usdc);
    assert_eq!(before.outflow_remaining, usdc.units(900.0));

    // The attacker: flash-loaned USDC the size of what is left of the
    // window in, straight out again (on the gross limiter this filled it).
    let flash = before.outflow_remaining;
    let (attacker, x_usdc) = ctx.user_with_tokens(&usdc, flash);
    let ox = ctx.open_obligation(&attacker, &m.market, 0);
    let tx = [
        ix::deposit(&attacker.pubkey(), &usdc.keys, &ox, &x_usdc, flash),
        ix::withdraw(&attacker.pubkey(), &usdc.keys, &ox, &x_usdc, flash, vec![]),
    ];
    ctx.ok("flash round trip", &tx, &[&attacker]);
    assert_eq!(
        ctx.token_balance(&x_usdc).unwrap(),
        flash,
        "flash loan repaid"
    );

    let (after, _) = sheet(&mut ctx, &usdc);
    assert_eq!(after.outflow_remaining, before.outflow_remaining);
    // The victim and the borrower still get the rest of the window.
    ctx.withdraw(&victim, &usdc, &ov, &v_usdc, usdc.units(500.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(400.0));
    let ix = ix::withdraw(&victim.pubkey(), &usdc.keys, &ov, &v_usdc, 1, vec![]);
    assert_ballast_err(
        &ctx.fails("the cap still holds", &[ix], &[&victim]),
        BallastError::OutflowLimitExceeded,
    );
    ctx.assert_vault_reconciles(&usdc);
}

#[test]
fn a_bank_run_meets_the_limiter_and_every_depositor_exits_in_full() {
    let (mut ctx, m, _sol, usdc) = limited(3_000.0);
    let mut depositors = vec![];
    for i in 0..10 {
        let (d, ta) = ctx.user_with_tokens(&usdc, usdc.units(1_000.0));
        let o = ctx.open_obligation(&d, &m.market, 0);
        ctx.deposit(&d, &usdc, &o, &ta, usdc.units(1_000.0));
        depositors.push((d, o, ta, i));
    }
    // The run starts in a later window than the deposits (same-window
    // deposits would net the run's outflow).
    ctx.warp_seconds(2 * DAY);
    let mut exited = vec![false; depositors.len()];
    let mut days = 0;
    while exited.iter().any(|e| !e) {
        let mut refused = 0;
        for (d, o, ta, i) in &depositors {
            if exited[*i] {
                continue;
            }
            let ix = ix::withdraw(&d.pubkey(), &usdc.keys, o, ta, u64::MAX, vec![]);
            match ctx.chain.send(&[ix], &[d]) {
                Ok(_) => exited[*i] = true,
                Err(e) => {
                    assert_ballast_err(&e.err, BallastError::OutflowLimitExceeded);
                    refused += 1;
                }
            }
            ctx.assert_vault_reconciles(&usdc);
        }
        assert!(refused <= 7, "3,000 a day lets 3 of the 1,000 deposits out");
        days += 1;
        assert!(days <= 10);
        ctx.warp_seconds(2 * DAY);
    }
    // Nothing lost: everyone got their 1,000 back and the reserve is empty.
    for (_, _, ta, _) in &depositors {
        assert_eq!(ctx.token_balance(ta).unwrap(), usdc.units(1_000.0));
    }
    assert_eq!(ctx.reserve(&usdc).available_amount, 0);
    assert_eq!(ctx.reserve(&usdc).deposit_shares, 0);
    assert!(days >= 4, "the run took {days} rounds");
}

#[test]
fn balance_sheet_reads_while_paused_and_reports_it() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (s, _) = sheet(&mut ctx, &usdc);
    assert_eq!(s.paused, 0);
    let params = ballast::instructions::UpdateMarketParams {
        paused: Some(true),
        ..Default::default()
    };
    ctx.ok(
        "pause",
        &[ix::update_market(&m.admin.pubkey(), &m.market, params)],
        &[&m.admin],
    );
    // A view is never blocked: integrators must see the sheet in a crisis.
    let (s, _) = sheet(&mut ctx, &usdc);
    assert_eq!(s.paused, 1);
    assert_eq!((s.liquid, s.assets, s.liabilities), (0, 0, 0));
    assert_eq!(s.liquid_share_bps, 10_000, "no liabilities: fully liquid");
}

#[test]
fn balance_sheet_return_data_has_the_documented_length() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    // Unpaused and empty: the encoding ends in zero bytes, which must not be
    // trimmed from the return data.
    let meta = ctx
        .chain
        .send(&[ix::balance_sheet(&usdc.keys)], &[])
        .expect("balance_sheet");
    assert_eq!(
        meta.return_data.data.len(),
        ballast::engine::balance_sheet::BALANCE_SHEET_LEN
    );
    assert_eq!(meta.return_data.data.last(), Some(&0), "paused = 0 last");
}
