/**
 * PDAs. The reserve, vault and market-authority PDAs are generated from the
 * IDL (`findReservePda`, `findLiquidityVaultPda`, `findInsuranceVaultPda`,
 * `findMarketAuthorityPda`); the obligation's is not in the IDL yet (its
 * `&[index]` seed is dropped by Anchor's IDL builder), so it is here, with
 * the same seed bytes as the program: `[b"obligation", market, owner, [index]]`.
 */
import {
    getAddressEncoder,
    getProgramDerivedAddress,
    getU8Encoder,
    getUtf8Encoder,
    type Address,
    type ProgramDerivedAddress,
} from '@solana/kit';
import { OBLIGATION_SEED, TREASURY_OBLIGATION_INDEX } from './constants';
import {
    BALLAST_PROGRAM_ADDRESS,
    findInsuranceVaultPda,
    findLiquidityVaultPda,
    findMarketAuthorityPda,
    findReservePda,
} from './generated';

/** Obligation number `index` (0..=255) of `owner` (a wallet or a program's PDA) in `market`. */
export async function findObligationPda(seeds: {
    market: Address;
    owner: Address;
    index: number;
}): Promise<ProgramDerivedAddress> {
    if (!Number.isInteger(seeds.index) || seeds.index < 0 || seeds.index > 255) {
        throw new RangeError(`obligation index must be 0..=255, got ${seeds.index}`);
    }
    return getProgramDerivedAddress({
        programAddress: BALLAST_PROGRAM_ADDRESS,
        seeds: [
            getUtf8Encoder().encode(OBLIGATION_SEED),
            getAddressEncoder().encode(seeds.market),
            getAddressEncoder().encode(seeds.owner),
            getU8Encoder().encode(seeds.index),
        ],
    });
}

/**
 * The treasury obligation through which `market` (its authority PDA) holds
 * receipt shares in `strategyMarket`.
 */
export async function findTreasuryObligationPda(seeds: {
    strategyMarket: Address;
    market: Address;
}): Promise<ProgramDerivedAddress> {
    const [authority] = await findMarketAuthorityPda({ market: seeds.market });
    return findObligationPda({ market: seeds.strategyMarket, owner: authority, index: TREASURY_OBLIGATION_INDEX });
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
