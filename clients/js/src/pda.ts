/**
 * PDAs. Every derivable account's PDA is generated from the IDL
 * (`findReservePda`, `findLiquidityVaultPda`, `findInsuranceVaultPda`,
 * `findMarketAuthorityPda`, `findObligationPda` with seeds `[b"obligation",
 * market, owner, index as one byte]`, `findStrategyObligationPda`); these
 * helpers combine them.
 */
import { getProgramDerivedAddress, type Address, type ProgramDerivedAddress, type ReadonlyUint8Array } from '@solana/kit';
import {
    PUSH_FEED_SHARD,
    PYTH_PUSH_ORACLE_PROGRAM_ID,
    findInsuranceVaultPda,
    findLiquidityVaultPda,
    findMarketAuthorityPda,
    findReservePda,
    findStrategyObligationPda,
} from './generated';

/**
 * The treasury obligation through which `market` (its authority PDA) holds
 * receipt shares in `strategyMarket`.
 */
export async function findTreasuryObligationPda(seeds: {
    strategyMarket: Address;
    market: Address;
}): Promise<ProgramDerivedAddress> {
    const [marketAuthority] = await findMarketAuthorityPda({ market: seeds.market });
    return findStrategyObligationPda({ strategyMarket: seeds.strategyMarket, marketAuthority });
}

/** Every address of one reserve, derived from its market and mint. */
export type ReserveAddresses = {
    market: Address;
    mint: Address;
    reserve: Address;
    liquidityVault: Address;
    insuranceVault: Address;
    marketAuthority: Address;
};

/** Derives the reserve, its two vaults and the market authority. */
export async function findReserveAddresses(market: Address, mint: Address): Promise<ReserveAddresses> {
    const [reserve] = await findReservePda({ market, mint });
    const [[liquidityVault], [insuranceVault], [marketAuthority]] = await Promise.all([
        findLiquidityVaultPda({ reserve }),
        findInsuranceVaultPda({ reserve }),
        findMarketAuthorityPda({ market }),
    ]);
    return { market, mint, reserve, liquidityVault, insuranceVault, marketAuthority };
}

/**
 * The Pyth push oracle's price-feed account of `feedId`: the PDA
 * `[shard as u16 little endian, feedId]` of `PYTH_PUSH_ORACLE_PROGRAM_ID`
 * in shard `PUSH_FEED_SHARD` (0). The only account Ballast accepts as a
 * reserve's oracle (`init_reserve`, `update_reserve_config`; otherwise
 * `OracleNotPushFeed`).
 */
export async function findPushFeedAddress(feedId: ReadonlyUint8Array): Promise<Address> {
    if (feedId.length !== 32) throw new Error(`feed id: ${feedId.length} bytes, expected 32`);
    const shard = new Uint8Array(2);
    new DataView(shard.buffer).setUint16(0, Number(PUSH_FEED_SHARD), true);
    const [pda] = await getProgramDerivedAddress({ programAddress: PYTH_PUSH_ORACLE_PROGRAM_ID, seeds: [shard, feedId] });
    return pda;
}
