/**
 * PDAs. Every derivable account's PDA is generated from the IDL
 * (`findReservePda`, `findLiquidityVaultPda`, `findInsuranceVaultPda`,
 * `findMarketAuthorityPda`, `findObligationPda` with seeds `[b"obligation",
 * market, owner, index as one byte]`, `findStrategyObligationPda`); these
 * helpers combine them.
 */
import type { Address, ProgramDerivedAddress } from '@solana/kit';
import {
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
