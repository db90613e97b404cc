//! A `solana-test-validator` per test: fresh ledger in a temporary
//! directory, free loopback ports, `ballast.so` at the program id and the
//! test-only Pyth receiver at the receiver's id, stopped by its PID however
//! the test ends ([`Validator`]'s `Drop`, which also runs while a panicking
//! test unwinds; the process also gets `SIGKILL` if the test's thread dies
//! without unwinding, through `PR_SET_PDEATHSIG`).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use solana_address::Address;

/// Ports one validator takes: RPC, its websocket (RPC + 1), faucet,
/// gossip, then its dynamic range.
const PORTS_PER_VALIDATOR: u16 = 40;

/// The repository's root (this crate is `tests/e2e`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The validator binary: `$BALLAST_TEST_VALIDATOR` (set by `make e2e` from
/// `scripts/install-validator.sh`), else what that script finds without
/// building (PATH, then `../shared/validator`).
pub fn validator_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("BALLAST_TEST_VALIDATOR") {
        return Ok(PathBuf::from(p));
    }
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/install-validator.sh"))
        .args(["--no-build", "--quiet"])
        .stderr(Stdio::inherit())
        .output()
        .context("running scripts/install-validator.sh")?;
    if !out.status.success() {
        bail!(
            "no solana-test-validator: run `make validator` (or `make e2e`), which can build one"
        );
    }
    Ok(PathBuf::from(
        String::from_utf8(out.stdout)?.trim().to_string(),
    ))
}

/// A built program the validator must load: `target/deploy/<name>`.
pub fn deployed_so(name: &str) -> Result<PathBuf> {
    let p = repo_root().join("target/deploy").join(name);
    if !p.exists() {
        bail!(
            "{} is missing: run `make e2e` (it builds ballast.so and mock_pyth_receiver.so)",
            p.display()
        );
    }
    Ok(p)
}

/// Whether `port` is free on loopback for both TCP and UDP.
fn port_free(port: u16) -> bool {
    let a = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    TcpListener::bind(a).is_ok() && UdpSocket::bind(a).is_ok()
}

/// A block of [`PORTS_PER_VALIDATOR`] consecutive free ports in 20,000-
/// 59,999, starting from a place that depends on the process id so that
/// concurrent test processes rarely probe the same block.
fn free_port_block() -> Result<u16> {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let span = 40_000 / PORTS_PER_VALIDATOR;
    let start = (std::process::id() as u16).wrapping_mul(7) % span;
    for _ in 0..span {
        let slot = (start + NEXT.fetch_add(1, Ordering::Relaxed)) % span;
        let base = 20_000 + slot * PORTS_PER_VALIDATOR;
        if (base..base + PORTS_PER_VALIDATOR).all(port_free) {
            return Ok(base);
        }
    }
    bail!("no block of {PORTS_PER_VALIDATOR} free loopback ports in 20000-59999")
}

/// Makes the child die with its parent thread (Linux), so that a test
/// killed without unwinding leaves no process behind.
pub fn die_with_parent(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe; nothing else runs in the child
    // between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// A running `solana-test-validator`.
pub struct Validator {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub rpc_url: String,
    /// The RPC port.
    pub rpc_port: u16,
    dir: PathBuf,
    /// When the process was started.
    pub started: Instant,
    /// Seconds from spawn to a healthy RPC with a first slot.
    pub startup_secs: f64,
}

impl Validator {
    /// Starts a validator whose genesis gives `mint` its SOL (the tests'
    /// payer), with Ballast and the mock Pyth receiver loaded and, for each
    /// address of `price_feeds`, an empty `PriceUpdateV2` account owned by
    /// the receiver (the push oracle's price-feed accounts, which only the
    /// push oracle could create: the mock's first write to one makes its
    /// signer the write authority; see `oracle::create`), and waits
    /// until its RPC answers `getHealth` and a slot has passed. Tries three
    /// port blocks before giving up (another process may take a probed port
    /// before the validator binds it).
    pub fn start(mint: &Address, price_feeds: &[Address]) -> Result<Self> {
        let bin = validator_binary()?;
        let ballast = deployed_so("ballast.so")?;
        let mock = deployed_so("mock_pyth_receiver.so")?;
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(&bin, &ballast, &mock, mint, price_feeds) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    eprintln!("[e2e] validator start failed, retrying: {e:#}");
                    last = Some(e);
                }
            }
        }
        Err(last.expect("three attempts"))
    }

    fn try_start(
        bin: &Path,
        ballast: &Path,
        mock: &Path,
        mint: &Address,
        price_feeds: &[Address],
    ) -> Result<Self> {
        static N: AtomicU16 = AtomicU16::new(0);
        let base = free_port_block()?;
        let dir = std::env::temp_dir().join(format!(
            "ballast-e2e-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let log = std::fs::File::create(dir.join("stdout.log"))?;
        let mut cmd = Command::new(bin);
        cmd.arg("--ledger")
            .arg(dir.join("ledger"))
            .args(["--bind-address", "127.0.0.1"])
            .args(["--rpc-port", &base.to_string()])
            .args(["--faucet-port", &(base + 2).to_string()])
            .args(["--gossip-port", &(base + 3).to_string()])
            .args([
                "--dynamic-port-range",
                &format!("{}-{}", base + 4, base + PORTS_PER_VALIDATOR),
            ])
            .args(["--mint", &mint.to_string()])
            .arg("--bpf-program")
            .arg(ballast::ID.to_string())
            .arg(ballast)
            .arg("--bpf-program")
            .arg(mock_pyth_receiver::RECEIVER_ID.to_string())
            .arg(mock);
        for feed in price_feeds {
            let file = dir.join(format!("price-feed-{feed}.json"));
            std::fs::write(&file, empty_price_account_json(feed))?;
            cmd.arg("--account").arg(feed.to_string()).arg(file);
        }
        cmd.args(["--limit-ledger-size", "10000", "--quiet"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        die_with_parent(&mut cmd);
        let started = Instant::now();
        let child = cmd
            .spawn()
            .with_context(|| format!("spawning {}", bin.display()))?;
        let mut v = Validator {
            child,
            rpc_url: format!("http://127.0.0.1:{base}"),
            rpc_port: base,
            dir,
            started,
            startup_secs: 0.0,
        };
        v.wait_ready(Duration::from_secs(60))?;
        v.startup_secs = started.elapsed().as_secs_f64();
        Ok(v)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let client = solana_rpc_client::rpc_client::RpcClient::new_with_timeout(
            self.rpc_url.clone(),
            Duration::from_secs(2),
        );
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "solana-test-validator exited ({status}) before it was ready:\n{}",
                    self.log_tail(40)
                );
            }
            if client.get_health().is_ok()
                && client
                    .get_slot_with_commitment(
                        solana_commitment_config::CommitmentConfig::confirmed(),
                    )
                    .is_ok_and(|s| s >= 1)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "solana-test-validator not healthy after {timeout:?}:\n{}",
                    self.log_tail(40)
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The RPC address (for a proxy in front of it).
    pub fn rpc_addr(&self) -> std::net::SocketAddr {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.rpc_port).into()
    }

    /// The last `n` lines of the validator's output and log.
    pub fn log_tail(&self, n: usize) -> String {
        let mut out = String::new();
        for f in ["stdout.log", "ledger/validator.log"] {
            if let Ok(text) = std::fs::read_to_string(self.dir.join(f)) {
                let lines: Vec<&str> = text.lines().collect();
                out += &format!("--- {f}\n");
                out += &lines[lines.len().saturating_sub(n)..].join("\n");
                out.push('\n');
            }
        }
        out
    }

    /// A scratch directory beside the ledger, removed with the validator.
    pub fn scratch(&self) -> PathBuf {
        let p = self.dir.join("scratch");
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }
}

impl Drop for Validator {
    fn drop(&mut self) {
        // SIGKILL by PID: nothing of the ledger is kept.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() || std::env::var_os("BALLAST_E2E_KEEP").is_some() {
            eprintln!(
                "[e2e] validator {} stopped; its files are kept in {}",
                self.rpc_url,
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A genesis account (the `--account <ADDRESS> <FILE>` JSON of
/// `solana account --output json`): [`mock_pyth_receiver::ACCOUNT_LEN`]
/// zero bytes owned by the receiver, rent exempt with room to spare.
fn empty_price_account_json(address: &Address) -> String {
    let len = mock_pyth_receiver::ACCOUNT_LEN;
    // Base64 of `len` zero bytes: "AAAA" per 3 bytes, then the remainder.
    let data = "AAAA".repeat(len / 3)
        + match len % 3 {
            1 => "AA==",
            2 => "AAA=",
            _ => "",
        };
    serde_json::json!({
        "pubkey": address.to_string(),
        "account": {
            "lamports": 10_000_000u64,
            "data": [data, "base64"],
            "owner": mock_pyth_receiver::RECEIVER_ID.to_string(),
            "executable": false,
            "rentEpoch": 0,
            "space": len,
        }
    })
    .to_string()
}
