//! Every state change emits its event, with the amounts that moved.

use ballast::events::*;
use ballast_tests::*;

#[test]
fn each_instruction_emits_its_event_with_the_amounts_moved() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_2022_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (a, a_usdc) = ctx.user_with_tokens(&usdc, usdc.units(5_000.0));
    let oa = ctx.open_obligation(&a, &m.market, 0);
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(5_000.0));

    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(10.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), usdc.units(1.0));
    let ix = ix::init_obligation(&b.pubkey(), &b.pubkey(), &m.market, 3);
    let logs = ctx.ok_logs("init_obligation", &[ix], &[&b]);
    let ob = ix::obligation_address(&m.market, &b.pubkey(), 3);
    let e: Vec<ObligationInitialized> = events(&logs);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].obligation, e[0].owner, e[0].index),
        (ob, b.pubkey(), 3)
    );

    let logs = ctx.ok_logs(
        "deposit",
        &[ix::deposit(
            &b.pubkey(),
            &sol.keys,
            &ob,
            &b_sol,
            sol.units(10.0),
        )],
        &[&b],
    );
    let e: Vec<Deposited> = events(&logs);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].reserve, e[0].obligation), (sol.address(), ob));
    assert_eq!(
        (e[0].amount, e[0].shares),
        (sol.units(10.0), sol.units(10.0)),
        "first deposit mints 1:1"
    );

    let health = ctx.health_accounts(&ob, &[&usdc]);
    let ix = ix::borrow(
        &b.pubkey(),
        &usdc.keys,
        &ob,
        &b_usdc,
        usdc.units(100.0),
        health,
    );
    let logs = ctx.ok_logs("borrow", &[ix], &[&b]);
    let e: Vec<Borrowed> = events(&logs);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].amount, usdc.units(100.0));
    assert_eq!(
        e[0].debt_shares,
        ctx.obligation(&ob).positions[1].borrow_shares
    );

    ctx.warp_seconds(86_400);
    let logs = ctx.ok_logs(
        "accrue_interest",
        &[ix::accrue_interest(&usdc.address())],
        &[],
    );
    let e: Vec<InterestAccrued> = events(&logs);
    assert_eq!(e.len(), 1);
    assert!(e[0].interest.get() > 0, "a day of interest on 100 USDC");
    assert_eq!(e[0].borrow_index, ctx.reserve(&usdc).borrow_index);

    let logs = ctx.ok_logs(
        "repay",
        &[ix::repay(&b.pubkey(), &usdc.keys, &ob, &b_usdc, u64::MAX)],
        &[&b],
    );
    let e: Vec<Repaid> = events(&logs);
    assert_eq!(e.len(), 1);
    assert!(e[0].amount > usdc.units(100.0), "principal plus interest");
    assert_eq!(e[0].remaining_debt, 0);
    assert_eq!(
        ctx.token_balance(&b_usdc).unwrap(),
        usdc.units(101.0) - e[0].amount
    );

    let ix = ix::withdraw(&b.pubkey(), &sol.keys, &ob, &b_sol, u64::MAX, vec![]);
    let logs = ctx.ok_logs("withdraw", &[ix], &[&b]);
    let e: Vec<Withdrawn> = events(&logs);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].amount, e[0].shares),
        (sol.units(10.0), sol.units(10.0))
    );

    let params = ballast::instructions::UpdateMarketParams {
        paused: Some(true),
        ..Default::default()
    };
    let logs = ctx.ok_logs(
        "update_market",
        &[ix::update_market(&m.admin.pubkey(), &m.market, params)],
        &[&m.admin],
    );
    let e: Vec<MarketUpdated> = events(&logs);
    assert_eq!(e.len(), 1);
    assert!(e[0].paused);

    let mut config = ctx.reserve(&sol).config;
    config.loan_to_value_bps = 7_000;
    let ix = ix::update_reserve_config(&m.admin.pubkey(), &sol.keys, config);
    let logs = ctx.ok_logs("update_reserve_config", &[ix], &[&m.admin]);
    let e: Vec<ReserveConfigUpdated> = events(&logs);
    assert_eq!(e.len(), 1);
    assert_eq!(
        (e[0].old.loan_to_value_bps, e[0].new.loan_to_value_bps),
        (7_500, 7_000)
    );
}
