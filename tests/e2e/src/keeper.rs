//! The `ballast-keeper` binary as an operator runs it: a child process
//! with `--url` and `--keypair`, its log in a file, stopped by PID
//! (`SIGKILL`, as `kill -9` does) on [`KeeperProcess::kill9`] or on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use solana_keypair::Keypair;

use crate::validator::{die_with_parent, repo_root};

/// The newest modification time of the files under `dir`.
fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        let t = if p.is_dir() {
            newest_mtime(&p)
        } else {
            e.metadata().ok()?.modified().ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// The keeper binary, `target/debug/ballast-keeper` (`make e2e` builds
/// it; `$BALLAST_KEEPER_BIN` overrides). Refused when it is older than the
/// keeper's or the program crate's sources, so that a test never runs a
/// stale keeper. (Building it from inside the test would rebuild the
/// keeper library under another environment and make the next `cargo test`
/// rebuild it again.)
pub fn keeper_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("BALLAST_KEEPER_BIN") {
        return Ok(PathBuf::from(p));
    }
    built_binary("ballast-keeper")
}

/// The users' `ballast` binary, checked as [`keeper_binary`] is.
pub fn user_binary() -> Result<PathBuf> {
    built_binary("ballast")
}

fn built_binary(name: &str) -> Result<PathBuf> {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join("target"));
    let bin = target.join("debug").join(name);
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .with_context(|| {
            format!(
                "{} is missing: run `make e2e`, or `cargo build -p ballast-keeper --bins` first",
                bin.display()
            )
        })?;
    for src in ["keeper/src", "programs/ballast/src"] {
        if newest_mtime(&repo_root().join(src)).is_some_and(|t| t > built) {
            bail!(
                "{} is older than {src}: run `make e2e`, or `cargo build -p ballast-keeper --bins` first",
                bin.display()
            );
        }
    }
    Ok(bin)
}

/// Writes `keypair` as a Solana CLI keypair file (JSON array of 64 bytes).
pub fn write_keypair(path: &Path, keypair: &Keypair) -> Result<()> {
    std::fs::write(path, serde_json::to_string(&keypair.to_bytes().to_vec())?)
        .with_context(|| format!("writing {}", path.display()))
}

/// Runs the keeper binary to completion with `args` after `--url <url>
/// --keypair <keypair>`; returns its output (stdout, stderr, status).
pub fn keeper_cli(url: &str, keypair: &Path, args: &[&str]) -> Result<Output> {
    let out = Command::new(keeper_binary()?)
        .args(["--url", url, "--keypair"])
        .arg(keypair)
        .args(args)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .context("running ballast-keeper")?;
    Ok(out)
}

/// Runs the users' `ballast` binary with `args` after `--url <url>
/// --keypair <keypair>`; fails with its output unless it succeeds.
pub fn user_cli(url: &str, keypair: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(user_binary()?)
        .args(["--url", url, "--keypair"])
        .arg(keypair)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running ballast")?;
    if !out.status.success() {
        bail!(
            "ballast {}: {}\n{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// A running `ballast-keeper` (e.g. `run`), its stderr in a log file.
pub struct KeeperProcess {
    child: Child,
    /// The log file (the keeper's stderr, where tracing writes).
    pub log: PathBuf,
    /// A name for messages.
    pub name: String,
}

impl KeeperProcess {
    /// Starts the keeper with `args` after `--url <url> --keypair
    /// <keypair>`, logging to `log` (appended, so a restart keeps one log).
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(
        name: &str,
        url: &str,
        keypair: &Path,
        args: &[S],
        log: &Path,
    ) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let mut cmd = Command::new(keeper_binary()?);
        cmd.args(["--url", url, "--keypair"])
            .arg(keypair)
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        die_with_parent(&mut cmd);
        let child = cmd.spawn().context("spawning ballast-keeper")?;
        Ok(Self {
            child,
            log: log.to_path_buf(),
            name: name.to_string(),
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: SIGKILL by PID, then reaps it.
    pub fn kill9(&mut self) -> Result<()> {
        // SAFETY: kill(2) on our own child's PID.
        let r = unsafe { libc::kill(self.child.id() as i32, libc::SIGKILL) };
        if r != 0 {
            bail!(
                "kill -9 {}: {}",
                self.child.id(),
                std::io::Error::last_os_error()
            );
        }
        self.child.wait()?;
        Ok(())
    }

    /// Whether it is still running (`Some(status)` once it exited).
    pub fn exited(&mut self) -> Result<Option<ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    /// Waits for it to exit, at most `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait()? {
                return Ok(s);
            }
            if Instant::now() > deadline {
                bail!("{} still running after {timeout:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for KeeperProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
