/**
 * The WASM engine (the program's own Rust, clients/wasm) against the chain,
 * over randomised states: borrowing exactly the max borrow succeeds and one
 * base unit more fails; withdrawing exactly the max withdraw succeeds and
 * one more fails; one price unit above the liquidation price the obligation
 * cannot be liquidated, one unit below it can, and the liquidation's own
 * event (repay, seize, insurance cut, bonus, health before) equals the
 * engine's preview and Maintenance ratio to the base unit and the bit.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
    borrowAction,
    depositAction,
    eventsOf,
    fxFromWrapped,
    initObligationAction,
    liquidateAction,
    loadMarket,
    loadObligation,
    MarginEngine,
    withdrawAction,
    type LoadedObligation,
} from '../src';
import { addReserve, createMarket, units } from './fixture';
import { Chain } from './harness';

/** xorshift64*: a deterministic stream for the randomised states. */
function rng(seed: bigint) {
    let x = seed || 1n;
    const M = (1n << 64n) - 1n;
    return (lo: number, hi: number): number => {
        x ^= x >> 12n;
        x ^= (x << 25n) & M;
        x ^= x >> 27n;
        const r = Number(((x * 2685821657736338717n) & M) >> 11n) / 2 ** 53;
        return lo + Math.floor(r * (hi - lo + 1));
    };
}

const TRIALS = Number(process.env.BALLAST_ENGINE_TRIALS ?? 24);

test(`max borrow, max withdraw and liquidation price equal what the chain does (${TRIALS} random states)`, async () => {
    const chain = await Chain.create();
    const m = await createMarket(chain);
    const sol = await addReserve(chain, m, 9, 20, { loanToValueBps: 7_000, liquidationThresholdBps: 7_800 });
    const eth = await addReserve(chain, m, 8, 2_000, { loanToValueBps: 8_000, liquidationThresholdBps: 8_500, borrowFactorBps: 11_000 });
    const usdc = await addReserve(chain, m, 6, 1, { borrowFactorBps: 10_500 });
    const src = chain.source();
    let snap = await loadMarket(src, m.market);
    const supplier = await chain.user();
    const sUsdc = await chain.tokenAccount(usdc.mint, supplier.address, units(usdc, 10_000_000));
    const so = await initObligationAction({ payer: supplier, owner: supplier, market: m.market, index: 0 });
    await chain.ok('init_obligation', [so.instruction]);
    await chain.ok('deposit', [depositAction({ snapshot: snap, owner: supplier, obligation: so.obligation, reserve: usdc.reserve, userTokenAccount: sUsdc, amount: units(usdc, 10_000_000) })]);
    const liquidator = await chain.user();
    const lUsdc = await chain.tokenAccount(usdc.mint, liquidator.address, units(usdc, 10_000_000));
    const lSol = await chain.tokenAccount(sol.mint, liquidator.address);

    const rand = rng(0xba11a57n);
    const engine = async () => {
        snap = await loadMarket(src, m.market);
        return new MarginEngine(snap, chain.now());
    };
    const checked = { borrow: 0, withdraw: 0, liquidation: 0 };
    for (let trial = 0; trial < TRIALS; trial++) {
        // A random state: prices, an hour or more of interest, collateral in two reserves, a prior debt.
        sol.price = rand(500, 4_000) / 100;
        eth.price = rand(1_000, 4_000);
        chain.warp(BigInt(rand(60, 86_400)));
        for (const r of [sol, eth, usdc]) chain.setPriceRaw(r.oracle, r.feedId, BigInt(Math.round(r.price * 1e8)), BigInt(rand(0, 50)) * BigInt(Math.round(r.price * 1e4)));
        const user = await chain.user();
        const solAmt = units(sol, rand(1, 500));
        const ethAmt = units(eth, rand(0, 20) / 4);
        const uSol = await chain.tokenAccount(sol.mint, user.address, solAmt);
        const uEth = await chain.tokenAccount(eth.mint, user.address, ethAmt);
        const uUsdc = await chain.tokenAccount(usdc.mint, user.address);
        const o = await initObligationAction({ payer: user, owner: user, market: m.market, index: 0 });
        await chain.ok('init_obligation', [o.instruction]);
        await chain.ok('deposit', [depositAction({ snapshot: snap, owner: user, obligation: o.obligation, reserve: sol.reserve, userTokenAccount: uSol, amount: solAmt })]);
        if (ethAmt > 0n) {
            await chain.ok('deposit', [depositAction({ snapshot: snap, owner: user, obligation: o.obligation, reserve: eth.reserve, userTokenAccount: uEth, amount: ethAmt })]);
        }
        const ob = (): Promise<LoadedObligation> => loadObligation(src, o.obligation);
        const label = `trial ${trial}: ${solAmt} SOL-units at ${sol.price}, ${ethAmt} ETH-units at ${eth.price}`;

        const borrow = async (amount: bigint) =>
            chain.send([await borrowAction({ snapshot: snap, owner: user, obligation: await ob(), reserve: usdc.reserve, userTokenAccount: uUsdc, amount })]);
        const withdraw = async (amount: bigint) =>
            chain.send([await withdrawAction({ snapshot: snap, owner: user, obligation: await ob(), reserve: sol.reserve, userTokenAccount: uSol, amount })]);

        // A prior debt of 20-70% of the borrowing limit.
        let e = await engine();
        const limit = e.maxBorrow(await ob(), usdc.reserve);
        assert.ok(limit > 0n, label);
        assert.ok('cu' in (await borrow((limit * BigInt(rand(20, 70))) / 100n)), label);
        e.free();

        // Max withdraw of SOL with that debt: exactly it passes, one more does not.
        e = await engine();
        const maxW = e.maxWithdraw(await ob(), sol.reserve);
        const overW = await withdraw(maxW + 1n);
        assert.ok(!('cu' in overW), `${label}: max withdraw + 1 must fail`);
        if (maxW > 0n) {
            assert.ok('cu' in (await withdraw(maxW)), `${label}: max withdraw ${maxW} must pass`);
            checked.withdraw++;
            // Put it back, for the borrow and liquidation checks.
            await chain.ok('deposit', [depositAction({ snapshot: snap, owner: user, obligation: o.obligation, reserve: sol.reserve, userTokenAccount: uSol, amount: maxW })]);
        }
        e.free();

        // Max borrow: exactly it passes, one more does not.
        e = await engine();
        const maxB = e.maxBorrow(await ob(), usdc.reserve);
        const over = await borrow(maxB + 1n);
        assert.ok(!('cu' in over), `${label}: max borrow + 1 must fail`);
        assert.equal(over.error?.errorName, 'InitialRequirementNotMet', label);
        if (maxB > 0n) {
            assert.ok('cu' in (await borrow(maxB)), `${label}: max borrow ${maxB} must pass`);
            checked.borrow++;
        }
        e.free();

        // Liquidation price of SOL (confidence 0 from here on, so that the
        // oracle stays valid at any price).
        for (const r of [eth, usdc]) chain.setPriceRaw(r.oracle, r.feedId, BigInt(Math.round(r.price * 1e8)));
        chain.setPriceRaw(sol.oracle, sol.feedId, BigInt(Math.round(sol.price * 1e8)));
        e = await engine();
        const liqP = e.liquidationPrice(await ob(), sol.reserve);
        e.free();
        if (liqP <= 1n) continue; // ETH alone covers the debt
        const liquidate = async () =>
            chain.send([
                await liquidateAction({
                    snapshot: snap,
                    liquidator,
                    obligation: await ob(),
                    debtReserve: usdc.reserve,
                    collateralReserve: sol.reserve,
                    liquidatorDebtAccount: lUsdc,
                    liquidatorCollateralAccount: lSol,
                    maxRepay: units(usdc, 1),
                }),
            ]);
        for (const p of [liqP + 1n, liqP]) {
            chain.setPriceRaw(sol.oracle, sol.feedId, p);
            const r = await liquidate();
            assert.equal('cu' in r ? 'liquidated' : r.error?.errorName, 'ObligationHealthy', `${label}: at ${p} (liquidation price ${liqP})`);
        }
        chain.setPriceRaw(sol.oracle, sol.feedId, liqP - 1n);
        e = await engine();
        const hm = e.healthMaintenance(await ob());
        const preview = e.liquidationPreview(await ob(), usdc.reserve, sol.reserve, units(usdc, 1));
        e.free();
        assert.equal(hm.satisfied, false, label);
        const below = await liquidate();
        assert.ok('cu' in below, `${label}: one unit below ${liqP} must be liquidatable: ${'cu' in below ? '' : below.error?.message}`);
        const ev = eventsOf(below.logs, 'liquidated')[0];
        assert.equal(fxFromWrapped(ev.healthBefore).raw, hm.ratio!.raw, `${label}: the program's health_before vs the engine's`);
        assert.deepEqual(
            [ev.repaid, ev.seized, ev.toInsurance, ev.bonusBps, fxFromWrapped(ev.healthBefore).raw],
            [preview.repay, preview.seize, preview.protocolCut, preview.bonusBps, preview.healthBefore.raw],
            `${label}: the liquidation preview vs the chain's`,
        );
        checked.liquidation++;
    }
    console.log(`[engine] checked against the chain: ${JSON.stringify(checked)} of ${TRIALS} states`);
    assert.ok(checked.borrow >= TRIALS / 2 && checked.withdraw >= TRIALS / 2 && checked.liquidation >= TRIALS / 2, JSON.stringify(checked));
});
