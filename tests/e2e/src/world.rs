//! The e2e world: a validator with a SOL/USDC Ballast market created by the
//! keeper's own `market apply` over RPC, a treasury strategy market for its
//! USDC, oracles kept fresh by a [`Feeder`], a supplier, a population of
//! borrowers at graded leverage, and funded liquidator keypairs.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context, Result};
use ballast::state::Obligation;
use ballast_keeper::chain::Chain;
use ballast_keeper::ix::{self, ReserveKeys};
use ballast_keeper::scan::{MarketSnapshot, ScanReport};
use solana_address::Address;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::cluster::{Batch, Cluster};
use crate::keeper::{keeper_cli, write_keypair};
use crate::oracle::{self, Feeder};
use crate::validator::Validator;

/// SOL's price before the crash, USD.
pub const SOL_PRICE: f64 = 20.0;
/// SOL collateral per borrower, whole tokens.
pub const COLLATERAL_SOL: u64 = 100;
/// USDC the supplier deposits, whole tokens.
pub const SUPPLY_USDC: u64 = 200_000;
/// USDC pre-funded into the USDC reserve's insurance vault, whole tokens.
pub const INSURANCE_USDC: u64 = 100;
/// USDC each liquidator holds, whole tokens.
pub const LIQUIDATOR_USDC: u64 = 1_000_000;
/// Static LTV / liquidation threshold of SOL, bps.
pub const SOL_LTV_BPS: u16 = 7_500;
/// See [`SOL_LTV_BPS`].
pub const SOL_LT_BPS: u16 = 8_000;

const SOL_FEED: [u8; 32] = [0x50; 32];
const USDC_FEED: [u8; 32] = [0xC0; 32];

fn hex(b: &[u8; 32]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// How SOL's collateral requirements are set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SolRisk {
    /// Fixed LTV 75% / LT 80%.
    Static,
    /// Volatility-driven, with a `max_age_secs` staleness window and
    /// `min_interval_secs` between pushes.
    Dynamic {
        /// Staleness window of a push, seconds.
        max_age_secs: u32,
        /// Least time between pushes, seconds.
        min_interval_secs: u32,
    },
}

/// The SOL/USDC market definition as `market apply` reads it.
pub fn market_toml(
    name: &str,
    sol: Option<(&Address, &Address, SolRisk)>,
    usdc: (&Address, &Address),
    usdc_band: bool,
) -> String {
    let mut t = format!(
        r#"[market]
name = "{name}"
paused = false

[market.liquidation]
close_factor_bps = 2000
full_liquidation_health_bps = 9500
bonus_min_bps = 500
bonus_max_bps = 500
protocol_bonus_share_bps = 1000
dust_debt_usd = 1.0
"#
    );
    if let Some((mint, oracle, risk)) = sol {
        t += &format!(
            r#"
[[reserves]]
symbol = "SOL"
mint = "{mint}"
decimals = 9
oracle = "{oracle}"
feed_id = "{feed}"
deposit_cap_tokens = 100000000
borrow_cap_tokens = 1000000
oracle_max_age_secs = 60
oracle_max_conf_bps = 200
reserve_factor_bps = 1000
max_utilization_bps = 9500
rate_curve = [[0, 0], [4500, 700], [10000, 30700]]

[reserves.risk]
policy = "{policy}"
ltv_bps = {SOL_LTV_BPS}
liquidation_threshold_bps = {SOL_LT_BPS}
"#,
            feed = hex(&SOL_FEED),
            policy = if risk == SolRisk::Static {
                "static"
            } else {
                "dynamic"
            },
        );
        if let SolRisk::Dynamic {
            max_age_secs,
            min_interval_secs,
        } = risk
        {
            t += &format!(
                r#"
[reserves.risk.dynamic]
sigma_min = 0.2
sigma_max = 5.0
horizon_secs = 86400
min_update_interval_secs = {min_interval_secs}
max_age_secs = {max_age_secs}
max_lt_step_bps = 200
max_ltv_step_bps = 200
initial = {{ base_bps = 1500, z_milli = 2330, min_bps = 1500, max_bps = 6000 }}
maintenance = {{ base_bps = 1200, z_milli = 1650, min_bps = 1200, max_bps = 5500 }}
borrow = {{ base_bps = 0, z_milli = 1000, min_bps = 0, max_bps = 5000 }}
"#
            );
        }
    }
    let (mint, oracle) = usdc;
    t += &format!(
        r#"
[[reserves]]
symbol = "USDC"
mint = "{mint}"
decimals = 6
oracle = "{oracle}"
feed_id = "{feed}"
deposit_cap_tokens = 10000000000
borrow_cap_tokens = 10000000000
oracle_max_age_secs = 60
oracle_max_conf_bps = 200
reserve_factor_bps = 1000
max_utilization_bps = 9500
rate_curve = [[0, 0], [9000, 400], [10000, 6400]]

[reserves.risk]
policy = "static"
ltv_bps = 8500
liquidation_threshold_bps = 9000
"#,
        feed = hex(&USDC_FEED),
    );
    if usdc_band {
        t += r#"
[reserves.liquidity]
buffer_min_bps = 1000
buffer_target_bps = 3000
buffer_max_bps = 5000
rehypothecation_cap_bps = 5000
stress_outflow_bps = 2000
"#;
    }
    t
}

/// Writes `hours` hourly SOL candles ending an hour before `now` (unix
/// seconds) whose log returns alternate +-`sigma / sqrt(8760)`: an EWMA of
/// them is `sigma` a year. The `--history` file a keeper is seeded with.
pub fn write_history(path: &std::path::Path, now: i64, hours: i64, sigma: f64) -> Result<()> {
    let step = sigma / 8_760f64.sqrt();
    let last = now - now.rem_euclid(3_600) - 3_600;
    let mut text = String::from("timestamp,open,high,low,close,volume\n");
    let mut price = SOL_PRICE;
    for i in 0..hours {
        let ts = last - (hours - 1 - i) * 3_600;
        let next = price * (if i % 2 == 0 { step } else { -step }).exp();
        text += &format!(
            "{},{price},{},{},{next},1000\n",
            ballast_keeper::volatility::candles::format_ts(ts),
            price.max(next),
            price.min(next)
        );
        price = next;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// Fetches `http://{addr}/metrics` and returns `name{labels} value` lines
/// as a map (the exposition's samples).
pub fn scrape(addr: &str) -> Result<HashMap<String, f64>> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr)?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    c.write_all(format!("GET /metrics HTTP/1.1\r\nhost: {addr}\r\n\r\n").as_bytes())?;
    let mut text = String::new();
    c.read_to_string(&mut text)?;
    ensure!(text.starts_with("HTTP/1.1 200"), "scrape: {text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    Ok(body
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (k, v) = l.rsplit_once(' ')?;
            Some((k.to_string(), v.parse().ok()?))
        })
        .collect())
}

/// The sum of the samples of `metric` whose labels contain all of
/// `labels` (`key="value"` pairs).
pub fn metric_sum(samples: &HashMap<String, f64>, metric: &str, labels: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(k, _)| {
            (k.as_str() == metric || k.starts_with(&format!("{metric}{{")))
                && labels.iter().all(|l| k.contains(l))
        })
        .map(|(_, v)| v)
        .sum()
}

/// A free loopback port (for `--metrics-addr`).
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// One borrower of the population.
pub struct Borrower {
    /// Owner of the obligation.
    pub keypair: Keypair,
    /// Its keypair file (written when the population is built with the
    /// command line).
    pub path: Option<PathBuf>,
    /// Its obligation (index 0).
    pub obligation: Address,
    /// USDC borrowed, base units.
    pub borrowed: u64,
}

/// A liquidator / keeper identity: keypair, its file, token accounts.
pub struct Operator {
    /// The keypair.
    pub keypair: Keypair,
    /// Its Solana CLI keypair file.
    pub path: PathBuf,
}

/// The world's settings.
#[derive(Clone, Copy, Debug)]
pub struct WorldOptions {
    /// Borrowers in the population.
    pub borrowers: usize,
    /// SOL's risk policy.
    pub sol_risk: SolRisk,
    /// Liquidator keypairs besides the admin (the admin liquidates too).
    pub extra_operators: usize,
    /// Build the population with the users' `ballast` command line (one
    /// process per operation, as users would), instead of batched
    /// transactions.
    pub population_via_cli: bool,
}

impl Default for WorldOptions {
    fn default() -> Self {
        Self {
            borrowers: 24,
            sol_risk: SolRisk::Static,
            extra_operators: 0,
            population_via_cli: false,
        }
    }
}

/// Everything a scenario stands on. Fields drop in order: the feeder
/// before the validator.
pub struct World {
    /// Republishes the prices.
    pub feeder: Feeder,
    /// The test's client (payer = genesis mint).
    pub cluster: Cluster,
    /// Admin and risk authority of both markets; a keeper identity.
    pub admin: Operator,
    /// Other funded keeper identities (not the risk authority).
    pub operators: Vec<Operator>,
    /// The market's definition file.
    pub market_file: PathBuf,
    /// The market's keypair file.
    pub market_keypair: PathBuf,
    /// The market.
    pub market: Address,
    /// SOL reserve.
    pub sol: ReserveKeys,
    /// USDC reserve.
    pub usdc: ReserveKeys,
    /// The strategy market's USDC reserve (the treasury of `usdc`).
    pub strategy: ReserveKeys,
    /// SOL's hourly price history for `--history` (a dynamic SOL only).
    pub history: Option<PathBuf>,
    /// The supplier and its obligation.
    pub supplier: (Keypair, Address),
    /// The population.
    pub borrowers: Vec<Borrower>,
    /// What `market apply` printed, first and second time.
    pub apply_output: (String, String),
    /// Seconds taken to build the world (validator start included).
    pub setup_secs: f64,
    /// Scratch directory (keypairs, logs, definitions).
    pub dir: PathBuf,
    /// The validator (dropped last: stops it).
    pub validator: Validator,
}

/// Parses the market address from `market apply`'s first output line
/// ("market `NAME` at ADDRESS: ...").
fn applied_market(stdout: &str) -> Result<Address> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("market `"))
        .context("no `market ... at ...` line")?;
    let addr = line
        .split(" at ")
        .nth(1)
        .and_then(|r| r.split(':').next())
        .context("no address")?;
    Ok(addr.trim().parse()?)
}

impl World {
    /// Builds the world (see the module docs).
    pub fn new(opts: WorldOptions) -> Result<Self> {
        let t0 = Instant::now();
        let payer = Keypair::new();
        let validator = Validator::start(
            &payer.pubkey(),
            &[
                oracle::feed_address(&SOL_FEED),
                oracle::feed_address(&USDC_FEED),
            ],
        )?;
        eprintln!(
            "[e2e] validator {} (pid {}) ready in {:.1} s",
            validator.rpc_url,
            validator.pid(),
            validator.startup_secs
        );
        let dir = validator.scratch();
        let cluster = Cluster::new(&validator.rpc_url, payer);
        let url = validator.rpc_url.clone();

        let mut operators = vec![];
        for i in 0..=opts.extra_operators {
            let kp = cluster.funded(1_000)?;
            let path = dir.join(format!("operator-{i}.json"));
            write_keypair(&path, &kp)?;
            operators.push(Operator { keypair: kp, path });
        }
        let admin = operators.remove(0);

        eprintln!(
            "[e2e] setup: operators funded at {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        let sol_mint = cluster.create_mint(9)?;
        let usdc_mint = cluster.create_mint(6)?;
        let sol_oracle = oracle::create(&cluster, &oracle::usd(SOL_FEED, SOL_PRICE))?;
        let usdc_oracle = oracle::create(&cluster, &oracle::usd(USDC_FEED, 1.0))?;
        let feeder = Feeder::start(
            &url,
            &cluster.payer,
            &[
                (sol_oracle, oracle::usd(SOL_FEED, SOL_PRICE)),
                (usdc_oracle, oracle::usd(USDC_FEED, 1.0)),
            ],
            Duration::from_secs(3),
        );

        eprintln!(
            "[e2e] setup: mints and oracles at {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        // The market, by the keeper's own `market apply`, twice.
        let market_file = dir.join("market.toml");
        std::fs::write(
            &market_file,
            market_toml(
                "e2e SOL/USDC",
                Some((&sol_mint, &sol_oracle, opts.sol_risk)),
                (&usdc_mint, &usdc_oracle),
                true,
            ),
        )?;
        let market_kp = Keypair::new();
        let market_keypair = dir.join("market-keypair.json");
        write_keypair(&market_keypair, &market_kp)?;
        let apply = |file: &PathBuf, kp: &PathBuf| -> Result<String> {
            let out = keeper_cli(
                &url,
                &admin.path,
                &[
                    "market",
                    "apply",
                    "--market",
                    file.to_str().unwrap(),
                    "--market-keypair",
                    kp.to_str().unwrap(),
                ],
            )?;
            ensure!(
                out.status.success(),
                "market apply failed: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Ok(String::from_utf8(out.stdout)?)
        };
        let first = apply(&market_file, &market_keypair)?;
        let second = apply(&market_file, &market_keypair)?;
        eprintln!(
            "[e2e] setup: market apply x2 at {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        let market = applied_market(&first)?;
        ensure!(market == market_kp.pubkey(), "market address: {first}");

        // The treasury strategy: a second market with a USDC reserve.
        let strategy_file = dir.join("strategy.toml");
        std::fs::write(
            &strategy_file,
            market_toml("e2e strategy", None, (&usdc_mint, &usdc_oracle), false),
        )?;
        let strategy_kp = Keypair::new();
        let strategy_keypair = dir.join("strategy-keypair.json");
        write_keypair(&strategy_keypair, &strategy_kp)?;
        apply(&strategy_file, &strategy_keypair)?;
        let sol = ReserveKeys::derive(
            &market,
            &sol_mint,
            &crate::cluster::TOKEN_PROGRAM_ID,
            &sol_oracle,
        );
        let usdc = ReserveKeys::derive(
            &market,
            &usdc_mint,
            &crate::cluster::TOKEN_PROGRAM_ID,
            &usdc_oracle,
        );
        let strategy = ReserveKeys::derive(
            &strategy_kp.pubkey(),
            &usdc_mint,
            &crate::cluster::TOKEN_PROGRAM_ID,
            &usdc_oracle,
        );
        // The strategy market (same admin here) consents first.
        cluster.send(
            &[
                ix::set_strategy_approval(&admin.keypair.pubkey(), &strategy, &usdc.reserve, true),
                ix::set_treasury_strategy(&admin.keypair.pubkey(), &usdc, &strategy),
            ],
            &[&admin.keypair],
        )?;

        // A dynamic SOL gets its first push from the keeper itself, seeded
        // with an 80%-a-year price history, before anyone borrows (until
        // then the program applies the most conservative LTV).
        let history = if opts.sol_risk == SolRisk::Static {
            None
        } else {
            let file = dir.join("sol-history.csv");
            write_history(&file, cluster.unix_time()?, 200, 0.8)?;
            let out = keeper_cli(
                &url,
                &admin.path,
                &[
                    "run",
                    "--market",
                    &market.to_string(),
                    "--ticks",
                    "1",
                    "--interval",
                    "0",
                    "--no-liquidate",
                    "--history",
                    &format!("{sol_mint}={}", file.display()),
                ],
            )?;
            let r: ballast::state::Reserve = cluster.ballast(&sol.reserve)?;
            ensure!(
                r.risk.last_push_ts != 0,
                "the keeper's first tick did not push SOL's volatility:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(file)
        };
        eprintln!(
            "[e2e] setup: first push at {:.1} s",
            t0.elapsed().as_secs_f64()
        );

        eprintln!(
            "[e2e] setup: strategy market at {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        // Supplier, insurance, liquidators.
        let supplier = Keypair::new();
        let supplier_ob = ix::obligation_address(&market, &supplier.pubkey(), 0);
        let supply = SUPPLY_USDC * 1_000_000;
        let mut setup: Vec<Instruction> =
            cluster.ata_with_tokens_ixs(&supplier.pubkey(), &usdc_mint, supply)?;
        setup.push(ix::init_obligation(
            &cluster.payer.pubkey(),
            &supplier.pubkey(),
            &market,
            0,
        ));
        setup.push(ix::deposit(
            &supplier.pubkey(),
            &usdc,
            &supplier_ob,
            &Cluster::ata(&supplier.pubkey(), &usdc_mint),
            supply,
        ));
        setup.push(
            anchor_spl::token_2022::spl_token_2022::instruction::mint_to(
                &crate::cluster::TOKEN_PROGRAM_ID,
                &usdc_mint,
                &usdc.insurance_vault,
                &cluster.payer.pubkey(),
                &[],
                INSURANCE_USDC * 1_000_000,
            )?,
        );
        let mut batch: Vec<Batch> = vec![(setup, vec![&supplier])];
        for op in std::iter::once(&admin).chain(&operators) {
            let mut ixs = cluster.ata_with_tokens_ixs(
                &op.keypair.pubkey(),
                &usdc_mint,
                LIQUIDATOR_USDC * 1_000_000,
            )?;
            ixs.extend(cluster.ata_with_tokens_ixs(&op.keypair.pubkey(), &sol_mint, 0)?);
            batch.push((ixs, vec![]));
        }
        cluster.send_batch(&batch)?;

        eprintln!(
            "[e2e] setup: supplier, insurance, liquidators at {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        // The population: leverage from 40% to 98% of the borrowing power.
        let borrowers: Vec<Borrower> = (0..opts.borrowers)
            .map(|i| {
                let f = if opts.borrowers == 1 {
                    0.98
                } else {
                    0.40 + 0.58 * i as f64 / (opts.borrowers - 1) as f64
                };
                let power_usd =
                    COLLATERAL_SOL as f64 * SOL_PRICE * 0.999 * SOL_LTV_BPS as f64 / 1e4 / 1.001;
                let keypair = Keypair::new();
                Borrower {
                    obligation: ix::obligation_address(&market, &keypair.pubkey(), 0),
                    path: None,
                    keypair,
                    borrowed: (power_usd * f * 1e6).floor() as u64,
                }
            })
            .collect();
        let mut borrowers = borrowers;
        if opts.population_via_cli {
            // Each borrower: SOL for fees and 100 SOL tokens from the test,
            // then `ballast obligation create`, `ballast deposit`, `ballast
            // borrow`, in four threads.
            let mut batch: Vec<Batch> = vec![];
            for (i, b) in borrowers.iter_mut().enumerate() {
                let path = dir.join(format!("borrower-{i}.json"));
                write_keypair(&path, &b.keypair)?;
                b.path = Some(path);
                let owner = b.keypair.pubkey();
                let mut ixs = vec![cluster.transfer_ix(&owner, 1)];
                ixs.extend(cluster.ata_with_tokens_ixs(
                    &owner,
                    &sol_mint,
                    COLLATERAL_SOL * 1_000_000_000,
                )?);
                batch.push((ixs, vec![]));
            }
            cluster.send_batch(&batch)?;
            let market_s = market.to_string();
            let (sol_s, usdc_s) = (sol_mint.to_string(), usdc_mint.to_string());
            let jobs: Vec<(PathBuf, String)> = borrowers
                .iter()
                .map(|b| {
                    let amount =
                        format!("{}.{:06}", b.borrowed / 1_000_000, b.borrowed % 1_000_000);
                    (b.path.clone().expect("written"), amount)
                })
                .collect();
            let next = std::sync::atomic::AtomicUsize::new(0);
            std::thread::scope(|scope| -> Result<()> {
                let workers: Vec<_> = (0..4)
                    .map(|_| {
                        scope.spawn(|| -> Result<()> {
                            loop {
                                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                let Some((kp, amount)) = jobs.get(i) else {
                                    return Ok(());
                                };
                                let m = ["--market", market_s.as_str()];
                                crate::keeper::user_cli(
                                    &url,
                                    kp,
                                    &[&["obligation", "create"][..], &m].concat(),
                                )?;
                                crate::keeper::user_cli(
                                    &url,
                                    kp,
                                    &[&["deposit"][..], &m, &["--mint", &sol_s, "100"]].concat(),
                                )?;
                                crate::keeper::user_cli(
                                    &url,
                                    kp,
                                    &[&["borrow"][..], &m, &["--mint", &usdc_s, amount]].concat(),
                                )?;
                            }
                        })
                    })
                    .collect();
                for w in workers {
                    w.join().expect("worker")?;
                }
                Ok(())
            })?;
        } else {
            let health = vec![
                AccountMeta::new_readonly(sol.reserve, false),
                AccountMeta::new_readonly(sol_oracle, false),
                AccountMeta::new_readonly(usdc.reserve, false),
                AccountMeta::new_readonly(usdc_oracle, false),
                // USDC has a treasury strategy: its deployed shares are
                // valued at the strategy's rate (issue 13).
                AccountMeta::new_readonly(strategy.reserve, false),
            ];
            let mut batch: Vec<Batch> = vec![];
            for b in &borrowers {
                let owner = b.keypair.pubkey();
                let mut ixs = cluster.ata_with_tokens_ixs(
                    &owner,
                    &sol_mint,
                    COLLATERAL_SOL * 1_000_000_000,
                )?;
                ixs.extend(cluster.ata_with_tokens_ixs(&owner, &usdc_mint, 0)?);
                ixs.push(ix::init_obligation(
                    &cluster.payer.pubkey(),
                    &owner,
                    &market,
                    0,
                ));
                ixs.push(ix::deposit(
                    &owner,
                    &sol,
                    &b.obligation,
                    &Cluster::ata(&owner, &sol_mint),
                    COLLATERAL_SOL * 1_000_000_000,
                ));
                ixs.push(ix::borrow(
                    &owner,
                    &usdc,
                    &b.obligation,
                    &Cluster::ata(&owner, &usdc_mint),
                    b.borrowed,
                    health.clone(),
                ));
                batch.push((ixs, vec![&b.keypair]));
            }
            cluster.send_batch(&batch)?;
        }

        eprintln!(
            "[e2e] setup: population at {:.1} s",
            t0.elapsed().as_secs_f64()
        );
        Ok(Self {
            feeder,
            cluster,
            admin,
            operators,
            market_file,
            market_keypair,
            market,
            sol,
            usdc,
            strategy,
            history,
            supplier: (supplier, supplier_ob),
            borrowers,
            apply_output: (first, second),
            setup_secs: t0.elapsed().as_secs_f64(),
            dir,
            validator,
        })
    }

    /// The validator's RPC URL.
    pub fn url(&self) -> String {
        self.validator.rpc_url.clone()
    }

    /// `run` arguments for this market: `--interval 1 --capacity N`, plus
    /// `extra`.
    pub fn run_args(&self, capacity: usize, extra: &[&str]) -> Vec<String> {
        let mut a: Vec<String> = [
            "run",
            "--market",
            &self.market.to_string(),
            "--interval",
            "1",
            "--capacity",
            &capacity.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    }

    /// Seconds since SOL's last volatility push, on the cluster's clock,
    /// and the push's time.
    pub fn sol_push_age(&self) -> Result<(i64, i64)> {
        let r: ballast::state::Reserve = self.cluster.ballast(&self.sol.reserve)?;
        Ok((
            self.cluster.unix_time()? - r.risk.last_push_ts,
            r.risk.last_push_ts,
        ))
    }

    /// Writes SOL's price (confirmed) and keeps republishing it.
    pub fn set_sol_price(&self, usd: f64) -> Result<()> {
        self.feeder
            .set(&self.sol.oracle, oracle::usd(SOL_FEED, usd))
    }

    /// The liquidation scan of the market now, with the keeper's own code
    /// (what a keeper's next tick would see).
    pub fn scan(&self) -> Result<ScanReport> {
        let chain = ballast_keeper::chain::rpc::RpcChain::new(&self.url(), Keypair::new());
        let now = chain.unix_time()?;
        let snapshot = MarketSnapshot::load(&chain, &self.market, now)?;
        let obligations = chain.ballast_accounts::<Obligation>(&self.market)?;
        Ok(snapshot.scan_report(obligations.iter().map(|(k, d)| (*k, d.as_slice()))))
    }

    /// The liquidation scan of the market now as if SOL's oracle said `usd`
    /// (its account rewritten in memory with the test receiver's own
    /// writer): what the keeper will see once the price is written, free
    /// of the race with a keeper already acting on it.
    pub fn scan_with_sol_price(&self, usd: f64) -> Result<ScanReport> {
        use ballast_keeper::accounts::{load_market, load_oracles, load_reserves};
        let chain = ballast_keeper::chain::rpc::RpcChain::new(&self.url(), Keypair::new());
        let now = chain.unix_time()?;
        let market = load_market(&chain, &self.market)?;
        let reserves = load_reserves(&chain, &self.market)?;
        let mut oracles = load_oracles(&chain, &reserves)?;
        let data = oracles
            .get_mut(&self.sol.oracle)
            .ok_or_else(|| anyhow::anyhow!("no SOL oracle"))?;
        let mut input = oracle::usd(SOL_FEED, usd);
        input.publish_time = now;
        mock_pyth_receiver::write_price(data, &self.cluster.payer.pubkey(), &input, now, 0)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let snapshot = MarketSnapshot::new(self.market, &market, &reserves, &oracles, now);
        let obligations = chain.ballast_accounts::<Obligation>(&self.market)?;
        Ok(snapshot.scan_report(obligations.iter().map(|(k, d)| (*k, d.as_slice()))))
    }

    /// Every obligation of the market (address, decoded).
    pub fn obligations(&self, market: &Address) -> Result<Vec<(Address, Obligation)>> {
        let chain = ballast_keeper::chain::rpc::RpcChain::new(&self.url(), Keypair::new());
        Ok(chain
            .ballast_accounts::<Obligation>(market)?
            .into_iter()
            .filter_map(|(k, d)| ballast_keeper::accounts::decode_obligation(&d).map(|o| (k, o)))
            .collect())
    }

    /// Polls `done` every half second until it holds, at most `timeout`.
    pub fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&Self) -> Result<bool>,
    ) -> Result<f64> {
        let t0 = Instant::now();
        loop {
            match done(self) {
                Ok(true) => return Ok(t0.elapsed().as_secs_f64()),
                Ok(false) => {}
                Err(e) => eprintln!("[e2e] waiting for {what}: {e:#}"),
            }
            if t0.elapsed() > timeout {
                bail!("{what}: not reached after {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

/// A liquidation as the program's `Liquidated` event reports it, with the
/// slot and signature of its transaction.
pub type LiquidationEvent = (
    u64,
    solana_signature::Signature,
    ballast::events::Liquidated,
);

impl World {
    /// Whether the market is settled: no obligation the scan would
    /// liquidate, none with debt and no collateral (bad debt pending).
    pub fn settled(&self) -> Result<bool> {
        let scan = self.scan()?;
        let pending_bad_debt = self
            .obligations(&self.market)?
            .iter()
            .filter(|(_, o)| ballast_keeper::tasks::bad_debt::is_bad_debt(o))
            .count();
        Ok(scan.candidates.is_empty() && pending_bad_debt == 0)
    }

    /// Every `Liquidated` event of the population's obligations, in slot
    /// order.
    pub fn liquidations(&self) -> Result<Vec<LiquidationEvent>> {
        let obs: Vec<Address> = self.borrowers.iter().map(|b| b.obligation).collect();
        self.cluster
            .events_touching::<ballast::events::Liquidated>(&obs)
    }

    /// Every `BadDebtSocialized` event of the population's obligations.
    pub fn socializations(&self) -> Result<Vec<ballast::events::BadDebtSocialized>> {
        let obs: Vec<Address> = self.borrowers.iter().map(|b| b.obligation).collect();
        Ok(self
            .cluster
            .events_touching::<ballast::events::BadDebtSocialized>(&obs)?
            .into_iter()
            .map(|(_, _, e)| e)
            .collect())
    }

    /// Every `Rebalanced` event of the USDC reserve.
    pub fn rebalances(&self) -> Result<Vec<ballast::events::Rebalanced>> {
        Ok(self
            .cluster
            .events_touching::<ballast::events::Rebalanced>(&[self.usdc.reserve])?
            .into_iter()
            .map(|(_, _, e)| e)
            .collect())
    }
}
