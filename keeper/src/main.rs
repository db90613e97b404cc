//! `ballast-keeper`: parse, set up tracing, run. Everything else is in the
//! library (`ballast_keeper::cli`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = ballast_keeper::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    ballast_keeper::cli::run(cli)
}
