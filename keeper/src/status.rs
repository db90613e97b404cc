//! `ballast-keeper status`: what an operator checks at a glance, read from
//! any [`Chain`] and computed with the program's own functions: each
//! reserve's LTV / liquidation threshold / borrow factor in force
//! (`Reserve::risk_params`, the conservative values once a push is stale),
//! its last pushed volatility and the push's age, utilisation, liquidity
//! coverage and what is deployed to its treasury strategy (the engine's
//! `balance_sheet`, strategy interest projected), and the distribution of
//! the obligations' Maintenance health (the liquidation scan's).

use anyhow::{Context, Result};
use ballast::engine::fx::Fx;
use ballast::engine::risk::RiskPolicy;
use ballast::state::{Obligation, Reserve};
use serde::Serialize;
use solana_address::Address;

use crate::accounts::{decode_reserve, load_market};
use crate::chain::Chain;
use crate::scan::MarketSnapshot;

/// Upper bounds of the health buckets (the last bucket is open).
pub const HEALTH_BUCKETS: [f64; 5] = [1.0, 1.1, 1.25, 1.5, 2.0];

/// One reserve's state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReserveStatus {
    /// The reserve.
    pub reserve: String,
    /// Its mint.
    pub mint: String,
    /// `static` or `dynamic`.
    pub policy: &'static str,
    /// LTV in force now, bps.
    pub ltv_bps: u16,
    /// Liquidation threshold in force now, bps.
    pub liquidation_threshold_bps: u16,
    /// Borrow factor in force now, bps.
    pub borrow_factor_bps: u32,
    /// Last pushed volatility, annualised fraction (dynamic, once pushed).
    pub sigma: Option<f64>,
    /// Seconds since the last push (dynamic, once pushed).
    pub push_age_secs: Option<i64>,
    /// The push's staleness age, seconds (dynamic).
    pub max_age_secs: Option<u32>,
    /// Whether the conservative values apply (never pushed, or stale).
    pub stale: bool,
    /// Borrowed / liabilities, bps.
    pub utilization_bps: u16,
    /// (liquid + recallable within the window) / stressed outflow, bps;
    /// `None` when no stressed outflow is configured.
    pub liquidity_coverage_bps: Option<u32>,
    /// Tokens in the vault, base units.
    pub liquid: u64,
    /// Deployed to the treasury strategy at its exchange rate, base units.
    pub deployed: u64,
    /// Depositors' claims (liabilities), base units.
    pub liabilities: u64,
}

/// Obligations in one health bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HealthBucket {
    /// `< 1.00`, `1.00-1.10`, ..., `>= 2.00`.
    pub range: String,
    /// Obligations in it.
    pub obligations: usize,
}

/// The whole status.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Status {
    /// The market.
    pub market: String,
    /// The chain's unix time, seconds.
    pub now: i64,
    /// Whether the market is paused.
    pub paused: bool,
    /// Each reserve.
    pub reserves: Vec<ReserveStatus>,
    /// Obligations of the market.
    pub obligations: usize,
    /// Of which with debt.
    pub with_debt: usize,
    /// Maintenance health of those whose health could be established.
    pub health: Vec<HealthBucket>,
    /// Obligations with debt whose health cannot be established now
    /// (e.g. a stale oracle).
    pub unassessed: usize,
    /// The lowest health.
    pub lowest_health: Option<f64>,
}

fn bucket_names() -> Vec<String> {
    let mut names = vec![format!("< {:.2}", HEALTH_BUCKETS[0])];
    for w in HEALTH_BUCKETS.windows(2) {
        names.push(format!("{:.2}-{:.2}", w[0], w[1]));
    }
    names.push(format!(
        ">= {:.2}",
        HEALTH_BUCKETS[HEALTH_BUCKETS.len() - 1]
    ));
    names
}

/// Counts `healths` into the buckets of [`HEALTH_BUCKETS`].
pub fn buckets(healths: &[f64]) -> Vec<HealthBucket> {
    let mut counts = vec![0usize; HEALTH_BUCKETS.len() + 1];
    for h in healths {
        let i = HEALTH_BUCKETS
            .iter()
            .position(|b| h < b)
            .unwrap_or(HEALTH_BUCKETS.len());
        counts[i] += 1;
    }
    bucket_names()
        .into_iter()
        .zip(counts)
        .map(|(range, obligations)| HealthBucket { range, obligations })
        .collect()
}

/// The token amount of an SPL token account's data (bytes 64..72), 0 when
/// missing.
fn token_amount(data: Option<Vec<u8>>) -> u64 {
    data.and_then(|d| {
        d.get(64..72)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
    })
    .unwrap_or(0)
}

/// Reads and computes the status of `market` at the chain's clock.
pub fn status(chain: &impl Chain, market: &Address) -> Result<Status> {
    let now = chain.unix_time()?;
    let market_state = load_market(chain, market)?;
    let snapshot = MarketSnapshot::load(chain, market, now)?;
    let mut reserves = vec![];
    for (key, r) in snapshot.reserves() {
        reserves.push(reserve_status(chain, key, r, market_state.paused, now)?);
    }
    let obligations = chain.ballast_accounts::<Obligation>(market)?;
    let scan = snapshot.scan_report(obligations.iter().map(|(k, d)| (*k, d.as_slice())));
    let with_debt = obligations
        .iter()
        .filter_map(|(_, d)| crate::accounts::decode_obligation(d))
        .filter(|o| o.has_debt())
        .count();
    let healths: Vec<f64> = scan
        .healths
        .iter()
        .map(|(_, h)| h.to_num::<f64>())
        .collect();
    Ok(Status {
        market: market.to_string(),
        now,
        paused: market_state.is_paused(),
        reserves,
        obligations: scan.assessed,
        with_debt,
        health: buckets(&healths),
        unassessed: scan.not_liquidatable.len(),
        lowest_health: scan.lowest_health().map(|h| h.to_num::<f64>()),
    })
}

fn reserve_status(
    chain: &impl Chain,
    key: &Address,
    r: &Reserve,
    paused: u8,
    now: i64,
) -> Result<ReserveStatus> {
    let strategy = if r.treasury.has_strategy() {
        let mut s = chain
            .account_data(&r.treasury.strategy_reserve)?
            .as_deref()
            .and_then(decode_reserve)
            .with_context(|| format!("strategy reserve of {key}"))?;
        s.accrue_interest(now)?;
        Some(s)
    } else {
        None
    };
    let insurance = token_amount(chain.account_data(&r.insurance_vault)?);
    let sheet = ballast::engine::balance_sheet::balance_sheet(
        *key,
        r,
        strategy.as_ref(),
        insurance,
        paused,
        now,
    )
    .with_context(|| format!("balance sheet of {key}"))?;
    let params = r.risk_params(now);
    let dynamic = r.config.risk.policy() == RiskPolicy::Dynamic;
    let pushed = dynamic && r.risk.last_push_ts != 0;
    let age = pushed.then(|| now - r.risk.last_push_ts);
    let max_age = dynamic.then_some(r.config.risk.max_age_secs);
    Ok(ReserveStatus {
        reserve: key.to_string(),
        mint: r.mint.to_string(),
        policy: if dynamic { "dynamic" } else { "static" },
        ltv_bps: params.ltv_bps,
        liquidation_threshold_bps: params.liquidation_threshold_bps,
        borrow_factor_bps: params.borrow_factor_bps,
        sigma: pushed.then(|| Fx::to_num::<f64>(r.risk.sigma.get())),
        push_age_secs: age,
        max_age_secs: max_age,
        stale: dynamic && (!pushed || age.unwrap_or(0) > r.config.risk.max_age_secs as i64),
        utilization_bps: sheet.utilization_bps,
        liquidity_coverage_bps: (sheet.liquidity_coverage_bps != u32::MAX)
            .then_some(sheet.liquidity_coverage_bps),
        liquid: sheet.liquid,
        deployed: sheet.deployed,
        liabilities: sheet.liabilities,
    })
}

/// The status as a text table.
pub fn table(s: &Status) -> String {
    let pct = |bps: u64| format!("{:.2}%", bps as f64 / 100.0);
    let mut out = format!(
        "market {}{} at unix {}\n",
        s.market,
        if s.paused { " (PAUSED)" } else { "" },
        s.now
    );
    out += &format!(
        "{:<44} {:<8} {:>7} {:>7} {:>7} {:>7} {:>10} {:>7} {:>9} {:>16} {:>16}\n",
        "reserve",
        "policy",
        "LTV",
        "LT",
        "BF",
        "sigma",
        "push age",
        "util",
        "coverage",
        "liquid",
        "deployed"
    );
    for r in &s.reserves {
        let age = match (r.push_age_secs, r.stale) {
            (_, true) if r.policy == "dynamic" => "STALE".to_string(),
            (Some(a), _) => format!("{a} s"),
            (None, _) => "-".to_string(),
        };
        out += &format!(
            "{:<44} {:<8} {:>7} {:>7} {:>7} {:>7} {:>10} {:>7} {:>9} {:>16} {:>16}\n",
            r.reserve,
            r.policy,
            pct(r.ltv_bps as u64),
            pct(r.liquidation_threshold_bps as u64),
            format!("{:.2}", r.borrow_factor_bps as f64 / 1e4),
            r.sigma.map_or("-".into(), |v| format!("{:.0}%", v * 100.0)),
            age,
            pct(r.utilization_bps as u64),
            r.liquidity_coverage_bps
                .map_or("-".into(), |c| format!("{:.2}", c as f64 / 1e4)),
            r.liquid,
            r.deployed
        );
    }
    out += &format!(
        "obligations: {} ({} with debt, {} not assessable now); lowest health {}\n",
        s.obligations,
        s.with_debt,
        s.unassessed,
        s.lowest_health.map_or("-".into(), |h| format!("{h:.4}"))
    );
    out += "health  ";
    out += &s
        .health
        .iter()
        .map(|b| format!("{}: {}", b.range, b.obligations))
        .collect::<Vec<_>>()
        .join(" | ");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healths_fall_into_half_open_buckets() {
        let b = buckets(&[0.5, 0.999, 1.0, 1.09, 1.1, 1.3, 1.99, 2.0, 7.0]);
        let counts: Vec<(String, usize)> =
            b.into_iter().map(|b| (b.range, b.obligations)).collect();
        assert_eq!(
            counts,
            vec![
                ("< 1.00".to_string(), 2),
                ("1.00-1.10".to_string(), 2),
                ("1.10-1.25".to_string(), 1),
                ("1.25-1.50".to_string(), 1),
                ("1.50-2.00".to_string(), 1),
                (">= 2.00".to_string(), 2),
            ]
        );
        assert!(buckets(&[]).iter().all(|b| b.obligations == 0));
    }
}
