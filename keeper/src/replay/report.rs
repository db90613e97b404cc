//! What a replay run records (one [`StepRecord`] per step, a
//! [`RunSummary`] per run), the `--json` document and the summary table.

use serde::Serialize;

use super::model::OracleModel;
use crate::market::PolicyName;

/// One step's state after the keeper's tick.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepRecord {
    /// Unix seconds.
    pub ts: i64,
    /// Collateral price, USD.
    pub price: f64,
    /// The keeper's volatility estimate, annualised fraction.
    pub sigma: Option<f64>,
    /// LTV of the collateral reserve in force, bps.
    pub ltv_bps: u16,
    /// Liquidation threshold of the collateral reserve in force, bps.
    pub lt_bps: u16,
    /// Debt of the obligations below the Maintenance requirement after the
    /// tick (left by the liquidators' capacity), USD.
    pub debt_at_risk_usd: f64,
    /// Debt outstanding, USD.
    pub total_debt_usd: f64,
    /// Debt not covered by collateral at the spot price, summed over the
    /// obligations still holding collateral (bad debt not yet recognised),
    /// USD.
    pub shortfall_usd: f64,
    /// Bad debt socialised so far, USD.
    pub bad_debt_usd: f64,
    /// Utilisation of the stablecoin reserve, bps (its balance sheet).
    pub utilization_bps: u16,
    /// Liquidity coverage of the stablecoin reserve (its balance sheet);
    /// `None` when no outflow is stressed.
    pub liquidity_coverage: Option<f64>,
    /// The price file's price at this step, USD; `price` is it times
    /// `exp(-cum_impact)` before this step's sales.
    pub historical_price: f64,
    /// Collateral the liquidators seized (and sold) this step, USD at
    /// `price`.
    pub sold_usd: f64,
    /// Cumulative log price impact of the liquidators' sales after this
    /// step (applied from the next step on).
    pub cum_impact: f64,
    /// The daily volatility this step's impact was scaled by (the replay's
    /// EWMA of written candle closes before the step).
    pub impact_sigma_day: f64,
}

/// The summary of one run (one object of the `--json` file's `runs`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    /// `dynamic` or `static`.
    pub policy: PolicyName,
    /// Steps walked (4 per candle).
    pub steps: usize,
    /// Borrowers in the population.
    pub borrowers: usize,
    /// Liquidation transactions that went through.
    pub liquidations: usize,
    /// With an outage (`--outage`): liquidations from its start until the
    /// first push after it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_liquidations: Option<usize>,
    /// With an outage: those of `outage_liquidations` whose obligation was
    /// not liquidatable under the last pushed values (liquidated by the
    /// outage alone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_healthy_liquidated: Option<usize>,
    /// With an outage: `outage_healthy_liquidated` by whole hours since the
    /// outage's start (index 0: its first hour); shows when staleness
    /// starts to liquidate (past `max_age_secs`) and how fast (the decay).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outage_healthy_by_hour: Option<Vec<usize>>,
    /// With `--arrivals`: borrowers that opened during the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<usize>,
    /// With `--arrivals`: those whose deposit and borrow the program
    /// refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arrivals_refused: Option<usize>,
    /// Debt repaid by liquidators, USD.
    pub liquidated_debt_usd: f64,
    /// Bonus borrowers paid the liquidators, USD: collateral seized minus
    /// debt repaid, both at the oracle price of their step.
    pub bonus_paid_usd: f64,
    /// Debt actually lent: the time average of the debt outstanding, USD
    /// (capital efficiency as a lender sees it).
    pub debt_lent_usd: f64,
    /// What suppliers earned over the window, USD: the growth of the debt
    /// reserve's liabilities to its depositors (interest net of bad debt
    /// written down against them; [`super::model::supplier_income_usd`]).
    pub supplier_income_usd: f64,
    /// Obligations the liquidators skipped at least once as unprofitable
    /// (bonus minus costs below the least profit).
    pub unprofitable_obligations: usize,
    /// Their debt when last skipped, USD.
    pub unprofitable_debt_usd: f64,
    /// The debt they still owe at the end, USD (0: liquidated later or
    /// written off by the bad-debt task).
    pub unprofitable_open_debt_usd: f64,
    /// Fall of the replayed price below the file's at the end due to the
    /// liquidators' sales (`1 - exp(-cum_impact)`), fraction.
    pub final_impact: f64,
    /// Debt socialised (left without collateral), USD, insurance cover
    /// included.
    pub bad_debt_usd: f64,
    /// Part of `bad_debt_usd` written down against depositors, USD.
    pub written_off_usd: f64,
    /// Debt not covered by collateral at the last step's spot price, over
    /// the obligations that still hold collateral (a loss not yet
    /// recognised as bad debt when the window ends), USD.
    pub final_shortfall_usd: f64,
    /// Largest such shortfall over the run, USD.
    pub max_shortfall_usd: f64,
    /// Debt right after the population borrowed, USD (with `--arrivals`:
    /// the debt it would have taken at the first price, which sizes the
    /// suppliers' deposits and the default capacity).
    pub initial_debt_usd: f64,
    /// Time average of the collateral reserve's LTV, bps.
    pub mean_ltv_bps: f64,
    /// Lowest LTV of the collateral reserve, bps.
    pub min_ltv_bps: u16,
    /// Time average of the collateral reserve's liquidation threshold, bps.
    pub mean_lt_bps: f64,
    /// Lowest liquidation threshold, bps.
    pub min_lt_bps: u16,
    /// Highest utilisation of the stablecoin reserve, bps.
    pub max_utilization_bps: u16,
    /// Lowest liquidity coverage of the stablecoin reserve (1.0 = liquid
    /// assets cover the stressed outflow); `None` when none is stressed.
    pub min_liquidity_coverage: Option<f64>,
    /// Largest debt at risk after a tick, USD.
    pub max_debt_at_risk_usd: f64,
    /// Volatility pushes sent.
    pub pushes: usize,
    /// Debt the liquidators could repay per hour, USD.
    pub capacity_usd_per_hour: f64,
    /// Daily depth of the collateral their sales were measured against,
    /// USD.
    pub depth_usd: f64,
    /// Obligations whose liquidation or socialisation the program refused
    /// at least once (the run went on).
    pub unrecoverable_obligations: usize,
    /// Their debt at their last refusal, USD: debt the market could not
    /// recover by liquidation.
    pub unrecoverable_debt_usd: f64,
    /// For each, `obligation: step: last refusal`.
    pub unrecoverable: Vec<String>,
    /// With `--term-share`: the term loans.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<TermSummary>,
    /// Wall-clock time of the run (setup included), seconds.
    pub wall_seconds: f64,
}

/// A finished run: its summary and its step series.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// The summary.
    pub summary: RunSummary,
    /// One record per step.
    pub series: Vec<StepRecord>,
}

/// The `--json` document.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    /// The price file.
    pub prices: String,
    /// First candle replayed, `YYYY-MM-DD HH:MM:SS` UTC.
    pub from: String,
    /// Last candle replayed, `YYYY-MM-DD HH:MM:SS` UTC.
    pub to: String,
    /// Candles replayed.
    pub candles: usize,
    /// Candles of warm-up history given to the keeper.
    pub warmup_candles: usize,
    /// The population's seed.
    pub seed: u64,
    /// The oracle model.
    pub oracle: OracleModel,
    /// One summary per policy.
    pub runs: Vec<RunSummary>,
}

/// What became of a run's term loans (`--term-share`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TermSummary {
    /// Term loans opened.
    pub loans: usize,
    /// Their face, USD (what their floating twins borrowed).
    pub face_usd: f64,
    /// What the borrowers received (the zero-coupon prices), USD.
    pub proceeds_usd: f64,
    /// Face of the loans still unconverted at the end, USD.
    pub face_outstanding_usd: f64,
    /// Of those, loans past their maturity (owing the penalty).
    pub matured_unconverted: usize,
    /// Loans converted to floating debt (`convert_term_debt`, sent by the
    /// keeper's liquidation and bad-debt tasks before their instruction).
    pub converted: usize,
    /// Debt those conversions booked (the program's `owed`: face, plus
    /// the penalty past maturity), USD.
    pub converted_debt_usd: f64,
    /// Converted loans whose obligation was then liquidated.
    pub liquidated_after_conversion: usize,
    /// Debt those liquidations repaid, USD.
    pub liquidated_debt_usd: f64,
    /// Bad debt socialised from obligations that borrowed at term, USD.
    pub bad_debt_usd: f64,
}

/// The summary table, one row per run: what a risk manager weighs (bad
/// debt; debt liquidated and the bonus borrowers paid; debt actually lent
/// and what suppliers earned), then the parameters' ranges; a line per run
/// on the liquidators (skipped as unprofitable, price impact).
pub fn summary_table(runs: &[RunSummary]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<8} {:>6} {:>5} {:>11} {:>13} {:>9} {:>13} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8} {:>9} {:>6}\n",
        "policy",
        "steps",
        "liqs",
        "bad debt $",
        "liquidated $",
        "bonus $",
        "debt lent $",
        "supplier $",
        "shortfall $",
        "initial $",
        "mean LTV",
        "min LTV",
        "max util",
        "min cover",
        "wall s"
    ));
    for r in runs {
        out.push_str(&format!(
            "{:<8} {:>6} {:>5} {:>11.0} {:>13.0} {:>9.0} {:>13.0} {:>10.0} {:>10.0} {:>10.0} {:>7.2}% {:>7.2}% {:>7.2}% {:>9} {:>6.1}\n",
            r.policy.to_string(),
            r.steps,
            r.liquidations,
            r.bad_debt_usd,
            r.liquidated_debt_usd,
            r.bonus_paid_usd,
            r.debt_lent_usd,
            r.supplier_income_usd,
            r.final_shortfall_usd,
            r.initial_debt_usd,
            r.mean_ltv_bps / 100.0,
            r.min_ltv_bps as f64 / 100.0,
            r.max_utilization_bps as f64 / 100.0,
            r.min_liquidity_coverage
                .map(|c| format!("{c:.2}"))
                .unwrap_or_else(|| "-".into()),
            r.wall_seconds
        ));
    }
    for r in runs {
        out.push_str(&format!(
            "{}: liquidators skipped {} obligation(s) as unprofitable (${:.0} of debt, ${:.0} still \
             owed at the end); their sales left the price {:.2}% below the file's\n",
            r.policy,
            r.unprofitable_obligations,
            r.unprofitable_debt_usd,
            r.unprofitable_open_debt_usd,
            r.final_impact * 100.0
        ));
    }
    for r in runs {
        if let Some(t) = &r.term {
            out.push_str(&format!(
                "{}: term: {} loans, face ${:.0} (proceeds ${:.0}); {} converted (${:.0} of debt \
                 booked), {} of them liquidated (${:.0} repaid), ${:.0} of bad debt; ${:.0} of \
                 face unconverted at the end ({} past maturity)\n",
                r.policy,
                t.loans,
                t.face_usd,
                t.proceeds_usd,
                t.converted,
                t.converted_debt_usd,
                t.liquidated_after_conversion,
                t.liquidated_debt_usd,
                t.bad_debt_usd,
                t.face_outstanding_usd,
                t.matured_unconverted
            ));
        }
    }
    for r in runs {
        if let (Some(n), Some(h)) = (r.outage_liquidations, r.outage_healthy_liquidated) {
            out.push_str(&format!(
                "{}: outage: {n} liquidations until the first push after it, {h} of obligations \
                 healthy under the last pushed values\n",
                r.policy
            ));
            if let Some(by_hour) = r.outage_healthy_by_hour.as_ref().filter(|v| !v.is_empty()) {
                let hours: Vec<String> = by_hour.iter().map(|n| n.to_string()).collect();
                out.push_str(&format!(
                    "{}: outage: those by hour since its start: [{}]\n",
                    r.policy,
                    hours.join(", ")
                ));
            }
        }
    }
    out
}
