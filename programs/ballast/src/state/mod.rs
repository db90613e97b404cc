//! Account layouts. Zero-copy (`#[account(zero_copy)]`, `repr(C)`), each with a
//! size assertion and reserved bytes for later fields, so that layouts stay
//! pinned across upgrades.

pub mod market;

pub use market::*;
