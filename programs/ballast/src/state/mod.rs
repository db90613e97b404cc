//! Account layouts. Zero-copy (`#[account(zero_copy)]`, `repr(C)`), each with a
//! size assertion and reserved bytes for later fields, so that layouts stay
//! pinned across upgrades. Fixed-point fields are stored as
//! [`crate::engine::fx::WrappedFx`] (alignment 1) so the layout is the same on
//! the host and on sBPF.

pub mod market;
pub mod obligation;
pub mod reserve;
pub mod term_deposit;

pub use market::*;
pub use obligation::*;
pub use reserve::*;
pub use term_deposit::*;
