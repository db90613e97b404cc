/**
 * Constants the IDL does not carry. The seeds, `MAX_OBLIGATION_POSITIONS`,
 * `TREASURY_OBLIGATION_INDEX` and `PYTH_RECEIVER_PROGRAM_ID` come from the
 * IDL's `#[constant]`s (src/generated/constants.ts). Sources:
 * programs/ballast/src/engine/bounds.rs, engine/position.rs, engine/risk.rs.
 */
import { address, type Address } from '@solana/kit';

/** Points of a rate curve's fixed array (2..=11 in use). */
export const MAX_CURVE_POINTS = 11;
/** Basis points in one. */
export const BPS = 10_000;
/** Highest borrow factor, bps. */
export const MAX_BORROW_FACTOR_BPS = 50_000;
/** Oldest oracle max age a reserve may configure, seconds. */
export const MAX_ORACLE_AGE_SECS = 86_400;
/** Highest point of a rate curve, bps of APR. */
export const MAX_BORROW_RATE_BPS = 100_000;
/** SPL Token. */
export const TOKEN_PROGRAM_ADDRESS: Address = address('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
/** Token-2022. */
export const TOKEN_2022_PROGRAM_ADDRESS: Address = address('TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb');

/** What an obligation's position slot holds (`Position.kind`). */
export enum PositionKind {
    /** A free slot. */
    Empty = 0,
    /** Deposit shares of the reserve, counted as collateral. */
    Collateral = 1,
    /** Debt shares of the reserve. */
    Debt = 2,
}

/** A reserve's collateral policy (`RiskConfig.policy`). */
export enum RiskPolicy {
    /** Fixed LTV, liquidation threshold and borrow factor from the config. */
    Static = 0,
    /** Haircuts follow the pushed volatility within on-chain bounds. */
    Dynamic = 1,
}
