//! # ballast-e2e
//!
//! End-to-end tests of the keeper against a real `solana-test-validator`
//! (Agave 4.2), run by `make e2e` (and so by `make test` and CI):
//!
//! * [`validator`]: one validator per test, fresh ledger, free loopback
//!   ports, `ballast.so` and the test-only Pyth receiver loaded, stopped by
//!   PID however the test ends.
//! * [`cluster`]: the test's own RPC client (transactions, batches, SPL
//!   mints and token accounts, Ballast accounts and events).
//! * [`oracle`]: `PriceUpdateV2` accounts written through the test-only
//!   receiver (`tests/programs/mock-pyth-receiver`), kept fresh by a feeder
//!   thread.
//! * [`keeper`]: the `ballast-keeper` binary as a child process.
//! * [`proxy`]: a fault-injecting HTTP proxy (delays, drops, resets, 429,
//!   503, lost answers).
//! * [`world`]: the market (by `market apply` over RPC), its treasury
//!   strategy, a supplier and a population of borrowers.
//! * [`report`]: measurements appended to `target/e2e/measurements.jsonl`.
//! * [`books`]: reconciliation of the reserves with their vaults and
//!   obligations, and of every mint's supply with the token accounts.
//!
//! The validator binary comes from `$BALLAST_TEST_VALIDATOR` or
//! `scripts/install-validator.sh --no-build`; the programs from
//! `target/deploy` (`make e2e` builds them).
#![deny(missing_docs)]

pub mod books;
pub mod checks;
pub mod cluster;
pub mod keeper;
pub mod oracle;
pub mod proxy;
pub mod report;
pub mod validator;
pub mod world;
