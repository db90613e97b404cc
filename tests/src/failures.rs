//! Expected failures: the error codes a refused transaction must carry
//! ([`Expect`], [`check`] and the `assert_*` helpers).

use solana_instruction_error::InstructionError;
use solana_transaction_error::TransactionError;

use crate::{Address, TOKEN_2022_PROGRAM_ID, TOKEN_PROGRAM_ID};

/// Anchor's error code for a missing signature on a `Signer` account.
pub const ANCHOR_ACCOUNT_NOT_SIGNER: u32 = 3010;

/// SPL Token / Token-2022 `TokenError::InsufficientFunds`.
pub const TOKEN_INSUFFICIENT_FUNDS: u32 = 1;

/// SPL Token / Token-2022 `TokenError::OwnerMismatch`.
pub const TOKEN_OWNER_MISMATCH: u32 = 4;

/// The custom error code of a failed instruction, if it failed with one.
pub fn custom_code(err: &TransactionError) -> Option<u32> {
    match err {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(*code),
        _ => None,
    }
}

/// Asserts that `res` failed with the Ballast error `expected`.
pub fn assert_ballast_err(err: &TransactionError, expected: ballast::errors::BallastError) {
    let want = anchor_lang::error::ERROR_CODE_OFFSET + expected as u32;
    assert_eq!(
        custom_code(err),
        Some(want),
        "expected {expected:?} ({want}), got {err:?}"
    );
}

/// Asserts that `err` is the Anchor framework error `expected` (account and
/// constraint errors, codes below 6000).
pub fn assert_anchor_err(err: &TransactionError, expected: anchor_lang::error::ErrorCode) {
    let want = expected as u32;
    assert_eq!(
        custom_code(err),
        Some(want),
        "expected Anchor {expected:?} ({want}), got {err:?}"
    );
}

/// Asserts that `err` carries the custom code `code` (e.g. an Anchor
/// constraint error).
pub fn assert_code(err: &TransactionError, code: u32) {
    assert_eq!(
        custom_code(err),
        Some(code),
        "expected code {code}, got {err:?}"
    );
}

/// The error a refused transaction must raise.
#[derive(Clone, Copy, Debug)]
pub enum Expect {
    /// A Ballast error.
    Ballast(ballast::errors::BallastError),
    /// An Anchor framework error (account constraints).
    Anchor(anchor_lang::error::ErrorCode),
    /// A custom error of the token program, surfacing through the CPI.
    Token(u32),
}

/// Asserts that `err` (of case `label`) is `expect`.
pub fn check(label: &str, err: &TransactionError, expect: Expect) {
    println!("case: {label} -> {err:?}");
    match expect {
        Expect::Ballast(e) => assert_ballast_err(err, e),
        Expect::Anchor(e) => assert_anchor_err(err, e),
        Expect::Token(code) => assert_eq!(
            err,
            &TransactionError::InstructionError(0, InstructionError::Custom(code)),
            "[{label}]"
        ),
    }
}

/// The token program that is not `tp` (SPL Token <-> Token-2022).
pub fn other_token_program(tp: &Address) -> Address {
    if *tp == TOKEN_PROGRAM_ID {
        TOKEN_2022_PROGRAM_ID
    } else {
        TOKEN_PROGRAM_ID
    }
}
