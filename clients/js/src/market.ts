/**
 * The market loader: one market, its reserves (with their oracle prices and
 * treasury strategy reserves) and the obligations of an owner, from any
 * {@link AccountSource}: a Kit RPC ({@link rpcAccountSource}) or anything that
 * can return accounts by address and by program with `memcmp` filters.
 */
import {
    getBase58Decoder,
    getBase64Encoder,
    getAddressEncoder,
    type Address,
    type ReadonlyUint8Array,
} from '@solana/kit';
import {
    BALLAST_PROGRAM_ADDRESS,
    getMarketDecoder,
    getObligationDecoder,
    getReserveDecoder,
    MARKET_DISCRIMINATOR,
    OBLIGATION_DISCRIMINATOR,
    RESERVE_DISCRIMINATOR,
    type Market,
    type Obligation,
    type Reserve,
} from './generated';
import { decodePriceUpdateV2, type PythPrice } from './oracle';

/** The account fields the loader reads. */
export type RawAccount = { address: Address; owner: Address; data: ReadonlyUint8Array };
/** `memcmp`: `bytes` at `offset` of the account data. */
export type MemcmpFilter = { offset: number; bytes: ReadonlyUint8Array };

/** Where accounts come from. */
export interface AccountSource {
    /** One account, or null if it does not exist. */
    getAccount(address: Address): Promise<RawAccount | null>;
    /** Every account of `program` whose data matches all `filters`. */
    getProgramAccounts(program: Address, filters: MemcmpFilter[]): Promise<RawAccount[]>;
}

/** The subset of Kit's RPC API the loader uses. */
export type LoaderRpc = {
    getAccountInfo(
        address: Address,
        config: { encoding: 'base64' },
    ): { send(): Promise<{ value: { owner: Address; data: readonly [string, 'base64'] } | null }> };
    getProgramAccounts(
        program: Address,
        config: {
            encoding: 'base64';
            filters: { memcmp: { offset: bigint; bytes: string; encoding: 'base58' } }[];
        },
    ): { send(): Promise<readonly { pubkey: Address; account: { owner: Address; data: readonly [string, 'base64'] } }[]> };
};

/**
 * An {@link AccountSource} over a Kit RPC (`createSolanaRpc(url)`): filters
 * are sent to the server as base58 `memcmp`s, data comes back in base64.
 */
export function rpcAccountSource(rpc: LoaderRpc): AccountSource {
    const b64 = getBase64Encoder();
    const b58 = getBase58Decoder();
    return {
        async getAccount(address) {
            const { value } = await rpc.getAccountInfo(address, { encoding: 'base64' }).send();
            return value ? { address, owner: value.owner, data: b64.encode(value.data[0]) } : null;
        },
        async getProgramAccounts(program, filters) {
            const res = await rpc
                .getProgramAccounts(program, {
                    encoding: 'base64',
                    filters: filters.map((f) => ({
                        memcmp: { offset: BigInt(f.offset), bytes: b58.decode(f.bytes), encoding: 'base58' as const },
                    })),
                })
                .send();
            return res.map((r) => ({ address: r.pubkey, owner: r.account.owner, data: b64.encode(r.account.data[0]) }));
        },
    };
}

/** Whether `data` matches a `memcmp` filter (for sources that filter locally). */
export function matchesFilter(data: ReadonlyUint8Array, f: MemcmpFilter): boolean {
    if (f.offset + f.bytes.length > data.length) return false;
    for (let i = 0; i < f.bytes.length; i++) if (data[f.offset + i] !== f.bytes[i]) return false;
    return true;
}

/**
 * A reserve with its decoded account and its oracle's price (null if missing
 * or undecodable), plus both accounts' raw data (what the WASM engine reads).
 */
export type LoadedReserve = {
    address: Address;
    account: Reserve;
    price: PythPrice | null;
    data: ReadonlyUint8Array;
    oracleData: ReadonlyUint8Array | null;
};
/** A decoded obligation, with its raw data. */
export type LoadedObligation = { address: Address; account: Obligation; data: ReadonlyUint8Array };

/** A market, its reserves by address, and the strategy reserves its treasuries use. */
export type MarketSnapshot = {
    address: Address;
    market: Market;
    /** The market account's raw data. */
    marketData: ReadonlyUint8Array;
    reserves: Map<Address, LoadedReserve>;
    /** Strategy reserves (in other markets) referenced by this market's treasuries. */
    strategies: Map<Address, LoadedReserve>;
};

const addressBytes = (a: Address) => getAddressEncoder().encode(a);

function expectOwner(acc: RawAccount, what: string) {
    if (acc.owner !== BALLAST_PROGRAM_ADDRESS) {
        throw new Error(`${what} ${acc.address} is owned by ${acc.owner}, not Ballast`);
    }
}

async function loadReserveAt(source: AccountSource, acc: RawAccount): Promise<LoadedReserve> {
    expectOwner(acc, 'reserve');
    const account = getReserveDecoder().decode(acc.data);
    const oracle = await source.getAccount(account.oracle);
    let price: PythPrice | null = null;
    try {
        price = oracle ? decodePriceUpdateV2(oracle.data) : null;
    } catch {
        price = null;
    }
    return { address: acc.address, account, price, data: acc.data, oracleData: oracle?.data ?? null };
}

/**
 * Loads `market`, every reserve of it (one `getProgramAccounts` filtered on
 * the reserve discriminator and the market at offset 8), each reserve's
 * oracle, and the strategy reserves of their treasuries.
 */
export async function loadMarket(source: AccountSource, market: Address): Promise<MarketSnapshot> {
    const m = await source.getAccount(market);
    if (!m) throw new Error(`market ${market} does not exist`);
    expectOwner(m, 'market');
    const decodedMarket = getMarketDecoder().decode(m.data);
    if (!matchesFilter(m.data, { offset: 0, bytes: MARKET_DISCRIMINATOR })) throw new Error(`${market} is not a market`);
    const raws = await source.getProgramAccounts(BALLAST_PROGRAM_ADDRESS, [
        { offset: 0, bytes: RESERVE_DISCRIMINATOR },
        { offset: 8, bytes: addressBytes(market) },
    ]);
    const reserves = new Map<Address, LoadedReserve>();
    for (const r of await Promise.all(raws.map((raw) => loadReserveAt(source, raw)))) reserves.set(r.address, r);
    const strategies = new Map<Address, LoadedReserve>();
    for (const r of reserves.values()) {
        const s = r.account.treasury.strategyReserve;
        if (!hasStrategy(r) || strategies.has(s)) continue;
        const raw = await source.getAccount(s);
        if (raw) strategies.set(s, await loadReserveAt(source, raw));
    }
    return { address: market, market: decodedMarket, marketData: m.data, reserves, strategies };
}

/** Whether a reserve has a treasury strategy (a non-default strategy reserve). */
export function hasStrategy(r: LoadedReserve): boolean {
    return r.account.treasury.strategyReserve !== ('11111111111111111111111111111111' as Address);
}

/** One obligation by address. */
export async function loadObligation(source: AccountSource, address: Address): Promise<LoadedObligation> {
    const raw = await source.getAccount(address);
    if (!raw) throw new Error(`obligation ${address} does not exist`);
    expectOwner(raw, 'obligation');
    if (!matchesFilter(raw.data, { offset: 0, bytes: OBLIGATION_DISCRIMINATOR })) {
        throw new Error(`${address} is not an obligation`);
    }
    return { address, account: getObligationDecoder().decode(raw.data), data: raw.data };
}

/**
 * The obligations in `market`, of `owner` when given (filtered on the
 * server: discriminator, market at offset 8, owner at offset 40).
 */
export async function loadObligations(
    source: AccountSource,
    market: Address,
    owner?: Address,
): Promise<LoadedObligation[]> {
    const filters: MemcmpFilter[] = [
        { offset: 0, bytes: OBLIGATION_DISCRIMINATOR },
        { offset: 8, bytes: addressBytes(market) },
    ];
    if (owner) filters.push({ offset: 40, bytes: addressBytes(owner) });
    const raws = await source.getProgramAccounts(BALLAST_PROGRAM_ADDRESS, filters);
    return raws.map((r) => ({ address: r.address, account: getObligationDecoder().decode(r.data), data: r.data }));
}

/** The loaded reserve at `address`, or an error naming it. */
export function reserveOf(snapshot: MarketSnapshot, address: Address): LoadedReserve {
    const r = snapshot.reserves.get(address);
    if (!r) throw new Error(`reserve ${address} is not in market ${snapshot.address} (reload the snapshot?)`);
    return r;
}
