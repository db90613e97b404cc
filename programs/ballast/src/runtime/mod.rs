//! The runtime layer: helpers over `AccountInfo`s that the handlers share.
//! They check accounts (owner, discriminator, the key a reserve configures),
//! decode them, sign and invoke CPIs; the economics they feed are the plain
//! functions of [`crate::engine`].
//!
//! * [`health_accounts`]: an obligation's (reserve, oracle) remaining
//!   accounts, validated and loaded for a health check;
//! * [`oracle_account`]: the account-level checks of a Pyth `PriceUpdateV2`;
//! * [`token`]: `transfer_checked` CPIs into and out of reserve vaults;
//! * [`treasury_cpi`]: the treasury strategy's accounts, its deposit and
//!   withdraw CPIs and the accounting that follows what they moved.

pub mod health_accounts;
pub mod oracle_account;
pub mod token;
pub mod treasury_cpi;
