//! The keeper's liquidation task on the embedded chain running the .so.

use std::collections::HashMap;

use ballast::engine::health::Requirement;
use ballast_keeper::chain::{Chain, ChainError, Sent};
use ballast_keeper::tasks::liquidation::{run, Liquidator};
use ballast_tests::*;
use solana_instruction::Instruction;

struct Book {
    ctx: TestContext,
    sol: TestReserve,
    usdc: TestReserve,
    market: Address,
    obligations: Vec<Address>,
}

/// Five borrowers with 100 SOL each at $20 borrowing 1,000..1,400 USDC; SOL
/// then drops to $17 (LT 80%: 1,360 of weighted collateral), leaving the
/// three largest borrowers unhealthy.
fn book() -> Book {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));
    let mut obligations = vec![];
    for debt in [1_000.0, 1_380.0, 1_100.0, 1_440.0, 1_420.0] {
        let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
        let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
        let o = ctx.open_obligation(&b, &m.market, 0);
        ctx.deposit(&b, &sol, &o, &b_sol, sol.units(100.0));
        ctx.borrow(&b, &usdc, &o, &b_usdc, usdc.units(debt));
        obligations.push(o);
    }
    ctx.set_price(&sol, 17.0, 0.0);
    Book {
        ctx,
        sol,
        usdc,
        market: m.market,
        obligations,
    }
}

fn liquidator(ctx: &mut TestContext, b: (&TestReserve, &TestReserve)) -> Liquidator {
    let kp = ctx.funded_user(10);
    let usdc_ta = ctx.token_account_for(b.1, &kp.pubkey(), b.1.units(1_000_000.0));
    let sol_ta = ctx.token_account_for(b.0, &kp.pubkey(), 0);
    Liquidator {
        keypair: kp,
        token_accounts: HashMap::from([(b.1.keys.mint, usdc_ta), (b.0.keys.mint, sol_ta)]),
        obligation: None,
    }
}

#[test]
fn liquidates_the_unhealthy_worst_first() {
    let mut b = book();
    let liq = liquidator(&mut b.ctx, (&b.sol, &b.usdc));
    let healths: Vec<f64> = b
        .obligations
        .iter()
        .map(|o| {
            b.ctx
                .engine_health(o, Requirement::Maintenance)
                .ratio()
                .unwrap()
                .to_num::<f64>()
        })
        .collect();
    let out = run(&mut b.ctx.chain, &b.market, &liq, 10).unwrap();
    assert_eq!(out.candidates, 3);
    assert!(out.skipped.is_empty() && out.failed.is_empty(), "{out:?}");
    let order: Vec<Address> = out.liquidated.iter().map(|(o, _, _)| *o).collect();
    // 1,440 > 1,420 > 1,380 of debt: worst health first.
    assert_eq!(
        order,
        vec![b.obligations[3], b.obligations[4], b.obligations[1]]
    );
    assert!(healths[3] < healths[4] && healths[4] < healths[1] && healths[1] < 1.0);
    // Health 1,360 / 1,440 = 0.944 < 0.95: all of it may be repaid; the
    // others (0.958, 0.986) get the 20% close factor or, when larger, what
    // restores health: (1,420 - 1,360) / (1 - 1.05 * 0.8) = 375 USDC for
    // the first (26%), 125 (9% < 20%) for the second.
    for ((o, repaid, cu), share) in out.liquidated.iter().zip([1.0, 375.0 / 1_420.0, 0.2]) {
        assert!(*cu > 0);
        let debt_before = [1_440.0, 1_420.0, 1_380.0][order.iter().position(|x| x == o).unwrap()];
        let want = b.usdc.units(debt_before * share) as f64;
        assert!(
            *repaid as f64 >= want - 1.0 && (*repaid as f64) < want + 100.0,
            "{repaid} vs {want}"
        );
    }
    // The healthy two were left alone; capacity bounds a run.
    let again = run(&mut b.ctx.chain, &b.market, &liq, 1).unwrap();
    assert!(again.liquidated.len() <= 1);
    b.ctx.assert_vault_reconciles(&b.usdc);
    b.ctx.assert_vault_reconciles(&b.sol);
}

/// A chain on which a competitor's transaction lands just before ours.
struct Racing<'a> {
    inner: &'a mut ballast_keeper::chain::embedded::EmbeddedChain,
    front_run: Option<(Instruction, Keypair)>,
}

impl Chain for Racing<'_> {
    fn payer(&self) -> Address {
        self.inner.payer()
    }
    fn unix_time(&self) -> Result<i64, ChainError> {
        self.inner.unix_time()
    }
    fn account_data(&self, a: &Address) -> Result<Option<Vec<u8>>, ChainError> {
        Chain::account_data(&*self.inner, a)
    }
    fn ballast_accounts<T: anchor_lang::Discriminator>(
        &self,
        m: &Address,
    ) -> Result<Vec<(Address, Vec<u8>)>, ChainError> {
        self.inner.ballast_accounts::<T>(m)
    }
    fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Result<Sent, ChainError> {
        if let Some((ix, kp)) = self.front_run.take() {
            Chain::send(self.inner, &[ix], &[&kp]).expect("competitor lands");
        }
        Chain::send(self.inner, ixs, signers)
    }
}

#[test]
fn an_obligation_liquidated_by_someone_else_is_skipped_without_retry() {
    let mut b = book();
    let liq = liquidator(&mut b.ctx, (&b.sol, &b.usdc));
    // The competitor repays the worst obligation's 1,440 USDC debt... as far
    // as the close factor lets it, twice over two transactions, until healthy.
    let comp = liquidator(&mut b.ctx, (&b.sol, &b.usdc));
    let target = b.obligations[1]; // 1,380: one close-factor liquidation makes it healthy
    let health = b.ctx.health_accounts(&target, &[]);
    let ix = ix::liquidate(
        &comp.keypair.pubkey(),
        &target,
        &b.usdc.keys,
        &b.sol.keys,
        &comp.token_accounts[&b.usdc.keys.mint],
        &comp.token_accounts[&b.sol.keys.mint],
        u64::MAX,
        health,
    );
    // Our bot takes the worst first, so let it handle only the 1,380 one by
    // making the others healthy: repay most of their debt.
    for i in [3, 4] {
        let o = b.obligations[i];
        let payer = b.ctx.funded_user(1);
        let ta = b
            .ctx
            .token_account_for(&b.usdc, &payer.pubkey(), b.usdc.units(1_000.0));
        b.ctx.repay(&payer, &b.usdc, &o, &ta, b.usdc.units(1_000.0));
    }
    let mut racing = Racing {
        inner: &mut b.ctx.chain,
        front_run: Some((ix, comp.keypair.insecure_clone())),
    };
    let out = run(&mut racing, &b.market, &liq, 10).unwrap();
    assert_eq!(out.candidates, 1);
    assert_eq!(out.skipped, vec![target], "{out:?}");
    assert!(out.liquidated.is_empty() && out.failed.is_empty());
    // The next run sees it healthy: nothing to do, nothing retried.
    let next = run(&mut b.ctx.chain, &b.market, &liq, 10).unwrap();
    assert_eq!(next.candidates, 0);
}

#[test]
fn a_stale_oracle_blocks_liquidation_with_its_reason() {
    let mut b = book();
    let liq = liquidator(&mut b.ctx, (&b.sol, &b.usdc));
    b.ctx.warp_seconds(120);
    b.ctx.set_price(&b.usdc, 1.0, 0.0); // SOL's price is now 2 minutes old (max age 60 s)
    let out = run(&mut b.ctx.chain, &b.market, &liq, 10).unwrap();
    assert_eq!(out.candidates, 0);
    assert!(out.liquidated.is_empty());
    assert_eq!(out.blocked.len(), 5, "every obligation holds SOL: {out:?}");
    assert!(
        out.blocked[0].1.to_lowercase().contains("stale"),
        "{}",
        out.blocked[0].1
    );
}
