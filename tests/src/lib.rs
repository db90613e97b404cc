//! Shared harness of the integration tests: a [`TestContext`] on LiteSVM that
//! runs the real `target/deploy/ballast.so` (or `$BALLAST_SO`), plus
//! assertions on outcomes.
//!
//! The chain utilities (mints under both token programs, Pyth `PriceUpdateV2`
//! accounts, clock warps) come from the keeper's embedded backend
//! ([`ballast_keeper::chain::embedded`]), so that tests and `replay` stand on the same
//! code; instructions come from [`ballast_keeper::ix`], built from the
//! program crate's `accounts::` and `instruction::` types. The example
//! configurations are the program crate's [`ballast::fixtures`].
//!
//! What the harness offers, by module (everything is re-exported here, so
//! `use ballast_tests::*;` is all a test needs):
//!
//! * `context`: [`TestContext`] and its sends: [`TestContext::ok`] (success,
//!   prints the compute units), [`TestContext::fails`] (returns the error),
//!   [`expect_ok`].
//! * `market`: markets and reserves ([`TestMarket`], [`TestReserve`],
//!   [`test_config`]), their oracles and configuration updates.
//! * `lending`: users, obligations, `deposit` / `borrow` / `withdraw` /
//!   `repay`, and the two-reserve [`Lending`] fixture.
//! * `failures`: the error a refusal must carry ([`Expect`], [`check`],
//!   [`assert_ballast_err`], [`assert_anchor_err`], [`assert_code`]).
//! * `adversary`: [`Snapshot`]s to prove that a refusal moved nothing
//!   ([`TestContext::assert_unchanged`]), forged and patched accounts,
//!   hostile Token-2022 mints, partially verified oracle updates.
//! * `books`: a reserve's books against its vault and obligations
//!   ([`TestContext::assert_books`]).
//! * `events`: Anchor events decoded from the logs ([`events`]).
//! * `volatility`: [`dynamic_config`], volatility pushes, the program's own
//!   health computation ([`TestContext::engine_health`]).
//! * `liquidation`: `liquidate` checked against its own event
//!   ([`TestContext::liquidate_ok`]) and the positions' values.
//! * `treasury`: [`buffered_config`], the two-market [`Treasury`] fixture,
//!   rebalances and recalls ([`TestContext::assert_treasury_reconciles`]).
//! * `stress`: the `obligation_stress` view sent and decoded
//!   ([`TestContext::stress`]), oracle prices by exact mantissa.
//! * `vault`: the CPI example program `ballast-vault-example` loaded beside
//!   Ballast, its instruction builders ([`vault_ix`]) and [`TestVault`].
//!
//! A refusal is checked for its exact error and for leaving every account
//! byte-for-byte unchanged (not a doctest, which would need the built .so; see
//! `tests/failures_positions.rs` for the same pattern):
//!
//! ```text
//! use ballast::errors::BallastError;
//! use ballast_tests::*;
//!
//! let mut ctx = TestContext::new();
//! let l = ctx.lending(&TOKEN_PROGRAM_ID);
//! let before = ctx.snapshot(&l.accounts());
//! let health = ctx.health_accounts(&l.ob, &[&l.debt]);
//! let ix = ix::borrow(&l.borrower.pubkey(), &l.debt.keys, &l.ob, &l.b_debt, 0, health);
//! let err = ctx.fails("zero borrow", &[ix], &[&l.borrower]);
//! check("zero borrow", &err, Expect::Ballast(BallastError::ZeroAmount));
//! ctx.assert_unchanged("zero borrow", &before);
//! ```

mod adversary;
mod books;
mod context;
mod events;
mod failures;
mod lending;
mod liquidation;
mod market;
mod stress;
mod treasury;
mod vault;
mod volatility;

pub use adversary::*;
pub use context::*;
pub use events::*;
pub use failures::*;
pub use lending::*;
pub use liquidation::*;
pub use market::*;
pub use treasury::*;
pub use vault::*;
pub use volatility::*;

/// The invariant fuzzer over every instruction (issue 14; `make fuzz`).
pub mod fuzz;
/// Kamino Lend and Solend beside Ballast, for the peer CU benchmark.
pub mod peers;
pub use ballast_keeper::accounts::{PythPrice, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};
pub use ballast_keeper::ix;
pub use ballast_keeper::ix::ReserveKeys;
pub use solana_address::Address;
pub use solana_keypair::Keypair;
pub use solana_signer::Signer;

/// Both token programs, for tests that run under each.
pub const TOKEN_PROGRAMS: [Address; 2] = [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID];
