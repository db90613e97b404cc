/**
 * Markets and reserves made through the client itself: `init_market` and
 * `init_reserve` from the generated builders, configurations from
 * {@link reserveConfig}, PDAs from the client's helpers.
 */
import { generateKeyPairSigner, type Address, type KeyPairSigner } from '@solana/kit';
import {
    findPushFeedAddress,
    findReserveAddresses,
    getInitMarketInstruction,
    getInitReserveInstructionAsync,
    reserveConfig,
    TOKEN_PROGRAM_ADDRESS,
    type ReserveAddresses,
    type ReserveConfigInput,
} from '../src';
import { Chain, feedIdOf } from './harness';

/** The liquidation parameters of `LiquidationConfig::SOLEND_LIKE`. */
export const SOLEND_LIKE = {
    dustDebtMicroUsd: 1_000_000n,
    closeFactorBps: 2_000,
    fullLiquidationHealthBps: 9_500,
    bonusMinBps: 500,
    bonusMaxBps: 500,
    protocolBonusShareBps: 0,
    padding: new Uint8Array(6),
};

/** `ballast::fixtures::reserve_config`: static policy, LTV 75%, LT 80%, the Compound III-like curve. */
export function baseConfig(feedId: Uint8Array, over: Partial<ReserveConfigInput> = {}): ReserveConfigInput {
    return {
        oracleFeedId: feedId,
        depositCap: 2n ** 62n - 1n,
        borrowCap: 2n ** 62n - 1n,
        oracleMaxAgeSecs: 60,
        oracleMaxConfBps: 200,
        loanToValueBps: 7_500,
        liquidationThresholdBps: 8_000,
        reserveFactorBps: 1_000,
        maxUtilizationBps: 9_500,
        rateCurve: [
            [0, 50],
            [8_000, 850],
            [10_000, 6_850],
        ],
        ...over,
    };
}

/** `ballast::fixtures::sol_risk`: a dynamic policy. */
export const SOL_RISK: NonNullable<ReserveConfigInput['risk']> = {
    policy: 'dynamic',
    sigmaMin: '0.1',
    sigmaMax: '5',
    initial: { baseBps: 500, minBps: 1_500, maxBps: 6_000, zMilli: 2_330 },
    maintenance: { baseBps: 200, minBps: 1_000, maxBps: 5_500, zMilli: 1_650 },
    borrow: { baseBps: 0, minBps: 0, maxBps: 5_000, zMilli: 1_000 },
    horizonSecs: 86_400,
    minUpdateIntervalSecs: 600,
    maxAgeSecs: 7_200,
    maxLtStepBps: 100,
    maxLtvStepBps: 200,
};

export type TestMarket = { admin: KeyPairSigner; market: Address };
export type TestReserve = ReserveAddresses & { oracle: Address; feedId: Uint8Array; decimals: number; price: number };

/** `init_market` by a new admin (also the risk authority). */
export async function createMarket(chain: Chain, label = 'init_market'): Promise<TestMarket> {
    const admin = await chain.user(100n);
    const market = await generateKeyPairSigner();
    await chain.ok(label, [
        getInitMarketInstruction({
            admin,
            market,
            riskAuthority: admin.address,
            paused: false,
            liquidation: SOLEND_LIKE,
        }),
    ]);
    return { admin, market: market.address };
}

/** A mint, its oracle at `price` and the reserve (`init_reserve`), config from `over`. */
export async function addReserve(
    chain: Chain,
    m: TestMarket,
    decimals: number,
    price: number,
    over: Partial<ReserveConfigInput> = {},
    mint?: Address,
): Promise<TestReserve> {
    // A listed mint gets a feed of its own (its new reserve's address), so
    // that its oracle account is not the other market's.
    const feedId = mint ? feedIdOf((await findReserveAddresses(m.market, mint)).reserve) : feedIdOf((mint = await chain.mint(decimals)));
    const oracle = await findPushFeedAddress(feedId);
    chain.setPrice(oracle, feedId, price);
    const ix = await getInitReserveInstructionAsync({
        admin: m.admin,
        market: m.market,
        mint,
        oracle,
        tokenProgram: TOKEN_PROGRAM_ADDRESS,
        config: reserveConfig(baseConfig(feedId, over)),
    });
    await chain.ok('init_reserve', [ix]);
    return { ...(await findReserveAddresses(m.market, mint)), oracle, feedId, decimals, price };
}

/** `whole` tokens of `r` in base units. */
export function units(r: { decimals: number }, whole: number): bigint {
    return BigInt(Math.round(whole * 10 ** r.decimals));
}

/** Re-publishes every reserve's price now (oracles are 60 s fresh at most). */
export function refresh(chain: Chain, ...rs: TestReserve[]) {
    for (const r of rs) chain.setPrice(r.oracle, r.feedId, r.price);
}
