//! `socialize_bad_debt` is not blocked by dust (issue 12), on the real .so:
//! an obligation whose only collateral is worth at most the market's dust
//! value ($1 here), at a usable oracle or behind a stale or too-wide one at
//! its last price, has that dust forfeited (shares burned, the tokens they
//! redeem to the reserve's protocol fees, `DustForfeited`) and its debt
//! written off in the same instruction. The pre-fix program refused any
//! obligation holding collateral (`ObligationHasCollateral`), so 0.5 DUST
//! behind a dead oracle kept a bad debt alive for ever.

use ballast::engine::fx::FxExt;
use ballast::errors::BallastError;
use ballast::events::{BadDebtSocialized, DustForfeited};
use ballast_tests::*;

/// SOL (9 decimals, $20), USDC (6, $1) and DUST (6, $1) reserves; a
/// supplier of 10,000 USDC and one of 100 DUST; a borrower with 100 SOL
/// and `dust_units` of DUST who borrows 1,500 USDC. SOL falls to $12 and a
/// liquidation takes all the SOL with every oracle fresh: the DUST is
/// priced collateral, so nothing is written off and about 358 USDC of debt
/// stays over the DUST. Then 120 s pass (oracles live 60 s): SOL and USDC
/// are re-priced, DUST's oracle is left stale.
struct Book {
    ctx: TestContext,
    usdc: TestReserve,
    dust: TestReserve,
    ob: Address,
    dust_supplier: Address,
}

fn book(tp: &Address, dust_units: u64) -> Book {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, tp, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    let dust = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    let (s, s_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_usdc, usdc.units(10_000.0));
    let (ds, ds_ta) = ctx.user_with_tokens(&dust, dust.units(100.0));
    let dso = ctx.open_obligation(&ds, &m.market, 0);
    ctx.deposit(&ds, &dust, &dso, &ds_ta, dust.units(100.0));
    let borrower = ctx.funded_user(10);
    let ob = ctx.open_obligation(&borrower, &m.market, 0);
    let b_sol = ctx.token_account_for(&sol, &borrower.pubkey(), sol.units(100.0));
    ctx.deposit(&borrower, &sol, &ob, &b_sol, sol.units(100.0));
    let b_dust = ctx.token_account_for(&dust, &borrower.pubkey(), dust_units);
    ctx.deposit(&borrower, &dust, &ob, &b_dust, dust_units);
    let b_usdc = ctx.token_account_for(&usdc, &borrower.pubkey(), 0);
    ctx.borrow(&borrower, &usdc, &ob, &b_usdc, usdc.units(1_500.0));
    ctx.warp_seconds(120);
    for (r, p) in [(&sol, 12.0), (&usdc, 1.0), (&dust, 1.0)] {
        ctx.set_price(r, p, 0.0);
    }
    let (liq, l_usdc) = ctx.user_with_tokens(&usdc, usdc.units(5_000.0));
    let l_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    let e = ctx.liquidate_ok(&liq, &ob, &usdc, &sol, &l_usdc, &l_sol, u64::MAX);
    assert!(e.repaid > 0);
    assert_eq!(ctx.collateral_of(&ob, &sol), 0, "all the SOL taken");
    assert!(ctx.obligation(&ob).has_debt(), "debt left over the DUST");
    ctx.warp_seconds(120);
    ctx.set_price(&sol, 12.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    Book {
        ctx,
        usdc,
        dust,
        ob,
        dust_supplier: dso,
    }
}

/// 0.5 DUST ($0.50) behind a stale oracle, behind a too-wide one (5% >
/// 2%), and at a fresh one: `socialize_bad_debt` forfeits it and writes
/// the USDC debt off in one instruction. The DUST reserve's shares fall by
/// the borrower's, its protocol fees rise by what they redeemed, the other
/// DUST depositor's claim does not fall, and the obligation is empty. The
/// pre-fix .so refused with `ObligationHasCollateral`.
#[test]
fn dust_does_not_block_socialize_bad_debt() {
    for tp in TOKEN_PROGRAMS {
        for (label, tag) in [("stale", 1u8), ("wide", 2), ("fresh", 0)] {
            let mut b = book(&tp, 500_000);
            let dust = b.dust;
            match tag {
                2 => b.ctx.set_price(&dust, 1.0, 0.05),
                0 => b.ctx.set_price(&dust, 1.0, 0.0),
                _ => {}
            }
            let (usdc, ob) = (b.usdc, b.ob);
            let r0 = b.ctx.reserve(&dust);
            let shares = {
                let o = b.ctx.obligation(&ob);
                let i = o
                    .find(&dust.address(), ballast::state::PositionKind::Collateral)
                    .unwrap();
                o.positions[i].deposit_shares
            };
            let claim0 = b.ctx.collateral_of(&b.dust_supplier, &dust);
            let debt0 = b.ctx.debt_of(&ob, &usdc).to_ceil_u64().unwrap();
            let ix = b.ctx.socialize_ix(&ob, &usdc);
            let logs = b
                .ctx
                .ok_logs(&format!("socialize over {label} dust"), &[ix], &[]);
            let f: Vec<DustForfeited> = events(&logs);
            assert_eq!(f.len(), 1, "[{label}]");
            assert_eq!((f[0].obligation, f[0].reserve), (ob, dust.address()));
            assert_eq!(f[0].shares, shares);
            assert_eq!(f[0].oracle_unusable, tag, "[{label}]");
            assert!(
                (499_999..=500_000).contains(&f[0].tokens_to_protocol_fees),
                "[{label}] {}",
                f[0].tokens_to_protocol_fees
            );
            assert!(f[0].value_micro_usd <= 500_001, "[{label}]");
            let w: Vec<BadDebtSocialized> = events(&logs);
            assert_eq!(w.len(), 1);
            assert_eq!(w[0].debt, debt0, "[{label}] the whole debt");
            assert!(!b.ctx.obligation(&ob).has_debt());
            assert!(!b.ctx.has_collateral(&ob), "[{label}] dust forfeited");
            let r1 = b.ctx.reserve(&dust);
            assert_eq!(r1.deposit_shares, r0.deposit_shares - shares);
            let fees = (r1.protocol_fees.get() - r0.protocol_fees.get()).to_num::<f64>();
            assert!(
                (fees - f[0].tokens_to_protocol_fees as f64).abs() < 1.0,
                "[{label}] fees rose {fees}"
            );
            assert!(
                b.ctx.collateral_of(&b.dust_supplier, &dust) >= claim0,
                "[{label}] the other depositor loses nothing"
            );
            b.ctx.assert_vault_reconciles(&dust);
            b.ctx.assert_vault_reconciles(&usdc);
        }
    }
}

/// What still refuses: 2 DUST ($2, above the $1 dust value), stale or
/// fresh (`ObligationHasCollateral`); no remaining accounts
/// (`ObligationHasCollateral`); the DUST reserve read-only
/// (`WriteOffAccountsRequired`); its oracle replaced by USDC's
/// (`ObligationHasCollateral`: not the reserve's feed, so no last price to
/// trust); the reserve replaced by USDC's (`HealthAccountsMismatch`); a
/// missing oracle (`HealthAccountsMismatch`). Nothing changes.
#[test]
fn socialize_over_collateral_still_refuses() {
    for fresh in [false, true] {
        let mut b = book(&TOKEN_PROGRAM_ID, 2_000_000);
        let dust = b.dust;
        if fresh {
            b.ctx.set_price(&dust, 1.0, 0.0);
        }
        let ix = b.ctx.socialize_ix(&b.ob, &b.usdc);
        let err = b.ctx.fails("$2 of DUST", &[ix], &[]);
        check(
            "above dust",
            &err,
            Expect::Ballast(BallastError::ObligationHasCollateral),
        );
    }
    let mut b = book(&TOKEN_PROGRAM_ID, 500_000);
    let (usdc, dust, ob) = (b.usdc, b.dust, b.ob);
    let good = b.ctx.socialize_ix(&ob, &usdc);
    let n = good.accounts.len();
    let mut cases = Vec::new();
    cases.push((
        "no remaining accounts",
        ix::socialize_bad_debt(&ob, &usdc.keys),
        BallastError::ObligationHasCollateral,
    ));
    let mut ro = good.clone();
    ro.accounts[n - 2].is_writable = false;
    cases.push(("read-only", ro, BallastError::WriteOffAccountsRequired));
    let mut oracle = good.clone();
    oracle.accounts[n - 1].pubkey = usdc.keys.oracle;
    cases.push((
        "another oracle",
        oracle,
        BallastError::ObligationHasCollateral,
    ));
    let mut reserve = good.clone();
    reserve.accounts[n - 2].pubkey = usdc.address();
    cases.push((
        "another reserve",
        reserve,
        BallastError::HealthAccountsMismatch,
    ));
    let mut short = good.clone();
    short.accounts.pop();
    cases.push(("no oracle", short, BallastError::HealthAccountsMismatch));
    for (label, ix, want) in cases {
        let err = b.ctx.fails(label, &[ix], &[]);
        check(label, &err, Expect::Ballast(want));
    }
    assert!(b.ctx.obligation(&ob).has_debt());
    assert_eq!(b.ctx.collateral_of(&ob, &dust), 500_000);
    // The good one still goes through.
    b.ctx.ok("socialize", &[good], &[]);
    assert!(!b.ctx.obligation(&ob).has_debt());
}

/// The keeper's bad-debt task resolves the obligation of
/// [`dust_does_not_block_socialize_bad_debt`] (0.5 DUST behind a stale
/// oracle over USDC debt): its dust sweep cannot seize the DUST (a
/// liquidation needs the seized reserve's oracle), so it socialises the
/// USDC debt with the DUST reserve and oracle passed, which forfeits the
/// dust. Before, the task only socialised obligations without collateral
/// and this one stayed in debt for as long as the oracle was stale.
#[test]
fn the_keeper_socialises_over_stale_dust() {
    use ballast_keeper::tasks::bad_debt::run;
    use ballast_keeper::tasks::liquidation::Liquidator;
    use std::collections::HashMap;
    let mut b = book(&TOKEN_PROGRAM_ID, 500_000);
    let (liq, l_usdc) = b.ctx.user_with_tokens(&b.usdc, b.usdc.units(1_000.0));
    let l_dust = b.ctx.token_account_for(&b.dust, &liq.pubkey(), 0);
    let keeper = Liquidator {
        keypair: liq,
        token_accounts: HashMap::from([(b.usdc.keys.mint, l_usdc), (b.dust.keys.mint, l_dust)]),
        obligation: None,
    };
    let market = b.ctx.reserve(&b.usdc).market;
    let out = run(&mut b.ctx.chain, &market, Some(&keeper)).unwrap();
    assert_eq!(out.socialized.len(), 1, "{out:?}");
    assert_eq!(out.socialized[0].obligation, b.ob);
    assert_eq!(out.socialized[0].debt, out.socialized[0].expected_debt);
    assert!(!b.ctx.obligation(&b.ob).has_debt());
    assert!(!b.ctx.has_collateral(&b.ob));
}
