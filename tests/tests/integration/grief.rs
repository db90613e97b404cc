//! Issue 13 ("no free griefing"): the defects found by reviewing the program
//! as an attacker, each on the real .so. The limiter's round trip is in
//! `liquidity.rs`; the treasury's attacks (a flash deposit sizing a deploy,
//! a throwaway market taking a victim as its strategy) are here, with the
//! consent (`set_strategy_approval`) and the admin's recall
//! (`recall_treasury`) that answer them.

use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::AnchorDeserialize;
use ballast::engine::fx::{FxExt, FX_ZERO};
use ballast::engine::liquidity::LiquidityConfig;
use ballast::engine::treasury::bps_of_floor;
use ballast::errors::BallastError;
use ballast::events::{Rebalanced, StrategyApprovalSet, TreasuryRecalled};
use ballast::state::ReserveConfig;
use ballast_tests::*;
use solana_instruction::{AccountMeta, Instruction};

const DAY: i64 = 86_400;

/// A fresh context at a day boundary (the outflow windows start there).
fn context() -> TestContext {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000 - 1_700_000_000 % DAY);
    ctx
}

/// Sends `ixs`, which must fail with `expect` and leave `watch` unchanged.
fn refused(
    ctx: &mut TestContext,
    label: &str,
    ixs: &[Instruction],
    signers: &[&Keypair],
    expect: Expect,
    watch: &[Address],
) {
    let before = ctx.snapshot(watch);
    let e = match ctx.chain.send(ixs, signers) {
        Ok(meta) => panic!("[{label}] expected failure:\n{}", meta.logs.join("\n")),
        Err(e) => e,
    };
    check(label, &e.err, expect);
    ctx.assert_unchanged(label, &before);
}

/// The events of type `E` in `logs`.
fn all<E: anchor_lang::Event + AnchorDeserialize>(logs: &[String]) -> Vec<E> {
    events(logs)
}

/// What an attack on the treasury must leave as it was: A's liquid and
/// deployed amounts and outflow capacity, B's liquid amount and outflow
/// capacity, and the strategy set.
#[derive(Debug, PartialEq, Eq)]
struct Victim {
    a_liquid: u64,
    a_deployed: u64,
    a_deployed_shares: u64,
    a_outflow_left: u64,
    b_liquid: u64,
    b_outflow_left: u64,
    strategy: Address,
    b_users: u32,
}

fn victim(ctx: &TestContext, t: &Treasury) -> Victim {
    let now = ctx.clock().unix_timestamp;
    let (a, b) = (ctx.reserve(&t.a_usdc), ctx.reserve(&t.b_usdc));
    Victim {
        a_liquid: a.available_amount,
        a_deployed: a.treasury.deployed_amount,
        a_deployed_shares: a.treasury.deployed_shares,
        a_outflow_left: a.outflow.remaining(&a.config.liquidity, now),
        b_liquid: b.available_amount,
        b_outflow_left: b.outflow.remaining(&b.config.liquidity, now),
        strategy: a.treasury.strategy_reserve,
        b_users: b.treasury.strategy_users,
    }
}

/// The [`Treasury`] fixture with outflow limiters on both reserves (one
/// day; 3,000 in A, 20,000 in B), a victim who deposited 10,000 into A (the
/// depositor, its obligation and token account are returned) and a
/// rebalance that deployed 5,000 (the cap) to B.
fn victim_treasury(ctx: &mut TestContext) -> (Treasury, Keypair, Address, Address) {
    let limiter = |cap| LiquidityConfig {
        outflow_window_secs: DAY as u32,
        outflow_cap: cap,
        ..ballast::fixtures::buffered_liquidity()
    };
    let a_config = ReserveConfig {
        liquidity: limiter(3_000_000_000),
        ..buffered_config([0; 32])
    };
    let t = ctx.treasury(&TOKEN_PROGRAM_ID, a_config);
    ctx.update_config(&t.b, &t.b_usdc, |c| {
        c.liquidity = LiquidityConfig {
            buffer_min_bps: 0,
            buffer_target_bps: 0,
            buffer_max_bps: 0,
            rehypothecation_cap_bps: 0,
            ..limiter(20_000_000_000)
        }
    });
    let (d, o, ta) = ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(10_000.0));
    let (e, _) = ctx.rebalance(&t).expect("deploy");
    assert!(e.deployed && e.amount == t.a_usdc.units(5_000.0));
    (t, d, o, ta)
}

/// Issue 13: a flash deposit defeated the band and the rehypothecation cap.
/// In one transaction the attacker deposits 10,000 into A, calls
/// `rebalance` (which sizes the deploy on the inflated deposits: 5,000 more
/// to B) and withdraws the 10,000; the withdrawal took the vault's 10,000
/// and recalled nothing, leaving A with zero liquid and 10,000 deployed
/// against 10,000 of deposits (100% against a 50% cap). Now every withdrawal
/// keeps `deployed <= cap x deposits` (recalling, or refused) and recalls up
/// to the target when it would end below the band: after the round trip the
/// victim's liquidity, deployment, outflow capacity and strategy are as
/// before, and the attacker got back what it put in. Without the recall
/// accounts the withdrawal is refused.
#[test]
fn a_flash_deposit_rebalance_and_withdraw_leaves_the_victim_as_before() {
    let mut ctx = context();
    let (t, _, _, _) = victim_treasury(&mut ctx);
    let u = |x: f64| t.a_usdc.units(x);
    let before = victim(&ctx, &t);
    assert_eq!(
        (before.a_liquid, before.a_deployed),
        (u(5_000.0), u(5_000.0))
    );

    let x = u(10_000.0);
    let (attacker, ta) = ctx.user_with_tokens(&t.a_usdc, x);
    let o = ctx.open_obligation(&attacker, &t.a.market, 0);
    let deposit = ix::with_accounts(
        ix::deposit(&attacker.pubkey(), &t.a_usdc.keys, &o, &ta, x),
        [t.strategy_account()],
    );
    let withdraw = |tail: Vec<AccountMeta>| {
        ix::withdraw(&attacker.pubkey(), &t.a_usdc.keys, &o, &ta, u64::MAX, tail)
    };
    let mut watch = t.accounts();
    watch.extend([o, ta]);

    // Without the recall accounts: refused, nothing moved.
    refused(
        &mut ctx,
        "flash round trip without the recall accounts",
        &[
            deposit.clone(),
            t.rebalance_ix(),
            withdraw(vec![t.strategy_account()]),
        ],
        &[&attacker],
        Expect::Ballast(BallastError::RecallAccountsRequired),
        &watch,
    );

    // With them: the withdrawal recalls what the cap requires.
    let logs = ctx.ok_logs(
        "flash round trip",
        &[deposit, t.rebalance_ix(), withdraw(t.recall_accounts())],
        &[&attacker],
    );
    let moves: Vec<Rebalanced> = all(&logs);
    assert_eq!(moves.len(), 2, "the deploy, then the withdrawal's recall");
    assert!(moves[0].deployed && moves[0].amount == u(5_000.0));
    assert!(!moves[1].deployed && moves[1].amount == u(5_000.0));
    let paid = ctx.token_balance(&ta).unwrap();
    assert!(
        paid <= x && paid + 1 >= x,
        "the attacker gets back {paid} of {x}"
    );

    let after = victim(&ctx, &t);
    assert_eq!(
        after, before,
        "the victim's liquidity, capacity and strategy"
    );
    let a = ctx.reserve(&t.a_usdc);
    let deposits = a.supply().unwrap().to_floor_u64().unwrap();
    assert!(a.treasury.deployed_amount <= bps_of_floor(deposits, 5_000));
    ctx.assert_treasury_reconciles("after the flash round trip", &t);
}

/// With every share burned and value left in the reserve (interest's
/// fractional remainder after the last depositor exits), the next deposit
/// minted 1:1 and captured the residual. It now goes to the protocol's fees.
#[test]
fn a_residual_supply_goes_to_fees_not_to_the_next_depositor() {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (a, a_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let oa = ctx.open_obligation(&a, &m.market, 0);
    ctx.deposit(&a, &usdc, &oa, &a_usdc, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_000.0));
    ctx.warp_seconds(7 * 86_400 + 1_234);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    ctx.chain
        .mint_to(&usdc.keys.mint, &b_usdc, usdc.units(50.0))
        .unwrap();
    ctx.repay(&b, &usdc, &ob, &b_usdc, u64::MAX);
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, u64::MAX);

    let r = ctx.reserve(&usdc);
    assert_eq!(r.deposit_shares, 0, "everyone left");
    let residual = r.supply().unwrap();
    assert!(residual > FX_ZERO, "the scenario leaves a residual");
    let fees_before = r.protocol_fees.get();

    // The next depositor gets exactly what they put in, not the residual.
    let (c, c_usdc) = ctx.user_with_tokens(&usdc, usdc.units(100.0));
    let oc = ctx.open_obligation(&c, &m.market, 0);
    ctx.deposit(&c, &usdc, &oc, &c_usdc, usdc.units(100.0));
    let r = ctx.reserve(&usdc);
    assert_eq!(r.deposit_shares, usdc.units(100.0));
    assert_eq!(
        r.supply().unwrap(),
        ballast::engine::fx::fx_u64(usdc.units(100.0))
    );
    assert_eq!(r.protocol_fees.get(), fees_before.add_(residual).unwrap());
    ctx.assert_vault_reconciles(&usdc);
}

/// Every withdrawal keeps `deployed <= cap x deposits`, not only a flash
/// deposit's: from A at its cap (5,000 of 10,000 deployed, 5,000 liquid),
/// the depositor's 2,000 needs the recall accounts (refused with the
/// strategy reserve alone) and recalls 1,000 (the cap on 8,000 is 4,000);
/// when the strategy cannot return what the cap requires the withdrawal is
/// refused (`RehypothecationCapExceeded`); one within the cap and the band
/// needs only the strategy reserve. Below the band (and within the cap) a
/// withdrawal recalls up to the target.
#[test]
fn every_withdrawal_keeps_the_cap_and_the_band() {
    let mut ctx = context();
    let (t, d, o, ta) = victim_treasury(&mut ctx);
    let u = |x: f64| t.a_usdc.units(x);
    let mut watch = t.accounts();
    watch.extend([o, ta]);
    let wd = |amount, tail| ix::withdraw(&d.pubkey(), &t.a_usdc.keys, &o, &ta, amount, tail);
    refused(
        &mut ctx,
        "2,000 from A at its cap, strategy reserve alone",
        &[wd(u(2_000.0), vec![t.strategy_account()])],
        &[&d],
        Expect::Ballast(BallastError::RecallAccountsRequired),
        &watch,
    );
    let logs = ctx.ok_logs(
        "2,000 with the recall accounts",
        &[wd(u(2_000.0), t.recall_accounts())],
        &[&d],
    );
    let moves: Vec<Rebalanced> = all(&logs);
    assert_eq!(moves.len(), 1);
    assert!(!moves[0].deployed && moves[0].amount == u(1_000.0));
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(
        (a.available_amount, a.treasury.deployed_amount),
        (u(4_000.0), u(4_000.0))
    );
    ctx.assert_treasury_reconciles("after 2,000", &t);

    // B lends out all but 1,500: the next 4,000 from A (deposits 4,000,
    // cap 2,000) needs 2,000 back, more than B can pay now.
    let (bb, bb_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(2_000.0));
    let bb_usdc = ctx.token_account_for(&t.b_usdc, &bb.pubkey(), 0);
    let bo = ctx.open_obligation(&bb, &t.b.market, 0);
    ctx.deposit(&bb, &t.b_sol, &bo, &bb_sol, t.b_sol.units(2_000.0));
    ctx.borrow(&bb, &t.b_usdc, &bo, &bb_usdc, u(12_500.0));
    assert_eq!(ctx.reserve(&t.b_usdc).available_amount, u(1_500.0));
    refused(
        &mut ctx,
        "4,000 when the strategy can return only 1,500",
        &[wd(u(4_000.0), t.recall_accounts())],
        &[&d],
        Expect::Ballast(BallastError::RehypothecationCapExceeded),
        &watch,
    );
    // 1,000 out (deposits 7,000, cap 3,500) needs 500 back: paid, and since
    // the liquid share stays above the band, no more is recalled.
    let logs = ctx.ok_logs(
        "1,000 with the recall accounts",
        &[wd(u(1_000.0), t.recall_accounts())],
        &[&d],
    );
    let moves: Vec<Rebalanced> = all(&logs);
    assert_eq!(moves[0].amount, u(500.0));
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(
        (a.available_amount, a.treasury.deployed_amount),
        (u(3_500.0), u(3_500.0))
    );
    ctx.assert_treasury_reconciles("after 1,000", &t);
    let a_deposits = a.supply().unwrap().to_floor_u64().unwrap();
    assert!(a.treasury.deployed_amount <= bps_of_floor(a_deposits, 5_000));
}

/// Issue 13: anyone could disable a reserve's treasury for good. A
/// throwaway market pointing its reserve at a victim's raised the victim's
/// `strategy_users`, and a reserve with users may not take a strategy of
/// its own (no chains), so the victim could never set one (about 0.03 SOL,
/// undone only by a program upgrade). Being someone's strategy now needs
/// the consent of the strategy reserve's market admin
/// (`set_strategy_approval`), which the attacker cannot give; the victim's
/// count of users stays 0 and its own strategy is set and deploys.
#[test]
fn a_throwaway_market_cannot_make_a_victim_its_strategy() {
    let mut ctx = context();
    let v = ctx.setup_market();
    let v_usdc = ctx.add_reserve(&v, &TOKEN_PROGRAM_ID, 6, 1.0, buffered_config([0; 32]));
    let s = ctx.setup_market();
    let s_usdc = ctx.add_reserve_for_mint(&s, &v_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    let (su, su_ta) = ctx.user_with_tokens(&s_usdc, s_usdc.units(10_000.0));
    let so = ctx.open_obligation(&su, &s.market, 0);
    ctx.deposit(&su, &s_usdc, &so, &su_ta, s_usdc.units(10_000.0));
    // The attacker's throwaway market lists the same mint.
    let m = ctx.setup_market();
    let m_usdc = ctx.add_reserve_for_mint(&m, &v_usdc.keys.mint, 6, 1.0, buffered_config([0; 32]));
    let m_ob = ix::treasury_obligation(&v.market, &m.market);
    let watch = [v.market, v_usdc.address(), m.market, m_usdc.address(), m_ob];

    let attack = ix::set_treasury_strategy(&m.admin.pubkey(), &m_usdc.keys, &v_usdc.keys);
    refused(
        &mut ctx,
        "the throwaway market takes the victim as its strategy",
        std::slice::from_ref(&attack),
        &[&m.admin],
        Expect::Ballast(BallastError::StrategyNotApproved),
        &watch,
    );
    // Nor can the attacker consent in the victim's name: not its admin, nor
    // through its own market.
    let approve = |admin: &Keypair, keys: &ReserveKeys| {
        ix::set_strategy_approval(&admin.pubkey(), keys, &m_usdc.address(), true)
    };
    let v_in_m = ReserveKeys {
        market: m.market,
        ..v_usdc.keys
    };
    for (label, ix, expect) in [
        (
            "the attacker signs as the victim's admin",
            approve(&m.admin, &v_usdc.keys),
            Expect::Ballast(BallastError::NotMarketAdmin),
        ),
        (
            "the victim's reserve under the attacker's market",
            approve(&m.admin, &v_in_m),
            Expect::Ballast(BallastError::WrongMarket),
        ),
    ] {
        refused(&mut ctx, label, &[ix], &[&m.admin], expect, &watch);
    }
    assert_eq!(ctx.reserve(&v_usdc).treasury.strategy_users, 0);
    assert!(ctx.svm.get_account(&m_ob).is_none());

    // The victim's own strategy: S consents, V sets it and deploys.
    ctx.approve_strategy_user(&s, &s_usdc, &v_usdc.address());
    let ix = ix::set_treasury_strategy(&v.admin.pubkey(), &v_usdc.keys, &s_usdc.keys);
    ctx.ok("the victim sets its own strategy", &[ix], &[&v.admin]);
    assert_eq!(ctx.reserve(&s_usdc).treasury.strategy_users, 1);
    ctx.depositor(&v.market, &v_usdc, v_usdc.units(10_000.0));
    let logs = ctx.ok_logs("deploy", &[ix::rebalance(&v_usdc.keys, &s_usdc.keys)], &[]);
    let e: Vec<Rebalanced> = all(&logs);
    assert!(e[0].deployed && e[0].amount == v_usdc.units(5_000.0));
    // Once the victim is a strategy user the attacker's move stays refused
    // for the old reason too (and for want of consent).
    refused(
        &mut ctx,
        "the attack again",
        &[attack],
        &[&m.admin],
        Expect::Ballast(BallastError::InvalidTreasuryStrategy),
        &watch,
    );
}

/// `set_strategy_approval`: the strategy reserve's market admin approves
/// and revokes users (event each time, idempotent approval, at most four,
/// works while the market is paused); strangers, other admins, an unsigned
/// admin, a reserve of another market, the default key or the reserve
/// itself are refused, each leaving the reserve unchanged. A revoked
/// approval stops deploys but never a recall.
#[test]
fn strategy_approvals_are_the_strategy_admins_and_revoking_stops_deploys_only() {
    let mut ctx = context();
    let (t, d, o, ta) = victim_treasury(&mut ctx);
    let u = |x: f64| t.a_usdc.units(x);
    let (b_admin, a_admin) = (t.b.admin.insecure_clone(), t.a.admin.insecure_clone());
    let stranger = ctx.funded_user(1);
    let approve = |who: &Keypair, keys: &ReserveKeys, user: &Address, yes: bool| {
        ix::set_strategy_approval(&who.pubkey(), keys, user, yes)
    };
    let other = Address::new_unique();
    let watch = [t.b.market, t.b_usdc.address(), t.b_sol.address()];
    let mut unsigned = approve(&b_admin, &t.b_usdc.keys, &other, true);
    unsigned.accounts[0].is_signer = false;
    let b_usdc_in_a = ReserveKeys {
        market: t.a.market,
        ..t.b_usdc.keys
    };
    let cases: Vec<(&str, Instruction, Option<&Keypair>, Expect)> = vec![
        (
            "a stranger",
            approve(&stranger, &t.b_usdc.keys, &other, true),
            Some(&stranger),
            Expect::Ballast(BallastError::NotMarketAdmin),
        ),
        (
            "the user market's admin",
            approve(&a_admin, &t.b_usdc.keys, &other, true),
            Some(&a_admin),
            Expect::Ballast(BallastError::NotMarketAdmin),
        ),
        (
            "B's reserve under A's market, A's admin",
            approve(&a_admin, &b_usdc_in_a, &other, true),
            Some(&a_admin),
            Expect::Ballast(BallastError::WrongMarket),
        ),
        (
            "admin not signing",
            unsigned,
            None,
            Expect::Anchor(AnchorError::AccountNotSigner),
        ),
        (
            "the default key",
            approve(&b_admin, &t.b_usdc.keys, &Address::default(), true),
            Some(&b_admin),
            Expect::Ballast(BallastError::InvalidTreasuryStrategy),
        ),
        (
            "the strategy reserve itself",
            approve(&b_admin, &t.b_usdc.keys, &t.b_usdc.address(), true),
            Some(&b_admin),
            Expect::Ballast(BallastError::InvalidTreasuryStrategy),
        ),
        (
            "revoking a reserve never approved",
            approve(&b_admin, &t.b_usdc.keys, &other, false),
            Some(&b_admin),
            Expect::Ballast(BallastError::StrategyNotApproved),
        ),
    ];
    for (label, ix, signer, expect) in cases {
        let signers: Vec<&Keypair> = signer.into_iter().collect();
        refused(&mut ctx, label, &[ix], &signers, expect, &watch);
    }

    // Approving is idempotent, works while paused, and holds four users.
    ctx.set_paused(&t.b, true);
    let logs = ctx.ok_logs(
        "approve A again, paused",
        &[approve(&b_admin, &t.b_usdc.keys, &t.a_usdc.address(), true)],
        &[&b_admin],
    );
    let e: Vec<StrategyApprovalSet> = all(&logs);
    assert_eq!(
        (
            e[0].strategy_reserve,
            e[0].user_reserve,
            e[0].approved,
            e[0].admin,
            e[0].strategy_users
        ),
        (
            t.b_usdc.address(),
            t.a_usdc.address(),
            true,
            b_admin.pubkey(),
            1
        )
    );
    ctx.set_paused(&t.b, false);
    let more: Vec<Address> = (0..3).map(|_| Address::new_unique()).collect();
    for k in &more {
        let ix = approve(&b_admin, &t.b_usdc.keys, k, true);
        ctx.ok("approve", &[ix], &[&b_admin]);
    }
    let approved = ctx.reserve(&t.b_usdc).strategy_approvals.users;
    assert_eq!(approved[0], t.a_usdc.address());
    assert_eq!(&approved[1..], &more[..]);
    refused(
        &mut ctx,
        "a fifth user",
        &[approve(&b_admin, &t.b_usdc.keys, &other, true)],
        &[&b_admin],
        Expect::Ballast(BallastError::StrategyApprovalsFull),
        &watch,
    );

    // Revoked: A's deploys stop, its recalls do not.
    let logs = ctx.ok_logs(
        "revoke A",
        &[approve(
            &b_admin,
            &t.b_usdc.keys,
            &t.a_usdc.address(),
            false,
        )],
        &[&b_admin],
    );
    let e: Vec<StrategyApprovalSet> = all(&logs);
    assert!(!e[0].approved && e[0].strategy_users == 1);
    assert!(!ctx
        .reserve(&t.b_usdc)
        .strategy_approvals
        .contains(&t.a_usdc.address()));
    // 2,000 more deposited: 7,000 liquid of 12,000, room for 1,000 under
    // the cap, but no consent.
    ctx.depositor(&t.a.market, &t.a_usdc, u(2_000.0));
    refused(
        &mut ctx,
        "deploy after the revocation",
        &[t.rebalance_ix()],
        &[],
        Expect::Ballast(BallastError::StrategyNotApproved),
        &t.accounts(),
    );
    let wd = ix::withdraw(
        &d.pubkey(),
        &t.a_usdc.keys,
        &o,
        &ta,
        u(10_000.0),
        t.recall_accounts(),
    );
    let logs = ctx.ok_logs("withdraw recalling after the revocation", &[wd], &[&d]);
    let moves: Vec<Rebalanced> = all(&logs);
    assert!(!moves[0].deployed && moves[0].amount == u(4_000.0));
    assert_eq!(ctx.token_balance(&ta).unwrap(), u(10_000.0));
    ctx.assert_treasury_reconciles("after the revocation", &t);
}

/// `recall_treasury`: A's admin takes back part, then all of the treasury
/// whatever the band (here A is above it), even while A is paused, with a
/// `TreasuryRecalled` event; refused for strangers and B's admin, unsigned,
/// for zero, with nothing deployed, with another strategy reserve, and while
/// the strategy market is paused; the strategy's own checks apply (it can
/// only pay what it holds).
#[test]
fn the_admin_recalls_the_treasury_while_the_strategy_market_is_not_paused() {
    let mut ctx = context();
    let (t, _, _, _) = victim_treasury(&mut ctx);
    let u = |x: f64| t.a_usdc.units(x);
    let (a_admin, b_admin) = (t.a.admin.insecure_clone(), t.b.admin.insecure_clone());
    let stranger = ctx.funded_user(1);
    let recall = |who: &Keypair, amount| {
        ix::recall_treasury(&who.pubkey(), &t.a_usdc.keys, &t.b_usdc.keys, amount)
    };
    let watch = t.accounts();
    let mut unsigned = recall(&a_admin, u64::MAX);
    unsigned.accounts[0].is_signer = false;
    let c = ctx.setup_market();
    let c_usdc = ctx.add_reserve_for_mint(&c, &t.a_usdc.keys.mint, 6, 1.0, test_config([0; 32]));
    let to_c = ix::recall_treasury(&a_admin.pubkey(), &t.a_usdc.keys, &c_usdc.keys, u64::MAX);
    let cases: Vec<(&str, Instruction, Option<&Keypair>, Expect)> = vec![
        (
            "a stranger",
            recall(&stranger, u64::MAX),
            Some(&stranger),
            Expect::Ballast(BallastError::NotMarketAdmin),
        ),
        (
            "B's admin",
            recall(&b_admin, u64::MAX),
            Some(&b_admin),
            Expect::Ballast(BallastError::NotMarketAdmin),
        ),
        (
            "admin not signing",
            unsigned,
            None,
            Expect::Anchor(AnchorError::AccountNotSigner),
        ),
        (
            "zero",
            recall(&a_admin, 0),
            Some(&a_admin),
            Expect::Ballast(BallastError::ZeroAmount),
        ),
        (
            "another strategy reserve",
            to_c,
            Some(&a_admin),
            Expect::Ballast(BallastError::TreasuryAccountsMismatch),
        ),
    ];
    for (label, ix, signer, expect) in cases {
        let signers: Vec<&Keypair> = signer.into_iter().collect();
        refused(&mut ctx, label, &[ix], &signers, expect, &watch);
    }
    ctx.set_paused(&t.b, true);
    refused(
        &mut ctx,
        "strategy market paused",
        &[recall(&a_admin, u64::MAX)],
        &[&a_admin],
        Expect::Ballast(BallastError::StrategyMarketPaused),
        &watch,
    );
    ctx.set_paused(&t.b, false);

    // Part, while A itself is paused.
    ctx.set_paused(&t.a, true);
    let logs = ctx.ok_logs("recall 1,000", &[recall(&a_admin, u(1_000.0))], &[&a_admin]);
    let e: Vec<TreasuryRecalled> = all(&logs);
    assert_eq!(
        (
            e[0].reserve,
            e[0].strategy_reserve,
            e[0].admin,
            e[0].amount,
            e[0].liquid_after,
            e[0].deployed_after
        ),
        (
            t.a_usdc.address(),
            t.b_usdc.address(),
            a_admin.pubkey(),
            u(1_000.0),
            u(6_000.0),
            u(4_000.0)
        )
    );
    ctx.set_paused(&t.a, false);
    ctx.assert_treasury_reconciles("after part", &t);
    // B lends out all but 2,000: "everything" is more than B holds.
    let (bb, bb_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(2_000.0));
    let bb_usdc = ctx.token_account_for(&t.b_usdc, &bb.pubkey(), 0);
    let bo = ctx.open_obligation(&bb, &t.b.market, 0);
    ctx.deposit(&bb, &t.b_sol, &bo, &bb_sol, t.b_sol.units(2_000.0));
    ctx.borrow(&bb, &t.b_usdc, &bo, &bb_usdc, u(12_000.0));
    refused(
        &mut ctx,
        "everything when B holds 2,000",
        &[recall(&a_admin, u64::MAX)],
        &[&a_admin],
        Expect::Ballast(BallastError::InsufficientLiquidity),
        &watch,
    );
    ctx.repay(&bb, &t.b_usdc, &bo, &bb_usdc, u(12_000.0));
    let logs = ctx.ok_logs(
        "recall everything",
        &[recall(&a_admin, u64::MAX)],
        &[&a_admin],
    );
    let e: Vec<TreasuryRecalled> = all(&logs);
    assert_eq!((e[0].amount, e[0].deployed_after), (u(4_000.0), 0));
    let a = ctx.reserve(&t.a_usdc);
    assert_eq!(
        (a.available_amount, a.treasury.deployed_shares),
        (u(10_000.0), 0)
    );
    ctx.assert_treasury_reconciles("after everything", &t);
    refused(
        &mut ctx,
        "nothing deployed",
        &[recall(&a_admin, u64::MAX)],
        &[&a_admin],
        Expect::Ballast(BallastError::NothingRecallable),
        &watch,
    );
}

/// The keeper's `user withdraw` (the CLI's instructions) passes the six
/// recall accounts while shares are deployed, so a withdrawal that the cap
/// requires to recall goes through: 2,000 from A at its cap recalls 1,000.
#[test]
fn the_keepers_user_withdraw_passes_the_recall_accounts() {
    let mut ctx = context();
    let (t, d, o, _) = victim_treasury(&mut ctx);
    let u = |x: f64| t.a_usdc.units(x);
    let reserve = ctx.reserve(&t.a_usdc);
    let ixs = ballast_keeper::user::instructions(
        &ctx.chain,
        ballast_keeper::user::Operation::Withdraw,
        &d.pubkey(),
        &o,
        &t.a_usdc.keys,
        &reserve,
        u(2_000.0),
    )
    .unwrap();
    let logs = ctx.ok_logs("user withdraw", &ixs, &[&d]);
    let moves: Vec<Rebalanced> = all(&logs);
    assert!(!moves[0].deployed && moves[0].amount == u(1_000.0));
    let ata = ballast_keeper::tasks::liquidation::associated_token_address(
        &d.pubkey(),
        &t.a_usdc.keys.mint,
        &t.tp,
    );
    assert_eq!(ctx.token_balance(&ata).unwrap(), u(2_000.0));
    ctx.assert_treasury_reconciles("user withdraw", &t);
}
