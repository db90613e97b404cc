//! Liquidation that always completes (issue 12, liveness half), on the real
//! .so: the insolvent close-out at the extremes of base units, decimals and
//! prices; the liquidation config and interest accrual that must not lock a
//! reserve; the same-reserve loop that could be neither liquidated nor
//! socialised.

use ballast::engine::fx::FxExt;
use ballast_tests::*;

/// A market with a collateral reserve of `coll_dec` decimals at `p0` USD and
/// a $1 debt reserve of `debt_dec` decimals (`test_config`: LTV 75%, LT
/// 80%; `debt_cfg` edits the debt reserve's); a borrower deposits
/// `coll_units` base units of collateral and borrows `borrow` base units (a
/// supplier provides twice that). Returns (ctx, market, coll, debt,
/// borrower's obligation).
fn book(
    tp: &Address,
    (coll_dec, p0, coll_units): (u8, f64, u64),
    (debt_dec, borrow): (u8, u64),
    debt_cfg: impl FnOnce(&mut ballast::state::ReserveConfig),
) -> (TestContext, TestMarket, TestReserve, TestReserve, Address) {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let coll = ctx.add_reserve(&m, tp, coll_dec, p0, test_config([0; 32]));
    let mut cfg = test_config([0; 32]);
    debt_cfg(&mut cfg);
    let debt = ctx.add_reserve(&m, tp, debt_dec, 1.0, cfg);
    let (s, s_debt) = ctx.user_with_tokens(&debt, borrow * 2);
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &debt, &so, &s_debt, borrow * 2);
    let (b, b_coll) = ctx.user_with_tokens(&coll, coll_units);
    let b_debt = ctx.token_account_for(&debt, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &coll, &ob, &b_coll, coll_units);
    ctx.borrow(&b, &debt, &ob, &b_debt, borrow);
    (ctx, m, coll, debt, ob)
}

/// [`book`] with a borrow of 74% of the collateral's value. Returns (ctx,
/// market, coll, debt, obligation, debt borrowed).
fn insolvent_book(
    tp: &Address,
    coll_dec: u8,
    p0: f64,
    coll_units: u64,
) -> (
    TestContext,
    TestMarket,
    TestReserve,
    TestReserve,
    Address,
    u64,
) {
    let value_usd = coll_units as f64 / 10f64.powi(coll_dec as i32) * p0;
    let borrow = (value_usd * 0.74 * 1e6) as u64;
    let (ctx, m, coll, debt, ob) = book(tp, (coll_dec, p0, coll_units), (6, borrow), |_| {});
    (ctx, m, coll, debt, ob, borrow)
}

/// A liquidator holding `amount` of the debt mint and an empty account of
/// the collateral mint: (keypair, debt account, collateral account).
fn liquidator(
    ctx: &mut TestContext,
    debt: &TestReserve,
    coll: &TestReserve,
    amount: u64,
) -> (Keypair, Address, Address) {
    let (liq, l_debt) = ctx.user_with_tokens(debt, amount);
    let l_coll = ctx.token_account_for(coll, &liq.pubkey(), 0);
    (liq, l_debt, l_coll)
}

/// The capped path of `liquidate` (collateral worth less than the repay
/// plus bonus): the whole collateral position is seized for the repay it
/// covers, whatever the magnitudes. Before the fix, the repay was computed
/// as collateral base units x debt base units in I80F48 (max ~6.04e23)
/// before dividing, so the case (29,000 SOL at 9 decimals, $74k of
/// debt at 6 decimals: 2.9e13 x 7.4e10 = 2.1e24) failed with `MathOverflow`.
/// Cases: the SOL market at $3.45 -> $2.07; 10^18 base units of a
/// 9-decimal $0.01 token ($10M); 10 units of a 0-decimal $1M token; 4e15
/// base units of a 12-decimal $1,000 token ($4M).
#[test]
fn insolvent_close_out_at_extreme_magnitudes() {
    // (collateral decimals, initial price, collateral base units)
    let cases: [(u8, f64, u64); 4] = [
        (9, 3.45, 29_000_000_000_000),
        (9, 0.01, 1_000_000_000_000_000_000),
        (0, 1_000_000.0, 10),
        (12, 1_000.0, 4_000_000_000_000_000),
    ];
    for tp in TOKEN_PROGRAMS {
        for (dec, p0, units) in cases {
            let label = format!("decimals {dec}, ${p0}, {units} base units");
            let (mut ctx, _m, coll, debt, ob, borrowed) = insolvent_book(&tp, dec, p0, units);
            // Collateral falls to 60% of its price: worth 0.6 of the
            // original value against 0.74 of debt, insolvent at spot.
            let p1 = p0 * 0.6;
            ctx.set_price(&coll, p1, 0.0);
            ctx.set_price(&debt, 1.0, 0.0);
            let (liq, l_debt, l_coll) = liquidator(&mut ctx, &debt, &coll, borrowed * 2);
            let held = ctx.collateral_of(&ob, &coll);
            let e = ctx.liquidate_ok(&liq, &ob, &debt, &coll, &l_debt, &l_coll, u64::MAX);
            assert_eq!(e.seized, held, "[{label}] the whole position is seized");
            assert!(!ctx.has_collateral(&ob), "[{label}] no collateral left");
            // The repay is what the seized collateral covers at the bonus
            // (5% by default): repay * 1.05 ~= seized value, within one
            // base unit of each plus rounding.
            let seized_usd = e.seized as f64 / 10f64.powi(dec as i32) * p1;
            let repaid_usd = e.repaid as f64 / 1e6;
            let want = seized_usd / (1.0 + e.bonus_bps as f64 / 1e4);
            assert!(
                (repaid_usd - want).abs() <= want * 1e-9 + 2e-6 + p1 / 10f64.powi(dec as i32),
                "[{label}] repaid {repaid_usd} vs {want}"
            );
            assert!(e.repaid < borrowed, "[{label}] bad debt");
            // The rest is written off with the last collateral (issue 12).
            let left = ctx.debt_of(&ob, &debt).to_ceil_u64().unwrap();
            assert_eq!(left, 0, "[{label}] written off");
        }
    }
}

/// With `dust_debt_micro_usd = 0` (accepted by `update_market`), a debt
/// under `1 / close_factor` base units floored its close-factor repay to
/// zero and `liquidate` failed with `ZeroAmount` for ever: 4 base units of
/// a 0-decimal $1 token at close factor 20% allow 0.8. The repay is now at
/// least one base unit; here that one liquidation restores health >= 1.
#[test]
fn a_debt_below_one_over_close_factor_units_is_liquidatable_without_dust() {
    for tp in TOKEN_PROGRAMS {
        // 0.3 of a 9-decimal $20 token ($6, weighted $4.8 at LT 80%)
        // against 4 base units of a 0-decimal $1 token.
        let (mut ctx, m, coll, debt, ob) = book(&tp, (9, 20.0, 300_000_000), (0, 4), |_| {});
        ctx.set_liquidation_config(
            &m,
            ballast::engine::liquidation::LiquidationConfig {
                dust_debt_micro_usd: 0,
                ..ballast::engine::liquidation::LiquidationConfig::SOLEND_LIKE
            },
        );
        // $16.2: weighted collateral $3.888 against $4: health 0.972,
        // above the 0.95 full-liquidation threshold, so the close factor binds.
        ctx.set_price(&coll, 16.2, 0.0);
        ctx.set_price(&debt, 1.0, 0.0);
        let (liq, l_debt, l_coll) = liquidator(&mut ctx, &debt, &coll, 100);
        // Capped at one base unit (the allowance restoring health is
        // larger; `liquidation_bound` covers it).
        let e = ctx.liquidate_ok(&liq, &ob, &debt, &coll, &l_debt, &l_coll, 1);
        assert_eq!(
            e.repaid, 1,
            "one base unit, not floor(0.8) = 0: health {:?}, seized {}",
            e.health_before, e.seized
        );
        assert!(e.seized > 0);
        // Repaying $1 for $1.05 of collateral: $3.81 * 0.8 / $3 = 1.016.
        let h = ctx.engine_health(&ob, ballast::engine::health::Requirement::Maintenance);
        assert!(h.is_satisfied(), "restored to health >= 1");
        let ix = ctx.liquidate_ix(&liq, &ob, &debt, &coll, &l_debt, &l_coll, u64::MAX);
        let err = ctx.fails("liquidate a restored obligation", &[ix], &[&liq]);
        check(
            "restored",
            &err,
            Expect::Ballast(ballast::errors::BallastError::ObligationHealthy),
        );
    }
}

/// Interest accrual after 10 idle years at the maximum rate (1,000% APR:
/// `exp(100)`, beyond I80F48) failed with `MathOverflow`, and since every
/// instruction of the reserve accrues first, even `update_reserve_config`
/// could not rescue it. The index now saturates where the debt reaches
/// `u64::MAX` base units: accrual, the config update and later accruals
/// succeed.
#[test]
fn ten_idle_years_at_the_maximum_rate_do_not_lock_the_reserve() {
    use ballast::engine::rates::{RateCurve, MAX_BORROW_RATE_BPS};
    for tp in TOKEN_PROGRAMS {
        let flat =
            RateCurve::from_points(&[(0, MAX_BORROW_RATE_BPS), (10_000, MAX_BORROW_RATE_BPS)]);
        let (mut ctx, m, _coll, debt, _ob) =
            book(&tp, (9, 20.0, 10_000_000_000), (6, 100_000_000), |c| {
                c.rate_curve = flat
            });
        ctx.warp_seconds(10 * 31_536_000);
        let ix = ix::accrue_interest(&debt.keys.reserve);
        ctx.ok("accrue after 10 idle years", &[ix], &[]);
        let r = ctx.reserve(&debt);
        let borrowed = r.borrow_shares.get() * r.borrow_index.get();
        assert!(
            borrowed <= ballast::engine::fx::fx_u64(u64::MAX)
                && borrowed > ballast::engine::fx::fx_u64(u64::MAX / 2),
            "saturated at u64::MAX base units: {borrowed}"
        );
        ctx.update_config(&m, &debt, |c| {
            c.rate_curve = RateCurve::from_points(&[(0, 0), (10_000, 0)])
        });
        // And accrual goes on (saturated) a year later.
        ctx.warp_seconds(31_536_000);
        let ix = ix::accrue_interest(&debt.keys.reserve);
        ctx.ok("accrue a year later", &[ix], &[]);
    }
}

/// A same-reserve loop (debt and collateral in one reserve) could be neither
/// liquidated (`liquidate` needs two reserves) nor socialised (the obligation
/// holds collateral), so it is refused where it would start: `borrow` from a
/// reserve the obligation holds as collateral, and `deposit` into a reserve
/// it owes, fail with `SameReserveLoop` and change nothing. Before the fix
/// the borrow of 10 SOL against the borrower's own 100 SOL succeeded.
#[test]
fn same_reserve_loops_are_refused_at_borrow_and_deposit() {
    use ballast::errors::BallastError;
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        let mut w = l.accounts();
        w.push(l.coll.keys.insurance_vault);
        // Borrow SOL against SOL.
        let b_sol = ctx.token_account_for(&l.coll, &l.borrower.pubkey(), 0);
        w.push(b_sol);
        let health = ctx.health_accounts(&l.ob, &[&l.coll]);
        let ix = ix::borrow(
            &l.borrower.pubkey(),
            &l.coll.keys,
            &l.ob,
            &b_sol,
            l.coll.units(10.0),
            health,
        );
        let before = ctx.snapshot(&w);
        let err = ctx.fails("borrow where it holds collateral", &[ix], &[&l.borrower]);
        check(
            "borrow loop",
            &err,
            Expect::Ballast(BallastError::SameReserveLoop),
        );
        ctx.assert_unchanged("borrow loop", &before);
        // Deposit USDC into the reserve it owes.
        ctx.borrow(&l.borrower, &l.debt, &l.ob, &l.b_debt, l.debt.units(100.0));
        let ix = ix::deposit(
            &l.borrower.pubkey(),
            &l.debt.keys,
            &l.ob,
            &l.b_debt,
            l.debt.units(50.0),
        );
        let before = ctx.snapshot(&w);
        let err = ctx.fails("deposit where it owes", &[ix], &[&l.borrower]);
        check(
            "deposit loop",
            &err,
            Expect::Ballast(BallastError::SameReserveLoop),
        );
        ctx.assert_unchanged("deposit loop", &before);
        // Other obligations of the same user are not affected: a second
        // obligation may hold USDC collateral.
        let o2 = ctx.open_obligation(&l.borrower, &l.m.market, 1);
        ctx.deposit(&l.borrower, &l.debt, &o2, &l.b_debt, l.debt.units(50.0));
    }
}
