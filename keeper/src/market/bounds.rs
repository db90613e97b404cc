//! The ranges and orderings the program accepts for a market's and a
//! reserve's configuration, as the keeper mirrors them to name the field at
//! fault before anything is sent (the program's own `validate` runs after
//! them, in [`super::validate`]).
//!
//! Every range is the program's own, from [`ballast::engine::bounds`]: the
//! keeper copies none of them.

use std::fmt::Display;
use std::ops::RangeInclusive;

use anyhow::{bail, Result};
use ballast::engine::bounds::*;

use super::schema::{DynamicDef, LiquidationDef, LiquidityDef, ReserveDef, TermDef};

/// `v` within the program's `range`, or an error naming `field` and the
/// range in `unit`.
fn in_range<T: PartialOrd + Display>(
    field: &str,
    v: T,
    range: &RangeInclusive<T>,
    unit: &str,
) -> Result<()> {
    if !range.contains(&v) {
        bail!(
            "{field} = {v} is outside {}..={} {unit}",
            range.start(),
            range.end()
        );
    }
    Ok(())
}

/// [`in_range`] in bps.
fn bps_range(field: &str, v: u16, range: &RangeInclusive<u16>) -> Result<()> {
    in_range(field, v, range, "bps")
}

/// `[market.liquidation]`: close factor, full-liquidation health, bonus
/// range, protocol share and dust threshold.
pub(super) fn liquidation_bounds(l: &LiquidationDef) -> Result<()> {
    bps_range(
        "market.liquidation.close_factor_bps",
        l.close_factor_bps,
        &CLOSE_FACTOR_BPS,
    )?;
    bps_range(
        "market.liquidation.full_liquidation_health_bps",
        l.full_liquidation_health_bps,
        &FULL_LIQUIDATION_HEALTH_BPS,
    )?;
    bps_range(
        "market.liquidation.bonus_max_bps",
        l.bonus_max_bps,
        &LIQUIDATION_BONUS_BPS,
    )?;
    if l.bonus_min_bps > l.bonus_max_bps {
        bail!(
            "market.liquidation.bonus_min_bps {} is above bonus_max_bps {}",
            l.bonus_min_bps,
            l.bonus_max_bps
        );
    }
    bps_range(
        "market.liquidation.protocol_bonus_share_bps",
        l.protocol_bonus_share_bps,
        &PROTOCOL_BONUS_SHARE_BPS,
    )?;
    if !(l.dust_debt_usd.is_finite() && l.dust_debt_usd >= 0.0) {
        bail!(
            "market.liquidation.dust_debt_usd {} must be >= 0",
            l.dust_debt_usd
        );
    }
    Ok(())
}

/// A reserve's decimals, oracle limits, factors, rate curve and static
/// risk values.
pub(super) fn reserve_bounds(r: &ReserveDef) -> Result<()> {
    if r.decimals > 18 {
        bail!("decimals {} is above 18", r.decimals);
    }
    in_range(
        "oracle_max_age_secs",
        r.oracle_max_age_secs,
        &ORACLE_MAX_AGE_SECS,
        "s",
    )?;
    bps_range(
        "oracle_max_conf_bps",
        r.oracle_max_conf_bps,
        &ORACLE_MAX_CONF_BPS,
    )?;
    bps_range(
        "reserve_factor_bps",
        r.reserve_factor_bps,
        &RESERVE_FACTOR_BPS,
    )?;
    bps_range(
        "max_utilization_bps",
        r.max_utilization_bps,
        &MAX_UTILIZATION_BPS,
    )?;
    let n = r.rate_curve.len();
    if !RATE_CURVE_POINTS.contains(&n) {
        bail!(
            "rate_curve has {n} points: {} to {} are allowed",
            RATE_CURVE_POINTS.start(),
            RATE_CURVE_POINTS.end()
        );
    }
    for (j, [u, _]) in r.rate_curve.iter().enumerate() {
        let (lo, hi) = (CURVE_UTILIZATION_BPS.start(), CURVE_UTILIZATION_BPS.end());
        in_range(
            &format!("rate_curve[{j}] utilization"),
            *u,
            &(*lo as u32..=*hi as u32),
            "bps",
        )?;
    }
    let risk = &r.risk;
    bps_range(
        "risk.liquidation_threshold_bps",
        risk.liquidation_threshold_bps,
        &LIQUIDATION_THRESHOLD_BPS,
    )?;
    if risk.ltv_bps >= risk.liquidation_threshold_bps {
        bail!(
            "risk.ltv_bps {} must be below risk.liquidation_threshold_bps {}",
            risk.ltv_bps,
            risk.liquidation_threshold_bps
        );
    }
    in_range(
        "risk.borrow_factor_bps",
        risk.borrow_factor_bps,
        &BORROW_FACTOR_BPS,
        "bps",
    )?;
    Ok(())
}

/// `[reserves.risk.dynamic]`: volatility range, horizon, push timing and
/// steps, and the haircut curves (the initial one stricter than the
/// maintenance one).
pub(super) fn dynamic_bounds(d: &DynamicDef) -> Result<()> {
    let ok = |s: f64| (0.0..1_000.0).contains(&s);
    if !ok(d.sigma_min) || !ok(d.sigma_max) || d.sigma_min > d.sigma_max {
        bail!(
            "need 0 <= sigma_min ({}) <= sigma_max ({}) < 1000",
            d.sigma_min,
            d.sigma_max
        );
    }
    in_range("horizon_secs", d.horizon_secs, &RISK_HORIZON_SECS, "s")?;
    if d.max_age_secs <= d.min_update_interval_secs {
        bail!(
            "max_age_secs {} must exceed min_update_interval_secs {}",
            d.max_age_secs,
            d.min_update_interval_secs
        );
    }
    bps_range("max_lt_step_bps", d.max_lt_step_bps, &RISK_STEP_BPS)?;
    bps_range("max_ltv_step_bps", d.max_ltv_step_bps, &RISK_STEP_BPS)?;
    for (name, c) in [
        ("initial", &d.initial),
        ("maintenance", &d.maintenance),
        ("borrow", &d.borrow),
    ] {
        if c.min_bps > c.max_bps {
            bail!(
                "{name}: min_bps {} is above max_bps {}",
                c.min_bps,
                c.max_bps
            );
        }
        bps_range(&format!("{name}.max_bps"), c.max_bps, &SHARE_BPS)?;
    }
    bps_range(
        "initial.max_bps (a positive collateral weight)",
        d.initial.max_bps,
        &INITIAL_HAIRCUT_MAX_BPS,
    )?;
    let (i, m) = (&d.initial, &d.maintenance);
    if !(i.z_milli > m.z_milli
        && i.base_bps >= m.base_bps
        && i.min_bps >= m.min_bps
        && i.max_bps >= m.max_bps)
    {
        bail!(
            "the initial curve must be stricter than the maintenance one: \
             z_milli greater, base/min/max bps at least as large"
        );
    }
    Ok(())
}

/// `[reserves.liquidity]`: the buffer band, rehypothecation cap, stressed
/// outflow and outflow limiter.
pub(super) fn liquidity_bounds(liq: &LiquidityDef) -> Result<()> {
    for (f, v) in [
        ("liquidity.buffer_min_bps", liq.buffer_min_bps),
        ("liquidity.buffer_target_bps", liq.buffer_target_bps),
        ("liquidity.buffer_max_bps", liq.buffer_max_bps),
        (
            "liquidity.rehypothecation_cap_bps",
            liq.rehypothecation_cap_bps,
        ),
        ("liquidity.stress_outflow_bps", liq.stress_outflow_bps),
    ] {
        bps_range(f, v, &LIQUIDITY_BPS)?;
    }
    if !(liq.buffer_min_bps <= liq.buffer_target_bps && liq.buffer_target_bps <= liq.buffer_max_bps)
    {
        bail!("liquidity: need buffer_min_bps <= buffer_target_bps <= buffer_max_bps");
    }
    if liq.outflow_window_secs > 0 && liq.outflow_cap_tokens == 0 {
        bail!("liquidity.outflow_cap_tokens must be > 0 when outflow_window_secs is set");
    }
    Ok(())
}

/// `[reserves.term]`: the grid, the tenors (ascending, at least
/// [`ballast::engine::term::MIN_TENOR_SECS`], at most
/// [`ballast::engine::term::MAX_TENOR_GRID_PERIODS`] grid periods), the
/// curve, the commitment cap and the penalty, in the program's ranges
/// (`ballast::engine::term`).
pub(super) fn term_bounds(t: &TermDef) -> Result<()> {
    use ballast::engine::term;
    let day = 86_400u64;
    let (glo, ghi) = (
        *term::GRID_SECS.start() as u64,
        *term::GRID_SECS.end() as u64,
    );
    in_range(
        "term.grid_days",
        t.grid_days as u64,
        &(glo.div_ceil(day)..=ghi / day),
        "days",
    )?;
    let max_days = t.grid_days as u64 * term::MAX_TENOR_GRID_PERIODS as u64;
    let mut prev = 0u64;
    for (j, d) in t.tenors_days.iter().enumerate() {
        let d = *d as u64;
        in_range(
            &format!(
                "term.tenors_days[{j}] (at most {} grid periods)",
                term::MAX_TENOR_GRID_PERIODS
            ),
            d,
            &(1..=max_days),
            "days",
        )?;
        if d <= prev {
            bail!("term.tenors_days must be strictly ascending: [{j}] = {d} after {prev}");
        }
        prev = d;
    }
    bps_range(
        "term.base_spread_bps",
        t.base_spread_bps,
        &term::BASE_SPREAD_BPS,
    )?;
    bps_range("term.slope_bps", t.slope_bps, &term::SLOPE_BPS)?;
    bps_range(
        "term.max_commit_bps",
        t.max_commit_bps,
        &term::MAX_COMMIT_BPS,
    )?;
    bps_range(
        "term.penalty_spread_bps",
        t.penalty_spread_bps,
        &term::PENALTY_SPREAD_BPS,
    )?;
    Ok(())
}
