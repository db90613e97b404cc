//! The `ballast` command line, for depositors and borrowers: obligations,
//! deposit, withdraw, borrow and repay, each previewed (the resulting
//! health, from a simulation valued with the program's engine) before it is
//! signed. A separate binary from `ballast-keeper`, on the same library and
//! with the same Solana CLI habits (`--url`, `--keypair` defaulting to
//! `~/.config/solana/id.json`, `--output json`): users get the commands they
//! need under the protocol's name, operators keep theirs.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use solana_address::Address;
use solana_signer::Signer;

use crate::cli::args::Output;
use crate::cli::read_keypair;
use crate::user::{self, Operation};

/// Ballast: deposit, borrow, repay and withdraw on a Ballast lending market;
/// every operation shows the obligation's health after it before signing.
#[derive(Parser, Debug)]
#[command(name = "ballast", version, about)]
pub struct UserCli {
    /// RPC URL of the cluster.
    #[arg(
        short = 'u',
        long,
        global = true,
        default_value = "http://127.0.0.1:8899",
        env = "BALLAST_URL"
    )]
    pub url: String,
    /// Keypair file of the user (owner of the obligation, fee payer)
    /// [default: ~/.config/solana/id.json].
    #[arg(short = 'k', long, global = true, env = "BALLAST_KEYPAIR")]
    pub keypair: Option<PathBuf>,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// What to do.
    #[command(subcommand)]
    pub command: UserCommand,
}

/// `ballast` subcommands.
#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Obligations: create one, or show one valued now.
    Obligation {
        /// What to do.
        #[command(subcommand)]
        command: ObligationCommand,
    },
    /// Deposits collateral from your token account.
    Deposit(OpArgs),
    /// Withdraws collateral to your token account (`all`: everything).
    Withdraw(OpArgs),
    /// Borrows to your token account.
    Borrow(OpArgs),
    /// Repays debt from your token account (`all`: everything).
    Repay(OpArgs),
    /// Locks tokens from your token account at a fixed rate until the
    /// maturity of a tenor of the reserve (a term deposit; not collateral).
    DepositTerm(TermDepositArgs),
    /// Settles your matured term deposit to your token account (refused
    /// before its maturity).
    WithdrawTerm(TermArgs),
}

/// The term deposit addressed.
#[derive(clap::Args, Debug)]
pub struct TermArgs {
    /// The market's address.
    #[arg(long, value_name = "ADDRESS")]
    pub market: Address,
    /// The token's mint (its reserve in the market is used).
    #[arg(long, value_name = "ADDRESS")]
    pub mint: Address,
    /// The deposit's nonce among the owner's deposits in the reserve.
    #[arg(long, default_value_t = 0)]
    pub nonce: u64,
}

/// `ballast deposit-term`.
#[derive(clap::Args, Debug)]
pub struct TermDepositArgs {
    /// The deposit.
    #[command(flatten)]
    pub term: TermArgs,
    /// The reserve's tenor index (0, 1 or 2: see its term configuration).
    #[arg(long)]
    pub tenor: u8,
    /// Least face accepted at maturity, whole tokens [default: any].
    #[arg(long)]
    pub min_face: Option<String>,
    /// Whole tokens (`12.5`).
    pub amount: String,
}

/// `ballast obligation ...`.
#[derive(Subcommand, Debug)]
pub enum ObligationCommand {
    /// Creates obligation `--index` of the keypair in `--market`.
    Create(ObligationArgs),
    /// Shows an obligation: positions, health under both requirements,
    /// borrowing power, liquidation price.
    Show(ShowArgs),
}

/// The obligation addressed.
#[derive(clap::Args, Debug)]
pub struct ObligationArgs {
    /// The market's address.
    #[arg(long, value_name = "ADDRESS")]
    pub market: Address,
    /// The obligation's index among the owner's.
    #[arg(long, default_value_t = 0)]
    pub index: u8,
}

/// `ballast obligation show`.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The obligation.
    #[command(flatten)]
    pub obligation: ObligationArgs,
    /// Its owner [default: the keypair's].
    #[arg(long, value_name = "ADDRESS")]
    pub owner: Option<Address>,
}

/// Arguments of deposit, withdraw, borrow, repay.
#[derive(clap::Args, Debug)]
pub struct OpArgs {
    /// The obligation.
    #[command(flatten)]
    pub obligation: ObligationArgs,
    /// The token's mint (its reserve in the market is used).
    #[arg(long, value_name = "ADDRESS")]
    pub mint: Address,
    /// Whole tokens (`12.5`), or `all` for withdraw and repay.
    pub amount: String,
    /// Preview only: show the resulting health and do not sign.
    #[arg(long)]
    pub dry_run: bool,
}

fn keypair_path(cli: &UserCli) -> PathBuf {
    cli.keypair.clone().unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| ".".into()))
            .join(".config/solana/id.json")
    })
}

fn print<T: serde::Serialize>(
    cli: &UserCli,
    value: &T,
    text: impl FnOnce() -> String,
) -> Result<()> {
    match cli.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Output::Text => print!("{}", text()),
    }
    Ok(())
}

/// Runs a parsed `ballast` command line.
pub fn run(cli: UserCli) -> Result<()> {
    let keypair = read_keypair(&keypair_path(&cli))?;
    let mut chain = crate::chain::rpc::RpcChain::new(&cli.url, keypair.insecure_clone());
    match &cli.command {
        UserCommand::Obligation {
            command: ObligationCommand::Create(a),
        } => {
            let address = user::create_obligation(&mut chain, &a.market, &keypair, a.index)?;
            let v = user::show(&chain, &a.market, &address)?;
            print(&cli, &v, || {
                format!("created {}\n{}", address, user::view_text(&v))
            })
        }
        UserCommand::Obligation {
            command: ObligationCommand::Show(a),
        } => {
            let owner = a.owner.unwrap_or(keypair.pubkey());
            let address =
                crate::ix::obligation_address(&a.obligation.market, &owner, a.obligation.index);
            let v = user::show(&chain, &a.obligation.market, &address)?;
            print(&cli, &v, || user::view_text(&v))
        }
        UserCommand::Deposit(a) => operate(&cli, &mut chain, &keypair, Operation::Deposit, a),
        UserCommand::Withdraw(a) => operate(&cli, &mut chain, &keypair, Operation::Withdraw, a),
        UserCommand::Borrow(a) => operate(&cli, &mut chain, &keypair, Operation::Borrow, a),
        UserCommand::Repay(a) => operate(&cli, &mut chain, &keypair, Operation::Repay, a),
        UserCommand::DepositTerm(a) => term(&cli, &mut chain, &keypair, &a.term, Some(a)),
        UserCommand::WithdrawTerm(a) => term(&cli, &mut chain, &keypair, a, None),
    }
}

/// The outcome of a term-deposit command, for `--output json`.
#[derive(serde::Serialize)]
struct TermDone {
    term_deposit: String,
    compute_units: u64,
}

fn term(
    cli: &UserCli,
    chain: &mut crate::chain::rpc::RpcChain,
    keypair: &solana_keypair::Keypair,
    a: &TermArgs,
    deposit: Option<&TermDepositArgs>,
) -> Result<()> {
    let (keys, reserve) = user::reserve_for_mint(chain, &a.market, &a.mint)?;
    let deposit = match deposit {
        Some(d) => {
            let amount = user::parse_amount(&d.amount, reserve.mint_decimals)?;
            anyhow::ensure!(amount != u64::MAX, "give a number of tokens, not `all`");
            let min_face = match &d.min_face {
                Some(m) => user::parse_amount(m, reserve.mint_decimals)?,
                None => 0,
            };
            Some((d.tenor, amount, min_face))
        }
        None => None,
    };
    let owner = keypair.pubkey();
    let ixs = user::term_instructions(&owner, &keys, &reserve, a.nonce, deposit);
    let what = if deposit.is_some() {
        "deposit-term"
    } else {
        "withdraw-term"
    };
    let sent = crate::chain::Chain::send(chain, &ixs, &[keypair])
        .with_context(|| format!("sending the {what}"))?;
    let done = TermDone {
        term_deposit: crate::ix::term_deposit_address(&keys.reserve, &owner, a.nonce).to_string(),
        compute_units: sent.compute_units,
    };
    print(cli, &done, || {
        format!(
            "{what}: term deposit {} ({} compute units)\n",
            done.term_deposit, done.compute_units
        )
    })
}

/// The outcome of an operation, for `--output json`.
#[derive(serde::Serialize)]
struct Done<'a> {
    preview: &'a user::Preview,
    sent: bool,
    compute_units: Option<u64>,
}

fn operate(
    cli: &UserCli,
    chain: &mut crate::chain::rpc::RpcChain,
    keypair: &solana_keypair::Keypair,
    op: Operation,
    a: &OpArgs,
) -> Result<()> {
    let market = a.obligation.market;
    let (keys, reserve) = user::reserve_for_mint(chain, &market, &a.mint)?;
    let amount = user::parse_amount(&a.amount, reserve.mint_decimals)?;
    if amount == u64::MAX && matches!(op, Operation::Deposit | Operation::Borrow) {
        anyhow::bail!("`all` is for withdraw and repay; give a number of tokens");
    }
    let obligation = crate::ix::obligation_address(&market, &keypair.pubkey(), a.obligation.index);
    let ixs = user::instructions(
        chain,
        op,
        &keypair.pubkey(),
        &obligation,
        &keys,
        &reserve,
        amount,
    )?;
    let preview = user::preview(chain, &market, &obligation, op, amount, &ixs, keypair)?;
    let text = |sent: Option<u64>| {
        let h = |v: &user::ObligationView| {
            let f = |x: Option<f64>| x.map_or("-".to_string(), |h| format!("{h:.4}"));
            format!(
                "initial {} / maintenance {}",
                f(v.initial_health),
                f(v.maintenance_health)
            )
        };
        let mut t = format!("{op:?} {} base units of {}\n", amount, a.mint).to_lowercase();
        t += &format!("  health now:   {}\n", h(&preview.before));
        match (&preview.after, &preview.refused) {
            (Some(after), _) => t += &format!("  health after: {}\n", h(after)),
            (None, Some(r)) => t += &format!("  refused by the program: {r}\n"),
            _ => {}
        }
        t += &match sent {
            Some(cu) => format!("  sent ({cu} compute units)\n"),
            None if preview.refused.is_some() => "  not sent\n".into(),
            None => "  not sent (--dry-run)\n".into(),
        };
        t
    };
    if let Some(r) = &preview.refused {
        print(
            cli,
            &Done {
                preview: &preview,
                sent: false,
                compute_units: None,
            },
            || text(None),
        )?;
        anyhow::bail!("the program refuses this {op:?}: {r}");
    }
    if a.dry_run {
        return print(
            cli,
            &Done {
                preview: &preview,
                sent: false,
                compute_units: None,
            },
            || text(None),
        );
    }
    let sent = crate::chain::Chain::send(chain, &ixs, &[keypair])
        .with_context(|| format!("sending the {op:?}"))?;
    print(
        cli,
        &Done {
            preview: &preview,
            sent: true,
            compute_units: Some(sent.compute_units),
        },
        || text(Some(sent.compute_units)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn term_deposit_commands_parse() {
        UserCli::command().debug_assert();
        let m = Address::new_unique().to_string();
        let x = Address::new_unique().to_string();
        let cli = UserCli::try_parse_from([
            "ballast",
            "deposit-term",
            "--market",
            &m,
            "--mint",
            &x,
            "--tenor",
            "1",
            "--nonce",
            "4",
            "--min-face",
            "1000.5",
            "1000",
        ])
        .unwrap();
        match cli.command {
            UserCommand::DepositTerm(a) => {
                assert_eq!((a.tenor, a.term.nonce), (1, 4));
                assert_eq!(
                    (a.amount.as_str(), a.min_face.as_deref()),
                    ("1000", Some("1000.5"))
                );
                assert_eq!(a.term.market.to_string(), m);
            }
            c => panic!("{c:?}"),
        }
        let cli =
            UserCli::try_parse_from(["ballast", "withdraw-term", "--market", &m, "--mint", &x])
                .unwrap();
        assert!(matches!(
            cli.command,
            UserCommand::WithdrawTerm(TermArgs { nonce: 0, .. })
        ));
        // the tenor is required
        assert!(UserCli::try_parse_from([
            "ballast",
            "deposit-term",
            "--market",
            &m,
            "--mint",
            &x,
            "5"
        ])
        .is_err());
    }
}
