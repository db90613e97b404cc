//! The keeper loop on the embedded chain running the .so: each task reports
//! its own outcome and one task's failure never stops the others; a keypair
//! that is not the risk authority (or `--no-push`) skips pushes with the
//! reason and still liquidates; a restarted keeper seeded from the chain
//! pushes in its first tick when the last push nears its max age.

use std::collections::HashMap;

use anchor_lang::Discriminator;
use ballast_keeper::chain::embedded::EmbeddedChain;
use ballast_keeper::chain::{Chain, ChainError, Sent};
use ballast_keeper::keeper_loop::{FailureReason, Keeper, KeeperConfig, Task, TaskOutcome};
use ballast_keeper::tasks::liquidation::Liquidator;
use ballast_tests::*;
use solana_instruction::Instruction;

/// The embedded chain, failing every transaction that carries an
/// instruction `fail` picks (as an RPC backend that lost the connection),
/// and passing every instruction through `mutate` before sending it.
struct Faulty<'a> {
    inner: &'a mut EmbeddedChain,
    fail: fn(&Instruction) -> bool,
    mutate: fn(&mut Instruction),
}

impl Chain for Faulty<'_> {
    fn payer(&self) -> Address {
        self.inner.payer()
    }
    fn unix_time(&self) -> Result<i64, ChainError> {
        Chain::unix_time(self.inner)
    }
    fn account_data(&self, a: &Address) -> Result<Option<Vec<u8>>, ChainError> {
        self.inner.account_data(a)
    }
    fn ballast_accounts<T: Discriminator>(
        &self,
        market: &Address,
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
        self.inner.ballast_accounts::<T>(market)
    }
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, ChainError> {
        if ixs.iter().any(self.fail) {
            return Err(ChainError::Backend("injected: connection reset".into()));
        }
        let mut ixs = ixs.to_vec();
        ixs.iter_mut().for_each(self.mutate);
        Chain::send(self.inner, &ixs, signers)
    }
}

fn is_ix<T: Discriminator>(ix: &Instruction) -> bool {
    ix.program_id == ballast::ID && ix.data.starts_with(T::DISCRIMINATOR)
}

struct Book {
    ctx: TestContext,
    m: TestMarket,
    sol: TestReserve,
    usdc: TestReserve,
}

/// Five borrowers with 100 SOL each at $20 borrowing 1,000..1,440 USDC;
/// SOL's `config` is static ([`test_config`]: SOL then falls to $17) or
/// dynamic ([`dynamic_config`], 50% volatility pushed first: SOL falls to
/// $15); either way the three largest borrowers end up unhealthy.
fn book(dynamic: bool) -> Book {
    let mut ctx = TestContext::new();
    // A push at unix time 0 would read as "never pushed".
    ctx.set_time(1_700_000_000);
    let m = ctx.setup_market();
    let config = if dynamic {
        dynamic_config([0; 32])
    } else {
        test_config([0; 32])
    };
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, config);
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    if dynamic {
        ctx.push_sigma(&m, &sol, 0.5).expect("first push");
    }
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));
    for debt in [1_000.0, 1_380.0, 1_100.0, 1_440.0, 1_420.0] {
        let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
        let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
        let o = ctx.open_obligation(&b, &m.market, 0);
        ctx.deposit(&b, &sol, &o, &b_sol, sol.units(100.0));
        ctx.borrow(&b, &usdc, &o, &b_usdc, usdc.units(debt));
    }
    ctx.set_price(&sol, if dynamic { 15.0 } else { 17.0 }, 0.0);
    Book { ctx, m, sol, usdc }
}

fn liquidator(b: &mut Book) -> Liquidator {
    let kp = b.ctx.funded_user(10);
    let usdc_ta = b
        .ctx
        .token_account_for(&b.usdc, &kp.pubkey(), b.usdc.units(1_000_000.0));
    let sol_ta = b.ctx.token_account_for(&b.sol, &kp.pubkey(), 0);
    Liquidator {
        keypair: kp,
        token_accounts: HashMap::from([(b.usdc.keys.mint, usdc_ta), (b.sol.keys.mint, sol_ta)]),
        obligation: None,
    }
}

fn liquidated(report: &ballast_keeper::keeper_loop::TickReport) -> usize {
    report
        .liquidation
        .as_ref()
        .map_or(0, |l| l.liquidated.len())
}

/// Hourly closes before `now` with about `sigma` annualised volatility
/// (alternating log returns of +-sigma/sqrt(8760)).
fn history(now: i64, sigma: f64) -> Vec<(i64, f64)> {
    let step = sigma / 8_760f64.sqrt();
    (0..48)
        .map(|i| {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            (now - (48 - i) * 3_600, 20.0 * (sign * step).exp())
        })
        .collect()
}

#[test]
fn a_failing_interest_task_does_not_stop_the_liquidations() {
    let mut b = book(false);
    // Two hours later both reserves are due for accrual.
    b.ctx.warp_seconds(7_200);
    b.ctx.set_price(&b.sol, 17.0, 0.0);
    b.ctx.set_price(&b.usdc, 1.0, 0.0);
    let liq = liquidator(&mut b);
    let mut keeper = Keeper::new(
        b.m.market,
        b.m.admin.insecure_clone(),
        Some(liq),
        KeeperConfig::default(),
    );
    let mut chain = Faulty {
        inner: &mut b.ctx.chain,
        fail: is_ix::<ballast::instruction::AccrueInterest>,
        mutate: |_| {},
    };
    let report = keeper.tick(&mut chain, 10).expect("the tick itself runs");
    match report.outcome(Task::Interest) {
        Some(TaskOutcome::Failed(f)) => {
            assert_eq!(f.reason, FailureReason::Rpc);
            assert!(f.message.contains("connection reset"), "{}", f.message);
        }
        other => panic!("interest: {other:?}"),
    }
    assert_eq!(report.outcome(Task::Liquidation), Some(&TaskOutcome::Done));
    assert_eq!(liquidated(&report), 3, "{:?}", report.liquidation);
    assert_eq!(report.tasks.len(), Task::ALL.len(), "every task reported");
    assert!(report.failures()[0].starts_with("interest task failed (rpc)"));
}

#[test]
fn a_refused_push_is_reported_with_the_program_error_and_the_liquidations_still_run() {
    let mut b = book(true);
    b.ctx.warp_seconds(900);
    b.ctx.set_price(&b.sol, 15.0, 0.0);
    b.ctx.set_price(&b.usdc, 1.0, 0.0);
    let liq = liquidator(&mut b);
    let mut keeper = Keeper::new(
        b.m.market,
        b.m.admin.insecure_clone(),
        Some(liq),
        KeeperConfig::default(),
    );
    let now = b.ctx.clock().unix_timestamp;
    keeper
        .seed_history(&b.sol.keys.reserve, &history(now, 2.0))
        .unwrap();
    // The keeper's push goes out with a volatility beyond the reserve's
    // bounds (as a corrupted or misconfigured push would): the program
    // refuses it with its own error.
    let mut chain = Faulty {
        inner: &mut b.ctx.chain,
        fail: |_| false,
        mutate: |ix| {
            if is_ix::<ballast::instruction::UpdateVolatility>(ix) {
                let sigma = ballast::engine::fx::Fx::from_num(50);
                let reserve = ix.accounts[2].pubkey;
                *ix = ix::update_volatility(
                    &ix.accounts[0].pubkey,
                    &ix.accounts[1].pubkey,
                    &reserve,
                    sigma,
                );
            }
        },
    };
    let report = keeper.tick(&mut chain, 10).expect("the tick itself runs");
    let failed = &report.volatility.failed;
    assert_eq!(failed.len(), 1, "{:?}", report.volatility);
    assert_eq!(failed[0].0, b.sol.keys.reserve);
    let code = anchor_lang::error::ERROR_CODE_OFFSET
        + ballast::errors::BallastError::SigmaOutOfBounds as u32;
    assert_eq!(
        failed[0].1.reason,
        FailureReason::Transaction {
            code: Some(code),
            name: Some("SigmaOutOfBounds".into())
        }
    );
    assert_eq!(report.outcome(Task::Volatility), Some(&TaskOutcome::Done));
    assert_eq!(liquidated(&report), 3, "{:?}", report.liquidation);
    assert!(
        report
            .failures()
            .iter()
            .any(|f| f.contains("update_volatility")),
        "{:?}",
        report.failures()
    );
}

#[test]
fn a_keypair_that_is_not_the_risk_authority_skips_pushes_and_still_liquidates() {
    let mut b = book(true);
    let liq = liquidator(&mut b);
    let stranger = b.ctx.funded_user(1);
    let mut keeper = Keeper::new(b.m.market, stranger, Some(liq), KeeperConfig::default());
    let now = b.ctx.clock().unix_timestamp;
    b.ctx.warp_seconds(900);
    b.ctx.set_price(&b.sol, 15.0, 0.0);
    b.ctx.set_price(&b.usdc, 1.0, 0.0);
    keeper
        .seed_history(&b.sol.keys.reserve, &history(now, 2.0))
        .unwrap();
    let before = b.ctx.reserve(&b.sol).risk.last_push_ts;
    let report = keeper.tick(&mut b.ctx.chain, 10).expect("the tick runs");
    match report.outcome(Task::Volatility) {
        Some(TaskOutcome::Skipped(why)) => {
            assert!(why.contains("not the market's risk authority"), "{why}")
        }
        other => panic!("volatility: {other:?}"),
    }
    assert!(report.pushes.is_empty() && report.volatility.failed.is_empty());
    assert_eq!(b.ctx.reserve(&b.sol).risk.last_push_ts, before, "no push");
    assert_eq!(liquidated(&report), 3);

    // `--no-push` does the same for the risk authority itself.
    let mut b = book(true);
    let liq = liquidator(&mut b);
    let config = KeeperConfig {
        pushes_enabled: false,
        ..KeeperConfig::default()
    };
    let mut keeper = Keeper::new(b.m.market, b.m.admin.insecure_clone(), Some(liq), config);
    b.ctx.warp_seconds(900);
    b.ctx.set_price(&b.sol, 15.0, 0.0);
    b.ctx.set_price(&b.usdc, 1.0, 0.0);
    let now = b.ctx.clock().unix_timestamp;
    keeper
        .seed_history(&b.sol.keys.reserve, &history(now, 2.0))
        .unwrap();
    let report = keeper.tick(&mut b.ctx.chain, 10).expect("the tick runs");
    assert!(
        matches!(report.outcome(Task::Volatility), Some(TaskOutcome::Skipped(w)) if w.contains("--no-push"))
    );
    assert!(report.pushes.is_empty());
    assert_eq!(liquidated(&report), 3);
}

#[test]
fn a_restarted_keeper_seeded_from_the_chain_pushes_before_the_reserve_goes_stale() {
    let mut b = book(true);
    let pushed_at = b.ctx.reserve(&b.sol).risk.last_push_ts;
    let max_age = b.ctx.reserve(&b.sol).config.risk.max_age_secs as i64;
    // Past the keeper's refresh margin (10 minutes before staleness), not
    // yet stale.
    b.ctx.warp_seconds(max_age - 300);
    b.ctx.set_price(&b.sol, 20.0, 0.0);
    b.ctx.set_price(&b.usdc, 1.0, 0.0);

    // A keeper that starts with no history cannot push: one sample, no
    // estimate.
    let mut blank = Keeper::new(
        b.m.market,
        b.m.admin.insecure_clone(),
        None,
        KeeperConfig::default(),
    );
    let report = blank.tick(&mut b.ctx.chain, 0).unwrap();
    assert!(report.pushes.is_empty());
    assert_eq!(b.ctx.reserve(&b.sol).risk.last_push_ts, pushed_at);

    // Seeded from the volatility last pushed on chain, it pushes at once.
    let mut restarted = Keeper::new(
        b.m.market,
        b.m.admin.insecure_clone(),
        None,
        KeeperConfig::default(),
    );
    let seeded = restarted.seed_from_chain(&b.ctx.chain).unwrap();
    assert_eq!(seeded.len(), 1);
    assert_eq!(seeded[0].0, b.sol.keys.reserve);
    assert!((seeded[0].1 - 0.5).abs() < 1e-9, "{seeded:?}");
    let report = restarted.tick(&mut b.ctx.chain, 0).unwrap();
    assert_eq!(report.pushes.len(), 1, "{:?}", report.volatility);
    let now = b.ctx.clock().unix_timestamp;
    let r = b.ctx.reserve(&b.sol);
    assert_eq!(r.risk.last_push_ts, now);
    assert!(now - pushed_at < max_age, "pushed before going stale");
}
