//! Two users over a year on the real .so, under each token program: A
//! supplies 1,000,000 USDC; B deposits 10,000 SOL and borrows 100,000 USDC; a
//! year passes with one accrual; B repays all and withdraws; A withdraws more
//! than supplied. The books are checked at every step, the interest is
//! accounted for to the base unit and the index matches continuous
//! compounding.

use ballast::engine::fx::{fx_u64, Fx, FxExt, FX_ONE};
use ballast::engine::rates::{compound_growth, utilization, SECONDS_PER_YEAR};
use ballast::engine::shares::debt_for_shares;
use ballast_tests::*;

const USDC: u64 = 1_000_000; // base units per USDC
const SOL: u64 = 1_000_000_000; // base units per SOL

fn one_year(token_program: &Address) {
    let mut ctx = TestContext::new();
    let m = ctx.setup_market();
    let sol = ctx.add_reserve(&m, token_program, 9, 20.0, test_config([0; 32]));
    let usdc = ctx.add_reserve(&m, token_program, 6, 1.0, test_config([0; 32]));

    let supplied = 1_000_000 * USDC;
    let collateral = 10_000 * SOL;
    let borrowed = 100_000 * USDC;

    let (a, a_usdc) = ctx.user_with_tokens(&usdc, supplied);
    let oa = ctx.open_obligation(&a, &m.market, 0);
    let (b, b_sol) = ctx.user_with_tokens(&sol, collateral);
    let b_usdc = ctx.token_account_for(&usdc, &b.pubkey(), 0);
    let ob = ctx.open_obligation(&b, &m.market, 0);
    let obligations = [oa, ob];
    let check = |ctx: &TestContext, label: &str| {
        ctx.assert_vault_reconciles(&usdc);
        ctx.assert_vault_reconciles(&sol);
        ctx.assert_books(label, &usdc, &obligations);
        ctx.assert_books(label, &sol, &obligations);
    };
    check(&ctx, "start");

    ctx.deposit(&a, &usdc, &oa, &a_usdc, supplied);
    check(&ctx, "A deposits");
    ctx.deposit(&b, &sol, &ob, &b_sol, collateral);
    check(&ctx, "B deposits");
    ctx.borrow(&b, &usdc, &ob, &b_usdc, borrowed);
    check(&ctx, "B borrows");
    assert_eq!(ctx.token_balance(&b_usdc).unwrap(), borrowed);

    // The rate of the coming period: the curve at the utilisation now.
    let r0 = ctx.reserve(&usdc);
    assert_eq!(r0.borrowed().unwrap(), fx_u64(borrowed));
    assert_eq!(r0.supply().unwrap(), fx_u64(supplied));
    let u = utilization(r0.borrowed().unwrap(), r0.supply().unwrap()).unwrap();
    assert_eq!(u, fx_u64(1) / fx_u64(10) + Fx::DELTA, "0.1 rounded up");
    let rate = test_config([0; 32]).rate_curve.borrow_rate(u).unwrap();
    // 0.5% + 10% / 80% * (8.5% - 0.5%) = 1.5%, rounded up.
    assert!((rate.to_num::<f64>() - 0.015).abs() < 1e-12, "rate {rate}");
    let t0 = r0.last_update_ts;

    // One year, one accrual.
    ctx.warp_seconds(SECONDS_PER_YEAR as i64);
    ctx.set_price(&sol, 20.0, 0.0);
    ctx.set_price(&usdc, 1.0, 0.0);
    let ixs = [
        ix::accrue_interest(&usdc.keys.reserve),
        ix::accrue_interest(&sol.keys.reserve),
    ];
    ctx.ok("accrue_interest", &ixs, &[]);
    check(&ctx, "one year accrued");

    let r1 = ctx.reserve(&usdc);
    assert_eq!(
        r1.last_update_ts,
        t0 + SECONDS_PER_YEAR as i64,
        "one period"
    );
    let index = r1.borrow_index.get();
    // Bit-exact with the engine on the host, and within 1e-9 of exp(rate).
    assert_eq!(
        index,
        FX_ONE
            .mul_ceil(compound_growth(rate, SECONDS_PER_YEAR).unwrap())
            .unwrap()
    );
    let exact = rate.to_num::<f64>().exp();
    let rel = (index.to_num::<f64>() - exact) / exact;
    assert!(
        rel.abs() < 1e-9,
        "index {index} vs e^{rate} = {exact}: {rel:e}"
    );
    assert!(rel > -1e-15, "the index is rounded up: {rel:e}");
    // No borrows of SOL: its index and supply did not move.
    let s1 = ctx.reserve(&sol);
    assert_eq!(s1.borrow_index.get(), FX_ONE);
    assert_eq!(s1.supply().unwrap(), fx_u64(collateral));

    // Interest split: the depositors' supply grew by the interest less the
    // protocol's fee (10%, rounded up).
    let interest_fx = r1.borrowed().unwrap() - fx_u64(borrowed);
    let fees = r1.protocol_fees.get();
    let gain_fx = r1.supply().unwrap() - fx_u64(supplied);
    assert!((interest_fx - fees - gain_fx).abs() <= Fx::DELTA);
    let fee_share = (fees / interest_fx).to_num::<f64>();
    assert!((fee_share - 0.1).abs() < 1e-9, "fee share {fee_share}");

    // B repays everything.
    let ob_state = ctx.obligation(&ob);
    let held = ob_state.positions[ob_state
        .find(&usdc.keys.reserve, ballast::state::PositionKind::Debt)
        .unwrap()]
    .borrow_shares
    .get();
    let debt = debt_for_shares(held, index).unwrap().to_ceil_u64().unwrap();
    assert!(debt > borrowed);
    let extra = debt - borrowed + 10 * USDC;
    ctx.chain.mint_to(&usdc.keys.mint, &b_usdc, extra).unwrap();
    let before = ctx.token_balance(&b_usdc).unwrap();
    ctx.repay(&b, &usdc, &ob, &b_usdc, u64::MAX);
    check(&ctx, "B repays all");
    let paid = before - ctx.token_balance(&b_usdc).unwrap();
    assert_eq!(paid, debt, "repay all pays the debt rounded up");
    assert!(!ctx.obligation(&ob).has_debt());
    let r2 = ctx.reserve(&usdc);
    assert_eq!(r2.borrow_shares.get(), Fx::ZERO);
    assert_eq!(r2.protocol_fees.get(), fees, "no further accrual");
    let interest = paid - borrowed;

    // B takes back exactly the collateral.
    ctx.withdraw(&b, &sol, &ob, &b_sol, u64::MAX);
    check(&ctx, "B withdraws");
    assert_eq!(ctx.token_balance(&b_sol).unwrap(), collateral);

    // A takes back the supply plus the depositors' share of the interest.
    ctx.withdraw(&a, &usdc, &oa, &a_usdc, u64::MAX);
    check(&ctx, "A withdraws");
    let received = ctx.token_balance(&a_usdc).unwrap();
    assert!(received > supplied, "A earned interest");
    let gain = received - supplied;
    // interest = gain + fees to within one base unit (A's payout is floored).
    let diff = fx_u64(interest) - fx_u64(gain) - fees;
    assert!(
        diff >= Fx::ZERO && diff < FX_ONE,
        "interest {interest} vs gain {gain} + fees {fees}: {diff}"
    );

    // What is left in the vault is the protocol's fee plus the dust.
    let r3 = ctx.reserve(&usdc);
    assert_eq!(r3.deposit_shares, 0);
    assert!(fx_u64(r3.available_amount) >= fees);
    assert!(fx_u64(r3.available_amount) - fees < FX_ONE);
    let s3 = ctx.reserve(&sol);
    assert_eq!((s3.deposit_shares, s3.available_amount), (0, 0));
    println!(
        "[scenario] {token_program}: rate {rate}, index {index}, interest {interest}, \
         A gain {gain}, fees {fees}"
    );
}

#[test]
fn one_year_two_users_spl_token() {
    one_year(&TOKEN_PROGRAM_ID);
}

#[test]
fn one_year_two_users_token_2022() {
    one_year(&TOKEN_2022_PROGRAM_ID);
}
