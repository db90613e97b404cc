//! Liquidation without cash in the collateral vault (issue 12), on the real
//! .so: `liquidate_for_shares` credits the seized collateral as deposit
//! shares to the liquidator's own obligation, so a liquidation completes
//! when the collateral reserve is lent out; and its refusals.

use ballast::engine::fx::FxExt;
use ballast::engine::health::Requirement;
use ballast::engine::liquidation::LiquidationConfig;
use ballast::errors::BallastError;
use ballast::events::LiquidatedForShares;
use ballast::state::PositionKind;
use ballast_tests::*;

/// The lending fixture with its SOL lent out: the borrower borrows 1,500
/// USDC against 100 SOL; a second user deposits 5,000 USDC and borrows 95
/// SOL, leaving 10 SOL of cash; SOL falls to $18
/// (borrower's health 0.96, a liquidation seizes ~21.9 SOL). A
/// liquidator holds 5,000 USDC and its own obligation. The market's
/// protocol share of the bonus is 20%.
struct Lent {
    ctx: TestContext,
    l: Lending,
    liq: Keypair,
    l_usdc: Address,
    l_sol: Address,
    own: Address,
}

fn lent(tp: &Address) -> Lent {
    let mut ctx = TestContext::new();
    let l = ctx.lending(tp);
    ctx.set_liquidation_config(
        &l.m,
        LiquidationConfig {
            protocol_bonus_share_bps: 2_000,
            ..LiquidationConfig::SOLEND_LIKE
        },
    );
    ctx.borrow(
        &l.borrower,
        &l.debt,
        &l.ob,
        &l.b_debt,
        l.debt.units(1_500.0),
    );
    let (d, d_usdc) = ctx.user_with_tokens(&l.debt, l.debt.units(5_000.0));
    let od = ctx.open_obligation(&d, &l.m.market, 0);
    ctx.deposit(&d, &l.debt, &od, &d_usdc, l.debt.units(5_000.0));
    let d_sol = ctx.token_account_for(&l.coll, &d.pubkey(), 0);
    ctx.borrow(&d, &l.coll, &od, &d_sol, l.coll.units(90.0));
    ctx.set_price(&l.coll, 18.0, 0.0);
    ctx.set_price(&l.debt, 1.0, 0.0);
    let (liq, l_usdc) = ctx.user_with_tokens(&l.debt, l.debt.units(5_000.0));
    let l_sol = ctx.token_account_for(&l.coll, &liq.pubkey(), 0);
    let own = ctx.open_obligation(&liq, &l.m.market, 0);
    Lent {
        ctx,
        l,
        liq,
        l_usdc,
        l_sol,
        own,
    }
}

impl Lent {
    /// `liquidate_for_shares` of the borrower by `signer` into `own`.
    fn ix(
        &self,
        signer: &Address,
        own: &Address,
        max_repay: u64,
    ) -> solana_instruction::Instruction {
        let health = self.ctx.health_accounts(&self.l.ob, &[]);
        ix::liquidate_for_shares(
            signer,
            &self.l.ob,
            own,
            &self.l.debt.keys,
            &self.l.coll.keys,
            &self.l_usdc,
            max_repay,
            health,
        )
    }

    /// Every account a liquidation can touch.
    fn watched(&self) -> Vec<Address> {
        let mut w = self.l.accounts();
        w.extend([self.l_usdc, self.l_sol, self.own]);
        w.push(self.l.coll.keys.insurance_vault);
        w
    }
}

/// `liquidate` cannot pay ~21.9 SOL from a vault holding 10
/// (`InsufficientLiquidity`); `liquidate_for_shares` completes: the
/// liquidator pays the ~375 USDC that restore health, its obligation is credited SOL shares worth
/// the seizure less the protocol's cut, the borrower's collateral falls by
/// the whole seizure, no SOL leaves the vault, the cut is added to the
/// reserve's protocol fees, the share price of the other depositors does
/// not fall, both vaults reconcile and the borrower's health improves.
#[test]
fn a_liquidation_completes_in_shares_when_the_collateral_vault_lacks_cash() {
    for tp in TOKEN_PROGRAMS {
        let mut t = lent(&tp);
        let (l, liq) = (&t.l, t.liq.insecure_clone());
        let cash = t.ctx.reserve(&l.coll).available_amount;
        assert_eq!(cash, l.coll.units(10.0), "10 SOL of cash left");
        let cash_ix =
            t.ctx
                .liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &t.l_usdc, &t.l_sol, u64::MAX);
        let err = t.ctx.fails("liquidate for cash", &[cash_ix], &[&liq]);
        check(
            "no cash",
            &err,
            Expect::Ballast(BallastError::InsufficientLiquidity),
        );

        let r0 = t.ctx.reserve(&l.coll);
        let rate0 = r0.supply().unwrap() / ballast::engine::fx::fx_u64(r0.deposit_shares);
        let held0 = t.ctx.collateral_of(&l.ob, &l.coll);
        let h0 = t.ctx.engine_health(&l.ob, Requirement::Maintenance);
        let usdc0 = t.ctx.token_balance(&t.l_usdc).unwrap();
        let ix = t.ix(&liq.pubkey(), &t.own, u64::MAX);
        let logs = t.ctx.ok_logs("liquidate_for_shares", &[ix], &[&liq]);
        let e: Vec<LiquidatedForShares> = events(&logs);
        assert_eq!(e.len(), 1);
        let e = &e[0];
        assert_eq!((e.obligation, e.liquidator_obligation), (l.ob, t.own));
        // The allowance restores health: (1,500 - 1,440) / (1 - 1.05 *
        // 0.8) = 375 USDC (more than the close factor's 300), plus slack.
        assert!(
            e.repaid >= l.debt.units(375.0) && e.repaid < l.debt.units(375.1),
            "{}",
            e.repaid
        );
        assert_eq!(usdc0 - t.ctx.token_balance(&t.l_usdc).unwrap(), e.repaid);
        // repay * 1.05 / $18 of SOL, 20% of the bonus to fees.
        let seize = e.repaid as f64 * 1e3 * 1.05 / 18.0;
        assert!(
            (e.seized as f64 - seize).abs() <= 2.0,
            "{} vs {seize}",
            e.seized
        );
        let cut = e.repaid as f64 * 1e3 * 0.05 / 18.0 * 0.2;
        assert!((e.to_protocol_fees as f64 - cut).abs() <= 2.0);
        // Nothing left the SOL vault; it reconciles.
        assert_eq!(t.ctx.reserve(&l.coll).available_amount, cash);
        t.ctx.assert_vault_reconciles(&l.coll);
        t.ctx.assert_vault_reconciles(&l.debt);
        // The borrower lost the whole seizure; the liquidator's obligation
        // holds shares worth the seizure less the cut (rounded down).
        assert!(held0 - t.ctx.collateral_of(&l.ob, &l.coll) >= e.seized);
        let own = t.ctx.obligation(&t.own);
        let i = own
            .find(&l.coll.address(), PositionKind::Collateral)
            .unwrap();
        assert_eq!(own.positions[i].deposit_shares, e.shares_credited);
        let worth = t.ctx.collateral_of(&t.own, &l.coll);
        let due = e.seized - e.to_protocol_fees;
        assert!(worth <= due && due - worth <= 2, "{worth} vs {due}");
        // The cut is the protocol's; the depositors' share price held.
        let r1 = t.ctx.reserve(&l.coll);
        let fees = r1.protocol_fees.get() - r0.protocol_fees.get();
        assert_eq!(fees.to_floor_u64().unwrap(), e.to_protocol_fees);
        let rate1 = r1.supply().unwrap() / ballast::engine::fx::fx_u64(r1.deposit_shares);
        assert!(rate1 >= rate0, "share price {rate0} -> {rate1}");
        let h1 = t.ctx.engine_health(&l.ob, Requirement::Maintenance);
        assert!(!health_not_worse(&h1, &h0), "health improves");
        assert!(h1.is_satisfied(), "and is restored");
    }
}

/// The refusals, each changing nothing: a liquidator obligation owned by
/// someone else (`NotObligationOwner`), of another market (`WrongMarket`),
/// the obligation liquidated itself (`LiquidatorObligationIsLiquidated`),
/// one that owes SOL (`SameReserveLoop`); an unsigned liquidator
/// (`AccountNotSigner`); a zero repay (`ZeroAmount`); a stale collateral
/// oracle (`OracleStale`); a healthy obligation (`ObligationHealthy`). A
/// paused market does not stop it (it only de-risks, as `liquidate`).
fn refuse(
    t: &mut Lent,
    watched: &[Address],
    label: &str,
    ix: solana_instruction::Instruction,
    signers: &[&Keypair],
    expect: Expect,
) {
    let before = t.ctx.snapshot(watched);
    let err = t.ctx.fails(label, &[ix], signers);
    check(label, &err, expect);
    t.ctx.assert_unchanged(label, &before);
}

#[test]
fn liquidate_for_shares_refusals_and_the_paused_market() {
    use anchor_lang::error::ErrorCode;
    for tp in TOKEN_PROGRAMS {
        let mut t = lent(&tp);
        let liq = t.liq.insecure_clone();
        let watched = t.watched();
        // Someone else's obligation.
        let other = t.ctx.funded_user(10);
        let theirs = t.ctx.open_obligation(&other, &t.l.m.market, 0);
        let ix = t.ix(&liq.pubkey(), &theirs, u64::MAX);
        refuse(
            &mut t,
            &watched,
            "not the owner",
            ix,
            &[&liq],
            Expect::Ballast(BallastError::NotObligationOwner),
        );
        // The liquidator's obligation in another market.
        let m2 = t.ctx.setup_market();
        let elsewhere = t.ctx.open_obligation(&liq, &m2.market, 0);
        let ix = t.ix(&liq.pubkey(), &elsewhere, u64::MAX);
        refuse(
            &mut t,
            &watched,
            "another market",
            ix,
            &[&liq],
            Expect::Ballast(BallastError::WrongMarket),
        );
        // The borrower names its own obligation (it holds USDC to repay).
        let borrower = t.l.borrower.insecure_clone();
        let mut ix = t.ix(&borrower.pubkey(), &t.l.ob, u64::MAX);
        ix.accounts[8].pubkey = t.l.b_debt; // liquidator_debt_account
        refuse(
            &mut t,
            &watched,
            "self",
            ix,
            &[&borrower],
            Expect::Ballast(BallastError::LiquidatorObligationIsLiquidated),
        );
        // Unsigned: the liquidator's meta is not a signer.
        let mut ix = t.ix(&liq.pubkey(), &t.own, u64::MAX);
        ix.accounts[0].is_signer = false;
        refuse(
            &mut t,
            &watched,
            "unsigned",
            ix,
            &[],
            Expect::Anchor(ErrorCode::AccountNotSigner),
        );
        // Zero.
        let ix = t.ix(&liq.pubkey(), &t.own, 0);
        refuse(
            &mut t,
            &watched,
            "zero",
            ix,
            &[&liq],
            Expect::Ballast(BallastError::ZeroAmount),
        );
        // Stale collateral oracle.
        t.ctx.warp_seconds(120);
        t.ctx.set_price(&t.l.debt, 1.0, 0.0);
        let ix = t.ix(&liq.pubkey(), &t.own, u64::MAX);
        refuse(
            &mut t,
            &watched,
            "stale",
            ix,
            &[&liq],
            Expect::Ballast(BallastError::OracleStale),
        );
        let sol = t.l.coll;
        t.ctx.set_price(&sol, 18.0, 0.0);
        // A liquidator obligation that owes SOL (against USDC collateral);
        // 10 more SOL deposited first make room under the utilisation cap.
        let (s2, s2_sol) = t.ctx.user_with_tokens(&sol, sol.units(10.0));
        let o_s2 = t.ctx.open_obligation(&s2, &t.l.m.market, 0);
        t.ctx.deposit(&s2, &sol, &o_s2, &s2_sol, sol.units(10.0));
        let (liq2, l2_usdc) = t.ctx.user_with_tokens(&t.l.debt, t.l.debt.units(5_000.0));
        let own2 = t.ctx.open_obligation(&liq2, &t.l.m.market, 0);
        let usdc = t.l.debt;
        t.ctx
            .deposit(&liq2, &usdc, &own2, &l2_usdc, usdc.units(1_000.0));
        let l2_sol = t.ctx.token_account_for(&sol, &liq2.pubkey(), 0);
        t.ctx.borrow(&liq2, &sol, &own2, &l2_sol, 1_000_000);
        let mut ix = t.ix(&liq2.pubkey(), &own2, u64::MAX);
        ix.accounts[8].pubkey = l2_usdc;
        refuse(
            &mut t,
            &watched,
            "loop",
            ix,
            &[&liq2],
            Expect::Ballast(BallastError::SameReserveLoop),
        );
        // Paused: it still completes.
        t.ctx.set_paused(&t.l.m, true);
        let ix = t.ix(&liq.pubkey(), &t.own, u64::MAX);
        t.ctx
            .ok("liquidate_for_shares while paused", &[ix], &[&liq]);
        t.ctx.set_paused(&t.l.m, false);
        // Healthy now? Raise SOL until the obligation is healthy.
        t.ctx.set_price(&sol, 40.0, 0.0);
        let ix = t.ix(&liq.pubkey(), &t.own, u64::MAX);
        refuse(
            &mut t,
            &watched,
            "healthy",
            ix,
            &[&liq],
            Expect::Ballast(BallastError::ObligationHealthy),
        );
    }
}

/// The keeper takes whichever path the chain allows: its liquidation task
/// with a `Liquidator` that has an obligation liquidates the borrower in
/// shares while the SOL vault lacks cash (it would fail
/// `InsufficientLiquidity` in cash); with cash it pays in cash, as the
/// `liquidation_bot` suite shows.
#[test]
fn the_keeper_falls_back_to_shares_when_the_vault_lacks_cash() {
    use ballast_keeper::tasks::liquidation::{liquidator_with_atas, run, Liquidator};
    use std::collections::HashMap;
    let mut t = lent(&TOKEN_PROGRAM_ID);
    let keeper = Liquidator {
        keypair: t.liq.insecure_clone(),
        token_accounts: HashMap::from([
            (t.l.debt.keys.mint, t.l_usdc),
            (t.l.coll.keys.mint, t.l_sol),
        ]),
        obligation: Some(t.own),
    };
    let out = run(&mut t.ctx.chain, &t.l.m.market, &keeper, 10).unwrap();
    assert_eq!(out.failed, vec![], "{out:?}");
    assert_eq!(out.liquidated.len(), 1, "{out:?}");
    assert_eq!(out.liquidated[0].0, t.l.ob);
    assert!(t.ctx.collateral_of(&t.own, &t.l.coll) > 0, "paid in shares");
    assert_eq!(t.ctx.token_balance(&t.l_sol).unwrap(), 0, "no SOL paid out");
    // `liquidator_with_atas` finds the liquidator's obligation 0.
    let found = liquidator_with_atas(&t.ctx.chain, &t.l.m.market, t.liq.insecure_clone()).unwrap();
    assert_eq!(found.obligation, Some(t.own));
}
