//! Peer lending programs in the same LiteSVM as Ballast, for the side-by-side
//! compute-unit bench (`tests/benches/peers.rs`) and its smoke test
//! (`tests/tests/integration/peers_smoke.rs`).
//!
//! The peers are real mainnet builds kept beside the workspace in
//! `../shared/peers/` (see its README): Kamino Lend (klend) 1.7.x and
//! Save/Solend token-lending 2.0.2. Every VM made here is a
//! [`TestContext`] (Ballast's own harness, with `ballast.so` loaded) into
//! which both peer programs are added, so all three run on one LiteSVM
//! configuration (mainnet feature set, default compute budget, no
//! compute-budget instruction in any transaction).
//!
//! [`Protocol`] is the common face of the three programs: the bench runs one
//! generic scenario over it, so Ballast and the peers go through exactly the
//! same steps. [`self::ballast::BallastMarket`] sends Ballast's instruction alone;
//! [`klend::KlendMarket`] and [`solend::SolendMarket`] send the smallest
//! transaction the program accepts, trying the instruction alone first, then
//! with a refresh of the reserve it touches, then with refreshes of every
//! reserve of the obligation and of the obligation (what their SDKs send).

pub mod ballast;
pub mod klend;
pub mod solend;

use std::path::PathBuf;

use solana_instruction::Instruction;

use crate::{Address, Keypair, Signer, TestContext};

/// The klend program id.
pub const KLEND_ID: Address =
    Address::from_str_const("KLend2g3cP87fffoy8q1mQqGKjrxjC8boSyAYavgmjD");
/// The Solend (Save) token-lending program id.
pub const SOLEND_ID: Address =
    Address::from_str_const("So1endDq2YkqhipRh3WViPa8hdiSpxWy6z3Z6tMCpAo");
/// The legacy Pyth v2 ("push") oracle program, owner of the price accounts
/// klend 1.7.x reads.
pub const PYTH_LEGACY_ID: Address =
    Address::from_str_const("FsJ3A3u2vn5cTVofAjvy6y5kwABJAqYWpe4975bi2epH");
/// The rent sysvar.
pub const SYSVAR_RENT: Address =
    Address::from_str_const("SysvarRent111111111111111111111111111111111");
/// The instructions sysvar.
pub const SYSVAR_INSTRUCTIONS: Address =
    Address::from_str_const("Sysvar1nstructions1111111111111111111111111");
/// The system program.
pub const SYSTEM_PROGRAM: Address = Address::from_str_const("11111111111111111111111111111111");

/// File name of the klend build in the peers directory.
pub const KLEND_SO: &str = "klend-1.7.x-mainnet.so";
/// File name of the Solend build in the peers directory.
pub const SOLEND_SO: &str = "solend-2.0.2.so";

/// The directory holding the peer programs: `$BALLAST_PEERS_DIR`, else
/// `../shared/peers` beside the workspace root.
pub fn peers_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("BALLAST_PEERS_DIR") {
        return PathBuf::from(p);
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers")
}

/// The path of peer program `file`, or a panic that says where it was
/// looked for and how to provide it.
pub fn peer_so(file: &str) -> PathBuf {
    let path = peers_dir().join(file);
    if !path.is_file() {
        panic!(
            "peer program {} not found: the peer benchmarks need `../shared/peers/` beside \
             the workspace (klend-1.7.x-mainnet.so and solend-2.0.2.so, see its README), \
             or BALLAST_PEERS_DIR pointing at a directory holding them",
            path.display()
        );
    }
    path
}

/// A fresh [`TestContext`] (Ballast loaded) with klend and Solend added
/// beside it. The clock is LiteSVM's default, as in Ballast's own bench.
pub fn peer_context() -> TestContext {
    let mut ctx = TestContext::new();
    for (id, file) in [(KLEND_ID, KLEND_SO), (SOLEND_ID, SOLEND_SO)] {
        let path = peer_so(file);
        ctx.chain
            .svm
            .add_program_from_file(id, &path)
            .unwrap_or_else(|e| panic!("cannot load {}: {e:?}", path.display()));
    }
    ctx
}

/// The unix time the peers' VMs start at (their oracles want a plausible
/// clock).
pub const START_TS: i64 = 1_700_000_000;

/// What one operation cost, in compute units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cost {
    /// The protocol's own instruction (its top-level `consumed` log line).
    pub ix: u64,
    /// The whole transaction: every instruction in it.
    pub tx: u64,
    /// The instructions of the transaction, e.g.
    /// `refresh_reserve x3 + refresh_obligation + borrow`.
    pub shape: String,
    /// The smaller transactions the program refused first, with why.
    pub rejected: Vec<String>,
}

/// The common face of Ballast, klend and Solend for the bench scenario.
/// Amounts are in base units; withdrawals are in the unit the protocol's
/// withdraw takes (tokens for Ballast, collateral tokens for the peers,
/// whose exchange rate starts at 1).
pub trait Protocol: Sized {
    /// A reserve handle.
    type Reserve: Copy;
    /// An obligation handle (with whatever the protocol needs to list its
    /// positions in refresh instructions).
    type Obligation;
    /// The column name in the bench output.
    const NAME: &'static str;

    /// A fresh VM (all three programs loaded) with one market.
    fn new() -> Self;
    /// Lists a new mint with `decimals` at `price` USD (confidence 0.1%).
    fn add_reserve(&mut self, decimals: u8, price: f64) -> Self::Reserve;
    /// `whole` tokens of `r` in base units.
    fn units(&self, r: &Self::Reserve, whole: f64) -> u64;
    /// A new keypair with SOL for fees and rent.
    fn funded_user(&mut self) -> Keypair;
    /// A token account of `r`'s mint owned by `owner`, holding `amount`.
    fn token_account(&mut self, r: &Self::Reserve, owner: &Address, amount: u64) -> Address;
    /// Opens an obligation of `owner` in the market.
    fn open_obligation(&mut self, owner: &Keypair) -> Self::Obligation;
    /// Moves the clock `seconds` forward (2 slots a second).
    fn warp(&mut self, seconds: i64);
    /// Publishes `price` USD for `r` now (confidence 0.1%).
    fn set_price(&mut self, r: &Self::Reserve, price: f64);
    /// Deposits `amount` of `r` from `src` as collateral of `ob`.
    fn deposit(
        &mut self,
        owner: &Keypair,
        ob: &mut Self::Obligation,
        r: &Self::Reserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String>;
    /// Withdraws `amount` of `r`'s collateral of `ob` into `dst`.
    fn withdraw(
        &mut self,
        owner: &Keypair,
        ob: &mut Self::Obligation,
        r: &Self::Reserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String>;
    /// Borrows `amount` of `r` against `ob` into `dst`.
    fn borrow(
        &mut self,
        owner: &Keypair,
        ob: &mut Self::Obligation,
        r: &Self::Reserve,
        dst: &Address,
        amount: u64,
    ) -> Result<Cost, String>;
    /// Repays `amount` of `ob`'s debt in `r` from `src`.
    fn repay(
        &mut self,
        owner: &Keypair,
        ob: &mut Self::Obligation,
        r: &Self::Reserve,
        src: &Address,
        amount: u64,
    ) -> Result<Cost, String>;
    /// `liquidator` repays as much of `ob`'s debt in `debt` as one call
    /// allows from `src` and seizes `coll` (redeemed into a new token
    /// account of `coll`'s mint).
    fn liquidate(
        &mut self,
        liquidator: &Keypair,
        ob: &mut Self::Obligation,
        debt: &Self::Reserve,
        coll: &Self::Reserve,
        src: &Address,
    ) -> Result<Cost, String>;
}

/// The top-level instructions of a transaction's log, in order, as
/// (program id, compute units consumed).
pub fn top_level_cu(logs: &[String]) -> Vec<(String, u64)> {
    let mut out = vec![];
    let mut depth = 0usize;
    for l in logs {
        let Some(rest) = l.strip_prefix("Program ") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let (Some(program), Some(verb)) = (words.next(), words.next()) else {
            continue;
        };
        match verb {
            "invoke" => {
                depth = words
                    .next()
                    .and_then(|d| d.trim_matches(|c| c == '[' || c == ']').parse().ok())
                    .unwrap_or(depth + 1);
            }
            "consumed" if depth == 1 => {
                if let Some(cu) = words.next().and_then(|n| n.parse().ok()) {
                    out.push((program.to_string(), cu));
                }
            }
            "success" | "failed:" | "failed" => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    out
}

/// Sends each candidate transaction of `variants` (a label, its
/// instructions) in turn until one succeeds; returns its [`Cost`] (the last
/// instruction is the measured one), or every refusal. With `PEERS_DEBUG`
/// set, prints the whole log of each refusal.
pub fn first_accepted(
    ctx: &mut TestContext,
    signers: &[&Keypair],
    variants: Vec<(String, Vec<Instruction>)>,
) -> Result<Cost, String> {
    let mut rejected = vec![];
    for (shape, ixs) in variants {
        match ctx.chain.send(&ixs, signers) {
            Ok(meta) => {
                let per = top_level_cu(&meta.logs);
                if per.len() != ixs.len() {
                    return Err(format!(
                        "{shape}: {} instructions but {} `consumed` lines in the log",
                        ixs.len(),
                        per.len()
                    ));
                }
                let sum: u64 = per.iter().map(|(_, cu)| cu).sum();
                if sum != meta.compute_units_consumed {
                    return Err(format!(
                        "{shape}: instructions sum to {sum} CU, the transaction to {}",
                        meta.compute_units_consumed
                    ));
                }
                return Ok(Cost {
                    ix: per.last().map_or(0, |(_, cu)| *cu),
                    tx: meta.compute_units_consumed,
                    shape,
                    rejected,
                });
            }
            Err(e) => {
                if std::env::var_os("PEERS_DEBUG").is_some() {
                    eprintln!("[peers] refused: {shape}\n{}", e.meta.logs.join("\n"));
                }
                rejected.push(format!("{shape}: {}", failure_reason(&e.meta.logs)));
            }
        }
    }
    Err(rejected.join("; "))
}

/// Sends a setup transaction that must succeed (silently; panics with the
/// log otherwise).
pub fn must(ctx: &mut TestContext, label: &str, ixs: &[Instruction], signers: &[&Keypair]) {
    if let Err(e) = ctx.chain.send(ixs, signers) {
        panic!("[{label}] failed: {:?}\n{}", e.err, e.meta.logs.join("\n"));
    }
}

/// The most telling lines of a failed transaction's log, joined.
pub fn failure_reason(logs: &[String]) -> String {
    let lines: Vec<&str> = logs
        .iter()
        .map(String::as_str)
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            (l.contains("error") || l.contains("stale") || l.contains("failed"))
                && !l.contains("consumed")
        })
        .collect();
    let keep = lines.len().saturating_sub(3);
    if lines.is_empty() {
        logs.last().cloned().unwrap_or_else(|| "no log".into())
    } else {
        lines[keep..].join(" | ")
    }
}

/// Writes an account with `owner` and `data` (rent exempt).
pub fn set_account(ctx: &mut TestContext, address: &Address, owner: Address, data: Vec<u8>) {
    ctx.chain
        .set_raw_account(address, owner, data)
        .expect("write account");
}

/// An SPL Token mint (82 bytes) with `authority` as mint authority.
pub fn mint_data(decimals: u8, authority: &Address, supply: u64) -> Vec<u8> {
    let mut d = vec![0u8; 82];
    d[0..4].copy_from_slice(&1u32.to_le_bytes());
    d[4..36].copy_from_slice(authority.as_ref());
    d[36..44].copy_from_slice(&supply.to_le_bytes());
    d[44] = decimals;
    d[45] = 1;
    d
}

/// An initialized SPL Token account (165 bytes) of `mint` owned by `owner`.
pub fn token_account_data(mint: &Address, owner: &Address, amount: u64) -> Vec<u8> {
    let mut d = vec![0u8; 165];
    d[0..32].copy_from_slice(mint.as_ref());
    d[32..64].copy_from_slice(owner.as_ref());
    d[64..72].copy_from_slice(&amount.to_le_bytes());
    d[108] = 1;
    d
}

/// Fresh keypair addresses, for accounts written directly.
pub fn new_address() -> Address {
    Keypair::new().pubkey()
}

/// `price` USD as a Pyth integer at exponent -8, and its 0.1% confidence.
pub fn pyth_units(price: f64) -> (i64, u64) {
    let p = (price * 1e8).round() as i64;
    (p, (price * 0.001 * 1e8).round() as u64)
}
