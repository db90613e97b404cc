/**
 * Pyth pull-oracle `PriceUpdateV2` accounts (owned by the Pyth receiver,
 * `PYTH_RECEIVER_PROGRAM_ID`), the only oracle Ballast reads. Layout
 * (borsh, `pyth-solana-receiver-sdk` 2.x): 8-byte discriminator, write
 * authority (32), verification level (`Partial { num_signatures: u8 }` =
 * `[0, n]` | `Full` = `[1]`), then the price message: feed id (32), price
 * (i64), conf (u64), exponent (i32), publish time (i64), previous publish
 * time (i64), EMA price (i64), EMA conf (u64); then the posted slot (u64).
 * The account is allocated at 134 bytes.
 */
import { createHash } from 'node:crypto';
import type { ReadonlyUint8Array } from '@solana/kit';

/** `sha256("account:PriceUpdateV2")[..8]`. */
export const PRICE_UPDATE_V2_DISCRIMINATOR: ReadonlyUint8Array = createHash('sha256')
    .update('account:PriceUpdateV2')
    .digest()
    .subarray(0, 8);
/** Allocated size of a `PriceUpdateV2` account, bytes. */
export const PRICE_UPDATE_V2_SIZE = 134;

/** A decoded `PriceUpdateV2`. Prices are integers scaled by `10^exponent` USD. */
export type PythPrice = {
    feedId: ReadonlyUint8Array;
    price: bigint;
    conf: bigint;
    exponent: number;
    publishTime: bigint;
    emaPrice: bigint;
    emaConf: bigint;
    /** `'full'`, or the number of guardian signatures of a partial verification. */
    verification: 'full' | { partial: number };
    postedSlot: bigint;
};

/** Decodes a `PriceUpdateV2` account's data; throws with the reason if it is not one. */
export function decodePriceUpdateV2(data: ReadonlyUint8Array): PythPrice {
    if (data.length < 133) throw new Error(`PriceUpdateV2: ${data.length} bytes`);
    for (let i = 0; i < 8; i++) {
        if (data[i] !== PRICE_UPDATE_V2_DISCRIMINATOR[i]) throw new Error('PriceUpdateV2: wrong discriminator');
    }
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    let o = 40;
    let verification: PythPrice['verification'];
    if (data[o] === 1) {
        verification = 'full';
        o += 1;
    } else if (data[o] === 0) {
        verification = { partial: data[o + 1] };
        o += 2;
    } else throw new Error(`PriceUpdateV2: verification level ${data[o]}`);
    const feedId = data.slice(o, o + 32);
    o += 32;
    const price = v.getBigInt64(o, true);
    const conf = v.getBigUint64(o + 8, true);
    const exponent = v.getInt32(o + 16, true);
    const publishTime = v.getBigInt64(o + 20, true);
    const emaPrice = v.getBigInt64(o + 36, true);
    const emaConf = v.getBigUint64(o + 44, true);
    const postedSlot = v.getBigUint64(o + 52, true);
    return { feedId, price, conf, exponent, publishTime, emaPrice, emaConf, verification, postedSlot };
}

/**
 * Encodes a `PriceUpdateV2` account (134 bytes, zero-padded), as the receiver
 * writes it: for tests that put prices on a local validator or LiteSVM.
 */
export function encodePriceUpdateV2(p: Omit<PythPrice, 'postedSlot'> & { postedSlot?: bigint }): Uint8Array {
    const data = new Uint8Array(PRICE_UPDATE_V2_SIZE);
    const v = new DataView(data.buffer);
    data.set(PRICE_UPDATE_V2_DISCRIMINATOR, 0);
    let o = 40;
    if (p.verification === 'full') data[o++] = 1;
    else {
        data[o++] = 0;
        data[o++] = p.verification.partial;
    }
    data.set(p.feedId, o);
    o += 32;
    v.setBigInt64(o, p.price, true);
    v.setBigUint64(o + 8, p.conf, true);
    v.setInt32(o + 16, p.exponent, true);
    v.setBigInt64(o + 20, p.publishTime, true);
    v.setBigInt64(o + 28, p.publishTime - 1n, true);
    v.setBigInt64(o + 36, p.emaPrice, true);
    v.setBigUint64(o + 44, p.emaConf, true);
    v.setBigUint64(o + 52, p.postedSlot ?? 0n, true);
    return data;
}
