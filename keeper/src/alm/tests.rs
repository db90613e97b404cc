//! Unit tests of the ALM math against closed forms and hand values.

use super::analysis::*;
use super::book::*;
use super::curve::*;
use super::irrbb::*;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn item(side: Side, amount: f64, rate: f64, repricing: Repricing, can_run: bool) -> AlmItem {
    AlmItem {
        label: "x".into(),
        side,
        amount_usd: amount,
        rate,
        repricing,
        can_run,
    }
}

fn book(items: Vec<AlmItem>, curve: ZeroCurve) -> AlmBook {
    AlmBook {
        label: "test".into(),
        items,
        curve,
        outside_capital_usd: 0.0,
        deposit_beta: 1.0,
    }
}

/// A zero-coupon bond of face `face` maturing in `days`, held as an asset
/// (valued at its price on `curve`).
fn bond(face: f64, days: f64, curve: &ZeroCurve) -> AlmItem {
    let t = days / DAYS_PER_YEAR;
    item(
        Side::Asset,
        face * curve.df(t),
        curve.zero(t),
        Repricing::Fixed {
            face_usd: face,
            maturity_days: days,
        },
        false,
    )
}

/// A parallel-only calibration of `delta`, no floor.
fn parallel(delta: f64) -> Calibration {
    Calibration {
        name: "test".into(),
        parallel: delta,
        short: 0.0,
        long: 0.0,
        x_years: 1.0,
        floor: None,
        deposit_beta: Some(1.0),
    }
}

fn hand_curve() -> ZeroCurve {
    ZeroCurve::new(&[(7.0, 0.04), (30.0, 0.05), (90.0, 0.06)]).unwrap()
}

#[test]
fn forward_rates_match_the_hand_computed_curve() {
    let c = hand_curve();
    let y = |d: f64| d / DAYS_PER_YEAR;
    // f(0, 7) is the 7-day zero rate.
    assert!(close(c.forward(0.0, y(7.0)), 0.04, 1e-12));
    // f(7, 30) = (0.05 * 30 - 0.04 * 7) / 23 = 1.22 / 23.
    assert!(close(
        c.forward(y(7.0), y(30.0)),
        0.053_043_478_260_869_57,
        1e-12
    ));
    // f(30, 90) = (0.06 * 90 - 0.05 * 30) / 60 = 0.065.
    assert!(close(c.forward(y(30.0), y(90.0)), 0.065, 1e-12));
    // Linear in r t between knots: r(60) t(60) = (1.5 + 3.9 / 2) / 365,
    // r(60) = 3.45 / 60 = 5.75%; the forward is constant on the segment.
    assert!(close(c.zero(y(60.0)), 0.0575, 1e-12));
    assert!(close(c.forward(y(30.0), y(60.0)), 0.065, 1e-12));
    assert!(close(c.forward(y(60.0), y(90.0)), 0.065, 1e-12));
    // Flat outside the knots.
    assert!(close(c.zero(y(1.0)), 0.04, 1e-15));
    assert!(close(c.zero(1.0), 0.06, 1e-15));
    assert!(close(c.forward(y(90.0), 1.0), 0.06, 1e-12));
    // The discount factor compounds the forwards: DF(90) = DF(30) exp(-f 60/365).
    assert!(close(
        c.df(y(90.0)),
        c.df(y(30.0)) * (-0.065 * y(60.0)).exp(),
        1e-14
    ));
}

#[test]
fn bad_curves_are_refused_with_the_reason() {
    assert_eq!(ZeroCurve::new(&[]), Err(CurveError::Empty));
    assert_eq!(
        ZeroCurve::new(&[(30.0, 0.05), (7.0, 0.04)]),
        Err(CurveError::Tenors(7.0, 30.0))
    );
    assert_eq!(
        ZeroCurve::new(&[(0.0, 0.05)]),
        Err(CurveError::Tenors(0.0, 0.0))
    );
    assert_eq!(
        ZeroCurve::new(&[(7.0, f64::NAN)]),
        Err(CurveError::Rate(7.0))
    );
}

#[test]
fn a_zero_coupon_bond_is_priced_at_exp_minus_r_t() {
    let c = hand_curve();
    for (days, r) in [(7.0, 0.04), (30.0, 0.05), (90.0, 0.06), (60.0, 0.0575)] {
        let b = bond(1_000_000.0, days, &c);
        let want = 1_000_000.0 * (-r * days / DAYS_PER_YEAR).exp();
        assert!(
            close(b.pv(&c), want, 1e-6),
            "{days} d: {} vs {want}",
            b.pv(&c)
        );
    }
}

/// ΔEVE of a one-bond book under a parallel shock `d` against its
/// duration: exactly `PV (exp(-T d) - 1)`, so the first-order estimate
/// `-D_mod PV d` misses by between `PV (T^2 d^2 / 2 - T^3 d^3 / 6)` and
/// `PV T^2 d^2 / 2` (d > 0), and the convexity-corrected
/// `-D PV d + C PV d^2 / 2` by at most `PV T^3 d^3 / 6`.
#[test]
fn delta_eve_of_a_one_bond_book_matches_its_duration() {
    for (days, rate, d) in [
        (90.0, 0.05, 0.02),
        (5.0 * 365.0, 0.04, 0.02),
        (30.0, 0.1, 0.06),
    ] {
        let curve = ZeroCurve::flat(rate);
        let b = book(vec![bond(1_000_000.0, days, &curve)], curve);
        let t = days / DAYS_PER_YEAR;
        let dur = durations(&b);
        let a = dur.assets;
        assert!(close(a.macaulay, t, 1e-12), "Macaulay = maturity");
        assert!(
            close(a.modified, t, 1e-6 * t),
            "continuous: modified = Macaulay"
        );
        assert!(close(a.convexity, t * t, 1e-12));
        assert!(close(dur.gap, a.modified, 1e-15), "no liabilities");
        let r = scenario(&b, &parallel(d), Scenario::ParallelUp, 30.0, a.pv);
        let exact = a.pv * ((-t * d).exp() - 1.0);
        assert!(
            close(r.delta_eve, exact, 1e-6),
            "{} vs {exact}",
            r.delta_eve
        );
        let first = -a.modified * a.pv * d;
        let miss = r.delta_eve - first;
        let hi = a.pv * t * t * d * d / 2.0;
        let lo = hi - a.pv * t.powi(3) * d.powi(3) / 6.0;
        assert!(
            miss <= hi * 1.001 && miss >= lo * 0.999,
            "{days} d: {miss} not in [{lo}, {hi}]"
        );
        let second = first + a.convexity * a.pv * d * d / 2.0;
        assert!(
            (r.delta_eve - second).abs() <= a.pv * t.powi(3) * d.powi(3) / 6.0 * 1.001 + 1e-6,
            "{days} d: convexity-corrected {second} vs {}",
            r.delta_eve
        );
        // And the down shock mirrors it to first order.
        let down = scenario(&b, &parallel(d), Scenario::ParallelDown, 30.0, a.pv);
        assert!(close(down.delta_eve, a.pv * ((t * d).exp() - 1.0), 1e-6));
    }
}

#[test]
fn a_floating_only_book_has_no_eve_risk_and_nii_proportional_to_its_gap() {
    let (a, l) = (1_000_000.0, 900_000.0);
    let b = book(
        vec![
            item(Side::Asset, a, 0.08, Repricing::Floating, false),
            item(Side::Asset, 50_000.0, 0.0, Repricing::NonSensitive, false),
            item(Side::Liability, l, 0.05, Repricing::Floating, true),
        ],
        ZeroCurve::flat(0.08),
    );
    let cal = Calibration::crypto();
    let h = 30.0;
    let after = (h - 1.0) / DAYS_PER_YEAR;
    let eve = durations(&b);
    for s in Scenario::ALL {
        let r = scenario(&b, &cal, s, h, eve.assets.pv - eve.liabilities.pv);
        // Everything reprices within a day: |ΔEVE| <= (A + L) * 1 day * |Δ|.
        let bound = (a + l) / DAYS_PER_YEAR * 0.1;
        assert!(r.delta_eve.abs() < bound, "{s:?}: {}", r.delta_eve);
        if s == Scenario::ParallelUp {
            // ΔNII = Δ * (A - L) * (H - 1 d).
            assert!(
                close(r.delta_nii, 0.06 * (a - l) * after, 1e-6),
                "{}",
                r.delta_nii
            );
        }
        if s == Scenario::ParallelDown {
            // Floored at zero: the asset loses 6%, the deposit only its 5%.
            let want = (-0.06 * a + 0.05 * l) * after;
            assert!(close(r.delta_nii, want, 1e-6), "{} vs {want}", r.delta_nii);
        }
    }
    // Twice the gap, twice ΔNII (parallel up, no floor binding).
    let b2 = book(
        vec![
            item(Side::Asset, a, 0.08, Repricing::Floating, false),
            item(
                Side::Liability,
                a - 2.0 * (a - l),
                0.05,
                Repricing::Floating,
                true,
            ),
        ],
        ZeroCurve::flat(0.08),
    );
    let r1 = scenario(&b, &cal, Scenario::ParallelUp, h, 1.0);
    let r2 = scenario(&b2, &cal, Scenario::ParallelUp, h, 1.0);
    assert!(close(r2.delta_nii, 2.0 * r1.delta_nii, 1e-6));
    // A book with no gap has none.
    let flat = book(
        vec![
            item(Side::Asset, a, 0.08, Repricing::Floating, false),
            item(Side::Liability, a, 0.05, Repricing::Floating, true),
        ],
        ZeroCurve::flat(0.08),
    );
    assert!(
        scenario(&flat, &cal, Scenario::ParallelUp, h, 1.0)
            .delta_nii
            .abs()
            < 1e-9
    );
    // Deposits that follow half the market: ΔNII = Δ (A - L / 2) (H - 1 d).
    let half = Calibration {
        deposit_beta: Some(0.5),
        ..cal.clone()
    };
    let r = scenario(&b, &half, Scenario::ParallelUp, h, 1.0);
    assert!(
        close(r.delta_nii, 0.06 * (a - 0.5 * l) * after, 1e-6),
        "{}",
        r.delta_nii
    );
    // Without an override the book's own pass-through applies.
    let pool = AlmBook {
        deposit_beta: 0.25,
        ..b.clone()
    };
    let r = scenario(&pool, &Calibration::crypto(), Scenario::ParallelUp, h, 1.0);
    assert!(
        close(r.delta_nii, 0.06 * (a - 0.25 * l) * after, 1e-6),
        "{}",
        r.delta_nii
    );
}

#[test]
fn steepener_and_flattener_have_the_bcbs_shapes_at_hand_values() {
    let c = Calibration::crypto();
    let t = 30.0 / DAYS_PER_YEAR; // = x: exp(-1)
                                  // ΔR_short = 900 bp * exp(-1) = 331.09 bp, ΔR_long = 450 bp * (1 - exp(-1)) = 284.45 bp.
    assert!(close(c.short_shock(t), 0.033_109_149_705_429_81, 1e-12));
    assert!(close(c.long_shock(t), 0.028_445_425_147_285_09, 1e-12));
    // -0.65 * 331.09 + 0.9 * 284.45 = 40.80 bp; 0.8 * 331.09 - 0.6 * 284.45 = 94.20 bp.
    assert!(close(
        c.shock(Scenario::Steepener, t),
        0.004_079_935_324_027_21,
        1e-12
    ));
    assert!(close(
        c.shock(Scenario::Flattener, t),
        0.009_420_064_675_972_79,
        1e-12
    ));
    assert!(close(
        c.shock(Scenario::ShortDown, t),
        -0.033_109_149_705_429_81,
        1e-12
    ));
    // At t = 0 only the short part: steepener -0.65 * 900, flattener 0.8 * 900.
    assert!(close(c.shock(Scenario::Steepener, 0.0), -0.0585, 1e-12));
    assert!(close(c.shock(Scenario::Flattener, 0.0), 0.072, 1e-12));
    // Far out only the long part: +0.9 * 450, -0.6 * 450.
    assert!(close(c.shock(Scenario::Steepener, 10.0), 0.0405, 1e-9));
    assert!(close(c.shock(Scenario::Flattener, 10.0), -0.027, 1e-9));
    // BCBS USD: 200 / 300 / 150 bp, x = 4 years.
    let b = Calibration::bcbs();
    assert!(close(b.shock(Scenario::ParallelDown, 3.0), -0.02, 1e-15));
    assert!(close(
        b.shock(Scenario::ShortUp, 4.0),
        0.03 * (-1f64).exp(),
        1e-15
    ));
    assert!(close(b.shock(Scenario::Steepener, 0.0), -0.0195, 1e-15));
    // The floor: not below zero, and a rate already below it not raised.
    assert_eq!(b.floored(0.01, -0.02), 0.0);
    assert_eq!(b.floored(-0.005, -0.02), -0.005);
    assert!(close(b.floored(0.05, -0.02), 0.03, 1e-15));
}

#[test]
fn a_shocked_curve_is_floored_and_moves_a_term_book_with_its_shape() {
    let base = ZeroCurve::flat(0.03);
    let cal = Calibration::crypto();
    let c = floored_shift(&base, &cal, Scenario::ParallelDown, &[45.0]);
    for k in &c.knots {
        assert_eq!(k.zero, 0.0, "3% - 6% floored at 0 at {} d", k.tenor_days);
    }
    // A 7-day asset against a 90-day liability: the flattener raises the
    // 7-day rate and lowers the 90-day one; the steepener the opposite.
    let b = book(
        vec![
            bond(1_000_000.0, 7.0, &base),
            AlmItem {
                side: Side::Liability,
                can_run: false,
                ..bond(900_000.0, 90.0, &base)
            },
        ],
        base.clone(),
    );
    let flat = scenario(&b, &cal, Scenario::Flattener, 30.0, 1.0);
    let steep = scenario(&b, &cal, Scenario::Steepener, 30.0, 1.0);
    // At 90 d the flattener is 0.8 * 900 e^-3 - 0.6 * 450 (1 - e^-3) < 0:
    // the liability's rate falls, its value rises, EVE falls.
    assert!(cal.shock(Scenario::Flattener, 90.0 / DAYS_PER_YEAR) < 0.0);
    assert!(flat.delta_eve < 0.0, "{}", flat.delta_eve);
    assert!(steep.delta_eve > 0.0, "{}", steep.delta_eve);
}

#[test]
fn the_ladder_buckets_by_repricing_date_with_inclusive_upper_bounds() {
    assert_eq!(bucket_of(1.0), 0);
    assert_eq!(bucket_of(1.0001), 1);
    assert_eq!(bucket_of(7.0), 1);
    assert_eq!(bucket_of(7.5), 2);
    assert_eq!(bucket_of(30.0), 2);
    assert_eq!(bucket_of(30.01), 3);
    assert_eq!(bucket_of(90.0), 3);
    assert_eq!(bucket_of(90.5), 4);
    let fixed = |d: f64| Repricing::Fixed {
        face_usd: 1.0,
        maturity_days: d,
    };
    let b = book(
        vec![
            item(Side::Asset, 100.0, 0.08, Repricing::Floating, false),
            item(Side::Asset, 10.0, 0.08, fixed(7.0), false),
            item(Side::Asset, 20.0, 0.08, fixed(7.5), false),
            item(Side::Asset, 40.0, 0.08, fixed(90.0), false),
            item(Side::Asset, 80.0, 0.08, fixed(365.0), false),
            // Vault cash: outside the repricing gap, cash overnight.
            item(Side::Asset, 5.0, 0.0, Repricing::NonSensitive, true),
            item(Side::Liability, 150.0, 0.05, Repricing::Floating, true),
            // Locked until 30 d: reprices and can leave only then.
            item(Side::Liability, 60.0, 0.06, fixed(30.0), false),
        ],
        ZeroCurve::flat(0.05),
    );
    let l = ladder(&b);
    let col = |f: fn(&LadderRow) -> f64| l.rows.iter().map(f).collect::<Vec<_>>();
    assert_eq!(col(|r| r.assets), vec![100.0, 10.0, 20.0, 40.0, 80.0]);
    assert_eq!(col(|r| r.liabilities), vec![150.0, 0.0, 60.0, 0.0, 0.0]);
    assert_eq!(col(|r| r.can_leave), vec![150.0, 0.0, 60.0, 0.0, 0.0]);
    assert_eq!(col(|r| r.gap), vec![-50.0, 10.0, -40.0, 40.0, 80.0]);
    assert_eq!(
        col(|r| r.cumulative_gap),
        vec![-50.0, -40.0, -80.0, -40.0, 40.0]
    );
    assert_eq!(l.non_sensitive_assets, 5.0);
    // The liquidity ladder: cash overnight, term loans at maturity, the
    // floating loan never; against what can leave.
    assert_eq!(col(|r| r.inflows), vec![5.0, 10.0, 20.0, 40.0, 80.0]);
    assert_eq!(
        col(|r| r.liquidity_gap),
        vec![-145.0, 10.0, -40.0, 40.0, 80.0]
    );
    assert_eq!(
        col(|r| r.cumulative_liquidity_gap),
        vec![-145.0, -135.0, -175.0, -135.0, -55.0]
    );
    assert_eq!(l.total_assets(), b.total(Side::Asset));
    assert_eq!(l.total_liabilities(), b.total(Side::Liability));
    // Summing two ladders sums the rows and recomputes the running gap.
    let two = l.add(&l);
    assert_eq!(two.rows[2].cumulative_gap, -160.0);
    assert_eq!(two.rows[2].cumulative_liquidity_gap, -350.0);
    assert_eq!(two.total_assets(), 2.0 * b.total(Side::Asset));
}

#[test]
fn durations_and_the_gap_of_a_two_sided_book() {
    let curve = ZeroCurve::flat(0.05);
    let asset = bond(1_000_000.0, 90.0, &curve);
    let liab = AlmItem {
        side: Side::Liability,
        ..bond(800_000.0, 30.0, &curve)
    };
    let (pa, pl) = (asset.pv(&curve), liab.pv(&curve));
    let b = book(vec![asset, liab], curve);
    let d = durations(&b);
    let (ta, tl) = (90.0 / DAYS_PER_YEAR, 30.0 / DAYS_PER_YEAR);
    assert!(close(d.gap, ta - pl / pa * tl, 1e-6));
    // ΔEVE ≈ -gap * A * Δ for a small parallel shock.
    let r = scenario(&b, &parallel(1e-4), Scenario::ParallelUp, 30.0, 1.0);
    assert!(close(
        r.delta_eve,
        -d.gap * pa * 1e-4,
        1e-3 * d.gap * pa * 1e-4
    ));
    // An empty book has zero durations, not NaN.
    let e = durations(&book(vec![], ZeroCurve::flat(0.05)));
    assert_eq!(e.gap, 0.0);
    assert_eq!(e.assets.macaulay, 0.0);
}

mod term_adapter {
    use ballast::engine::fx::{fx_u64, Fx, WrappedFx, FX_ONE};
    use ballast::engine::term::{TermBucket, TermConfig};
    use ballast::state::Reserve;
    use bytemuck::Zeroable;

    use super::super::analysis::{analyse, bucket_of};
    use super::super::book::{Repricing, Side};
    use super::super::chain::{borrow_rate, reserve_curve, term_deposit_item, term_items};
    use super::super::curve::DAYS_PER_YEAR;
    use super::super::irrbb::{Calibration, Scenario};
    use super::super::{AlmBook, AlmItem};

    const DAY: i64 = 86_400;
    const NOW: i64 = 1_700_006_400; // a day boundary (grid of one day)

    /// 10,000 liquid, 5,000 floating debt, term loans enabled at 7 / 30 /
    /// 90 days (1% base spread, 10% slope, daily grid), a bucket of 1,000
    /// face due in 30 days with 10 unearned as of a day ago, and a matured
    /// bucket of 50 face; 6 decimals.
    fn reserve() -> Reserve {
        let mut r = Reserve::zeroed();
        r.config = ballast::fixtures::reserve_config([0; 32]);
        r.mint_decimals = 6;
        r.available_amount = 10_000_000_000;
        r.borrow_index = WrappedFx::new(FX_ONE);
        r.borrow_shares = WrappedFx::new(fx_u64(5_000_000_000));
        r.last_update_ts = NOW;
        r.term_config = TermConfig {
            tenors_secs: [7 * DAY as u32, 30 * DAY as u32, 90 * DAY as u32],
            grid_secs: DAY as u32,
            base_spread_bps: 100,
            slope_bps: 1_000,
            max_commit_bps: 5_000,
            penalty_spread_bps: 500,
            _padding: [0; 8],
        };
        r.term.last_update_ts = NOW - DAY;
        r.term.total_face = 1_050_000_000;
        r.term.total_unearned = WrappedFx::new(fx_u64(10_000_000));
        r.term.buckets[0] = TermBucket {
            maturity: NOW + 30 * DAY,
            face: 1_000_000_000,
            unearned: WrappedFx::new(fx_u64(10_000_000)),
        };
        r.term.buckets[1] = TermBucket {
            maturity: NOW - 3_600,
            face: 50_000_000,
            unearned: WrappedFx::new(Fx::ZERO),
        };
        r
    }

    #[test]
    fn term_buckets_become_fixed_items_at_their_book_value() {
        let r = reserve();
        let usd = 1e-6;
        let (items, book) = term_items(&r, NOW, usd).unwrap();
        assert_eq!(items.len(), 2);
        // 10 unearned a day ago, 31 days before maturity: 10 * 30 / 31 left.
        let unearned = 10_000_000.0 * 30.0 / 31.0;
        let live = &items[0];
        assert!((live.amount_usd - (1_000_000_000.0 - unearned) * usd).abs() < 1e-9);
        assert_eq!(
            live.repricing,
            Repricing::Fixed {
                face_usd: 1_000.0,
                maturity_days: 30.0
            }
        );
        // The rate at which the books earn it: unearned / (book * 30 d).
        let want = unearned / ((1_000_000_000.0 - unearned) * 30.0 / DAYS_PER_YEAR);
        assert!((live.rate - want).abs() < 1e-12);
        assert_eq!(bucket_of(live.repricing_days().unwrap()), 2);
        // The matured bucket reprices overnight at the floating rate.
        let matured = &items[1];
        assert_eq!(matured.repricing, Repricing::Floating);
        assert!((matured.amount_usd - 50.0).abs() < 1e-9);
        assert_eq!(matured.rate, borrow_rate(&r).unwrap());
        assert!((book - (1_050_000_000.0 - unearned)).abs() < 1e-3);
    }

    /// Locked term deposits are one fixed liability that cannot run: the
    /// locked shares' part of the claims, the locked face due at the
    /// earliest maturity; none once that maturity has passed.
    #[test]
    fn locked_term_deposits_are_a_fixed_liability_until_their_maturity() {
        let mut r = reserve();
        r.deposit_shares = 16_000_000_000;
        assert!(term_deposit_item(&r, NOW, 16_000.0, 1.0).is_none());
        r.term_deposits.locked_shares = 4_000_000_000;
        r.term_deposits.locked_face = 4_010_000_000;
        r.term_deposits.next_maturity = NOW + 30 * DAY;
        let claims = 16_000_000_000.0;
        let (item, value) = term_deposit_item(&r, NOW, claims, 1e-6).unwrap();
        assert!((value - 4_000_000_000.0).abs() < 1e-3);
        assert_eq!(item.side, Side::Liability);
        assert!(!item.can_run);
        assert_eq!(
            item.repricing,
            Repricing::Fixed {
                face_usd: 4_010.0,
                maturity_days: 30.0
            }
        );
        assert_eq!(bucket_of(item.outflow_days()), 2);
        let want = 10_000_000.0 / (4_000_000_000.0 * 30.0 / DAYS_PER_YEAR);
        assert!((item.rate - want).abs() < 1e-12);
        assert!(term_deposit_item(&r, NOW + 30 * DAY, claims, 1e-6).is_none());
    }

    #[test]
    fn the_curve_has_the_floating_rate_overnight_and_the_quoted_term_rates() {
        let r = reserve();
        let c = reserve_curve(&r, NOW).unwrap();
        let float = borrow_rate(&r).unwrap();
        let supply = r.supply().unwrap().to_num::<f64>();
        let days: Vec<f64> = c.knots.iter().map(|k| k.tenor_days).collect();
        assert_eq!(days, vec![1.0, 7.0, 30.0, 90.0]);
        assert!((c.knots[0].zero - float).abs() < 1e-15);
        // 7 and 90 days: nothing committed there, float + 1%.
        assert!((c.knots[1].zero - (float + 0.01)).abs() < 1e-9);
        assert!((c.knots[3].zero - (float + 0.01)).abs() < 1e-9);
        // 30 days: + 10% of the share of supply committed there.
        let want = float + 0.01 + 0.1 * 1_000_000_000.0 / supply;
        assert!(
            (c.knots[2].zero - want).abs() < 1e-9,
            "{} vs {want}",
            c.knots[2].zero
        );
        // Disabled: flat at the floating rate.
        let mut off = r;
        off.term_config = TermConfig::default();
        assert_eq!(reserve_curve(&off, NOW).unwrap().knots.len(), 1);
    }

    /// Fixed-rate assets funded by on-demand deposits lose value when rates
    /// rise: ΔEVE under parallel up is about -face DF 30 d Δ, and the
    /// duration gap is the term loans' share times 30 days.
    #[test]
    fn term_loans_funded_on_demand_lose_eve_when_rates_rise() {
        let r = reserve();
        let usd = 1e-6;
        let (mut items, _) = term_items(&r, NOW, usd).unwrap();
        let deposits = 15_000.0;
        items.push(AlmItem {
            label: "deposits".into(),
            side: Side::Liability,
            amount_usd: deposits,
            rate: 0.02,
            repricing: Repricing::Floating,
            can_run: true,
        });
        let book = AlmBook {
            label: "term".into(),
            items,
            curve: reserve_curve(&r, NOW).unwrap(),
            outside_capital_usd: 0.0,
            deposit_beta: 1.0,
        };
        let rep = analyse(&book, &Calibration::crypto(), 30.0);
        let up = &rep.scenarios[0];
        assert_eq!(up.scenario, Scenario::ParallelUp);
        let t = 30.0 / DAYS_PER_YEAR;
        let pv30 = 1_000.0 * book.curve.df(t);
        let want = pv30 * ((-0.06 * t).exp() - 1.0);
        // The deposits' and the matured bucket's overnight terms are small.
        let overnight = (deposits + 50.0) * 0.06 / DAYS_PER_YEAR;
        assert!(
            (up.delta_eve - want).abs() <= overnight * 1.01,
            "{} vs {want}",
            up.delta_eve
        );
        assert!(up.delta_eve < 0.0);
        assert!(rep.durations.gap > 0.0);
        assert_eq!(rep.ladder.rows[2].assets, book.items[0].amount_usd);
        assert_eq!(rep.ladder.rows[0].can_leave, deposits);
    }
}

#[test]
fn market_totals_sum_the_reserves_and_weight_durations_by_value() {
    let curve = ZeroCurve::flat(0.05);
    let one = book(
        vec![
            bond(1_000_000.0, 30.0, &curve),
            item(Side::Liability, 900_000.0, 0.03, Repricing::Floating, true),
        ],
        curve.clone(),
    );
    let two = book(
        vec![
            bond(3_000_000.0, 90.0, &curve),
            item(
                Side::Liability,
                2_000_000.0,
                0.03,
                Repricing::Floating,
                true,
            ),
        ],
        curve,
    );
    let cal = Calibration::crypto();
    let (a, b) = (analyse(&one, &cal, 30.0), analyse(&two, &cal, 30.0));
    let t = super::report::totals(&[a.clone(), b.clone()]);
    for k in 0..6 {
        assert!(close(
            t.scenarios[k].delta_eve,
            a.scenarios[k].delta_eve + b.scenarios[k].delta_eve,
            1e-9
        ));
        assert!(close(
            t.scenarios[k].delta_nii,
            a.scenarios[k].delta_nii + b.scenarios[k].delta_nii,
            1e-9
        ));
    }
    let (pa, pb) = (a.durations.assets.pv, b.durations.assets.pv);
    let want = (30.0 * pa + 90.0 * pb) / (pa + pb) / DAYS_PER_YEAR;
    assert!(close(t.assets.macaulay, want, 1e-12));
    assert!(close(t.eve, a.eve + b.eve, 1e-6));
    assert_eq!(t.ladder.rows[2].assets, a.ladder.rows[2].assets);
    assert_eq!(t.ladder.rows[3].assets, b.ladder.rows[3].assets);
    assert!(close(t.ladder.rows[0].can_leave, 2_900_000.0, 1e-9));
}
