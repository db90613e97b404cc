//! The ranges and orderings the program accepts for a market's and a
//! reserve's configuration, as the keeper mirrors them to name the field at
//! fault before anything is sent (the program's own `validate` runs after
//! them, in [`super::validate`]).
//!
//! These are literals copied from the program's rules: each function below
//! is the one place to replace with the program's own bounds, should it
//! export them.

use anyhow::{bail, Result};
use ballast::engine::rates::MAX_CURVE_POINTS;

use super::schema::{DynamicDef, LiquidationDef, LiquidityDef, ReserveDef};

/// `v` within `lo..=hi`, or an error naming `field`.
fn bps_range(field: &str, v: u16, lo: u16, hi: u16) -> Result<()> {
    if v < lo || v > hi {
        bail!("{field} = {v} is outside {lo}..={hi} bps");
    }
    Ok(())
}

/// `[market.liquidation]`: close factor, full-liquidation health, bonus
/// range, protocol share and dust threshold.
pub(super) fn liquidation_bounds(l: &LiquidationDef) -> Result<()> {
    bps_range(
        "market.liquidation.close_factor_bps",
        l.close_factor_bps,
        1,
        10_000,
    )?;
    bps_range(
        "market.liquidation.full_liquidation_health_bps",
        l.full_liquidation_health_bps,
        0,
        10_000,
    )?;
    bps_range(
        "market.liquidation.bonus_max_bps",
        l.bonus_max_bps,
        0,
        5_000,
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
        0,
        10_000,
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
    if r.oracle_max_age_secs == 0 || r.oracle_max_age_secs > 86_400 {
        bail!(
            "oracle_max_age_secs = {} is outside 1..=86400 s",
            r.oracle_max_age_secs
        );
    }
    bps_range("oracle_max_conf_bps", r.oracle_max_conf_bps, 1, 10_000)?;
    bps_range("reserve_factor_bps", r.reserve_factor_bps, 0, 10_000)?;
    bps_range("max_utilization_bps", r.max_utilization_bps, 1, 10_000)?;
    let n = r.rate_curve.len();
    if !(2..=MAX_CURVE_POINTS).contains(&n) {
        bail!("rate_curve has {n} points: 2 to {MAX_CURVE_POINTS} are allowed");
    }
    for (j, [u, _]) in r.rate_curve.iter().enumerate() {
        if *u > 10_000 {
            bail!("rate_curve[{j}]: utilization {u} bps is above 10000");
        }
    }
    let risk = &r.risk;
    bps_range(
        "risk.liquidation_threshold_bps",
        risk.liquidation_threshold_bps,
        1,
        9_999,
    )?;
    if risk.ltv_bps >= risk.liquidation_threshold_bps {
        bail!(
            "risk.ltv_bps {} must be below risk.liquidation_threshold_bps {}",
            risk.ltv_bps,
            risk.liquidation_threshold_bps
        );
    }
    if !(10_000..=50_000).contains(&risk.borrow_factor_bps) {
        bail!(
            "risk.borrow_factor_bps {} is outside 10000..=50000",
            risk.borrow_factor_bps
        );
    }
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
    if d.horizon_secs == 0 || d.horizon_secs > 31_536_000 {
        bail!(
            "horizon_secs = {} is outside 1..=31536000 s",
            d.horizon_secs
        );
    }
    if d.max_age_secs <= d.min_update_interval_secs {
        bail!(
            "max_age_secs {} must exceed min_update_interval_secs {}",
            d.max_age_secs,
            d.min_update_interval_secs
        );
    }
    if d.max_lt_step_bps == 0 || d.max_ltv_step_bps == 0 {
        bail!("max_lt_step_bps and max_ltv_step_bps must be >= 1");
    }
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
        bps_range(&format!("{name}.max_bps"), c.max_bps, 0, 10_000)?;
    }
    if d.initial.max_bps >= 10_000 {
        bail!("initial.max_bps must be below 10000 (a positive collateral weight)");
    }
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
        bps_range(f, v, 0, 10_000)?;
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
