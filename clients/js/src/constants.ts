/**
 * Constants of the Ballast program that its IDL does not carry (yet): PDA
 * seeds, sizes, the Pyth receiver, and the codes stored as bare `u8`.
 * Sources: `programs/ballast/src/state/*.rs`, `engine/risk.rs`,
 * `engine/rates.rs`, `treasury.rs`.
 */
import { address, type Address } from '@solana/kit';

/** `[b"obligation", market, owner, [index]]` (state/obligation.rs). */
export const OBLIGATION_SEED = 'obligation';
/** `[b"reserve", market, mint]` (state/reserve.rs). */
export const RESERVE_SEED = 'reserve';
/** `[b"liquidity", reserve]`: the reserve's liquidity vault. */
export const LIQUIDITY_VAULT_SEED = 'liquidity';
/** `[b"insurance", reserve]`: the reserve's insurance vault. */
export const INSURANCE_VAULT_SEED = 'insurance';
/** `[b"authority", market]`: the market authority PDA that owns every vault. */
export const MARKET_AUTHORITY_SEED = 'authority';
/** Position slots per obligation (collateral and debt in any mix). */
export const MAX_POSITIONS = 8;
/** Points of a rate curve's fixed array (2..=11 in use). */
export const MAX_CURVE_POINTS = 11;
/** Index of the treasury obligation a market authority holds in its strategy market. */
export const TREASURY_OBLIGATION_INDEX = 0;
/** Basis points in one. */
export const BPS = 10_000;
/** Highest borrow factor, bps (state/reserve.rs). */
export const MAX_BORROW_FACTOR_BPS = 50_000;
/** Oldest oracle max age a reserve may configure, seconds. */
export const MAX_ORACLE_AGE_SECS = 86_400;
/** Highest point of a rate curve, bps of APR (engine/rates.rs). */
export const MAX_BORROW_RATE_BPS = 100_000;
/** The Pyth pull-oracle receiver, owner of every `PriceUpdateV2` account Ballast reads. */
export const PYTH_RECEIVER_PROGRAM_ADDRESS: Address = address('rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ');
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
