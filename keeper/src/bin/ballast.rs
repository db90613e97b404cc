//! `ballast`: the depositors' and borrowers' command line. Everything is in
//! the library (`ballast_keeper::cli::user`, `ballast_keeper::user`).

use clap::Parser;

fn main() -> anyhow::Result<()> {
    ballast_keeper::cli::init_logging(ballast_keeper::cli::LogFormat::Text);
    ballast_keeper::cli::user::run(ballast_keeper::cli::user::UserCli::parse())
}
