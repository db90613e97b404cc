//! Compute-unit benchmark: runs each instruction of the real `ballast.so` in
//! LiteSVM in a stated scenario and writes `target/bench/cu.json` (instruction
//! name -> compute units), `target/bench/cu-scenarios.json` (name ->
//! scenario) and `target/bench/health_curve.json` (positions -> borrow CU),
//! then prints them.
//!
//! CU counts are deterministic for a given `.so` and scenario; each figure is
//! the median over 5 independent runs (fresh VM, fresh keys), which also
//! absorbs the few CU that PDA bump searches vary by.

use std::collections::BTreeMap;

use ballast::instructions::InitMarketParams;
use ballast_tests::*;

const RUNS: usize = 5;
/// Seconds between the setup and the measured instruction: every measured
/// instruction accrues one hour of interest on the reserve it touches and
/// projects one hour on the others (the realistic, more expensive path).
const DT: i64 = 3_600;

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v[v.len() / 2]
}

/// A market with SOL ($20, 9 dp) and ETH ($2,000, 8 dp) collateral and USDC
/// ($1, 6 dp) debt: the borrower's obligation holds 2 collateral and 1 debt
/// position; a supplier provides the USDC and borrows 1% of each collateral
/// reserve, so every reserve has loans and interest to accrue.
struct Scenario {
    ctx: TestContext,
    admin: Keypair,
    reserves: Vec<TestReserve>,
    prices: Vec<f64>,
    user: Keypair,
    obligation: Address,
    token_accounts: Vec<Address>,
}

impl Scenario {
    fn new(extra_collateral: usize) -> Self {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
        let mut reserves = vec![usdc];
        let mut prices = vec![1.0];
        for i in 0..extra_collateral {
            let (dp, px) = if i % 2 == 0 { (9, 20.0) } else { (8, 2_000.0) };
            reserves.push(ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, dp, px, test_config([0; 32])));
            prices.push(px);
        }
        let (supplier, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(10_000_000.0));
        let so = ctx.open_obligation(&supplier, &m.market, 0);
        ctx.deposit(&supplier, &usdc, &so, &s_ta, usdc.units(10_000_000.0));

        let user = ctx.funded_user(10);
        let obligation = ctx.open_obligation(&user, &m.market, 0);
        let mut token_accounts =
            vec![ctx.token_account_for(&usdc, &user.pubkey(), usdc.units(1_000.0))];
        for r in reserves.clone().iter().skip(1) {
            let ta = ctx.token_account_for(r, &user.pubkey(), r.units(1_000.0));
            ctx.deposit(&user, r, &obligation, &ta, r.units(100.0));
            token_accounts.push(ta);
            // Every collateral reserve is lent too (the supplier borrows 1%
            // of it against its USDC), so health checks meet reserves with
            // interest to project, as in a live market.
            let s_r = ctx.token_account_for(r, &supplier.pubkey(), 0);
            ctx.borrow(&supplier, r, &so, &s_r, r.units(1.0));
        }
        Self {
            ctx,
            admin: m.admin.insecure_clone(),
            reserves,
            prices,
            user,
            obligation,
            token_accounts,
        }
    }

    fn warp(&mut self) {
        self.ctx.warp_seconds(DT);
        for (r, p) in self.reserves.clone().iter().zip(self.prices.clone()) {
            self.ctx.set_price(r, p, p * 0.001);
        }
    }

    fn send(&mut self, label: &str, ix: solana_instruction::Instruction) -> u64 {
        let user = self.user.insecure_clone();
        self.ctx.ok(label, &[ix], &[&user])
    }
}

fn main() {
    let mut cu: BTreeMap<&str, u64> = BTreeMap::new();
    let mut scenarios: BTreeMap<&str, String> = BTreeMap::new();
    let mut record = |name: &'static str, scenario: String, samples: Vec<u64>| {
        cu.insert(name, median(samples));
        scenarios.insert(name, scenario);
    };

    // init_market
    let samples = (0..RUNS)
        .map(|_| {
            let mut ctx = TestContext::new();
            let admin = ctx.funded_user(10);
            let market = Keypair::new();
            let ix = ix::init_market(
                &admin.pubkey(),
                &market.pubkey(),
                InitMarketParams {
                    risk_authority: admin.pubkey(),
                    paused: false,
                    liquidation: ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE,
                },
            );
            expect_ok(ctx.chain.send(&[ix], &[&admin, &market]))
        })
        .collect();
    record(
        "init_market",
        "create a market (keypair account) and find its authority PDA bump".into(),
        samples,
    );

    // The four user instructions, each on an obligation with 2 collateral + 1 debt.
    let (mut dep, mut wd, mut bor, mut rep) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let mut s = Scenario::new(2);
        let (usdc, sol) = (s.reserves[0], s.reserves[1]);
        // Open the debt position: 2 collateral + 1 debt from here on.
        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
        let ix = ix::borrow(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            usdc.units(500.0),
            health,
        );
        s.send("borrow(open)", ix);

        s.warp();
        let ix = ix::deposit(
            &s.user.pubkey(),
            &sol.keys,
            &s.obligation,
            &s.token_accounts[1],
            sol.units(1.0),
        );
        dep.push(s.send("deposit", ix));

        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[]);
        let ix = ix::withdraw(
            &s.user.pubkey(),
            &sol.keys,
            &s.obligation,
            &s.token_accounts[1],
            sol.units(1.0),
            health,
        );
        wd.push(s.send("withdraw", ix));

        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[]);
        let ix = ix::borrow(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            usdc.units(100.0),
            health,
        );
        bor.push(s.send("borrow", ix));

        s.warp();
        let ix = ix::repay(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            usdc.units(50.0),
        );
        rep.push(s.send("repay", ix));
    }
    let base = "obligation with 2 collateral (SOL, ETH) and 1 debt (USDC) position, every reserve lent; 1 h since the reserve's last accrual";
    record(
        "deposit",
        format!("{base}; adds SOL to the existing SOL position (no oracle)"),
        dep,
    );
    record(
        "withdraw",
        format!("{base}; withdraws SOL, Initial health check over 3 reserves + 3 oracles"),
        wd,
    );
    record(
        "borrow",
        format!("{base}; borrows more USDC, Initial health check over 3 reserves + 3 oracles"),
        bor,
    );
    record(
        "repay",
        format!("{base}; partial USDC repay (no oracle)"),
        rep,
    );

    // update_volatility: a second push, 10 minutes after the first, within
    // every bound.
    let samples = (0..RUNS)
        .map(|_| {
            let mut ctx = TestContext::new();
            ctx.set_time(1_700_000_000);
            let m = ctx.setup_market();
            let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, dynamic_config([0; 32]));
            ctx.push_sigma(&m, &sol, 0.8).expect("first push");
            ctx.warp_seconds(600);
            ctx.push_sigma(&m, &sol, 0.9).expect("second push")
        })
        .collect();
    record(
        "update_volatility",
        "second push of a dynamic reserve (sigma 0.8 -> 0.9), 10 min after the first: bounds, derivation of LTV/LT/borrow factor, event".into(),
        samples,
    );

    // liquidate: an obligation with `coll` collateral positions (SOL and ETH
    // alternating) and `debt` debt positions (USDC-like stablecoins), made
    // unhealthy by a 15% drop of every collateral price, 1 h after its last
    // accrual; one liquidation of the first debt against the first collateral.
    let liquidation = |coll: usize, debt: usize, shares: bool| -> u64 {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let stables: Vec<TestReserve> = (0..debt)
            .map(|_| ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32])))
            .collect();
        let collats: Vec<(TestReserve, f64)> = (0..coll)
            .map(|i| {
                let (dp, px) = if i % 2 == 0 { (9, 20.0) } else { (8, 2_000.0) };
                (
                    ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, dp, px, test_config([0; 32])),
                    px,
                )
            })
            .collect();
        for s in &stables {
            let (sup, ta) = ctx.user_with_tokens(s, s.units(1_000_000.0));
            let o = ctx.open_obligation(&sup, &m.market, 0);
            ctx.deposit(&sup, s, &o, &ta, s.units(1_000_000.0));
        }
        let user = ctx.funded_user(10);
        let ob = ctx.open_obligation(&user, &m.market, 0);
        let mut value = 0.0;
        for (r, px) in &collats {
            let amount = 1_000.0 / px; // $1,000 each
            let ta = ctx.token_account_for(r, &user.pubkey(), r.units(amount));
            ctx.deposit(&user, r, &ob, &ta, r.units(amount));
            value += 1_000.0;
        }
        // Borrow up to 74% of the collateral value across the debt reserves.
        let per_debt = value * 0.74 / debt as f64;
        let mut debt_tas = vec![];
        for s in &stables {
            let ta = ctx.token_account_for(s, &user.pubkey(), 0);
            ctx.borrow(&user, s, &ob, &ta, s.units(per_debt));
            debt_tas.push(ta);
        }
        ctx.warp_seconds(DT);
        for (r, px) in &collats {
            ctx.set_price(r, px * 0.85, px * 0.85 * 0.001);
        }
        for s in &stables {
            ctx.set_price(s, 1.0, 0.001);
        }
        let (liq, liq_debt) = ctx.user_with_tokens(&stables[0], stables[0].units(1_000_000.0));
        let liq_coll = ctx.token_account_for(&collats[0].0, &liq.pubkey(), 0);
        let health = ctx.health_accounts(&ob, &[]);
        if shares {
            // The liquidator's own obligation, already holding the
            // collateral (the common case of a repeat liquidator).
            let own = ctx.open_obligation(&liq, &m.market, 0);
            let r = &collats[0].0;
            let ta = ctx.token_account_for(r, &liq.pubkey(), r.units(1.0));
            ctx.deposit(&liq, r, &own, &ta, r.units(1.0));
            let health = ctx.health_accounts(&ob, &[]);
            let ix = ix::liquidate_for_shares(
                &liq.pubkey(),
                &ob,
                &own,
                &stables[0].keys,
                &r.keys,
                &liq_debt,
                u64::MAX,
                health,
            );
            return ctx.ok("liquidate_for_shares", &[ix], &[&liq]);
        }
        let ix = ix::liquidate(
            &liq.pubkey(),
            &ob,
            &stables[0].keys,
            &collats[0].0.keys,
            &liq_debt,
            &liq_coll,
            u64::MAX,
            health,
        );
        ctx.ok("liquidate", &[ix], &[&liq])
    };
    record(
        "liquidate",
        "obligation with 2 collateral (SOL, ETH) and 2 debt (stablecoin) positions, all prices -15% (health 0.92), 1 h since the last accrual; repays one debt against one collateral".into(),
        (0..RUNS).map(|_| liquidation(2, 2, false)).collect(),
    );
    record(
        "liquidate_for_shares",
        "as `liquidate` (2 collateral + 2 debt, health 0.92), the collateral taken as deposit shares into the liquidator's obligation, which already holds that collateral".into(),
        (0..RUNS).map(|_| liquidation(2, 2, true)).collect(),
    );
    record(
        "liquidate_max_positions",
        "as `liquidate` with the most positions an obligation allows: 6 collateral + 2 debt".into(),
        (0..3).map(|_| liquidation(6, 2, false)).collect(),
    );

    // liquidate, taking the last collateral of an obligation with two
    // debts: both are written off in that instruction (issue 12).
    let samples = (0..RUNS)
        .map(|_| {
            let mut ctx = TestContext::new();
            let m = ctx.setup_market();
            let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
            let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
            let usdt = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
            for r in [&usdc, &usdt] {
                let (s, ta) = ctx.user_with_tokens(r, r.units(100_000.0));
                let so = ctx.open_obligation(&s, &m.market, 0);
                ctx.deposit(&s, r, &so, &ta, r.units(100_000.0));
            }
            let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
            let ob = ctx.open_obligation(&b, &m.market, 0);
            ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
            for (r, amount) in [(&usdc, 1_300.0), (&usdt, 200.0)] {
                let ta = ctx.token_account_for(r, &b.pubkey(), 0);
                ctx.borrow(&b, r, &ob, &ta, r.units(amount));
                ctx.chain
                    .mint_to(&r.keys.mint, &r.keys.insurance_vault, r.units(50.0))
                    .unwrap();
            }
            ctx.warp_seconds(DT);
            ctx.set_price(&sol, 12.0, 0.0);
            ctx.set_price(&usdc, 1.0, 0.0);
            ctx.set_price(&usdt, 1.0, 0.0);
            let (liq, liq_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
            let liq_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
            let accounts = ctx.liquidation_accounts(&ob, &usdc);
            let ix = ix::liquidate(
                &liq.pubkey(),
                &ob,
                &usdc.keys,
                &sol.keys,
                &liq_usdc,
                &liq_sol,
                u64::MAX,
                accounts,
            );
            let cu = ctx.ok("liquidate(write off 2 debts)", &[ix], &[&liq]);
            assert!(!ctx.obligation(&ob).has_debt(), "both debts written off");
            cu
        })
        .collect();
    record(
        "liquidate_write_off_2_debts",
        "insolvent obligation (100 SOL at $12 against 1,300 USDC + 200 USDT), 1 h since the last accrual; one liquidation takes all the SOL and writes off the rest of both debts (insurance $50 each, then depositors)".into(),
        samples,
    );

    // socialize_bad_debt: an obligation left, after a liquidation took all
    // its SOL, with 0.5 DUST ($0.50, priced then, so the liquidation wrote
    // nothing off) and USDC and USDT debt. An hour later DUST's oracle is
    // stale: `socialize_bad_debt` of USDT forfeits the DUST and writes USDT
    // off (the dust row); `socialize_bad_debt` of USDC then finds no
    // collateral (the plain row).
    let socialize = || -> (u64, u64) {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
        let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
        let usdt = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
        let dust = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
        let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
        let so = ctx.open_obligation(&s, &m.market, 0);
        ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));
        let s_usdt = ctx.token_account_for(&usdt, &s.pubkey(), usdt.units(100_000.0));
        ctx.deposit(&s, &usdt, &so, &s_usdt, usdt.units(100_000.0));
        let s_dust = ctx.token_account_for(&dust, &s.pubkey(), dust.units(100.0));
        ctx.deposit(&s, &dust, &so, &s_dust, dust.units(100.0));
        let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
        let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
        let b_usdt = ctx.token_account_for(&usdt, &b.pubkey(), 0);
        let b_dust = ctx.token_account_for(&dust, &b.pubkey(), 500_000);
        let ob = ctx.open_obligation(&b, &m.market, 0);
        ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
        ctx.deposit(&b, &dust, &ob, &b_dust, 500_000);
        ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(400.0));
        ctx.borrow(&b, &usdt, &ob, &b_usdt, usdt.units(1_000.0));
        ctx.set_price(&sol, 5.0, 0.0);
        let (liq, liq_usdt) = ctx.user_with_tokens(&usdt, usdt.units(10_000.0));
        let liq_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
        while ctx.collateral_of(&ob, &sol) > 0 {
            let health = ctx.health_accounts(&ob, &[]);
            let ix = ix::liquidate(
                &liq.pubkey(),
                &ob,
                &usdt.keys,
                &sol.keys,
                &liq_usdt,
                &liq_sol,
                u64::MAX,
                health,
            );
            ctx.ok("liquidate", &[ix], &[&liq]);
        }
        ctx.chain
            .mint_to(
                &usdc.keys.mint,
                &usdc.keys.insurance_vault,
                usdc.units(100.0),
            )
            .unwrap();
        ctx.warp_seconds(DT);
        ctx.set_price(&sol, 5.0, 0.0);
        ctx.set_price(&usdc, 1.0, 0.0);
        ctx.set_price(&usdt, 1.0, 0.0);
        let ix = ctx.socialize_ix(&ob, &usdt);
        let with_dust = ctx.ok("socialize_bad_debt(stale dust)", &[ix], &[]);
        assert!(!ctx.has_collateral(&ob), "dust forfeited");
        let plain = ctx.ok(
            "socialize_bad_debt",
            &[ix::socialize_bad_debt(&ob, &usdc.keys)],
            &[],
        );
        (plain, with_dust)
    };
    let runs: Vec<(u64, u64)> = (0..RUNS).map(|_| socialize()).collect();
    record(
        "socialize_bad_debt",
        "obligation left with USDC debt and no collateral, 1 h since the last accrual; $100 of insurance covers part, the rest is written off".into(),
        runs.iter().map(|r| r.0).collect(),
    );
    record(
        "socialize_bad_debt_dust",
        "as `socialize_bad_debt` (USDT, no insurance), the obligation holding 0.5 DUST ($0.50) behind a stale oracle: the dust is valued at its last price, forfeited to the DUST reserve's protocol fees, and the debt written off".into(),
        runs.iter().map(|r| r.1).collect(),
    );

    // balance_sheet: a USDC reserve with deposits, loans and a day of
    // interest to project.
    let samples = (0..RUNS)
        .map(|_| {
            let mut s = Scenario::new(1);
            let usdc = s.reserves[0];
            s.warp();
            let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
            let ix = ix::borrow(
                &s.user.pubkey(),
                &usdc.keys,
                &s.obligation,
                &s.token_accounts[0],
                usdc.units(500.0),
                health,
            );
            s.send("borrow(open)", ix);
            s.ctx.warp_seconds(86_400);
            expect_ok(s.ctx.chain.send(&[ix::balance_sheet(&usdc.keys)], &[]))
        })
        .collect();
    record(
        "balance_sheet",
        "USDC reserve with deposits and loans, one day of interest projected (not written); return data + event".into(),
        samples,
    );

    // The admin's equity withdrawals: the USDC reserve of the
    // balance_sheet scenario, a day of interest accrued by the instruction
    // itself, fees paid to the admin's token account; $100 of insurance.
    let equity = |insurance: bool| -> Vec<u64> {
        (0..RUNS)
            .map(|_| {
                let mut s = Scenario::new(1);
                let usdc = s.reserves[0];
                s.warp();
                let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
                let ix = ix::borrow(
                    &s.user.pubkey(),
                    &usdc.keys,
                    &s.obligation,
                    &s.token_accounts[0],
                    usdc.units(500.0),
                    health,
                );
                s.send("borrow(open)", ix);
                s.ctx.warp_seconds(86_400);
                let admin = s.admin.insecure_clone();
                let receiver = s.ctx.token_account_for(&usdc, &admin.pubkey(), 0);
                let ix = if insurance {
                    s.ctx
                        .mint_to(
                            &usdc.keys.mint,
                            &usdc.keys.insurance_vault,
                            usdc.units(100.0),
                        )
                        .expect("fund insurance");
                    ix::withdraw_insurance(&admin.pubkey(), &usdc.keys, &receiver, usdc.units(50.0))
                } else {
                    ix::withdraw_protocol_fees(&admin.pubkey(), &usdc.keys, &receiver, u64::MAX)
                };
                expect_ok(s.ctx.chain.send(&[ix], &[&admin]))
            })
            .collect()
    };
    record(
        "withdraw_protocol_fees",
        "USDC reserve with deposits and loans, one day of interest accrued first; all withdrawable fees to the admin's token account".into(),
        equity(false),
    );
    record(
        "withdraw_insurance",
        "$50 of a $100 insurance vault to the admin's token account".into(),
        equity(true),
    );

    // Treasury strategy: A's USDC reserve (buffer band 10% / 20% / 30%,
    // rehypothecation cap 50%) holds 10,000 of one depositor; its strategy
    // is B's USDC reserve (10,000 supplied, 5,000 lent against SOL). Each
    // measured instruction comes 1 h after the previous step, so both
    // reserves accrue interest.
    let treasury = || {
        let mut ctx = TestContext::new();
        let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
        let (d, o, ta) = ctx.depositor(&t.a.market, &t.a_usdc, t.a_usdc.units(10_000.0));
        let (b, b_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(1_000.0));
        let b_usdc = ctx.token_account_for(&t.b_usdc, &b.pubkey(), 0);
        let bo = ctx.open_obligation(&b, &t.b.market, 0);
        ctx.deposit(&b, &t.b_sol, &bo, &b_sol, t.b_sol.units(1_000.0));
        ctx.borrow(&b, &t.b_usdc, &bo, &b_usdc, t.b_usdc.units(5_000.0));
        ctx.warp_seconds(DT);
        (ctx, t, d, o, ta)
    };
    let (mut deploy, mut recall, mut wd_recall) = (vec![], vec![], vec![]);
    let (mut dep_marked, mut wd_marked) = (vec![], vec![]);
    let (mut approval, mut admin_recall) = (vec![], vec![]);
    for _ in 0..RUNS {
        let (mut ctx, t, _, _, _) = treasury();
        let (e, cu) = ctx.rebalance(&t).expect("deploy");
        assert!(e.deployed && e.amount == t.a_usdc.units(5_000.0));
        deploy.push(cu);
        // The admin raises the band to 60% / 70% / 80%: 5,000 liquid of
        // 10,000 is below it. (A withdrawal can no longer leave the reserve
        // below the band without recalling.)
        ctx.update_config(&t.a, &t.a_usdc, |c| {
            c.liquidity.buffer_min_bps = 6_000;
            c.liquidity.buffer_target_bps = 7_000;
            c.liquidity.buffer_max_bps = 8_000;
        });
        ctx.warp_seconds(DT);
        let (e, cu) = ctx.rebalance(&t).expect("recall");
        assert!(!e.deployed && e.amount > 0);
        recall.push(cu);

        let (mut ctx, t, d, o, ta) = treasury();
        ctx.rebalance(&t).expect("deploy");
        ctx.warp_seconds(DT);
        let cu = expect_ok(ctx.withdraw_with_recall(&d, &t, &o, &ta, t.a_usdc.units(6_000.0)));
        assert_eq!(ctx.token_balance(&ta).unwrap(), t.a_usdc.units(6_000.0));
        wd_recall.push(cu);
        // The admin takes back everything left (about 2,000), 1 h later.
        ctx.warp_seconds(DT);
        let ix = ix::recall_treasury(
            &t.a.admin.pubkey(),
            &t.a_usdc.keys,
            &t.b_usdc.keys,
            u64::MAX,
        );
        admin_recall.push(ctx.ok("recall_treasury", &[ix], &[&t.a.admin]));
        assert_eq!(ctx.reserve(&t.a_usdc).treasury.deployed_shares, 0);
        let user = Address::new_unique();
        let ix = ix::set_strategy_approval(&t.b.admin.pubkey(), &t.b_usdc.keys, &user, true);
        approval.push(ctx.ok("set_strategy_approval", &[ix], &[&t.b.admin]));

        // Deposit and withdraw with the strategy reserve alone (shares
        // deployed: required), each 1 h after the previous step.
        let (mut ctx, t, d, o, ta) = treasury();
        ctx.rebalance(&t).expect("deploy");
        let (n, n_ta) = ctx.user_with_tokens(&t.a_usdc, t.a_usdc.units(1_000.0));
        let no = ctx.open_obligation(&n, &t.a.market, 0);
        ctx.warp_seconds(DT);
        let ix = ix::with_accounts(
            ix::deposit(
                &n.pubkey(),
                &t.a_usdc.keys,
                &no,
                &n_ta,
                t.a_usdc.units(1_000.0),
            ),
            [t.strategy_account()],
        );
        dep_marked.push(ctx.ok("deposit_marked", &[ix], &[&n]));
        ctx.warp_seconds(DT);
        let ix = ix::withdraw(
            &d.pubkey(),
            &t.a_usdc.keys,
            &o,
            &ta,
            t.a_usdc.units(500.0),
            vec![t.strategy_account()],
        );
        wd_marked.push(ctx.ok("withdraw_marked", &[ix], &[&d]));
        assert_eq!(ctx.token_balance(&ta).unwrap(), t.a_usdc.units(500.0));
    }
    let tbase = "A's USDC reserve (band 10/20/30%, cap 50%) with 10,000 deposited, strategy B's USDC reserve (10,000 supplied, 5,000 lent); 1 h since both last accrued";
    record(
        "rebalance",
        format!(
            "{tbase}; 100% liquid: deploys 5,000 (the cap) by CPI deposit into B, marks the shares"
        ),
        deploy,
    );
    record(
        "rebalance_recall",
        format!("{tbase}, 5,000 deployed (5,000 liquid), then the band raised to 60/70/80%; recalls 2,000 to the 70% target by CPI withdraw from B"),
        recall,
    );
    record(
        "withdraw_with_recall",
        format!("{tbase}, 5,000 deployed; the depositor (no debt, no health accounts) withdraws 6,000 with the 6 recall accounts: 3,000 recalled by CPI withdraw from B (the vault's 1,000 shortfall and the 50% cap on the 4,000 left), then paid out"),
        wd_recall,
    );
    record(
        "recall_treasury",
        format!("{tbase}, after that withdrawal (about 2,000 still deployed), 1 h later: the admin recalls everything (u64::MAX) by CPI withdraw from B"),
        admin_recall,
    );
    record(
        "set_strategy_approval",
        "B's admin approves one more user reserve of its USDC reserve (one approval already held)"
            .into(),
        approval,
    );
    record(
        "deposit_marked",
        format!("{tbase}, 5,000 deployed; a new depositor adds 1,000 with the strategy reserve (read-only) as the remaining account: the deployed shares are marked at B's projected rate before pricing"),
        dep_marked,
    );
    record(
        "withdraw_marked",
        format!("{tbase}, 5,000 deployed, 1,000 more deposited; the depositor (no debt) withdraws 500 from the vault with the strategy reserve alone as the last remaining account: marked, nothing recalled (within the cap and the band)"),
        wd_marked,
    );

    // Health checks over a collateral reserve with treasury shares deployed:
    // its strategy reserve follows its oracle and the shares are valued at
    // min(book, marked). The same obligation, the USDC reserve without a
    // strategy, is the baseline.
    let deployed_case = |with_strategy: bool| -> (u64, u64, u64) {
        let mut ctx = TestContext::new();
        let t = with_strategy.then(|| {
            let t = ctx.treasury(&TOKEN_PROGRAM_ID, buffered_config([0; 32]));
            // B lends 5,000 of its USDC, so its interest is projected.
            let (b, b_sol) = ctx.user_with_tokens(&t.b_sol, t.b_sol.units(1_000.0));
            let b_usdc = ctx.token_account_for(&t.b_usdc, &b.pubkey(), 0);
            let bo = ctx.open_obligation(&b, &t.b.market, 0);
            ctx.deposit(&b, &t.b_sol, &bo, &b_sol, t.b_sol.units(1_000.0));
            ctx.borrow(&b, &t.b_usdc, &bo, &b_usdc, t.b_usdc.units(5_000.0));
            t
        });
        let plain_market;
        let (market, usdc) = match &t {
            Some(t) => (&t.a, t.a_usdc),
            None => {
                plain_market = ctx.setup_market();
                let usdc = ctx.add_reserve(
                    &plain_market,
                    &TOKEN_PROGRAM_ID,
                    6,
                    1.0,
                    buffered_config([0; 32]),
                );
                (&plain_market, usdc)
            }
        };
        ctx.depositor(&market.market, &usdc, usdc.units(10_000.0));
        let sol = ctx.add_reserve(market, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
        let eth = ctx.add_reserve(market, &TOKEN_PROGRAM_ID, 8, 100.0, test_config([0; 32]));
        ctx.depositor(&market.market, &sol, sol.units(1_000.0));
        ctx.depositor(&market.market, &eth, eth.units(1_000.0));
        let (u, u_usdc) = ctx.user_with_tokens(&usdc, usdc.units(6_000.0));
        let o = ctx.open_obligation(&u, &market.market, 0);
        ctx.deposit(&u, &usdc, &o, &u_usdc, usdc.units(6_000.0));
        let u_sol = ctx.token_account_for(&sol, &u.pubkey(), sol.units(50.0));
        ctx.deposit(&u, &sol, &o, &u_sol, sol.units(50.0));
        let u_eth = ctx.token_account_for(&eth, &u.pubkey(), 0);
        ctx.borrow(&u, &eth, &o, &u_eth, eth.units(40.0));
        if let Some(t) = &t {
            let (e, _) = ctx.rebalance(t).expect("deploy");
            assert!(e.deployed && ctx.reserve(&usdc).treasury.deployed_shares > 0);
        }
        let fresh = |ctx: &mut TestContext, eth_px: f64| {
            ctx.warp_seconds(DT);
            for (r, p) in [(&usdc, 1.0), (&sol, 20.0), (&eth, eth_px)] {
                ctx.set_price(r, p, p * 0.001);
            }
        };
        fresh(&mut ctx, 100.0);
        let health = ctx.health_accounts(&o, &[&eth]);
        let ix = ix::borrow(&u.pubkey(), &eth.keys, &o, &u_eth, eth.units(1.0), health);
        let borrow = ctx.ok("borrow(deployed collateral)", &[ix], &[&u]);
        fresh(&mut ctx, 100.0);
        let health = ctx.health_accounts(&o, &[]);
        let ix = ix::withdraw(&u.pubkey(), &sol.keys, &o, &u_sol, sol.units(1.0), health);
        let withdraw = ctx.ok("withdraw(deployed collateral)", &[ix], &[&u]);
        // ETH doubles: 41 ETH ($8,200) against $6,000 + $980 at 80%.
        fresh(&mut ctx, 200.0);
        let (l, l_eth) = ctx.user_with_tokens(&eth, eth.units(10.0));
        let l_sol = ctx.token_account_for(&sol, &l.pubkey(), 0);
        let ix = ctx.liquidate_ix(&l, &o, &eth, &sol, &l_eth, &l_sol, eth.units(1.0));
        let liquidate = ctx.ok("liquidate(deployed collateral)", &[ix], &[&l]);
        (borrow, withdraw, liquidate)
    };
    let (mut with, mut without) = (vec![], vec![]);
    for _ in 0..RUNS {
        with.push(deployed_case(true));
        without.push(deployed_case(false));
    }
    let col = |v: &[(u64, u64, u64)], f: fn(&(u64, u64, u64)) -> u64| v.iter().map(f).collect();
    let dbase = "obligation with USDC ($6,000) and SOL ($1,000) collateral and ETH debt; 1 h since the last accruals";
    let deployed = "A's USDC reserve has 5,000 deployed to B's USDC (5,000 lent): health accounts carry B's USDC after A's USDC oracle, valued at min(book, marked)";
    let plain = "the same with A's USDC reserve without a treasury strategy (baseline)";
    record(
        "borrow_deployed_collateral",
        format!("{dbase}; {deployed}; borrows 1 ETH"),
        col(&with, |c| c.0),
    );
    record(
        "borrow_deployed_collateral_baseline",
        format!("{dbase}; {plain}; borrows 1 ETH"),
        col(&without, |c| c.0),
    );
    record(
        "withdraw_deployed_collateral",
        format!("{dbase}; {deployed}; withdraws 1 SOL"),
        col(&with, |c| c.1),
    );
    record(
        "withdraw_deployed_collateral_baseline",
        format!("{dbase}; {plain}; withdraws 1 SOL"),
        col(&without, |c| c.1),
    );
    record(
        "liquidate_deployed_collateral",
        format!("{dbase}; {deployed}; ETH doubled, repays 1 ETH, seizes SOL"),
        col(&with, |c| c.2),
    );
    record(
        "liquidate_deployed_collateral_baseline",
        format!("{dbase}; {plain}; ETH doubled, repays 1 ETH, seizes SOL"),
        col(&without, |c| c.2),
    );

    // Marginal health cost: borrow CU with 1..=7 collateral positions + 1 debt
    // (2..=8 positions in all), each collateral in its own reserve.
    let mut curve: BTreeMap<usize, u64> = BTreeMap::new();
    for collateral in 1..=7 {
        let samples = (0..3)
            .map(|_| {
                let mut s = Scenario::new(collateral);
                let usdc = s.reserves[0];
                s.warp();
                let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
                let ix = ix::borrow(
                    &s.user.pubkey(),
                    &usdc.keys,
                    &s.obligation,
                    &s.token_accounts[0],
                    usdc.units(10.0),
                    health,
                );
                s.send("borrow(open)", ix);
                s.warp();
                let health = s.ctx.health_accounts(&s.obligation, &[]);
                let ix = ix::borrow(
                    &s.user.pubkey(),
                    &usdc.keys,
                    &s.obligation,
                    &s.token_accounts[0],
                    usdc.units(10.0),
                    health,
                );
                s.send("borrow", ix)
            })
            .collect();
        curve.insert(collateral + 1, median(samples));
    }
    let steps: Vec<u64> = curve
        .values()
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| w[1].saturating_sub(*w[0]))
        .collect();
    record(
        "health_per_position",
        format!(
            "median marginal CU of one more collateral position (own reserve + oracle) in a borrow's Initial health check, positions 2..=8; borrow CU by positions: {curve:?}"
        ),
        steps,
    );

    // obligation_stress at MAX_POSITIONS: 7 collateral reserves + USDC
    // debt near the Initial limit, USDC shocked +10% and each collateral
    // -10%, so Maintenance fails and every collateral's liquidation price is
    // searched (the costly case; a collateral whose loss the rest covers
    // stops at the first probe).
    let samples = (0..3)
        .map(|_| {
            let mut s = Scenario::new(7);
            let usdc = s.reserves[0];
            s.warp();
            let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
            let ix = ix::borrow(
                &s.user.pubkey(),
                &usdc.keys,
                &s.obligation,
                &s.token_accounts[0],
                usdc.units(440_000.0),
                health,
            );
            s.send("borrow(open)", ix);
            s.warp();
            let n = s.ctx.obligation(&s.obligation).health_reserves().1;
            assert_eq!(n, ballast::state::MAX_POSITIONS, "8 positions");
            let mut shocks = vec![9_000u32; n];
            shocks[n - 1] = 11_000;
            let market = s.ctx.reserve(&usdc).market;
            let ix = s.ctx.stress_ix(&market, &s.obligation, &shocks);
            let (v, cu) = s.ctx.stress_send(ix).expect("obligation_stress");
            assert!(v.maintenance_health < 1 << 48);
            assert!(v.reserves[..n - 1]
                .iter()
                .all(|r| r.liquidation_price > 0 && r.liquidation_price < u64::MAX));
            let ix = s.ctx.stress_ix(&market, &s.obligation, &vec![10_000; n]);
            let (v, base) = s.ctx.stress_send(ix).expect("obligation_stress");
            assert!(v.maintenance_health >= 1 << 48);
            // SOL (1,600 weighted each): the rest covers its loss, 0 after
            // one probe; ETH (160,000 each): searched.
            let searched = v.reserves[..n - 1]
                .iter()
                .filter(|r| r.liquidation_price > 0)
                .count();
            assert_eq!(searched, 3);
            (cu, base)
        })
        .collect::<Vec<_>>();
    let (samples, base): (Vec<u64>, Vec<u64>) = samples.into_iter().unzip();
    record(
        "obligation_stress_unshocked",
        "the obligation_stress scenario unshocked: Maintenance holds; the 4 SOL liquidation prices are 0 after one probe (the rest covers their loss), the 3 ETH ones are searched".into(),
        base,
    );
    record(
        "obligation_stress",
        "8 positions (7 collateral reserves: 4x 100 SOL, 3x 100 ETH; 440,000 USDC debt), collateral shocked -10% and USDC +10%: Maintenance < 1 and all 7 liquidation prices searched; return data only".into(),
        samples,
    );

    // Term loans on the USDC reserve of the four-instruction scenario (the
    // obligation already owes floating USDC): borrow at the 30-day tenor,
    // repay early a week later, and convert a 7-day loan 3 days past its
    // maturity. Issue 19's bound: <= 40,000 CU each.
    let (mut tb, mut tr, mut tc, mut tl) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let mut s = Scenario::new(2);
        let usdc = s.reserves[0];
        let cfg = ballast::engine::term::TermConfig {
            tenors_secs: [7 * 86_400, 30 * 86_400, 84 * 86_400],
            grid_secs: ballast::engine::term::DEFAULT_GRID_SECS,
            base_spread_bps: 100,
            slope_bps: 2_000,
            max_commit_bps: 2_000,
            penalty_spread_bps: 2_000,
            _padding: [0; 8],
        };
        let admin = s.admin.insecure_clone();
        let ix = ix::set_term_config(&admin.pubkey(), &usdc.keys, cfg);
        s.ctx.ok("set_term_config", &[ix], &[&admin]);
        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
        let ix = ix::borrow(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            usdc.units(500.0),
            health,
        );
        s.send("borrow(open)", ix);
        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
        let ix = ix::borrow_term(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            1,
            usdc.units(300.0),
            0,
            health,
        );
        tb.push(s.send("borrow_term", ix));
        s.ctx.warp_seconds(7 * 86_400);
        let meta = s
            .ctx
            .chain
            .send(&[ix::maturity_ladder(&usdc.keys)], &[])
            .expect("maturity_ladder");
        tl.push(meta.compute_units_consumed);
        let ix = ix::repay_term(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            u64::MAX,
        );
        tr.push(s.send("repay_term", ix));
        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
        let ix = ix::borrow_term(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            0,
            usdc.units(300.0),
            0,
            health,
        );
        s.send("borrow_term", ix);
        s.ctx.warp_seconds(17 * 86_400);
        let ix =
            ix::convert_term_debt(&usdc.keys.market, &usdc.keys.reserve, &s.obligation, vec![]);
        tc.push(s.ctx.ok("convert_term_debt", &[ix], &[]));
    }
    let base = "the deposit/withdraw/borrow/repay scenario with a 30/7/84-day term curve on USDC";
    record(
        "borrow_term",
        format!("{base}; 300 USDC face at 30 days: term rate, zero-coupon price, bucket, Initial health over 3 reserves + 3 oracles"),
        tb,
    );
    record(
        "repay_term",
        format!("{base}; early repayment of that loan 7 days later: current price floored at book, bucket (no oracle)"),
        tr,
    );
    record(
        "maturity_ladder",
        format!("{base}; the ladder 7 days after the 30-day loan (floating and term interest projected 7 days; bound 20,000)"),
        tl,
    );
    record(
        "convert_term_debt",
        format!("{base}; a 7-day loan converted to floating debt past its maturity (penalty, no oracle)"),
        tc,
    );

    // Term deposits on the same USDC reserve (the obligation owes floating
    // USDC, so the deposit rate has a supply rate under it): a 1,000 USDC
    // 30-day deposit by a new depositor (creating the deposit and the
    // reserve's book), the ladder with the book 7 days later, the
    // settlement an hour past maturity. Issue 19's bounds: <= 40,000 CU for
    // each instruction, <= 20,000 for the ladder.
    let (mut dd, mut d2, mut dw, mut dl) = (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        let mut s = Scenario::new(2);
        let usdc = s.reserves[0];
        let cfg = ballast::engine::term::TermConfig {
            tenors_secs: [7 * 86_400, 30 * 86_400, 84 * 86_400],
            grid_secs: ballast::engine::term::DEFAULT_GRID_SECS,
            base_spread_bps: 100,
            slope_bps: 2_000,
            max_commit_bps: 2_000,
            penalty_spread_bps: 2_000,
            _padding: [0; 8],
        };
        let admin = s.admin.insecure_clone();
        let ix = ix::set_term_config(&admin.pubkey(), &usdc.keys, cfg);
        s.ctx.ok("set_term_config", &[ix], &[&admin]);
        s.warp();
        let health = s.ctx.health_accounts(&s.obligation, &[&usdc]);
        let ix = ix::borrow(
            &s.user.pubkey(),
            &usdc.keys,
            &s.obligation,
            &s.token_accounts[0],
            usdc.units(500.0),
            health,
        );
        s.send("borrow(open)", ix);
        s.warp();
        let (dep, ta) = s.ctx.user_with_tokens(&usdc, usdc.units(1_000.0));
        let ix = ix::deposit_term(&dep.pubkey(), &usdc.keys, &ta, 0, 1, usdc.units(1_000.0), 0);
        dd.push(s.ctx.ok("deposit_term", &[ix], &[&dep]));
        s.warp();
        let (dep2, ta2) = s.ctx.user_with_tokens(&usdc, usdc.units(1_000.0));
        let ix = ix::deposit_term(
            &dep2.pubkey(),
            &usdc.keys,
            &ta2,
            0,
            1,
            usdc.units(1_000.0),
            0,
        );
        d2.push(s.ctx.ok("deposit_term(second)", &[ix], &[&dep2]));
        s.ctx.warp_seconds(7 * 86_400);
        let meta = s
            .ctx
            .chain
            .send(&[ix::maturity_ladder_with_deposits(&usdc.keys)], &[])
            .expect("maturity_ladder with deposits");
        dl.push(meta.compute_units_consumed);
        let d = s
            .ctx
            .account::<ballast::state::TermDeposit>(&ix::term_deposit_address(
                &usdc.keys.reserve,
                &dep.pubkey(),
                0,
            ))
            .expect("term deposit");
        s.ctx.set_time(d.maturity + 3_600);
        let ix = ix::withdraw_term(&dep.pubkey(), &usdc.keys, &ta, 0);
        dw.push(s.ctx.ok("withdraw_term", &[ix], &[&dep]));
    }
    let base = "the deposit/withdraw/borrow/repay scenario with a 30/7/84-day term curve on USDC (500 USDC borrowed floating)";
    record(
        "deposit_term",
        format!("{base}; 1,000 USDC at the 30-day tenor by a new depositor: deposit rate, face (exp), shares, the deposit account and the reserve's book created"),
        dd,
    );
    record(
        "deposit_term_second",
        format!("{base}; a second 1,000 USDC 30-day deposit an hour later by another depositor, into the existing book (same maturity bucket)"),
        d2,
    );
    record(
        "withdraw_term",
        format!("{base}; that deposit settled an hour past maturity: value of the locked shares, settlement against the fees, book, account closed"),
        dw,
    );
    record(
        "maturity_ladder_deposits",
        format!(
            "{base}; the ladder with the term-deposit book 7 days after the deposit (bound 20,000)"
        ),
        dl,
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench");
    std::fs::create_dir_all(&root).expect("create target/bench");
    let cu_json = serde_json::to_string_pretty(&cu).unwrap();
    std::fs::write(root.join("cu.json"), format!("{cu_json}\n")).expect("write cu.json");
    let sc = serde_json::to_string_pretty(&scenarios).unwrap();
    std::fs::write(root.join("cu-scenarios.json"), format!("{sc}\n"))
        .expect("write cu-scenarios.json");
    let hc = serde_json::to_string_pretty(&curve).unwrap();
    std::fs::write(root.join("health_curve.json"), format!("{hc}\n"))
        .expect("write health_curve.json");

    println!("\n{:<22} {:>8}  scenario", "instruction", "CU");
    for (name, v) in &cu {
        println!("{name:<22} {v:>8}  {}", scenarios[name]);
    }
    println!("\ntarget/bench/cu.json:\n{cu_json}");
}
