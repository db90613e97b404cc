//! The `ballast-keeper` command line: the grammar ([`Cli`], clap) and one
//! module per subcommand behind [`run`]. Global options follow the Solana
//! CLI's habits (`--url`, `--keypair`, default keypair
//! `~/.config/solana/id.json`).
//!
//! Every subcommand is always parsed; one whose backend this build leaves
//! out (`replay`, `demo` and `market apply --url embedded` need the cargo
//! feature `embedded`; `run` and `market apply --url <cluster>` need `rpc`)
//! fails with an error naming the feature.

use std::path::Path;

use anyhow::{Context, Result};
use solana_keypair::Keypair;

mod args;
mod commands;
#[cfg(feature = "rpc")]
pub mod user;

pub use args::{
    AlmArgs, AlmCalibration, Cli, Command, LogFormat, MarketApplyArgs, MarketCommand, Output,
    OutputFormat, PolicyArg, ReplayArgs, RunArgs, SnapshotArgs, StatusArgs, VolArgs, VolMethod,
};
#[cfg(feature = "rpc")]
pub use commands::live::{run_live, LiveOptions};
pub use commands::run;

/// Reads a keypair file in the Solana CLI's format (a JSON array of 64
/// bytes), with the path in the error.
pub fn read_keypair(path: &Path) -> Result<Keypair> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading keypair {}", path.display()))?;
    let bytes: Vec<u8> = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a JSON array of bytes", path.display()))?;
    Keypair::try_from(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{}: not a keypair: {e}", path.display()))
}

/// Sets up `tracing` on stderr in `format`, the level from `RUST_LOG`
/// (default `info`).
pub fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The error of a subcommand whose backend this build leaves out.
#[cfg(not(all(feature = "embedded", feature = "rpc")))]
pub(crate) fn feature_off(what: &str, feature: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "{what} needs the `{feature}` cargo feature, which this build of ballast-keeper \
         leaves out (rebuild with `--features {feature}`, or with the default features)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_signer::Signer;

    #[test]
    fn keypair_files_in_cli_format_are_read_and_bad_ones_named() {
        let dir = std::env::temp_dir().join(format!("ballast-kp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let kp = Keypair::new();
        let good = dir.join("id.json");
        std::fs::write(
            &good,
            serde_json::to_string(&kp.to_bytes().to_vec()).unwrap(),
        )
        .unwrap();
        assert_eq!(read_keypair(&good).unwrap().pubkey(), kp.pubkey());
        let bad = dir.join("bad.json");
        std::fs::write(&bad, "[1,2,3]").unwrap();
        let e = read_keypair(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.json"), "{e}");
        let missing = read_keypair(&dir.join("nope.json"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nope.json"), "{missing}");
    }

    /// In a build without LiteSVM (`--no-default-features --features rpc`),
    /// the subcommands that need it say which feature is missing.
    #[cfg(not(feature = "embedded"))]
    #[test]
    fn embedded_subcommands_name_the_missing_feature() {
        use clap::Parser;

        let replay = [
            "ballast-keeper",
            "replay",
            "--prices",
            "x.csv",
            "--from",
            "2022-11-01",
            "--to",
            "2022-11-02",
        ];
        for argv in [
            &["ballast-keeper", "demo"][..],
            &replay,
            &["ballast-keeper", "market", "apply", "--market", "x.toml"],
            &[
                "ballast-keeper",
                "snapshot",
                "--market",
                "x.toml",
                "--out",
                "x.json",
            ],
            &["ballast-keeper", "alm", "--market", "x.toml"],
        ] {
            let e = run(Cli::parse_from(argv)).unwrap_err().to_string();
            assert!(e.contains("`embedded` cargo feature"), "{argv:?}: {e}");
        }
    }
}
