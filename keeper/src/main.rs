//! `ballast-keeper`: parse, set up tracing, run. Everything else is in the
//! library (`ballast_keeper::cli`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = ballast_keeper::cli::Cli::parse();
    ballast_keeper::cli::init_logging(cli.log_format);
    ballast_keeper::cli::run(cli)
}
