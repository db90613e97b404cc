/**
 * The hand-written layer against the chain: the reserve-config validator
 * names the field of every configuration the program refuses (and the
 * program's error is the group it predicts); I80F48 conversion against the
 * program's own bits; the loader over a Kit-RPC-shaped source with
 * server-side `memcmp` filters; health-account order; typed errors.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { getBase58Encoder, getBase64Decoder, type Address } from '@solana/kit';
import {
    decodeBallastError,
    fxFromBits,
    fxFromDecimal,
    fxFromRatio,
    fxFromWrapped,
    fxToBigInt,
    fxToDecimal,
    fxToWrapped,
    getInitReserveInstructionAsync,
    healthReserves,
    initObligationAction,
    loadMarket,
    loadObligations,
    matchesFilter,
    PositionKind,
    reserveConfig,
    ReserveConfigError,
    rpcAccountSource,
    TOKEN_PROGRAM_ADDRESS,
    validateReserveConfig,
    type LoaderRpc,
    type Obligation,
    type ReserveConfigArgs,
} from '../src';
import { findPushFeedAddress } from '../src';
import { addReserve, baseConfig, createMarket, SOL_RISK } from './fixture';
import { Chain, feedIdOf } from './harness';

type Case = { label: string; field: string; group: string; mutate: (c: ReserveConfigArgs) => ReserveConfigArgs };

const cases: Case[] = [
    { label: 'oracle max age 0', field: 'oracleMaxAgeSecs', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, oracleMaxAgeSecs: 0 }) },
    { label: 'oracle max age above a day', field: 'oracleMaxAgeSecs', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, oracleMaxAgeSecs: 86_401 }) },
    { label: 'confidence 0', field: 'oracleMaxConfBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, oracleMaxConfBps: 0 }) },
    { label: 'LTV at the threshold', field: 'loanToValueBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, loanToValueBps: 8_000 }) },
    { label: 'threshold 100%', field: 'liquidationThresholdBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, liquidationThresholdBps: 10_000 }) },
    { label: 'borrow factor below 1', field: 'borrowFactorBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, borrowFactorBps: 9_999 }) },
    { label: 'borrow factor above 5', field: 'borrowFactorBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, borrowFactorBps: 50_001 }) },
    { label: 'reserve factor above 100%', field: 'reserveFactorBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, reserveFactorBps: 10_001 }) },
    { label: 'max utilisation 0', field: 'maxUtilizationBps', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, maxUtilizationBps: 0 }) },
    { label: 'padding set', field: 'padding', group: 'InvalidReserveConfig', mutate: (c) => ({ ...c, padding: new Uint8Array([1, 0, 0, 0, 0, 0]) }) },
    { label: 'one curve point', field: 'rateCurve.numPoints', group: 'InvalidRateCurve', mutate: (c) => ({ ...c, rateCurve: { ...c.rateCurve, numPoints: 1 } }) },
    {
        label: 'curve not starting at 0',
        field: 'rateCurve.points[0].utilizationBps',
        group: 'InvalidRateCurve',
        mutate: (c) => ({ ...c, rateCurve: { ...c.rateCurve, points: c.rateCurve.points.map((p, i) => (i === 0 ? { ...p, utilizationBps: 1 } : p)) } }),
    },
    {
        label: 'curve not ending at 100%',
        field: 'rateCurve.points[2].utilizationBps',
        group: 'InvalidRateCurve',
        mutate: (c) => ({ ...c, rateCurve: { ...c.rateCurve, points: c.rateCurve.points.map((p, i) => (i === 2 ? { ...p, utilizationBps: 9_999 } : p)) } }),
    },
    {
        label: 'decreasing rate',
        field: 'rateCurve.points[2].borrowRateBps',
        group: 'InvalidRateCurve',
        mutate: (c) => ({ ...c, rateCurve: { ...c.rateCurve, points: c.rateCurve.points.map((p, i) => (i === 2 ? { ...p, borrowRateBps: 10 } : p)) } }),
    },
    {
        label: 'unused point set',
        field: 'rateCurve.points[3]',
        group: 'InvalidRateCurve',
        mutate: (c) => ({ ...c, rateCurve: { ...c.rateCurve, points: c.rateCurve.points.map((p, i) => (i === 3 ? { ...p, borrowRateBps: 1 } : p)) } }),
    },
    {
        label: 'buffer min above target',
        field: 'liquidity.bufferMinBps',
        group: 'InvalidLiquidityConfig',
        mutate: (c) => ({ ...c, liquidity: { ...c.liquidity, bufferMinBps: 100 } }),
    },
    {
        label: 'stress above 100%',
        field: 'liquidity.stressOutflowBps',
        group: 'InvalidLiquidityConfig',
        mutate: (c) => ({ ...c, liquidity: { ...c.liquidity, stressOutflowBps: 10_001 } }),
    },
    {
        label: 'window without a cap',
        field: 'liquidity.outflowCap',
        group: 'InvalidLiquidityConfig',
        mutate: (c) => ({ ...c, liquidity: { ...c.liquidity, outflowWindowSecs: 3_600 } }),
    },
    { label: 'unknown policy', field: 'risk.policy', group: 'InvalidRiskConfig', mutate: (c) => ({ ...c, risk: { ...c.risk, policy: 2 } }) },
];

const dynamicCases: Case[] = [
    {
        label: 'sigma bounds reversed',
        field: 'risk.sigmaMin',
        group: 'InvalidRiskConfig',
        mutate: (c) => ({ ...c, risk: { ...c.risk, sigmaMin: fxToWrapped(fxFromDecimal('6')) } }),
    },
    {
        label: 'initial haircut 100%',
        field: 'risk.initial.maxBps',
        group: 'InvalidRiskConfig',
        mutate: (c) => ({ ...c, risk: { ...c.risk, initial: { ...c.risk.initial, maxBps: 10_000 } } }),
    },
    {
        label: 'initial z not above maintenance z',
        field: 'risk.initial.zMilli',
        group: 'InvalidRiskConfig',
        mutate: (c) => ({ ...c, risk: { ...c.risk, initial: { ...c.risk.initial, zMilli: 1_650 } } }),
    },
    { label: 'horizon 0', field: 'risk.horizonSecs', group: 'InvalidRiskConfig', mutate: (c) => ({ ...c, risk: { ...c.risk, horizonSecs: 0 } }) },
    {
        label: 'pushes less than a minute apart',
        field: 'risk.minUpdateIntervalSecs',
        group: 'InvalidRiskConfig',
        mutate: (c) => ({ ...c, risk: { ...c.risk, minUpdateIntervalSecs: 59 } }),
    },
    {
        label: 'max age not above the interval',
        field: 'risk.maxAgeSecs',
        group: 'InvalidRiskConfig',
        mutate: (c) => ({ ...c, risk: { ...c.risk, maxAgeSecs: 600 } }),
    },
    { label: 'LT step 0', field: 'risk.maxLtStepBps', group: 'InvalidRiskConfig', mutate: (c) => ({ ...c, risk: { ...c.risk, maxLtStepBps: 0 } }) },
];

test('the config validator names the field of every configuration the program refuses', async () => {
    const chain = await Chain.create();
    const m = await createMarket(chain);
    for (const [list, risk] of [
        [cases, undefined],
        [dynamicCases, SOL_RISK],
    ] as const) {
        for (const c of list) {
            const mint = await chain.mint(6);
            const oracle = await findPushFeedAddress(feedIdOf(mint));
            chain.setPrice(oracle, feedIdOf(mint), 1);
            const valid = reserveConfig(baseConfig(feedIdOf(mint), risk ? { risk } : {}));
            const bad = c.mutate(valid);
            assert.throws(
                () => validateReserveConfig(bad),
                (e: unknown) => e instanceof ReserveConfigError && e.field === c.field && e.programError === c.group,
                c.label,
            );
            const ix = await getInitReserveInstructionAsync({ admin: m.admin, market: m.market, mint, oracle, tokenProgram: TOKEN_PROGRAM_ADDRESS, config: bad });
            const refused = await chain.fails(c.label, [ix]);
            assert.equal(refused.error?.errorName, c.group, `${c.label}: the program's error`);
            // The program's log names the same field (snake case, no index).
            const rust = c.field
                .replace(/\[\d+\]/g, '')
                .replace(/([A-Z])/g, '_$1')
                .toLowerCase()
                .replace(/(^|\.)(padding2?)$/, '$1_$2');
            assert.ok(
                refused.logs.some((l) => l.startsWith(`Program log: invalid config field: ${rust}`)),
                `${c.label}: the program logs ${rust}:\n${refused.logs.join('\n')}`,
            );
            // And the valid one passes on chain.
            await chain.ok('init_reserve', [
                await getInitReserveInstructionAsync({ admin: m.admin, market: m.market, mint, oracle, tokenProgram: TOKEN_PROGRAM_ADDRESS, config: valid }),
            ]);
        }
    }
    assert.throws(
        () => reserveConfig(baseConfig(new Uint8Array(32), { rateCurve: Array.from({ length: 12 }, (_, i) => [i * 900, i] as const) })),
        (e: unknown) => e instanceof ReserveConfigError && e.field === 'rateCurve',
    );
    assert.throws(() => reserveConfig(baseConfig(new Uint8Array(31))), /oracleFeedId: 32 bytes/);
    assert.equal(reserveConfig(baseConfig('ab'.repeat(32) as never)).oracleFeedId[0], 0xab);
});

test('I80F48 conversion: the program stores to_bits() little endian', () => {
    // 1.5 = 0x1_8000_0000_0000 in I80F48 bits.
    const w = fxToWrapped(fxFromDecimal('1.5'));
    assert.deepEqual([...w.bits], [0, 0, 0, 0, 0, 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(fxFromWrapped(w).raw, 3n << 47n);
    // -1 (two's complement, all ones above the fraction).
    assert.equal(fxToDecimal(fxFromWrapped(fxToWrapped(fxFromDecimal('-1')))), '-1');
    assert.equal(fxToBigInt(fxFromDecimal('2.5'), 'floor'), 2n);
    assert.equal(fxToBigInt(fxFromDecimal('2.5'), 'ceil'), 3n);
    assert.equal(fxToBigInt(fxFromDecimal('-2.5'), 'floor'), -3n);
    assert.equal(fxToBigInt(fxFromDecimal('7'), 'strict'), 7n);
    assert.throws(() => fxToBigInt(fxFromDecimal('7.25'), 'strict'));
    // 0.1 has no exact form: the program's bits are the nearest below or above.
    assert.equal(fxFromRatio(1n, 10n, 'floor').raw, (1n << 48n) / 10n);
    assert.equal(fxFromRatio(1n, 10n, 'ceil').raw, (1n << 48n) / 10n + 1n);
    assert.equal(fxFromBits(1n).raw, 1n);
    assert.equal(fxToDecimal(fxFromDecimal('0.85'), 4), '0.85');
});

test('the loader over a Kit RPC sends the memcmp filters the program layout needs', async () => {
    const chain = await Chain.create();
    const m = await createMarket(chain);
    const other = await createMarket(chain);
    const a = await addReserve(chain, m, 9, 20);
    await addReserve(chain, m, 6, 1);
    await addReserve(chain, other, 6, 1);
    const user = await chain.user();
    for (const index of [0, 1]) {
        await chain.ok('init_obligation', [(await initObligationAction({ payer: user, owner: user, market: m.market, index })).instruction]);
    }
    const stranger = await chain.user();
    await chain.ok('init_obligation', [(await initObligationAction({ payer: stranger, owner: stranger, market: m.market, index: 0 })).instruction]);

    // A Kit-shaped RPC answering from the VM, applying the filters as a node would.
    const b58 = getBase58Encoder();
    const b64 = getBase64Decoder();
    const seen: unknown[] = [];
    const rpc: LoaderRpc = {
        getAccountInfo: (address) => ({
            send: async () => {
                const acc = chain.svm.getAccount(address);
                return { value: acc.exists ? { owner: acc.programAddress, data: [b64.decode(acc.data), 'base64'] as const } : null };
            },
        }),
        getProgramAccounts: (program, config) => ({
            send: async () => {
                seen.push(config.filters);
                return chain.svm
                    .getProgramAccounts(program)
                    .filter((acc) =>
                        config.filters.every((f) => matchesFilter(acc.data, { offset: Number(f.memcmp.offset), bytes: b58.encode(f.memcmp.bytes) })),
                    )
                    .map((acc) => ({ pubkey: acc.address, account: { owner: acc.programAddress, data: [b64.decode(acc.data), 'base64'] as const } }));
            },
        }),
    };
    const source = rpcAccountSource(rpc);
    const snap = await loadMarket(source, m.market);
    assert.equal(snap.reserves.size, 2, 'only this market\'s reserves');
    assert.equal(snap.reserves.get(a.reserve)?.price?.price, 2_000_000_000n);
    const mine = await loadObligations(source, m.market, user.address);
    assert.deepEqual(mine.map((o) => o.account.index).sort(), [0, 1]);
    assert.equal((await loadObligations(source, m.market)).length, 3);
    assert.equal(seen.length, 3);
    await assert.rejects(loadMarket(source, a.reserve), /not a market|discriminator|does not/);
});

test('health order: distinct reserves in slot order, the borrowed reserve in the first free slot', () => {
    const r = (n: number) => `Reserve${n}1111111111111111111111111111111111`.slice(0, 44) as Address;
    const empty = { reserve: '11111111111111111111111111111111' as Address, kind: PositionKind.Empty, padding: new Uint8Array(7), depositShares: 0n, borrowShares: { bits: new Uint8Array(16) }, reserved: new Uint8Array(16) };
    const pos = (reserve: Address, kind: PositionKind) => ({ ...empty, reserve, kind });
    const ob = {
        positions: [pos(r(1), PositionKind.Collateral), empty, pos(r(2), PositionKind.Debt), pos(r(1), PositionKind.Debt), empty, empty, empty, empty],
    } as unknown as Obligation;
    assert.deepEqual(healthReserves(ob), [r(1), r(2)]);
    assert.deepEqual(healthReserves(ob, r(3)), [r(1), r(3), r(2)], 'slot 1 is the first free one');
    assert.deepEqual(healthReserves(ob, r(2)), [r(1), r(2)], 'an open debt position is reused');
    const full = { positions: Array.from({ length: 8 }, (_, i) => pos(r(i), PositionKind.Collateral)) } as unknown as Obligation;
    assert.throws(() => healthReserves(full, r(9)), /ObligationFull/);
});

test('typed errors: Ballast codes by name, Anchor codes, others unknown', () => {
    assert.deepEqual(decodeBallastError(6024), {
        code: 6024,
        name: 'HealthAccountsMismatch',
        message: "health accounts do not match the obligation's positions",
        source: 'ballast',
    });
    assert.equal(decodeBallastError(6015)?.name, 'InitialRequirementNotMet');
    assert.equal(decodeBallastError(3010)?.name, 'AccountNotSigner');
    assert.equal(decodeBallastError(1), null, 'a token-program code is not Ballast\'s');
});
