//! `liquidate` on the real .so: the economics against hand computation
//! (Solend's published vector, close factor, full liquidation below the deep
//! threshold and for dust, `max_repay`, the bonus cap that keeps a solvent
//! obligation from getting less healthy, the insolvent close-out, the
//! protocol's share of the bonus), the refusals (healthy, stale or wide
//! oracle, zero amount) with every account left byte-for-byte unchanged,
//! every account substitution, liquidation while paused, and a liquidation
//! made possible by bounded volatility pushes. Every successful liquidation
//! is checked against its `Liquidated` event and the token balances it moved
//! ([`TestContext::liquidate_ok`]), and every vault reconciles after it.

use anchor_lang::error::ErrorCode as AnchorError;
use ballast::engine::fx::{fx_u64, Fx, FxExt};
use ballast::engine::health::Requirement;
use ballast::engine::liquidation::LiquidationConfig;
use ballast::errors::BallastError;
use ballast_tests::*;
use solana_instruction::{AccountMeta, Instruction};

// ---------------------------------------------------------------------------
// Hand computation
// ---------------------------------------------------------------------------

/// A USD price as the Pyth mantissa the harness writes (exponent -8).
fn mantissa(usd: f64) -> u128 {
    (usd * 1e8).round() as u128
}

/// `10^k`.
fn p10(k: u32) -> u128 {
    10u128.pow(k)
}

/// `Fx` fractional bits.
const FRAC: u32 = 48;

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The unweighted unit price of a token as the fraction `num / den`
/// micro-USD per base unit: `mantissa * 10,000 / 10^(decimals + 6)` (Pyth
/// exponent -8, 10^-6 USD values).
fn unit_price(usd: f64, decimals: u8) -> (u128, u128) {
    (mantissa(usd) * 10_000, p10(decimals as u32 + 6))
}

/// The documented liquidation formula for `repay` debt base units: the
/// repaid value `repay * price_d`, times `1 + bonus`, converted to
/// collateral base units at `price_c`; the bonus part is the seize minus the
/// repaid value's worth of collateral, and the protocol's cut is
/// `share` of it. Every step rounds down at the program's fixed-point
/// precision (48 fractional bits), as the module doc states, so a result
/// whose exact value is a whole number may come out one unit lower.
/// Returns (seize, cut) in collateral base units.
fn formula(
    repay: u64,
    (p_d, dec_d): (f64, u8),
    (p_c, dec_c): (f64, u8),
    bonus_bps: u16,
    share_bps: u16,
) -> (u64, u64) {
    let (num_d, den_d) = unit_price(p_d, dec_d);
    let (num_c, den_c) = unit_price(p_c, dec_c);
    let value = ((repay as u128) << FRAC) * num_d / den_d;
    let with_bonus = value * (10_000 + bonus_bps as u128) / 10_000;
    let g = gcd(num_c, den_c);
    let to_tokens = |v: u128| v * (den_c / g) / (num_c / g);
    let seized = to_tokens(with_bonus);
    let bonus_part = seized - to_tokens(value);
    let seize = (seized >> FRAC) as u64;
    let cut = (bonus_part.min((seize as u128) << FRAC) * share_bps as u128 / 10_000) >> FRAC;
    (seize, cut as u64)
}

/// Collateral base units seized for `repay` debt base units with a bonus of
/// `bonus_bps` ([`formula`]).
fn expected_seize(repay: u64, p_d: f64, dec_d: u8, p_c: f64, dec_c: u8, bonus_bps: u16) -> u64 {
    formula(repay, (p_d, dec_d), (p_c, dec_c), bonus_bps, 0).0
}

/// The protocol's cut of the bonus for `repay` ([`formula`]).
fn expected_cut(
    repay: u64,
    p_d: f64,
    dec_d: u8,
    p_c: f64,
    dec_c: u8,
    bonus_bps: u16,
    share_bps: u16,
) -> u64 {
    formula(repay, (p_d, dec_d), (p_c, dec_c), bonus_bps, share_bps).1
}

/// Asserts a seize made for a fractional repay allowance of `repay` whole
/// units plus a fraction: at least the formula's for `repay`, below the
/// formula's for `repay + 1` (USDC debt at $1, SOL collateral at `p_c`).
fn assert_seize_fractional(seized: u64, repay: u64, p_c: f64, bonus_bps: u16) {
    let (lo, hi) = (
        expected_seize(repay, 1.0, 6, p_c, 9, bonus_bps),
        expected_seize(repay + 1, 1.0, 6, p_c, 9, bonus_bps),
    );
    assert!(
        (lo..hi).contains(&seized),
        "seized {seized} not in [{lo}, {hi})"
    );
}

/// The health ratio as `f64`.
fn ratio(h: &ballast::engine::health::Health) -> f64 {
    h.ratio()
        .map(|r| r.to_num::<f64>())
        .unwrap_or(f64::INFINITY)
}

// ---------------------------------------------------------------------------
// Failure checks
// ---------------------------------------------------------------------------

/// Sends `ix` (signed by `signer`), expects `expect` and every account of
/// `watch` byte-for-byte unchanged.
fn refused(
    ctx: &mut TestContext,
    label: &str,
    ix: Instruction,
    signer: &Keypair,
    watch: &[Address],
    expect: Expect,
) {
    let before = ctx.snapshot(watch);
    let err = ctx.fails(label, &[ix], &[signer]);
    check(label, &err, expect);
    ctx.assert_unchanged(label, &before);
}

/// Every account of the [`Lending`] fixture, its insurance vaults and the
/// `extra` ones (the liquidator's token accounts, other obligations...).
fn watch(l: &Lending, extra: &[Address]) -> Vec<Address> {
    let mut v = l.accounts();
    v.extend([l.coll.keys.insurance_vault, l.debt.keys.insurance_vault]);
    v.extend_from_slice(extra);
    v
}

/// A liquidator holding `usdc` whole tokens of the debt mint and an empty
/// account of the collateral mint: (keypair, debt account, collateral account).
fn liquidator(ctx: &mut TestContext, l: &Lending, usdc: f64) -> (Keypair, Address, Address) {
    let (liq, l_debt) = ctx.user_with_tokens(&l.debt, l.debt.units(usdc));
    let l_coll = ctx.token_account_for(&l.coll, &liq.pubkey(), 0);
    (liq, l_debt, l_coll)
}

/// Writes fresh prices (published now, zero confidence) for both reserves.
fn prices(ctx: &mut TestContext, l: &Lending, sol: f64) {
    ctx.set_price(&l.coll, sol, 0.0);
    ctx.set_price(&l.debt, 1.0, 0.0);
}

// ---------------------------------------------------------------------------
// 1. Solend's published vector
// ---------------------------------------------------------------------------

/// Solend's documented example (docs "Liquidations"): an obligation with
/// collateral of 1,000 tokens worth $100 and debt of 800 tokens worth $80
/// whose borrowed value exceeds its unhealthy borrow value; with close factor
/// 20% and bonus 5% a liquidator repays ceil(0.2 * 800) = 160 and withdraws
/// floor(0.2 * 1.05 * 800) = 168.
///
/// Mapping: both mints have 0 decimals and one token is worth $0.10, so the
/// token counts are Solend's. Solend's "unhealthy borrow value" is our
/// Maintenance weighted collateral: `1,000 * $0.10 * LT = $100 * LT`, and its
/// borrowed value is our weighted debt `$80 * BF`. With `LT = 79%, BF = 1`
/// the obligation is unhealthy at health 79/80 = 0.9875, above the 0.95
/// full-liquidation threshold of `SOLEND_LIKE`, so the close factor applies.
/// Ballast caps the bonus at `h * BF / LT - 1`, which for a single
/// collateral and debt pair is `collateral / debt - 1 = 100 / 80 - 1 = 25%`
/// whatever LT and BF are, so the 5% bonus is not capped. The second
/// parameter set (`LT = 85%, BF = 1.075`, health 85/86) shows that a debt
/// borrow factor changes nothing in the amounts. Interest: no time passes,
/// so the borrow index stays 1 and the debt is exactly 800.
#[test]
fn solend_published_vector() {
    for tp_d in TOKEN_PROGRAMS {
        for tp_c in TOKEN_PROGRAMS {
            solend_vector(tp_d, tp_c, 7_900, 10_000);
        }
    }
    solend_vector(TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID, 8_500, 10_750);
}

fn solend_vector(tp_d: Address, tp_c: Address, lt_bps: u16, bf_bps: u32) {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let mut c_cfg = test_config([0; 32]);
    c_cfg.liquidation_threshold_bps = lt_bps;
    let mut d_cfg = test_config([0; 32]);
    d_cfg.borrow_factor_bps = bf_bps;
    let coll = ctx.add_reserve(&m, &tp_c, 0, 0.10, c_cfg);
    // The debt token is cheaper at borrow time so that the Initial
    // requirement lets the 800 tokens out; it then rises to $0.10.
    let debt = ctx.add_reserve(&m, &tp_d, 0, 0.05, d_cfg);
    let (s, s_d) = ctx.user_with_tokens(&debt, 10_000);
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &debt, &so, &s_d, 10_000);
    let (b, b_c) = ctx.user_with_tokens(&coll, 1_000);
    let b_d = ctx.token_account_for(&debt, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &coll, &ob, &b_c, 1_000);
    ctx.borrow(&b, &debt, &ob, &b_d, 800);
    ctx.set_price(&debt, 0.10, 0.0);
    ctx.set_price(&coll, 0.10, 0.0);

    // $100 * LT against $80 * BF, in micro-USD.
    let h = ctx.engine_health(&ob, Requirement::Maintenance);
    assert_eq!(h.collateral, fx_u64(100 * lt_bps as u64 * 100));
    assert_eq!(h.debt, fx_u64(80 * bf_bps as u64 * 100));
    let want_ratio = (100.0 * lt_bps as f64) / (80.0 * bf_bps as f64);
    assert!(want_ratio > 0.95 && want_ratio < 1.0);
    assert!((ratio(&h) - want_ratio).abs() < 1e-12);

    let (liq, l_d) = ctx.user_with_tokens(&debt, 1_000);
    let l_c = ctx.token_account_for(&coll, &liq.pubkey(), 0);
    let e = ctx.liquidate_ok(&liq, &ob, &debt, &coll, &l_d, &l_c, u64::MAX);
    assert_eq!(e.repaid, 160, "ceil(0.2 * 800)");
    assert_eq!(e.seized, 168, "floor(0.2 * 1.05 * 800)");
    assert_eq!(e.to_insurance, 0);
    assert_eq!(e.bonus_bps, 500, "the 5% bonus is not capped");
    assert!((e.health_before.get().to_num::<f64>() - want_ratio).abs() < 1e-12);
    assert_eq!(ctx.token_balance(&l_d).unwrap(), 1_000 - 160);
    assert_eq!(ctx.token_balance(&l_c).unwrap(), 168);
    assert_eq!(ctx.debt_of(&ob, &debt), fx_u64(640));
    assert_eq!(ctx.collateral_of(&ob, &coll), 832);
    ctx.assert_books("after", &coll, &[ob]);
    ctx.assert_books("after", &debt, &[so, ob]);

    // 832 * $0.10 * LT > 640 * $0.10 * BF: healthy again, no second bite.
    let after = ctx.engine_health(&ob, Requirement::Maintenance);
    assert!(after.is_satisfied() && ratio(&after) > want_ratio);
    let ix = ctx.liquidate_ix(&liq, &ob, &debt, &coll, &l_d, &l_c, u64::MAX);
    let w = [
        ob,
        coll.address(),
        debt.address(),
        coll.keys.liquidity_vault,
        debt.keys.liquidity_vault,
        l_d,
        l_c,
    ];
    refused(
        &mut ctx,
        "healthy after one bite",
        ix,
        &liq,
        &w,
        Expect::Ballast(BallastError::ObligationHealthy),
    );
}

// ---------------------------------------------------------------------------
// 2. Close factor, max_repay, full liquidation, dust
// ---------------------------------------------------------------------------

/// 100 SOL against 1,400 USDC, SOL $20 -> $17: health 1,360 / 1,400 =
/// 0.971, so 20% of the debt per liquidation. `max_repay` = 100 USDC caps the
/// first bite below the 280 the close factor allows; the next bite takes 20%
/// of the 1,300 left; at SOL $15 (health 0.897 < 0.95) the whole debt goes.
#[test]
fn close_factor_max_repay_then_full_liquidation() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        prices(&mut ctx, &l, 17.0);
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);

        // max_repay below the close factor's 280 USDC is respected.
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, 100_000_000);
        assert_eq!(e.repaid, 100_000_000);
        assert_eq!(e.bonus_bps, 500);
        // 100 * 1.05 / 17 SOL.
        assert_eq!(e.seized, expected_seize(100_000_000, 1.0, 6, 17.0, 9, 500));
        assert_eq!(e.seized, 6_176_470_588);
        assert_eq!(ctx.debt_of(&l.ob, &l.debt), fx_u64(1_300_000_000));
        let mut coll_left = 100_000_000_000 - e.seized;
        assert_eq!(ctx.collateral_of(&l.ob, &l.coll), coll_left);

        // Health 93.82 * 17 * 0.8 / 1,300 = 0.9816: 20% of 1,300.
        let h = ctx.engine_health(&l.ob, Requirement::Maintenance);
        assert!(ratio(&h) > 0.95 && ratio(&h) < 1.0, "{}", ratio(&h));
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        assert_eq!(e.repaid, 260_000_000, "floor(0.2 * 1,300)");
        assert_eq!(e.seized, expected_seize(260_000_000, 1.0, 6, 17.0, 9, 500));
        assert_eq!(e.seized, 16_058_823_529);
        coll_left -= e.seized;
        assert_eq!(ctx.debt_of(&l.ob, &l.debt), fx_u64(1_040_000_000));
        assert_eq!(ctx.collateral_of(&l.ob, &l.coll), coll_left);

        // SOL $15: health 77.76 * 15 * 0.8 / 1,040 = 0.897 < 0.95: all of it.
        prices(&mut ctx, &l, 15.0);
        let h = ctx.engine_health(&l.ob, Requirement::Maintenance);
        assert!(ratio(&h) < 0.95, "{}", ratio(&h));
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        assert_eq!(e.repaid, 1_040_000_000, "full liquidation");
        assert_eq!(e.bonus_bps, 500);
        // 1,040 * 1.05 / 15 = 72.8 SOL.
        assert_eq!(e.seized, 72_800_000_000);
        coll_left -= e.seized;
        let ob = ctx.obligation(&l.ob);
        assert!(!ob.has_debt(), "the debt position is closed");
        assert_eq!(ctx.collateral_of(&l.ob, &l.coll), coll_left);
        assert_eq!(
            ctx.token_balance(&l_d).unwrap(),
            l.debt.units(10_000.0) - 1_400_000_000
        );
        assert_eq!(
            ctx.token_balance(&l_c).unwrap(),
            100_000_000_000 - coll_left
        );
        ctx.assert_books("after", &l.debt, &[l.so, l.ob]);
        ctx.assert_books("after", &l.coll, &[l.ob]);

        // No debt: nothing to liquidate.
        let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        let w = watch(&l, &[l_d, l_c]);
        refused(
            &mut ctx,
            "no debt left",
            ix,
            &liq,
            &w,
            Expect::Ballast(BallastError::ObligationHealthy),
        );
    }
}

/// A debt worth at most `dust_debt_micro_usd` ($1) is repaid in full even
/// when the health (0.98) is above the full-liquidation threshold; a few
/// base units more and the close factor applies.
#[test]
fn dust_debt_is_liquidated_in_full() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        let mut obligations = vec![];
        for (i, debt) in [1_000_000u64, 1_000_005].into_iter().enumerate() {
            let (b, b_sol) = ctx.user_with_tokens(&l.coll, l.coll.units(0.07));
            let b_usdc = ctx.token_account_for(&l.debt, &b.pubkey(), 0);
            let ob = ctx.open_obligation(&b, &l.m.market, i as u8);
            ctx.deposit(&b, &l.coll, &ob, &b_sol, l.coll.units(0.07));
            ctx.borrow(&b, &l.debt, &ob, &b_usdc, debt);
            obligations.push(ob);
        }
        // 0.07 SOL * $17.5 * 0.8 = $0.98 of weighted collateral.
        prices(&mut ctx, &l, 17.5);
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10.0);

        let h = ctx.engine_health(&obligations[0], Requirement::Maintenance);
        assert!((ratio(&h) - 0.98).abs() < 1e-9);
        let e = ctx.liquidate_ok(
            &liq,
            &obligations[0],
            &l.debt,
            &l.coll,
            &l_d,
            &l_c,
            u64::MAX,
        );
        assert_eq!(e.repaid, 1_000_000, "$1 of debt is dust: repaid whole");
        assert_eq!(e.seized, 60_000_000, "1.05 / 17.5 = 0.06 SOL");
        assert!(!ctx.obligation(&obligations[0]).has_debt());
        assert_eq!(ctx.collateral_of(&obligations[0], &l.coll), 10_000_000);

        let e = ctx.liquidate_ok(
            &liq,
            &obligations[1],
            &l.debt,
            &l.coll,
            &l_d,
            &l_c,
            u64::MAX,
        );
        assert_eq!(e.repaid, 200_001, "0.2 * 1,000,005");
        // 0.200001 * 1.05 / 17.5 = 0.01200006 SOL exactly; 1.05 times the
        // value is not a binary fraction, and each step rounds down, so one
        // lamport less.
        assert_eq!(e.seized, expected_seize(200_001, 1.0, 6, 17.5, 9, 500));
        assert_eq!(e.seized, 12_000_059);
        assert_eq!(ctx.debt_of(&obligations[1], &l.debt), fx_u64(800_004));
    }
}

/// The collateral seized must be priced on the debt the liquidator actually
/// repays. With 0-decimal tokens (debt token $10 a unit, collateral token
/// $0.01 a unit) and a debt of 804 units, the close factor allows 160.8
/// units; the liquidator pays `floor(160.8) = 160` and must receive
/// `floor(160 * $10 * 1.05 / $0.01) = 168,000` collateral units. The program
/// computes `seize_for_repay(allowed)` on the unfloored 160.8 and pays
/// 168,839: 839 units ($8.39) for debt never repaid (an effective bonus of
/// 5.52% instead of 5%), taken from the borrower, whose debt only drops by
/// 160. The module
/// doc promises "the liquidator is never paid more than the formula". The
/// same happens on every debt with accrued interest (fractional) and on a
/// full liquidation of a fractional debt (seize for all of it, repay its
/// floor, the fraction left owing); it is worth up to one debt base unit
/// (times 1 + bonus) per liquidation.
#[test]
fn seize_is_priced_on_the_repay_actually_paid() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let m = ctx.setup_market();
        let coll = ctx.add_reserve(&m, &tp, 0, 0.01, test_config([0; 32]));
        let debt = ctx.add_reserve(&m, &tp, 0, 9.0, test_config([0; 32]));
        let (s, s_d) = ctx.user_with_tokens(&debt, 10_000);
        let so = ctx.open_obligation(&s, &m.market, 0);
        ctx.deposit(&s, &debt, &so, &s_d, 10_000);
        let (b, b_c) = ctx.user_with_tokens(&coll, 1_000_000);
        let b_d = ctx.token_account_for(&debt, &b.pubkey(), 0);
        let ob = ctx.open_obligation(&b, &m.market, 0);
        ctx.deposit(&b, &coll, &ob, &b_c, 1_000_000);
        // $7,236 of debt against $7,500 of LTV-weighted collateral.
        ctx.borrow(&b, &debt, &ob, &b_d, 804);
        ctx.set_price(&debt, 10.0, 0.0);
        ctx.set_price(&coll, 0.01, 0.0);
        // Health $8,000 / $8,040 = 0.995: the close factor applies.
        let h = ctx.engine_health(&ob, Requirement::Maintenance);
        assert!((ratio(&h) - 8_000.0 / 8_040.0).abs() < 1e-12);
        let (liq, l_d) = ctx.user_with_tokens(&debt, 1_000);
        let l_c = ctx.token_account_for(&coll, &liq.pubkey(), 0);
        let e = ctx.liquidate_ok(&liq, &ob, &debt, &coll, &l_d, &l_c, u64::MAX);
        assert_eq!(e.repaid, 160, "floor(0.2 * 804)");
        assert_eq!(e.bonus_bps, 500);
        assert_eq!(
            ctx.debt_of(&ob, &debt),
            fx_u64(644),
            "the debt drops by 160"
        );
        assert_eq!(
            e.seized,
            expected_seize(160, 10.0, 0, 0.01, 0, 500),
            "collateral for the 160 units repaid (168,000), not for 160.8 (168,839)"
        );
        assert_eq!(e.seized, 168_000);
    }
}

// ---------------------------------------------------------------------------
// 3. Refusals and the pause
// ---------------------------------------------------------------------------

/// A healthy obligation, including one exactly at health 1 (debt equal to
/// weighted collateral), is refused with `ObligationHealthy`, nothing moved;
/// a cent below, it is liquidatable.
#[test]
fn healthy_obligation_is_refused() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);
        let w = watch(&l, &[l_d, l_c]);
        // $20: 1,600 vs 1,400; $17.50: 1,400 vs 1,400 (health exactly 1).
        for sol in [20.0, 17.5] {
            prices(&mut ctx, &l, sol);
            let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
            refused(
                &mut ctx,
                &format!("healthy at SOL ${sol}"),
                ix,
                &liq,
                &w,
                Expect::Ballast(BallastError::ObligationHealthy),
            );
        }
        prices(&mut ctx, &l, 17.49);
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        assert_eq!(e.repaid, 280_000_000);
        assert_eq!(e.seized, expected_seize(280_000_000, 1.0, 6, 17.49, 9, 500));
    }
}

/// An unhealthy obligation is never liquidated on a stale price (either
/// reserve's), a too-wide confidence or a partially verified update: each
/// with its oracle error and nothing moved. At exactly the confidence limit
/// (2% of the price) it goes through, at the spot price.
#[test]
fn stale_or_unreliable_oracle_is_refused() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        ctx.set_time(1_700_000_000);
        let l = ctx.lending(&tp);
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        prices(&mut ctx, &l, 17.0);
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);
        let w = watch(&l, &[l_d, l_c, l.coll.keys.oracle, l.debt.keys.oracle]);
        let now = ctx.clock().unix_timestamp;

        // 61 s old with a 60 s limit, on either side.
        for (label, r, usd) in [
            ("stale collateral price", l.coll, 17.0),
            ("stale debt price", l.debt, 1.0),
        ] {
            prices(&mut ctx, &l, 17.0);
            ctx.set_pyth(&r, &PythPrice::usd(r.feed_id, usd, now - 61));
            let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
            refused(
                &mut ctx,
                label,
                ix,
                &liq,
                &w,
                Expect::Ballast(BallastError::OracleStale),
            );
        }
        // Confidence $0.35 > 2% of $17.
        prices(&mut ctx, &l, 17.0);
        ctx.set_price(&l.coll, 17.0, 0.35);
        let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        refused(
            &mut ctx,
            "confidence too wide",
            ix,
            &liq,
            &w,
            Expect::Ballast(BallastError::OracleConfidenceTooWide),
        );
        // Partially verified.
        ctx.set_pyth_partial(&l.coll, &PythPrice::usd(l.coll.feed_id, 17.0, now), 3);
        let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        refused(
            &mut ctx,
            "partially verified",
            ix,
            &liq,
            &w,
            Expect::Ballast(BallastError::OracleNotFullyVerified),
        );
        // At the limits (60 s old, conf $0.34 = 2%) it works; Maintenance
        // uses the spot price, so the amounts are those of a zero-conf price.
        let mut p = PythPrice::usd(l.coll.feed_id, 17.0, now - 60);
        p.conf = 34_000_000;
        p.ema_conf = p.conf;
        ctx.set_pyth(&l.coll, &p);
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        assert_eq!(e.repaid, 280_000_000);
        assert_eq!(e.seized, 17_294_117_647);
    }
}

/// `max_repay = 0` is refused with `ZeroAmount`, nothing moved.
#[test]
fn zero_max_repay_is_refused() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        prices(&mut ctx, &l, 17.0);
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);
        let w = watch(&l, &[l_d, l_c]);
        let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, 0);
        refused(
            &mut ctx,
            "zero max_repay",
            ix,
            &liq,
            &w,
            Expect::Ballast(BallastError::ZeroAmount),
        );
    }
}

/// The pause stops borrowing but not liquidation (documented: liquidation
/// only de-risks).
#[test]
fn liquidation_works_while_paused() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        prices(&mut ctx, &l, 17.0);
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);
        ctx.set_paused(&l.m, true);
        // The pause is in force...
        let health = ctx.health_accounts(&l.ob, &[&l.debt]);
        let ix = ix::borrow(
            &l.borrower.pubkey(),
            &l.debt.keys,
            &l.ob,
            &l.b_debt,
            1,
            health,
        );
        let err = ctx.fails("borrow while paused", &[ix], &[&l.borrower]);
        assert_ballast_err(&err, BallastError::MarketPaused);
        // ...and liquidation still goes through, with the same amounts.
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        assert_eq!(e.repaid, 280_000_000);
        assert_eq!(e.seized, 17_294_117_647);
        ctx.assert_books("paused", &l.debt, &[l.so, l.ob]);
        ctx.assert_books("paused", &l.coll, &[l.ob]);
    }
}

// ---------------------------------------------------------------------------
// 4. Substituted accounts
// ---------------------------------------------------------------------------

/// The [`Lending`] fixture with the borrower at 1,400 USDC of debt and SOL at
/// $17 (liquidatable); a third reserve (`eth`) of the same market in which
/// the borrower holds nothing; a second market `o` listing the same two
/// mints, in which the borrower holds an obligation (`ob_other`, 10 SOL, 100
/// USDC of debt, also liquidatable). A liquidator with 10,000 USDC and empty
/// SOL and ETH accounts, and a stranger's funded USDC and SOL accounts.
struct World {
    tp: Address,
    l: Lending,
    eth: TestReserve,
    o_coll: TestReserve,
    o_debt: TestReserve,
    ob_other: Address,
    liq: Keypair,
    l_d: Address,
    l_c: Address,
    l_eth: Address,
    stranger_d: Address,
    stranger_c: Address,
}

impl World {
    fn new(ctx: &mut TestContext, tp: Address) -> Self {
        let l = ctx.lending(&tp);
        let eth = ctx.add_reserve(&l.m, &tp, 8, 2_000.0, test_config([0; 32]));
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        let o = ctx.setup_market();
        let o_coll = ctx.add_reserve_for_mint(&o, &l.coll.keys.mint, 9, 20.0, test_config([0; 32]));
        let o_debt = ctx.add_reserve_for_mint(&o, &l.debt.keys.mint, 6, 1.0, test_config([0; 32]));
        let (s2, s2_d) = ctx.user_with_tokens(&o_debt, o_debt.units(10_000.0));
        let so2 = ctx.open_obligation(&s2, &o.market, 0);
        ctx.deposit(&s2, &o_debt, &so2, &s2_d, o_debt.units(10_000.0));
        ctx.mint_to(&l.coll.keys.mint, &l.b_coll, l.coll.units(10.0))
            .unwrap();
        let ob_other = ctx.open_obligation(&l.borrower, &o.market, 0);
        ctx.deposit(
            &l.borrower,
            &o_coll,
            &ob_other,
            &l.b_coll,
            o_coll.units(10.0),
        );
        ctx.borrow(
            &l.borrower,
            &o_debt,
            &ob_other,
            &l.b_debt,
            o_debt.units(140.0),
        );
        for r in [&l.coll, &o_coll] {
            ctx.set_price(r, 17.0, 0.0);
        }
        for r in [&l.debt, &o_debt] {
            ctx.set_price(r, 1.0, 0.0);
        }
        ctx.set_price(&eth, 2_000.0, 0.0);
        let (liq, l_d) = ctx.user_with_tokens(&l.debt, l.debt.units(10_000.0));
        let l_c = ctx.token_account_for(&l.coll, &liq.pubkey(), 0);
        let l_eth = ctx.token_account_for(&eth, &liq.pubkey(), 0);
        // Funded, so that paying from it fails on the owner, not the balance.
        ctx.mint_to(
            &l.debt.keys.mint,
            &l.debt.keys.insurance_vault,
            1_000_000_000,
        )
        .unwrap();
        let stranger = Keypair::new().pubkey();
        let stranger_d = ctx.token_account_for(&l.debt, &stranger, l.debt.units(10_000.0));
        let stranger_c = ctx.token_account_for(&l.coll, &stranger, 0);
        World {
            tp,
            l,
            eth,
            o_coll,
            o_debt,
            ob_other,
            liq,
            l_d,
            l_c,
            l_eth,
            stranger_d,
            stranger_c,
        }
    }

    /// Every account a liquidation in either market could touch.
    fn accounts(&self) -> Vec<Address> {
        let mut v = watch(
            &self.l,
            &[
                self.l_d,
                self.l_c,
                self.l_eth,
                self.stranger_d,
                self.stranger_c,
                self.ob_other,
            ],
        );
        for r in [&self.eth, &self.o_coll, &self.o_debt] {
            v.extend([
                r.keys.market,
                r.keys.reserve,
                r.keys.liquidity_vault,
                r.keys.insurance_vault,
            ]);
        }
        v
    }

    /// The liquidation of the borrower's obligation in market `l` as it
    /// should be, before any substitution.
    fn base(&self, ctx: &TestContext) -> Instruction {
        ctx.liquidate_ix(
            &self.liq,
            &self.l.ob,
            &self.l.debt,
            &self.l.coll,
            &self.l_d,
            &self.l_c,
            u64::MAX,
        )
    }
}

/// The position of each account of `liquidate` in the instruction.
mod at {
    pub const LIQUIDATOR: usize = 0;
    pub const MARKET_AUTHORITY: usize = 2;
    pub const OBLIGATION: usize = 3;
    pub const DEBT_MINT: usize = 5;
    pub const DEBT_VAULT: usize = 6;
    pub const LIQUIDATOR_DEBT: usize = 7;
    pub const DEBT_TOKEN_PROGRAM: usize = 8;
    pub const COLL_MINT: usize = 10;
    pub const COLL_VAULT: usize = 11;
    pub const COLL_INSURANCE: usize = 12;
    pub const LIQUIDATOR_COLL: usize = 13;
    pub const COLL_TOKEN_PROGRAM: usize = 14;
    /// The debt reserve's insurance vault (the write-off's cover).
    pub const DEBT_INSURANCE: usize = 15;
    /// First health account.
    pub const HEALTH: usize = 16;
}

/// `ix` with the account at `i` replaced by `with` (same flags).
fn swap(mut ix: Instruction, i: usize, with: Address) -> Instruction {
    ix.accounts[i].pubkey = with;
    ix
}

/// How a substitution case alters the valid liquidation ([`World::base`]).
#[allow(clippy::large_enum_variant)] // A few dozen table rows: size is no concern.
enum Bad {
    /// The account at position `.0` ([`at`]) replaced by `.1` (flags kept).
    Swap(usize, Address),
    /// `liquidate` of the borrower's obligation rebuilt from these debt and
    /// collateral reserve keys and liquidator token accounts (debt,
    /// collateral), with the obligation's health accounts.
    Reserves(ReserveKeys, ReserveKeys, Address, Address),
    /// The health accounts replaced by these.
    Health(Vec<AccountMeta>),
}

impl World {
    /// The liquidation `bad` describes; `health` are the borrower's health
    /// accounts.
    fn bad_ix(&self, base: &Instruction, health: &[AccountMeta], bad: Bad) -> Instruction {
        match bad {
            Bad::Swap(i, with) => swap(base.clone(), i, with),
            Bad::Reserves(debt, coll, l_d, l_c) => ix::liquidate(
                &self.liq.pubkey(),
                &self.l.ob,
                &debt,
                &coll,
                &l_d,
                &l_c,
                u64::MAX,
                health.to_vec(),
            ),
            Bad::Health(h) => {
                let mut ix = base.clone();
                ix.accounts.truncate(at::HEALTH);
                ix.accounts.extend(h);
                ix
            }
        }
    }
}

/// Every substitution against `liquidate` with its exact error (the Ballast
/// error, or the Anchor or token program error that fires first; see each
/// case); `health` are the borrower's health accounts. Forges the copy of
/// the debt reserve one case passes.
fn substitutions(
    ctx: &mut TestContext,
    w: &World,
    health: &[AccountMeta],
) -> Vec<(&'static str, Bad, Expect)> {
    use Bad::{Health, Reserves, Swap};
    let l = &w.l;
    let ram = Expect::Ballast(BallastError::ReserveAccountMismatch);
    let wm = Expect::Ballast(BallastError::WrongMarket);
    let dup = Expect::Anchor(AnchorError::ConstraintDuplicateMutableAccount);
    let ham = Expect::Ballast(BallastError::HealthAccountsMismatch);
    let pnf = Expect::Ballast(BallastError::PositionNotFound);
    let mint = Expect::Anchor(AnchorError::ConstraintTokenMint);
    let owner = Expect::Token(TOKEN_OWNER_MISMATCH);
    let tokens = Expect::Anchor(AnchorError::ConstraintTokenTokenProgram);
    // Another market's reserve of the same mint, passed with this market.
    let o_debt_here = ReserveKeys {
        market: l.m.market,
        ..w.o_debt.keys
    };
    let o_coll_here = ReserveKeys {
        market: l.m.market,
        ..w.o_coll.keys
    };
    let (d, c) = (l.debt.keys, l.coll.keys);
    let mut other_health = health.to_vec();
    other_health[0].pubkey = w.o_coll.address();
    let mut forged_health = health.to_vec();
    forged_health[2].pubkey = ctx.forge_copy(&l.debt.address(), ballast::ID);
    let h = |i: [usize; 4]| Health(i.iter().map(|&i| health[i].clone()).collect());
    let eth_pair = [
        AccountMeta::new_readonly(w.eth.address(), false),
        AccountMeta::new_readonly(w.eth.keys.oracle, false),
    ];
    let other_tp = other_token_program(&w.tp);
    vec![
        // Markets.
        (
            "debt reserve (and vault) of another market",
            Reserves(o_debt_here, c, w.l_d, w.l_c),
            wm,
        ),
        (
            "collateral reserve (and vaults) of another market",
            Reserves(d, o_coll_here, w.l_d, w.l_c),
            wm,
        ),
        (
            "market and both reserves of another market, obligation of this one",
            Reserves(w.o_debt.keys, w.o_coll.keys, w.l_d, w.l_c),
            wm,
        ),
        (
            "obligation of another market",
            Swap(at::OBLIGATION, w.ob_other),
            wm,
        ),
        (
            "market authority of another market",
            Swap(
                at::MARKET_AUTHORITY,
                ix::market_authority(&w.o_debt.keys.market).0,
            ),
            Expect::Anchor(AnchorError::ConstraintSeeds),
        ),
        // Vaults, mints, insurance vault, token programs.
        (
            "debt vault: the collateral reserve's vault (also passed as collateral vault)",
            Swap(at::DEBT_VAULT, c.liquidity_vault),
            dup,
        ),
        (
            "debt vault: same mint, another market",
            Swap(at::DEBT_VAULT, w.o_debt.keys.liquidity_vault),
            ram,
        ),
        (
            // Also passed as `debt_insurance_vault` (mutable), since the
            // write-off in the liquidation (issue 12).
            "debt vault: the debt reserve's insurance vault",
            Swap(at::DEBT_VAULT, d.insurance_vault),
            dup,
        ),
        (
            "debt vault: the third reserve's vault",
            Swap(at::DEBT_VAULT, w.eth.keys.liquidity_vault),
            ram,
        ),
        (
            "collateral vault: the debt reserve's vault (also passed as debt vault)",
            Swap(at::COLL_VAULT, d.liquidity_vault),
            dup,
        ),
        (
            "collateral vault: same mint, another market",
            Swap(at::COLL_VAULT, w.o_coll.keys.liquidity_vault),
            ram,
        ),
        (
            "collateral vault: the collateral reserve's insurance vault (also passed)",
            Swap(at::COLL_VAULT, c.insurance_vault),
            dup,
        ),
        (
            "debt mint: the collateral mint",
            Swap(at::DEBT_MINT, c.mint),
            ram,
        ),
        (
            "collateral mint: the debt mint",
            Swap(at::COLL_MINT, d.mint),
            ram,
        ),
        (
            "debt insurance vault: the collateral reserve's",
            Swap(at::DEBT_INSURANCE, c.insurance_vault),
            dup,
        ),
        (
            "debt insurance vault: same mint, another market",
            Swap(at::DEBT_INSURANCE, w.o_debt.keys.insurance_vault),
            ram,
        ),
        (
            // Also passed as `debt_insurance_vault` (mutable).
            "insurance vault: the debt reserve's",
            Swap(at::COLL_INSURANCE, d.insurance_vault),
            dup,
        ),
        (
            "insurance vault: same mint, another market",
            Swap(at::COLL_INSURANCE, w.o_coll.keys.insurance_vault),
            ram,
        ),
        (
            "insurance vault: a stranger's account of the collateral mint",
            Swap(at::COLL_INSURANCE, w.stranger_c),
            ram,
        ),
        (
            "insurance vault: the collateral liquidity vault (also passed)",
            Swap(at::COLL_INSURANCE, c.liquidity_vault),
            dup,
        ),
        (
            "insurance vault: the liquidator's own collateral account (also passed)",
            Swap(at::COLL_INSURANCE, w.l_c),
            dup,
        ),
        // The liquidator's token account is checked against the token
        // program passed (field order) before the program's address.
        (
            "debt token program: the other one",
            Swap(at::DEBT_TOKEN_PROGRAM, other_tp),
            tokens,
        ),
        (
            "collateral token program: the other one",
            Swap(at::COLL_TOKEN_PROGRAM, other_tp),
            tokens,
        ),
        // Positions.
        (
            "debt reserve in which the obligation owes nothing (the collateral's)",
            Reserves(c, d, w.l_c, w.l_d),
            pnf,
        ),
        (
            "collateral reserve in which the obligation holds nothing",
            Reserves(d, w.eth.keys, w.l_d, w.l_eth),
            pnf,
        ),
        (
            "same reserve as debt and collateral (all its accounts twice)",
            Reserves(d, d, w.l_d, w.l_d),
            dup,
        ),
        (
            "same reserve as debt and collateral (the collateral's vaults)",
            Reserves(
                d,
                ReserveKeys {
                    reserve: d.reserve,
                    ..c
                },
                w.l_d,
                w.l_c,
            ),
            ram,
        ),
        (
            "same reserve as debt and collateral (the debt's vaults)",
            Reserves(
                ReserveKeys {
                    reserve: c.reserve,
                    ..d
                },
                c,
                w.l_d,
                w.l_c,
            ),
            ram,
        ),
        // Health accounts.
        ("no health accounts", Health(vec![]), ham),
        ("health pairs in the wrong order", h([2, 3, 0, 1]), ham),
        (
            "debt reserve's pair missing",
            Health(health[..2].to_vec()),
            ham,
        ),
        (
            "an extra pair",
            Health([health, &eth_pair[..]].concat()),
            ham,
        ),
        (
            "the same mint's reserve of another market in the pair",
            Health(other_health),
            ham,
        ),
        (
            "a forged copy of the debt reserve in the pair",
            Health(forged_health),
            ham,
        ),
        (
            "the collateral's oracle for the debt reserve",
            h([0, 1, 2, 1]),
            Expect::Ballast(BallastError::OracleAccountMismatch),
        ),
        // The liquidator's token accounts and signature.
        (
            "liquidator's debt account of the collateral mint",
            Swap(at::LIQUIDATOR_DEBT, w.stranger_c),
            mint,
        ),
        (
            "liquidator's collateral account of the debt mint",
            Swap(at::LIQUIDATOR_COLL, w.stranger_d),
            mint,
        ),
        (
            "liquidator pays from a stranger's debt account",
            Swap(at::LIQUIDATOR_DEBT, w.stranger_d),
            owner,
        ),
        (
            "liquidator pays from the debt vault",
            Swap(at::LIQUIDATOR_DEBT, d.liquidity_vault),
            dup,
        ),
        (
            // Also passed as `debt_insurance_vault` (mutable).
            "liquidator pays from the debt reserve's insurance vault",
            Swap(at::LIQUIDATOR_DEBT, d.insurance_vault),
            dup,
        ),
    ]
}

/// Every substitution against `liquidate` ([`substitutions`]), under each
/// token program: each refused with its exact error and every account of
/// both markets byte-for-byte unchanged; then an unsigned and an
/// under-funded liquidation; then the real ones go through.
#[test]
fn substituted_accounts_are_refused() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let w = World::new(&mut ctx, tp);
        let (l, liq) = (&w.l, &w.liq);
        let base = w.base(&ctx);
        let health = ctx.health_accounts(&l.ob, &[]);
        let all = w.accounts();
        for (label, bad, expect) in substitutions(&mut ctx, &w, &health) {
            let ix = w.bad_ix(&base, &health, bad);
            refused(&mut ctx, label, ix, liq, &all, expect);
        }

        // The liquidator must sign.
        let mut ix = base.clone();
        ix.accounts[at::LIQUIDATOR].is_signer = false;
        let before = ctx.snapshot(&all);
        let err = ctx.fails("unsigned", &[ix], &[]);
        assert_code(&err, ANCHOR_ACCOUNT_NOT_SIGNER);
        ctx.assert_unchanged("unsigned", &before);

        // A liquidator without the tokens: the token program refuses.
        let (poor, p_d) = ctx.user_with_tokens(&l.debt, l.debt.units(279.0));
        let p_c = ctx.token_account_for(&l.coll, &poor.pubkey(), 0);
        let ix = ctx.liquidate_ix(&poor, &l.ob, &l.debt, &l.coll, &p_d, &p_c, u64::MAX);
        let mut all_p = all.clone();
        all_p.extend([p_d, p_c]);
        refused(
            &mut ctx,
            "liquidator short of tokens",
            ix,
            &poor,
            &all_p,
            Expect::Token(TOKEN_INSUFFICIENT_FUNDS),
        );

        // After all that, the real liquidation goes through, and so does the
        // one in the other market (with that market's accounts).
        let e = ctx.liquidate_ok(liq, &l.ob, &l.debt, &l.coll, &w.l_d, &w.l_c, u64::MAX);
        assert_eq!((e.repaid, e.seized), (280_000_000, 17_294_117_647));
        let e = ctx.liquidate_ok(
            liq,
            &w.ob_other,
            &w.o_debt,
            &w.o_coll,
            &w.l_d,
            &w.l_c,
            u64::MAX,
        );
        // 10 SOL * 17 * 0.8 = 136 < 140: 20% of 140 = 28 USDC, 28 * 1.05 / 17 SOL.
        assert_eq!(e.repaid, 28_000_000);
        assert_eq!(e.seized, expected_seize(28_000_000, 1.0, 6, 17.0, 9, 500));
    }
}

// ---------------------------------------------------------------------------
// 5. Liquidation made possible by volatility pushes
// ---------------------------------------------------------------------------

/// Collateral under the dynamic policy (LT = 1 - (2% + 1.65 sigma
/// sqrt(1/365))); the LT may move at most 1% per push. 100 SOL at $20
/// against 1,600 USDC is healthy at sigma 1.0 (LT 89.36%, health 1.117).
/// Volatility climbs 0.1 per push, every 10 minutes (prices refreshed):
/// each push lowers LT by 0.86-0.87%, and a push never makes the obligation
/// liquidatable when it was healthy with more than one step (1%) of LT to
/// spare. A direct jump to the final sigma is refused. At sigma 2.1 (LT
/// 79.86%) the obligation is liquidatable and is liquidated by the close
/// factor.
#[test]
fn volatility_pushes_tighten_lt_until_liquidatable() {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, dynamic_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_2022_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    let step_bps = 100u16;
    ctx.update_config(&m, &sol, |c| c.risk.max_lt_step_bps = step_bps);
    let lt = |ctx: &TestContext| {
        ctx.reserve(&sol)
            .risk_params(ctx.clock().unix_timestamp)
            .liquidation_threshold_bps
    };
    assert_eq!(lt(&ctx), 8_936);

    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_600.0));
    let (liq, l_d) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let l_c = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    let w = [
        ob,
        sol.address(),
        usdc.address(),
        sol.keys.liquidity_vault,
        usdc.keys.liquidity_vault,
        sol.keys.insurance_vault,
        l_d,
        l_c,
    ];
    let h = ctx.engine_health(&ob, Requirement::Maintenance);
    assert!(h.is_satisfied() && (ratio(&h) - 1.117).abs() < 1e-3);
    let ix = ctx.liquidate_ix(&liq, &ob, &usdc, &sol, &l_d, &l_c, u64::MAX);
    refused(
        &mut ctx,
        "healthy at sigma 1.0",
        ix,
        &liq,
        &w,
        Expect::Ballast(BallastError::ObligationHealthy),
    );

    let next_interval = |ctx: &mut TestContext| {
        ctx.warp_seconds(600);
        ctx.set_price(&sol, 20.0, 0.0);
        ctx.set_price(&usdc, 1.0, 0.0);
    };
    // One push straight to the final volatility would move LT by 9.5%.
    next_interval(&mut ctx);
    let before = ctx.snapshot(&[sol.address()]);
    assert_ballast_err(
        &ctx.push_sigma(&m, &sol, 2.1).unwrap_err(),
        BallastError::LiquidationThresholdStepTooLarge,
    );
    ctx.assert_unchanged("jump to sigma 2.1", &before);

    // 100 SOL at $20 = 2,000,000,000 micro-USD of unweighted collateral.
    let spot_coll = 2_000_000_000u64;
    let mut tenths = 10u32;
    let mut lt_before = lt(&ctx);
    loop {
        let h = ctx.engine_health(&ob, Requirement::Maintenance);
        assert!(h.is_satisfied());
        // Healthy with more than one step to spare: healthy even at LT - step.
        let roomy = fx_u64(spot_coll)
            .mul_div_int_floor((lt_before - step_bps) as i128, 10_000)
            .unwrap()
            >= h.debt;
        if tenths > 10 {
            next_interval(&mut ctx);
        }
        tenths += 1;
        ctx.push_sigma(&m, &sol, tenths as f64 / 10.0).unwrap();
        let lt_after = lt(&ctx);
        assert!(
            lt_after < lt_before && lt_before - lt_after <= step_bps,
            "sigma {tenths}/10: LT {lt_before} -> {lt_after}"
        );
        lt_before = lt_after;
        let h = ctx.engine_health(&ob, Requirement::Maintenance);
        println!(
            "sigma {:.1}: LT {lt_after}, health {:.5}, roomy before: {roomy}",
            tenths as f64 / 10.0,
            ratio(&h)
        );
        if roomy {
            assert!(h.is_satisfied(), "one push liquidated a roomy position");
        }
        if !h.is_satisfied() {
            assert!(!roomy);
            break;
        }
        let ix = ctx.liquidate_ix(&liq, &ob, &usdc, &sol, &l_d, &l_c, u64::MAX);
        refused(
            &mut ctx,
            &format!("still healthy at sigma {tenths}/10"),
            ix,
            &liq,
            &w,
            Expect::Ballast(BallastError::ObligationHealthy),
        );
        assert!(tenths < 30, "never became liquidatable");
    }
    assert_eq!(tenths, 21, "liquidatable from sigma 2.1");
    assert_eq!(lt_before, 7_986);

    // Health 2,000 * 0.7986 / 1,600.0x = 0.998: the close factor applies to
    // the debt with its interest (index grown over the 11 intervals).
    let debt = ctx.debt_of(&ob, &usdc);
    assert!(debt > fx_u64(1_600_000_000));
    let repay = debt
        .mul_div_int_floor(2_000, 10_000)
        .unwrap()
        .to_floor_u64()
        .unwrap();
    let e = ctx.liquidate_ok(&liq, &ob, &usdc, &sol, &l_d, &l_c, u64::MAX);
    assert_eq!(e.repaid, repay);
    assert_eq!(e.bonus_bps, 500);
    // The close factor's share of a debt with interest is fractional: the
    // program prices the seize on it rather than on the whole units repaid
    // (see `seize_is_priced_on_the_repay_actually_paid`), so the seize lies
    // between the formula's for `repay` and for `repay + 1`.
    assert_seize_fractional(e.seized, repay, 20.0, 500);
    let after = ctx.engine_health(&ob, Requirement::Maintenance);
    assert!(after.is_satisfied(), "one 20% bite restores the health");
}

// ---------------------------------------------------------------------------
// 6. The no-worsening property and the insolvent close-out
// ---------------------------------------------------------------------------

/// One collateral-threshold setting: SOL (9 decimals) with `ltv`/`lt`,
/// falling from $20 to `price`; obligations of 100 SOL against each of
/// `debts` (USDC, borrowed at $20), the last insolvent at `price`; plus one
/// of 90 SOL and 100 "ETH" ($2, 6 decimals, LT 60%) against `multi_debt`.
struct Scenario {
    ltv: u16,
    lt: u16,
    price: f64,
    debts: [f64; 5],
    multi_debt: f64,
}

const SCENARIOS: [Scenario; 2] = [
    Scenario {
        ltv: 7_500,
        lt: 8_000,
        price: 14.5,
        // health 0.967 (partial), 0.892, 0.829, 0.8006 (full), insolvent.
        debts: [1_200.0, 1_300.0, 1_400.0, 1_449.0, 1_480.0],
        multi_debt: 1_400.0,
    },
    Scenario {
        ltv: 8_500,
        lt: 9_000,
        price: 16.9,
        // health 0.975, 0.9506 (partial), 0.922, 0.9005 (full), insolvent.
        debts: [1_560.0, 1_600.0, 1_650.0, 1_689.0, 1_700.0],
        multi_debt: 1_600.0,
    },
];

fn bonus_configs() -> [LiquidationConfig; 3] {
    [
        LiquidationConfig::SOLEND_LIKE,
        LiquidationConfig {
            bonus_min_bps: 500,
            bonus_max_bps: 1_500,
            protocol_bonus_share_bps: 1_000,
            ..LiquidationConfig::SOLEND_LIKE
        },
        LiquidationConfig {
            close_factor_bps: 5_000,
            full_liquidation_health_bps: 9_000,
            bonus_min_bps: 200,
            bonus_max_bps: 1_000,
            protocol_bonus_share_bps: 2_500,
            ..LiquidationConfig::SOLEND_LIKE
        },
    ]
}

/// The bonus the documentation gives for Maintenance health `h` (the event's
/// `health_before`): `clamp(min + (1 - h), min, max)`, capped at
/// `h * BF / LT - 1` when solvent; in bps, rounded down.
fn documented_bonus(cfg: &LiquidationConfig, h: Fx, solvent: bool, lt_bps: u16) -> u16 {
    let shortfall = (Fx::ONE - h.min(Fx::ONE))
        .mul_int(10_000)
        .unwrap()
        .to_floor_u64()
        .unwrap();
    let bonus = (cfg.bonus_min_bps as u64 + shortfall)
        .clamp(cfg.bonus_min_bps as u64, cfg.bonus_max_bps as u64);
    if !solvent {
        return bonus as u16;
    }
    let cap = h
        .mul_div_int_floor(10_000 * 10_000, lt_bps as i128)
        .unwrap()
        .to_floor_u64()
        .unwrap()
        .saturating_sub(10_000)
        / 2; // half the neutral bonus: strictly healthier (issue 12)
    bonus.min(cap) as u16
}

/// For every bonus configuration and threshold setting: each solvent
/// unhealthy obligation is liquidated (repeatedly, while unhealthy) and its
/// Maintenance health is never lower after a liquidation than before, with
/// the documented bonus and, for single-collateral obligations, the
/// documented repay and seize (or, above the close factor, a repay that
/// restores health); the insolvent one is closed out (no collateral left)
/// at the uncapped bonus and the rest of its debt written off at once.
#[test]
fn liquidation_never_worsens_a_solvent_obligation() {
    for (k, cfg) in bonus_configs().into_iter().enumerate() {
        for sc in &SCENARIOS {
            let tp = TOKEN_PROGRAMS[k % 2];
            no_worsening(tp, cfg, sc);
        }
    }
}

fn no_worsening(tp: Address, cfg: LiquidationConfig, sc: &Scenario) {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    ctx.set_liquidation_config(&m, cfg);
    let mut sol_cfg = test_config([0; 32]);
    sol_cfg.loan_to_value_bps = sc.ltv;
    sol_cfg.liquidation_threshold_bps = sc.lt;
    let sol = ctx.add_reserve(&m, &tp, 9, 20.0, sol_cfg);
    let usdc = ctx.add_reserve(&m, &tp, 6, 1.0, test_config([0; 32]));
    let mut eth_cfg = test_config([0; 32]);
    eth_cfg.loan_to_value_bps = 5_000;
    eth_cfg.liquidation_threshold_bps = 6_000;
    let eth = ctx.add_reserve(&m, &tp, 6, 2.0, eth_cfg);
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(100_000.0));

    let mut obligations = vec![];
    for (i, debt) in sc
        .debts
        .iter()
        .map(|d| (100.0, 0.0, *d))
        .chain([(90.0, 100.0, sc.multi_debt)])
        .enumerate()
    {
        let (sol_amt, eth_amt, usdc_amt) = debt;
        let b = ctx.funded_user(1);
        let ob = ctx.open_obligation(&b, &m.market, 0);
        let b_sol = ctx.token_account_for(&sol, &b.pubkey(), sol.units(sol_amt));
        ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(sol_amt));
        if eth_amt > 0.0 {
            let b_eth = ctx.token_account_for(&eth, &b.pubkey(), eth.units(eth_amt));
            ctx.deposit(&b, &eth, &ob, &b_eth, eth.units(eth_amt));
        }
        let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
        ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(usdc_amt));
        obligations.push((i, ob, eth_amt > 0.0));
    }
    ctx.set_price(&sol, sc.price, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    ctx.set_price(&eth, 2.0, 0.0);

    let (liq, l_d) = ctx.user_with_tokens(&usdc, usdc.units(100_000.0));
    let l_sol = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    let l_eth = ctx.token_account_for(&eth, &liq.pubkey(), 0);
    // Unweighted spot values in USD.
    let spot = |ctx: &TestContext, ob: &Address| {
        let c = ctx.collateral_of(ob, &sol) as f64 / 1e9 * sc.price
            + ctx.collateral_of(ob, &eth) as f64 / 1e6 * 2.0;
        (c, ctx.debt_of(ob, &usdc).to_num::<f64>() / 1e6)
    };
    for (i, ob, multi) in obligations {
        let label = format!(
            "cfg {:?}/{}-{} LT {} obligation {i}",
            cfg.close_factor_bps, cfg.bonus_min_bps, cfg.bonus_max_bps, sc.lt
        );
        let insolvent = i == sc.debts.len() - 1;
        let mut bites = 0;
        loop {
            let before = ctx.engine_health(&ob, Requirement::Maintenance);
            if before.is_satisfied() || !ctx.has_collateral(&ob) {
                break;
            }
            let (c, d) = spot(&ctx, &ob);
            assert_eq!(c < d, insolvent, "[{label}] spot {c} vs {d}");
            // The lowest-LT collateral first for the two-collateral one.
            let (coll, l_c, lt) = if multi && ctx.collateral_of(&ob, &eth) > 0 {
                (&eth, &l_eth, 6_000)
            } else {
                (&sol, &l_sol, sc.lt)
            };
            let debt_before = ctx.debt_of(&ob, &usdc);
            let coll_before = ctx.collateral_of(&ob, coll);
            let e = ctx.liquidate_ok(&liq, &ob, &usdc, coll, &l_d, l_c, u64::MAX);
            bites += 1;
            let h = e.health_before.get();
            assert_eq!(Some(h), before.ratio(), "[{label}] health_before");
            assert_eq!(
                e.bonus_bps,
                documented_bonus(&cfg, h, !insolvent, lt),
                "[{label}] bonus"
            );
            let after = ctx.engine_health(&ob, Requirement::Maintenance);
            println!(
                "[{label}] bite {bites}: health {:.6} -> {:.6}, bonus {}, repaid {}, seized {}",
                ratio(&before),
                ratio(&after),
                e.bonus_bps,
                e.repaid,
                e.seized
            );
            if insolvent {
                // Closed out: every collateral token taken, the rest of the
                // debt written off in the same instruction (issue 12;
                // `liquidate_ok` checks its insurance cover).
                assert_eq!(e.seized, coll_before, "[{label}] whole position");
                assert!(!ctx.has_collateral(&ob), "[{label}] no collateral left");
                assert!(debt_before > fx_u64(e.repaid), "[{label}] bad debt");
                let left = ctx.debt_of(&ob, &usdc);
                assert_eq!(left, Fx::ZERO, "[{label}] written off");
                // The repay the collateral pays for at the uncapped bonus:
                // coll * price / (1 + bonus), to the base unit.
                let want = (coll_before as u128 * mantissa(sc.price) * 10_000 * p10(8))
                    / (mantissa(1.0) * (10_000 + e.bonus_bps as u128) * p10(11));
                // The capped repay is rounded up (the borrower's favour).
                assert!(
                    e.repaid as u128 == want || e.repaid as u128 == want + 1,
                    "[{label}] repaid {} vs {want}",
                    e.repaid
                );
                // Nothing more to take: no debt either (written off).
                let ix = ctx.liquidate_ix(&liq, &ob, &usdc, coll, &l_d, l_c, u64::MAX);
                let w = [ob, usdc.address(), sol.address(), l_d, *l_c];
                refused(
                    &mut ctx,
                    &format!("{label}: no collateral left"),
                    ix,
                    &liq,
                    &w,
                    Expect::Ballast(BallastError::ObligationHealthy),
                );
                break;
            }
            assert!(
                health_not_worse(&before, &after),
                "[{label}] health {before:?} -> {after:?}"
            );
            if !multi {
                // Below the deep threshold, or dust (one USDC base unit is
                // one micro-USD at $1).
                let deep =
                    ballast::engine::fx::fx_bps_floor(cfg.full_liquidation_health_bps as u64)
                        .unwrap();
                let full = h < deep || debt_before <= fx_u64(cfg.dust_debt_micro_usd);
                let repay = if full {
                    debt_before.to_ceil_u64().unwrap()
                } else {
                    debt_before
                        .mul_div_int_floor(cfg.close_factor_bps as i128, 10_000)
                        .unwrap()
                        .to_floor_u64()
                        .unwrap()
                };
                // The allowance is at least the close factor's; above it
                // only as far as restoring health takes (issue 12), after
                // which the obligation is healthy.
                assert!(e.repaid >= repay, "[{label}] repay (full: {full})");
                if e.repaid > repay {
                    let now = ctx.engine_health(&ob, Requirement::Maintenance);
                    assert!(now.is_satisfied(), "[{label}] restored");
                    continue;
                }
                let allowance = if full {
                    debt_before
                } else {
                    debt_before
                        .mul_div_int_floor(cfg.close_factor_bps as i128, 10_000)
                        .unwrap()
                };
                if allowance.frac() == Fx::ZERO {
                    assert_eq!(
                        e.seized,
                        expected_seize(repay, 1.0, 6, sc.price, 9, e.bonus_bps),
                        "[{label}] seize"
                    );
                    assert_eq!(
                        e.to_insurance,
                        expected_cut(
                            repay,
                            1.0,
                            6,
                            sc.price,
                            9,
                            e.bonus_bps,
                            cfg.protocol_bonus_share_bps
                        ),
                        "[{label}] protocol cut"
                    );
                } else {
                    // See `seize_is_priced_on_the_repay_actually_paid`.
                    assert_seize_fractional(e.seized, repay, sc.price, e.bonus_bps);
                    let cut = |r| {
                        expected_cut(
                            r,
                            1.0,
                            6,
                            sc.price,
                            9,
                            e.bonus_bps,
                            cfg.protocol_bonus_share_bps,
                        )
                    };
                    assert!((cut(repay)..=cut(repay + 1)).contains(&e.to_insurance));
                }
            }
            // Each liquidation strictly improves health and the allowance
            // restores it: a few bites at most.
            assert!(bites < 60, "[{label}] never became healthy");
        }
        assert!(bites > 0, "[{label}] was liquidatable");
    }
    ctx.assert_vault_reconciles(&eth);
}

// ---------------------------------------------------------------------------
// 7. Protocol share of the bonus
// ---------------------------------------------------------------------------

/// With `protocol_bonus_share_bps = 1,000` the collateral reserve's insurance
/// vault receives exactly floor(10% of the bonus part) of each liquidation
/// and the liquidator the rest; the `Liquidated` event gives the same
/// amounts as the token balances. 280 USDC repaid at SOL $17: with a 5%
/// bonus the bonus part is 280 * 0.05 / 17 = 0.8235294117 SOL; with the
/// 5-15% range the bonus is 5% + (1 - 0.9714) = 7.85%.
#[test]
fn protocol_share_goes_to_the_insurance_vault() {
    let configs = [
        (
            LiquidationConfig {
                protocol_bonus_share_bps: 1_000,
                ..LiquidationConfig::SOLEND_LIKE
            },
            500u16,
            82_352_941u64,
        ),
        (
            LiquidationConfig {
                bonus_min_bps: 500,
                bonus_max_bps: 1_500,
                protocol_bonus_share_bps: 1_000,
                ..LiquidationConfig::SOLEND_LIKE
            },
            785,
            129_294_117,
        ),
    ];
    for tp in TOKEN_PROGRAMS {
        for (cfg, bonus, cut) in configs {
            let mut ctx = TestContext::new();
            let l = ctx.lending(&tp);
            ctx.set_liquidation_config(&l.m, cfg);
            ctx.borrow(
                &l.borrower,
                &l.debt,
                &l.ob,
                &l.b_debt,
                l.debt.units(1_400.0),
            );
            prices(&mut ctx, &l, 17.0);
            let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);
            // The close factor's 20% (the allowance restoring health is
            // larger; `liquidation_bound` covers it).
            let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, 280_000_000);
            assert_eq!(e.repaid, 280_000_000);
            assert_eq!(e.bonus_bps, bonus);
            let seized = expected_seize(280_000_000, 1.0, 6, 17.0, 9, bonus);
            assert_eq!(e.seized, seized);
            assert_eq!(
                cut,
                expected_cut(280_000_000, 1.0, 6, 17.0, 9, bonus, 1_000)
            );
            assert_eq!(e.to_insurance, cut);
            assert_eq!(
                ctx.token_balance(&l.coll.keys.insurance_vault).unwrap(),
                cut
            );
            assert_eq!(ctx.token_balance(&l_c).unwrap(), seized - cut);
            assert_eq!(
                ctx.token_balance(&l.debt.keys.insurance_vault).unwrap(),
                0,
                "the debt side's insurance gets nothing"
            );
            ctx.assert_books("after", &l.coll, &[l.ob]);
            ctx.assert_books("after", &l.debt, &[l.so, l.ob]);

            // SOL $16.5: unhealthy again (health 0.97); a second bite adds
            // its own cut.
            prices(&mut ctx, &l, 16.5);
            let e2 = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, 224_000_000);
            assert_eq!(e2.repaid, 224_000_000, "20% of 1,120");
            assert_eq!(
                e2.seized,
                expected_seize(224_000_000, 1.0, 6, 16.5, 9, e2.bonus_bps)
            );
            assert_eq!(
                e2.to_insurance,
                expected_cut(224_000_000, 1.0, 6, 16.5, 9, e2.bonus_bps, 1_000)
            );
            assert_eq!(
                ctx.token_balance(&l.coll.keys.insurance_vault).unwrap(),
                cut + e2.to_insurance
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Further probes
// ---------------------------------------------------------------------------

/// A silent risk keeper no longer moves the liquidation threshold in one
/// step. This test asserted the cliff (issue 12): 2 h and 1 s without a push
/// made the reserve use its most conservative values (LT 89.36% -> 45%) and
/// an obligation at health 1.117 was liquidated in full with prices
/// unchanged. Now LT decays by at most the per-push step per
/// `min_update_interval` of silence past `max_age`, so the obligation stays
/// healthy and `liquidate` refuses it; a fresh push restores the pushed LT.
#[test]
fn stale_volatility_decays_instead_of_dropping_lt_in_one_step() {
    let mut ctx = TestContext::new();
    ctx.set_time(1_700_000_000);
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 9, 20.0, dynamic_config([0; 32]));
    let usdc = ctx.add_reserve(&m, &TOKEN_PROGRAM_ID, 6, 1.0, test_config([0; 32]));
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    ctx.update_config(&m, &sol, |c| c.risk.max_lt_step_bps = 100);
    let (s, s_ta) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let so = ctx.open_obligation(&s, &m.market, 0);
    ctx.deposit(&s, &usdc, &so, &s_ta, usdc.units(10_000.0));
    let (b, b_sol) = ctx.user_with_tokens(&sol, sol.units(100.0));
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    ctx.deposit(&b, &sol, &ob, &b_sol, sol.units(100.0));
    ctx.borrow(&b, &usdc, &ob, &b_usdc, usdc.units(1_600.0));
    let h = ctx.engine_health(&ob, Requirement::Maintenance);
    assert!((ratio(&h) - 1.117).abs() < 1e-3);

    // Two hours and a second without a push; prices unchanged. Before the
    // decay fix LT fell 8,936 -> 4,500 here at once (44 steps of the 100 bps
    // bound) and this obligation (health 1.117) was liquidated in full.
    ctx.warp_seconds(7_201);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let now = ctx.clock().unix_timestamp;
    let lt = ctx.reserve(&sol).risk_params(now).liquidation_threshold_bps;
    assert!(
        (8_836..=8_936).contains(&lt),
        "at most one 100 bps step in the first interval of silence, not the cliff: {lt}"
    );
    let h = ctx.engine_health(&ob, Requirement::Maintenance);
    assert!(ratio(&h) > 1.0, "{}", ratio(&h));
    let (liq, l_d) = ctx.user_with_tokens(&usdc, usdc.units(10_000.0));
    let l_c = ctx.token_account_for(&sol, &liq.pubkey(), 0);
    let before = ctx.debt_of(&ob, &usdc);
    let ix = ctx.liquidate_ix(&liq, &ob, &usdc, &sol, &l_d, &l_c, u64::MAX);
    let err = ctx.fails("stale but decaying", &[ix], &[&liq]);
    check(
        "stale but decaying",
        &err,
        Expect::Ballast(BallastError::ObligationHealthy),
    );
    assert_eq!(ctx.debt_of(&ob, &usdc), before, "nothing repaid");

    // The keeper comes back: one push restores the pushed values.
    ctx.push_sigma(&m, &sol, 1.0).unwrap();
    let now = ctx.clock().unix_timestamp;
    assert_eq!(
        ctx.reserve(&sol).risk_params(now).liquidation_threshold_bps,
        8_936
    );
}

/// The collateral is paid out of the collateral reserve's liquidity vault:
/// when other borrowers have drawn that reserve down to its maximum
/// utilisation, a liquidation whose seize exceeds the liquid tokens is
/// refused with `InsufficientLiquidity` (nothing moved), and only a smaller
/// `max_repay` goes through. A liquidity risk of the design (Solend pays
/// collateral in cTokens instead), reported as a doubt.
#[test]
fn collateral_vault_liquidity_bounds_the_seize() {
    for tp in TOKEN_PROGRAMS {
        let mut ctx = TestContext::new();
        let l = ctx.lending(&tp);
        // Another user borrows 94 of the 100 SOL (max utilisation 95%)
        // against USDC.
        let (x, x_usdc) = ctx.user_with_tokens(&l.debt, l.debt.units(5_000.0));
        let x_sol = ctx.token_account_for(&l.coll, &x.pubkey(), 0);
        let xo = ctx.open_obligation(&x, &l.m.market, 0);
        ctx.deposit(&x, &l.debt, &xo, &x_usdc, l.debt.units(5_000.0));
        ctx.borrow(&x, &l.coll, &xo, &x_sol, l.coll.units(94.0));
        ctx.borrow(
            &l.borrower,
            &l.debt,
            &l.ob,
            &l.b_debt,
            l.debt.units(1_400.0),
        );
        prices(&mut ctx, &l, 17.0);
        assert_eq!(ctx.reserve(&l.coll).available_amount, l.coll.units(6.0));
        let (liq, l_d, l_c) = liquidator(&mut ctx, &l, 10_000.0);
        let w = watch(&l, &[l_d, l_c, xo]);
        // The close factor's 280 USDC would take 17.29 SOL.
        let ix = ctx.liquidate_ix(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, u64::MAX);
        refused(
            &mut ctx,
            "seize above the vault's liquid tokens",
            ix,
            &liq,
            &w,
            Expect::Ballast(BallastError::InsufficientLiquidity),
        );
        // 80 USDC takes 80 * 1.05 / 17 = 4.94 SOL: it fits; then 1.06 SOL
        // is left.
        let e = ctx.liquidate_ok(&liq, &l.ob, &l.debt, &l.coll, &l_d, &l_c, 80_000_000);
        assert_eq!(e.repaid, 80_000_000);
        assert_eq!(e.seized, expected_seize(80_000_000, 1.0, 6, 17.0, 9, 500));
        assert_eq!(
            ctx.reserve(&l.coll).available_amount,
            l.coll.units(6.0) - e.seized
        );
    }
}
