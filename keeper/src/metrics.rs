//! Prometheus metrics of a live keeper (`run --metrics-addr
//! 127.0.0.1:9464`), on the `prometheus` crate, served as text at
//! `GET /metrics` by a small HTTP listener on its own thread.
//!
//! | metric | type | labels | what |
//! | --- | --- | --- | --- |
//! | `ballast_keeper_ticks_total` | counter | | ticks run |
//! | `ballast_keeper_task_duration_seconds` | histogram | `task` | wall time of each task |
//! | `ballast_keeper_task_failures_total` | counter | `task`, `reason` | tasks and transactions that failed: `reason` is `rpc`, `market`, `other`, the program error's name (`OracleStale`), `transaction` |
//! | `ballast_keeper_pushes_total` | counter | `reserve` | volatility pushes |
//! | `ballast_keeper_liquidations_total` | counter | | liquidations that went through (the bad-debt task's dust sweeps included: each is a `liquidate`) |
//! | `ballast_keeper_liquidated_usd_total` | counter | | USD of debt they repaid (oracle prices) |
//! | `ballast_keeper_liquidation_skips_total` | counter | | candidates someone else liquidated first |
//! | `ballast_keeper_bad_debt_socialized_total` | counter | | debt positions socialised (by `socialize_bad_debt`, or written off by the liquidation that took the last collateral) |
//! | `ballast_keeper_rebalances_total` | counter | | treasury rebalances sent |
//! | `ballast_keeper_obligations_scanned` | gauge | | obligations the last scan assessed |
//! | `ballast_keeper_lowest_health` | gauge | | lowest Maintenance health of the last scan |
//! | `ballast_keeper_seconds_since_push` | gauge | `reserve` | age of each dynamic reserve's last push at the last tick |
//! | `ballast_keeper_rpc_requests_total` | counter | `method`, `result` | RPC request attempts: `result` is `ok` or the fault's kind (`timeout`, `connection_closed`, `rate_limited`, `server_error`, ...) |
//! | `ballast_keeper_rpc_request_duration_seconds` | histogram | `method` | latency of each attempt |
//! | `ballast_keeper_rpc_retries_total` | counter | `method` | retries after a transient fault |
//! | `ballast_keeper_rpc_rebroadcasts_total` | counter | | sent transactions broadcast again (same signature) |
//! | `ballast_keeper_rpc_transactions_total` | counter | `outcome` | `confirmed`, `failed`, `expired`, `unknown` |
//! | `ballast_keeper_rpc_rate_limited_seconds_total` | counter | | time the RPC client waited out 429 answers |

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;

use anyhow::{Context, Result};
use ballast::engine::risk::RiskPolicy;
use prometheus::{
    Counter, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    Opts, Registry, TextEncoder,
};

use crate::chain::rpc::{RpcErrorKind, RpcObserver};
use crate::keeper_loop::{TaskOutcome, TickReport};

/// Every metric of the keeper, in one registry.
pub struct Metrics {
    registry: Registry,
    ticks: IntCounter,
    task_seconds: HistogramVec,
    task_failures: IntCounterVec,
    pushes: IntCounterVec,
    liquidations: IntCounter,
    liquidated_usd: Counter,
    liquidation_skips: IntCounter,
    socialized: IntCounter,
    rebalances: IntCounter,
    scanned: IntGauge,
    lowest_health: Gauge,
    since_push: GaugeVec,
    rpc_requests: IntCounterVec,
    rpc_seconds: HistogramVec,
    rpc_retries: IntCounterVec,
    rpc_rebroadcasts: IntCounter,
    rpc_transactions: IntCounterVec,
    rate_limited: Counter,
}

fn opts(name: &str, help: &str) -> Opts {
    Opts::new(format!("ballast_keeper_{name}"), help)
}

impl Metrics {
    /// A fresh registry with every metric at zero.
    pub fn new() -> Result<Self> {
        let registry = Registry::new();
        macro_rules! reg {
            ($m:expr) => {{
                let m = $m;
                registry.register(Box::new(m.clone()))?;
                m
            }};
        }
        let secs = |name: &str, help: &str, buckets: Vec<f64>| {
            HistogramOpts::new(format!("ballast_keeper_{name}"), help).buckets(buckets)
        };
        Ok(Self {
            ticks: reg!(IntCounter::with_opts(opts("ticks_total", "Ticks run"))?),
            task_seconds: reg!(HistogramVec::new(
                secs(
                    "task_duration_seconds",
                    "Wall time of each keeper task",
                    vec![0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0],
                ),
                &["task"]
            )?),
            task_failures: reg!(IntCounterVec::new(
                opts(
                    "task_failures_total",
                    "Tasks and transactions that failed, by task and reason"
                ),
                &["task", "reason"]
            )?),
            pushes: reg!(IntCounterVec::new(
                opts("pushes_total", "Volatility pushes sent"),
                &["reserve"]
            )?),
            liquidations: reg!(IntCounter::with_opts(opts(
                "liquidations_total",
                "Liquidations that went through"
            ))?),
            liquidated_usd: reg!(Counter::with_opts(opts(
                "liquidated_usd_total",
                "USD of debt repaid by liquidations, at oracle prices"
            ))?),
            liquidation_skips: reg!(IntCounter::with_opts(opts(
                "liquidation_skips_total",
                "Candidates liquidated by someone else first (or recovered)"
            ))?),
            socialized: reg!(IntCounter::with_opts(opts(
                "bad_debt_socialized_total",
                "Debt positions socialised"
            ))?),
            rebalances: reg!(IntCounter::with_opts(opts(
                "rebalances_total",
                "Treasury rebalances sent"
            ))?),
            scanned: reg!(IntGauge::with_opts(opts(
                "obligations_scanned",
                "Obligations the last scan assessed"
            ))?),
            lowest_health: reg!(Gauge::with_opts(opts(
                "lowest_health",
                "Lowest Maintenance health (weighted collateral / weighted debt) of the last scan"
            ))?),
            since_push: reg!(GaugeVec::new(
                opts(
                    "seconds_since_push",
                    "Age of each dynamic reserve's last volatility push at the last tick"
                ),
                &["reserve"]
            )?),
            rpc_requests: reg!(IntCounterVec::new(
                opts(
                    "rpc_requests_total",
                    "RPC request attempts, by method and result (ok or the fault's kind)"
                ),
                &["method", "result"]
            )?),
            rpc_seconds: reg!(HistogramVec::new(
                secs(
                    "rpc_request_duration_seconds",
                    "Latency of each RPC request attempt",
                    vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0],
                ),
                &["method"]
            )?),
            rpc_retries: reg!(IntCounterVec::new(
                opts("rpc_retries_total", "RPC retries after a transient fault"),
                &["method"]
            )?),
            rpc_rebroadcasts: reg!(IntCounter::with_opts(opts(
                "rpc_rebroadcasts_total",
                "Sent transactions broadcast again with the same signature"
            ))?),
            rpc_transactions: reg!(IntCounterVec::new(
                opts(
                    "rpc_transactions_total",
                    "Sent transactions by outcome: confirmed, failed, expired, unknown"
                ),
                &["outcome"]
            )?),
            rate_limited: reg!(Counter::with_opts(opts(
                "rpc_rate_limited_seconds_total",
                "Time the RPC client waited out 429 answers"
            ))?),
            registry,
        })
    }

    /// Records what a tick did; `reserves` are the market's reserves as
    /// the tick ended (for the push ages), `now` its unix time.
    pub fn record_tick(
        &self,
        report: &TickReport,
        reserves: &[(solana_address::Address, ballast::state::Reserve)],
    ) {
        self.ticks.inc();
        for t in &report.tasks {
            self.task_seconds
                .with_label_values(&[t.task.name()])
                .observe(t.secs);
            if let TaskOutcome::Failed(f) = &t.outcome {
                self.fail(t.task.name(), &f.reason.label());
            }
        }
        for p in &report.pushes {
            self.pushes
                .with_label_values(&[&p.reserve.to_string()])
                .inc();
        }
        for (_, f) in &report.volatility.failed {
            self.fail("volatility", &f.reason.label());
        }
        if let Some(l) = &report.liquidation {
            self.liquidations.inc_by(l.liquidated.len() as u64);
            self.liquidated_usd.inc_by(l.liquidated_usd.max(0.0));
            self.liquidation_skips.inc_by(l.skipped.len() as u64);
            for _ in &l.failed {
                self.fail("liquidation", "transaction");
            }
            self.scanned.set(l.scanned as i64);
            if let Some(h) = l.lowest_health {
                self.lowest_health.set(h);
            }
        }
        self.liquidations.inc_by(report.bad_debt.swept.len() as u64);
        // Debt written off by socialize_bad_debt, and by a liquidation or
        // dust sweep that took the last collateral (the same event).
        let in_liquidations = report
            .liquidation
            .as_ref()
            .map_or(0, |l| l.written_off.len())
            + report.bad_debt.swept_written_off.len();
        self.socialized
            .inc_by((report.bad_debt.socialized.len() + in_liquidations) as u64);
        for _ in &report.bad_debt.failed {
            self.fail("bad_debt", "transaction");
        }
        for (_, o) in &report.rebalance {
            match o {
                crate::tasks::rebalance::Outcome::Sent { .. } => self.rebalances.inc(),
                crate::tasks::rebalance::Outcome::Failed(_) => {
                    self.fail("rebalance", "transaction")
                }
                crate::tasks::rebalance::Outcome::Idle(_) => {}
            }
        }
        for (key, r) in reserves {
            if r.config.risk.policy() == RiskPolicy::Dynamic && r.risk.last_push_ts != 0 {
                self.since_push
                    .with_label_values(&[&key.to_string()])
                    .set((report.now - r.risk.last_push_ts) as f64);
            }
        }
    }

    fn fail(&self, task: &str, reason: &str) {
        self.task_failures.with_label_values(&[task, reason]).inc();
    }

    /// Mirrors the RPC client's time spent waiting out 429 answers
    /// (`RpcTransportStats::rate_limited_time`, cumulative).
    pub fn set_rate_limited(&self, total_secs: f64) {
        let delta = total_secs - self.rate_limited.get();
        if delta > 0.0 {
            self.rate_limited.inc_by(delta);
        }
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> Result<String> {
        let mut out = String::new();
        TextEncoder::new()
            .encode_utf8(&self.registry.gather(), &mut out)
            .context("encoding the metrics")?;
        Ok(out)
    }
}

impl RpcObserver for Metrics {
    fn request(&self, method: &'static str, secs: f64, error: Option<RpcErrorKind>) {
        let result = error.map_or("ok", |k| k.label());
        self.rpc_requests.with_label_values(&[method, result]).inc();
        self.rpc_seconds.with_label_values(&[method]).observe(secs);
    }

    fn retry(&self, method: &'static str) {
        self.rpc_retries.with_label_values(&[method]).inc();
    }

    fn rebroadcast(&self) {
        self.rpc_rebroadcasts.inc();
    }

    fn transaction(&self, outcome: &'static str) {
        self.rpc_transactions.with_label_values(&[outcome]).inc();
    }

    fn rate_limited(&self, total_secs: f64) {
        self.set_rate_limited(total_secs);
    }
}

/// Serves `metrics` at `GET /metrics` on `addr` from a thread; returns the
/// address bound (port 0 picks a free one). Other paths answer 404.
pub fn serve(addr: SocketAddr, metrics: Arc<Metrics>) -> Result<SocketAddr> {
    let listener =
        TcpListener::bind(addr).with_context(|| format!("--metrics-addr {addr}: cannot listen"))?;
    let bound = listener.local_addr()?;
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                let _ = answer(conn, &metrics);
            }
        })?;
    Ok(bound)
}

fn answer(mut conn: std::net::TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))?;
    // Read the whole request head, so that closing the connection never
    // finds unread bytes (which would reset it under the answer).
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16_384 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = if path == "/metrics" {
        match metrics.render() {
            Ok(b) => ("200 OK", b),
            Err(e) => ("500 Internal Server Error", format!("{e:#}\n")),
        }
    } else {
        ("404 Not Found", "try /metrics\n".to_string())
    };
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    conn.write_all(answer.as_bytes())?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keeper_loop::{FailureReason, Task, TaskFailure, TaskReport};
    use crate::tasks::liquidation::LiquidationRun;

    fn scrape(addr: SocketAddr, path: &str) -> String {
        let mut c = std::net::TcpStream::connect(addr).unwrap();
        c.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
            .unwrap();
        let mut s = String::new();
        c.read_to_string(&mut s).unwrap();
        s
    }

    #[test]
    fn a_tick_and_rpc_faults_show_in_the_scrape() {
        let m = Arc::new(Metrics::new().unwrap());
        let report = TickReport {
            now: 1_000,
            liquidation: Some(LiquidationRun {
                scanned: 24,
                lowest_health: Some(0.76),
                liquidated: vec![(solana_address::Address::new_unique(), 5, 1)],
                skipped: vec![solana_address::Address::new_unique()],
                liquidated_usd: 1_234.5,
                ..Default::default()
            }),
            tasks: vec![
                TaskReport {
                    task: Task::Volatility,
                    outcome: TaskOutcome::Failed(TaskFailure {
                        reason: FailureReason::Rpc,
                        message: "x".into(),
                    }),
                    secs: 0.2,
                },
                TaskReport {
                    task: Task::Liquidation,
                    outcome: TaskOutcome::Done,
                    secs: 1.5,
                },
            ],
            ..Default::default()
        };
        m.record_tick(&report, &[]);
        m.request("getAccountInfo", 0.01, None);
        m.request("getAccountInfo", 0.02, Some(RpcErrorKind::ConnectionClosed));
        m.retry("getAccountInfo");
        m.transaction("expired");
        m.set_rate_limited(3.0);
        m.set_rate_limited(2.0);
        let addr = serve("127.0.0.1:0".parse().unwrap(), m.clone()).unwrap();
        let text = scrape(addr, "/metrics");
        for line in [
            "ballast_keeper_ticks_total 1",
            "ballast_keeper_liquidations_total 1",
            "ballast_keeper_liquidated_usd_total 1234.5",
            "ballast_keeper_liquidation_skips_total 1",
            "ballast_keeper_obligations_scanned 24",
            "ballast_keeper_lowest_health 0.76",
            "ballast_keeper_task_failures_total{reason=\"rpc\",task=\"volatility\"} 1",
            "ballast_keeper_rpc_requests_total{method=\"getAccountInfo\",result=\"ok\"} 1",
            "ballast_keeper_rpc_requests_total{method=\"getAccountInfo\",result=\"connection_closed\"} 1",
            "ballast_keeper_rpc_retries_total{method=\"getAccountInfo\"} 1",
            "ballast_keeper_rpc_transactions_total{outcome=\"expired\"} 1",
            "ballast_keeper_rpc_rate_limited_seconds_total 3",
            "ballast_keeper_task_duration_seconds_count{task=\"liquidation\"} 1",
        ] {
            assert!(text.contains(line), "missing `{line}` in\n{text}");
        }
        assert!(scrape(addr, "/").starts_with("HTTP/1.1 404"));
    }
}
