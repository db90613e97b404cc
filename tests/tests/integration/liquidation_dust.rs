//! Dust cannot block liquidation or bad-debt write-off (issue 12), on the
//! real .so: collateral worth at most the market's dust value behind a
//! stale or too-wide oracle is valued at zero instead of failing the
//! liquidation; and the liquidation that takes an obligation's last
//! collateral writes its remaining debt off in the same instruction, so
//! neither a defaulter's one-unit re-deposit nor a depositor's withdrawal
//! can get in between.

use ballast::engine::fx::FxExt;
use ballast::engine::health::Requirement;
use ballast::errors::BallastError;
use ballast::events::BadDebtSocialized;
use ballast_tests::*;

/// SOL (9 decimals, $20), USDC (6, $1) and DUST (6, $1) reserves; a
/// supplier of 10,000 USDC; a borrower with 100 SOL and `dust` base units
/// of DUST who borrows 1,500 USDC. Then 120 s pass (oracles live 60 s) and
/// SOL and USDC are re-priced (SOL at `sol_price`); DUST's oracle stays
/// stale. Returns (ctx, market, sol, usdc, dust, borrower, obligation).
struct Book {
    ctx: TestContext,
    sol: TestReserve,
    usdc: TestReserve,
    dust: TestReserve,
    borrower: Keypair,
    ob: Address,
}

fn book(tp: &Address, dust_units: u64, sol_price: f64) -> Book {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, tp, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    let dust = ctx.add_reserve(&m, tp, 6, 1.0, test_config([0; 32]));
    let (s, s_usdc) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_usdc, usdc.units(10_000.0));
    let borrower = ctx.funded_user(10);
    let ob = ctx.open_obligation(&borrower, &m.market, 0);
    let b_sol = ctx.token_account_for(&sol, &borrower.pubkey(), sol.units(100.0));
    ctx.deposit(&borrower, &sol, &ob, &b_sol, sol.units(100.0));
    if dust_units > 0 {
        let b_dust = ctx.token_account_for(&dust, &borrower.pubkey(), dust_units);
        ctx.deposit(&borrower, &dust, &ob, &b_dust, dust_units);
    }
    let b_usdc = ctx.token_account_for(&usdc, &borrower.pubkey(), 0);
    ctx.borrow(&borrower, &usdc, &ob, &b_usdc, usdc.units(1_500.0));
    ctx.warp_seconds(120);
    ctx.set_price(&sol, sol_price, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    Book {
        ctx,
        sol,
        usdc,
        dust,
        borrower,
        ob,
    }
}

/// A liquidator holding 5,000 USDC and empty SOL and DUST accounts.
fn liquidator(b: &mut Book) -> (Keypair, Address, Address, Address) {
    let (liq, l_usdc) = b.ctx.user_with_tokens(&b.usdc, b.usdc.units(5_000.0));
    let l_sol = b.ctx.token_account_for(&b.sol, &liq.pubkey(), 0);
    let l_dust = b.ctx.token_account_for(&b.dust, &liq.pubkey(), 0);
    (liq, l_usdc, l_sol, l_dust)
}

/// The borrower parked 0.5 DUST ($0.50, under the $1 dust value) in a
/// reserve whose oracle then went stale, and SOL fell to $18 (health
/// 0.96). The liquidation of USDC against SOL completes (the pre-fix .so
/// failed with `OracleStale`, for ever while DUST's oracle stayed stale);
/// seizing the DUST itself still needs its oracle (`OracleStale`). The
/// same with DUST's oracle fresh but too wide (5% > 2%).
#[test]
fn dust_behind_an_unusable_oracle_does_not_block_liquidation() {
    for tp in TOKEN_PROGRAMS {
        for wide in [false, true] {
            let mut b = book(&tp, 500_000, 18.0);
            if wide {
                let dust = b.dust;
                b.ctx.set_price(&dust, 1.0, 0.05);
            }
            let label = if wide { "wide" } else { "stale" };
            let (liq, l_usdc, l_sol, l_dust) = liquidator(&mut b);
            let (usdc, sol, dust, ob) = (b.usdc, b.sol, b.dust, b.ob);
            let e = b
                .ctx
                .liquidate_ok(&liq, &ob, &usdc, &sol, &l_usdc, &l_sol, u64::MAX);
            assert!(e.repaid > 0 && e.seized > 0, "[{label}]");
            assert_eq!(
                b.ctx.collateral_of(&ob, &dust),
                500_000,
                "[{label}] dust left"
            );
            let ix = b
                .ctx
                .liquidate_ix(&liq, &ob, &usdc, &dust, &l_usdc, &l_dust, u64::MAX);
            let err = b.ctx.fails("seize the unpriced dust", &[ix], &[&liq]);
            let want = if wide {
                BallastError::OracleConfidenceTooWide
            } else {
                BallastError::OracleStale
            };
            check(label, &err, Expect::Ballast(want));
        }
    }
}

/// Above the dust value the position's oracle is still needed: 50 DUST
/// ($50) behind the stale oracle fails the liquidation with `OracleStale`,
/// as a debt behind one would.
#[test]
fn a_position_above_the_dust_value_still_needs_its_oracle() {
    for tp in TOKEN_PROGRAMS {
        let mut b = book(&tp, 50_000_000, 18.0);
        let (liq, l_usdc, l_sol, _) = liquidator(&mut b);
        let ix = b
            .ctx
            .liquidate_ix(&liq, &b.ob, &b.usdc, &b.sol, &l_usdc, &l_sol, u64::MAX);
        let err = b.ctx.fails("$50 behind a stale oracle", &[ix], &[&liq]);
        check(
            "above dust",
            &err,
            Expect::Ballast(BallastError::OracleStale),
        );
    }
}

/// The attacker sequence: a borrower turns insolvent (SOL at $12: $1,200
/// of collateral against $1,500 of debt) holding 0.5 DUST behind a stale
/// oracle. One liquidation takes all its SOL and, in the same instruction,
/// writes its remaining USDC debt off, insurance first (100 USDC in the
/// vault), then against the depositors: the obligation owes nothing after
/// it, the USDC reserve's supply fell by the amount written off within
/// that instruction (no depositor could withdraw ahead of it), and the
/// defaulter's one-unit re-deposit afterwards blocks nothing
/// (`socialize_bad_debt` finds `NothingToRepay`). On the pre-fix .so the
/// liquidation failed with `OracleStale`; with fresh oracles it left the
/// debt for a separate `socialize_bad_debt`, which a one-unit deposit
/// blocked with `ObligationHasCollateral`.
#[test]
fn the_last_collateral_and_the_write_off_go_in_one_instruction() {
    for tp in TOKEN_PROGRAMS {
        for stale_dust in [true, false] {
            let label = if stale_dust { "stale dust" } else { "no dust" };
            let mut b = book(&tp, if stale_dust { 500_000 } else { 0 }, 12.0);
            if !stale_dust {
                let dust = b.dust;
                b.ctx.set_price(&dust, 1.0, 0.0);
            }
            let (usdc, sol, dust, ob) = (b.usdc, b.sol, b.dust, b.ob);
            b.ctx
                .mint_to(
                    &usdc.keys.mint,
                    &usdc.keys.insurance_vault,
                    usdc.units(100.0),
                )
                .unwrap();
            let (liq, l_usdc, l_sol, _) = liquidator(&mut b);
            if !stale_dust {
                let h = b.ctx.engine_health(&ob, Requirement::Maintenance);
                assert!(!h.is_satisfied());
            }
            // Interest accrued to now first, so the supply moves by the
            // write-off alone.
            let accrue = ix::accrue_interest(&usdc.keys.reserve);
            b.ctx.ok("accrue", &[accrue], &[]);
            let supply0 = b.ctx.reserve(&usdc).supply().unwrap();
            let debt0 = b.ctx.debt_of(&ob, &usdc).to_ceil_u64().unwrap();
            let ix = b
                .ctx
                .liquidate_ix(&liq, &ob, &usdc, &sol, &l_usdc, &l_sol, u64::MAX);
            let logs = b
                .ctx
                .ok_logs("liquidate the last collateral", &[ix], &[&liq]);
            let w: Vec<BadDebtSocialized> = events(&logs);
            assert_eq!(w.len(), 1, "[{label}] written off in the liquidation");
            let liq_e: Vec<ballast::events::Liquidated> = events(&logs);
            let repaid = liq_e[0].repaid;
            assert_eq!(w[0].debt, debt0 - repaid, "[{label}] the rest of the debt");
            assert_eq!(w[0].covered_by_insurance, usdc.units(100.0));
            assert_eq!(w[0].written_off, w[0].debt - usdc.units(100.0));
            assert!(!b.ctx.obligation(&ob).has_debt(), "[{label}] owes nothing");
            assert_eq!(b.ctx.collateral_of(&ob, &sol), 0);
            b.ctx.assert_vault_reconciles(&usdc);
            // The supply fell by what was written off, in that instruction.
            let supply1 = b.ctx.reserve(&usdc).supply().unwrap();
            let fell = (supply0 - supply1).to_num::<f64>();
            assert!(
                (fell - w[0].written_off as f64).abs() <= 2.0,
                "[{label}] supply fell {fell} vs written off {}",
                w[0].written_off
            );
            // Nothing is pending: `socialize_bad_debt` finds nothing to
            // repay (or, with the dust, the dust position), and the
            // defaulter's one-unit re-deposit blocks nothing.
            let ix = ix::socialize_bad_debt(&ob, &usdc.keys);
            let err = b.ctx.fails("socialise after the write-off", &[ix], &[]);
            let want = if stale_dust {
                BallastError::ObligationHasCollateral
            } else {
                BallastError::NothingToRepay
            };
            check(label, &err, Expect::Ballast(want));
            let borrower = b.borrower.insecure_clone();
            let b_sol = b.ctx.token_account_for(&sol, &borrower.pubkey(), 1);
            b.ctx.deposit(&borrower, &sol, &ob, &b_sol, 1);
            assert!(
                !b.ctx.obligation(&ob).has_debt(),
                "[{label}] still owes nothing"
            );
            let _ = dust;
        }
    }
}

/// The keeper's scan values dust behind an unusable oracle as the program
/// does: its liquidation task liquidates the borrower of
/// [`dust_behind_an_unusable_oracle_does_not_block_liquidation`] (0.5 DUST
/// behind a stale oracle) instead of reporting it blocked by `OracleStale`.
#[test]
fn the_keeper_liquidates_past_dust_behind_a_stale_oracle() {
    use ballast_keeper::tasks::liquidation::{run, Liquidator};
    use std::collections::HashMap;
    let mut b = book(&TOKEN_PROGRAM_ID, 500_000, 18.0);
    let (liq, l_usdc, l_sol, l_dust) = liquidator(&mut b);
    let keeper = Liquidator {
        keypair: liq,
        token_accounts: HashMap::from([
            (b.usdc.keys.mint, l_usdc),
            (b.sol.keys.mint, l_sol),
            (b.dust.keys.mint, l_dust),
        ]),
        obligation: None,
    };
    let market = b.ctx.reserve(&b.sol).market;
    let out = run(&mut b.ctx.chain, &market, &keeper, 10).unwrap();
    assert!(out.blocked.is_empty(), "{out:?}");
    assert_eq!(out.failed, vec![], "{out:?}");
    assert_eq!(out.liquidated.len(), 1, "{out:?}");
    assert_eq!(out.liquidated[0].0, b.ob);
}
