/**
 * I80F48, the program's fixed-point type (crate `fixed`, 128 bits, 48
 * fractional), on Kit's binary fixed-points (`@solana/kit`): accounts and
 * events store it as `WrappedFx { bits: [u8; 16] }`, `to_bits()` little
 * endian. Rounding is named at every lossy call, as in the program.
 */
import {
    binaryFixedPoint,
    binaryFixedPointToString,
    getBinaryFixedPointCodec,
    rawBinaryFixedPoint,
    ratioBinaryFixedPoint,
    rescaleBinaryFixedPoint,
    type BinaryFixedPoint,
    type ReadonlyUint8Array,
    type RoundingMode,
} from '@solana/kit';
import type { WrappedFxArgs } from './generated';

/** An I80F48 value: `raw / 2^48`, `raw` a signed 128-bit integer. */
export type I80F48 = BinaryFixedPoint<'signed', 128, 48>;

/** 48 fractional bits. */
export const I80F48_FRAC_BITS = 48n;
const codec = getBinaryFixedPointCodec('signed', 128, 48);
const fromString = binaryFixedPoint('signed', 128, 48);
const fromRaw = rawBinaryFixedPoint('signed', 128, 48);
const fromRatio = ratioBinaryFixedPoint('signed', 128, 48);

/** Decodes a stored `WrappedFx` (or its 16 bytes). */
export function fxFromWrapped(w: { bits: ReadonlyUint8Array } | ReadonlyUint8Array): I80F48 {
    const bytes = 'bits' in w ? w.bits : w;
    return codec.decode(bytes);
}

/** Encodes a value as a `WrappedFx` for an instruction argument or account. */
export function fxToWrapped(x: I80F48): WrappedFxArgs {
    return { bits: codec.encode(x) };
}

/** From raw bits (`I80F48::from_bits`). */
export function fxFromBits(raw: bigint): I80F48 {
    return fromRaw(raw);
}

/** From an integer (exact). */
export function fxFromInt(n: bigint | number): I80F48 {
    return fromRaw(BigInt(n) << I80F48_FRAC_BITS);
}

/**
 * From a decimal string such as `"0.85"` or `"-12.5"`; `rounding` as Kit's
 * (`'strict'` throws when the value has no exact I80F48 form, e.g. `"0.1"`).
 */
export function fxFromDecimal(s: string, rounding: RoundingMode = 'round'): I80F48 {
    return fromString(s, rounding);
}

/** `num / den`, rounded as asked (e.g. a bps value: `fxFromRatio(bps, 10_000n, 'floor')`). */
export function fxFromRatio(num: bigint, den: bigint, rounding: RoundingMode): I80F48 {
    return fromRatio(num, den, rounding);
}

/** To an integer, rounded as asked (`'strict'` throws unless it is whole). */
export function fxToBigInt(x: I80F48, rounding: RoundingMode): bigint {
    return rescaleBinaryFixedPoint(x, 128, 0, rounding).raw;
}

/** Exact decimal string (up to 48 fractional digits), or `decimals` of them rounded as asked. */
export function fxToDecimal(x: I80F48, decimals?: number, rounding: RoundingMode = 'round'): string {
    return decimals === undefined ? binaryFixedPointToString(x) : binaryFixedPointToString(x, { decimals, rounding });
}

/** A JavaScript number (lossy: for display only). */
export function fxToNumber(x: I80F48): number {
    return Number(fxToDecimal(x, 17));
}
