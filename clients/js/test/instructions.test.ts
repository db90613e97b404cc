/**
 * Every Ballast instruction through the generated client and the action
 * builders, on the real ballast.so in the `litesvm` npm package: one market
 * story from creation to bad debt and treasury rebalancing, each step
 * checked against the decoded accounts, events and token balances. The
 * compute units of each instruction are printed (`[cu] name N`) and written
 * to target/bench/js-cu.json.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, test } from 'node:test';
import { AccountRole, none, some } from '@solana/kit';
import {
    borrowAction,
    depositAction,
    eventsOf,
    findObligationPda,
    findTreasuryObligationPda,
    fxFromDecimal,
    fxFromWrapped,
    fxToDecimal,
    fxToWrapped,
    getAcceptAdminInstruction,
    getAccrueInterestInstruction,
    getProposeAdminInstruction,
    getBalanceSheetDecoder,
    getBalanceSheetInstruction,
    getObligationStressDecoder,
    getObligationStressInstruction,
    getRebalanceInstructionAsync,
    getRecallTreasuryInstructionAsync,
    getSetStrategyApprovalInstruction,
    getSetTreasuryStrategyInstructionAsync,
    getSocializeBadDebtInstructionAsync,
    getUpdateMarketInstruction,
    getUpdateReserveConfigInstruction,
    getUpdateVolatilityInstruction,
    healthAccounts,
    initObligationAction,
    liquidateAction,
    liquidateForSharesAction,
    loadMarket,
    loadObligation,
    loadObligations,
    PositionKind,
    repayAction,
    reserveOf,
    withdrawAction,
    withRemainingAccounts,
    getBorrowInstruction,
    findMarketAuthorityPda,
    getWithdrawInsuranceInstructionAsync,
    getWithdrawProtocolFeesInstructionAsync,
} from '../src';
import { addReserve, createMarket, refresh, SOL_RISK, units } from './fixture';
import { Chain, cuTable, REPO } from './harness';

const U64_MAX = 2n ** 64n - 1n;

after(() => {
    const table = cuTable();
    for (const [k, v] of Object.entries(table)) console.log(`[cu] ${k} ${v}`);
    const dir = resolve(REPO, 'target/bench');
    mkdirSync(dir, { recursive: true });
    writeFileSync(resolve(dir, 'js-cu.json'), JSON.stringify(table, null, 2) + '\n');
});

test('every instruction through the generated client and the action builders', async (t) => {
    const chain = await Chain.create();
    const src = chain.source();

    // --- market and reserves -------------------------------------------------
    const m = await createMarket(chain);
    let snap = await loadMarket(src, m.market);
    assert.equal(snap.market.admin, m.admin.address);
    assert.equal(snap.market.riskAuthority, m.admin.address);

    await t.test('update_market', async () => {
        const upd = (paused: boolean) =>
            getUpdateMarketInstruction({
                admin: m.admin,
                market: m.market,
                adminArg: none(),
                riskAuthority: none(),
                paused: some(paused),
                liquidation: none(),
            });
        const sent = await chain.ok('update_market', [upd(true)]);
        assert.equal(eventsOf(sent.logs, 'marketUpdated')[0].paused, true);
        assert.equal((await loadMarket(src, m.market)).market.paused, 1);
        await chain.ok('update_market', [upd(false)]);
        assert.equal((await loadMarket(src, m.market)).market.paused, 0);
    });

    const sol = await addReserve(chain, m, 9, 20);
    const usdc = await addReserve(chain, m, 6, 1);
    const eth = await addReserve(chain, m, 8, 2_000, { risk: SOL_RISK });
    snap = await loadMarket(src, m.market);
    assert.deepEqual([...snap.reserves.keys()].sort(), [sol.reserve, usdc.reserve, eth.reserve].sort());
    assert.equal(reserveOf(snap, usdc.reserve).price?.price, 100_000_000n, 'the loader decodes the oracle');

    await t.test('update_reserve_config', async () => {
        const r = reserveOf(snap, usdc.reserve).account;
        const sent = await chain.ok('update_reserve_config', [
            getUpdateReserveConfigInstruction({
                admin: m.admin,
                market: m.market,
                reserve: usdc.reserve,
                oracle: usdc.oracle,
                config: { ...r.config, depositCap: 1_000_000_000_000n },
            }),
        ]);
        assert.equal(eventsOf(sent.logs, 'reserveConfigUpdated').length, 1);
        snap = await loadMarket(src, m.market);
        assert.equal(reserveOf(snap, usdc.reserve).account.config.depositCap, 1_000_000_000_000n);
    });

    // --- positions ------------------------------------------------------------
    const supplier = await chain.user();
    const borrower = await chain.user();
    const sUsdc = await chain.tokenAccount(usdc.mint, supplier.address, units(usdc, 10_000));
    const bSol = await chain.tokenAccount(sol.mint, borrower.address, units(sol, 100));
    const bUsdc = await chain.tokenAccount(usdc.mint, borrower.address);

    const so = await initObligationAction({ payer: supplier, owner: supplier, market: m.market, index: 0 });
    const bo = await initObligationAction({ payer: borrower, owner: borrower, market: m.market, index: 0 });
    await chain.ok('init_obligation', [so.instruction]);
    const sent = await chain.ok('init_obligation', [bo.instruction]);
    assert.equal(eventsOf(sent.logs, 'obligationInitialized')[0].obligation, bo.obligation);
    assert.equal(bo.obligation, (await findObligationPda({ market: m.market, owner: borrower.address, index: 0 }))[0]);

    await t.test('deposit', async () => {
        await chain.ok('deposit', [
            depositAction({ snapshot: snap, owner: supplier, obligation: so.obligation, reserve: usdc.reserve, userTokenAccount: sUsdc, amount: units(usdc, 10_000) }),
        ]);
        const s = await chain.ok('deposit', [
            depositAction({ snapshot: snap, owner: borrower, obligation: bo.obligation, reserve: sol.reserve, userTokenAccount: bSol, amount: units(sol, 100) }),
        ]);
        const e = eventsOf(s.logs, 'deposited')[0];
        assert.equal(e.amount, units(sol, 100));
        assert.equal(chain.balance(bSol), 0n);
        assert.equal(chain.balance(sol.liquidityVault), units(sol, 100));
        const mine = await loadObligations(src, m.market, borrower.address);
        assert.equal(mine.length, 1);
        assert.equal(mine[0].account.positions[0].depositShares, e.shares);
    });

    await t.test('borrow (health accounts counting the slot it opens)', async () => {
        const ob = await loadObligation(src, bo.obligation);
        // Without the slot the borrow opens, the program refuses the accounts.
        const [marketAuthority] = await findMarketAuthorityPda({ market: m.market });
        const u = reserveOf(snap, usdc.reserve).account;
        const wrong = withRemainingAccounts(
            getBorrowInstruction({
                owner: borrower,
                market: m.market,
                marketAuthority,
                reserve: usdc.reserve,
                obligation: bo.obligation,
                mint: u.mint,
                liquidityVault: u.liquidityVault,
                userTokenAccount: bUsdc,
                amount: units(usdc, 1_000),
            }),
            healthAccounts(snap, ob.account),
        );
        const refused = await chain.fails('borrow without its slot', [wrong]);
        assert.equal(refused.error?.errorName, 'HealthAccountsMismatch');
        assert.match(refused.error!.message, /HealthAccountsMismatch \(6024\)/);

        const s = await chain.ok('borrow', [
            await borrowAction({ snapshot: snap, owner: borrower, obligation: ob, reserve: usdc.reserve, userTokenAccount: bUsdc, amount: units(usdc, 1_000) }),
        ]);
        assert.equal(eventsOf(s.logs, 'borrowed')[0].amount, units(usdc, 1_000));
        assert.equal(chain.balance(bUsdc), units(usdc, 1_000));
        const after = await loadObligation(src, bo.obligation);
        assert.equal(after.account.positions[1].kind, PositionKind.Debt);
        assert.equal(after.account.positions[1].reserve, usdc.reserve);
    });

    await t.test('withdraw with debt (health accounts)', async () => {
        const ob = await loadObligation(src, bo.obligation);
        const s = await chain.ok('withdraw', [
            await withdrawAction({ snapshot: snap, owner: borrower, obligation: ob, reserve: sol.reserve, userTokenAccount: bSol, amount: units(sol, 10) }),
        ]);
        assert.equal(eventsOf(s.logs, 'withdrawn')[0].amount, units(sol, 10));
        assert.equal(chain.balance(bSol), units(sol, 10));
    });

    await t.test('repay', async () => {
        const s = await chain.ok('repay', [
            repayAction({ snapshot: snap, repayer: borrower, obligation: bo.obligation, reserve: usdc.reserve, userTokenAccount: bUsdc, amount: units(usdc, 100) }),
        ]);
        assert.equal(eventsOf(s.logs, 'repaid')[0].amount, units(usdc, 100));
        assert.equal(chain.balance(bUsdc), units(usdc, 900));
    });

    await t.test('accrue_interest and balance_sheet', async () => {
        chain.warp(3_600n);
        refresh(chain, sol, usdc, eth);
        const s = await chain.ok('accrue_interest', [getAccrueInterestInstruction({ reserve: usdc.reserve })]);
        const e = eventsOf(s.logs, 'interestAccrued')[0];
        assert.ok(e, 'InterestAccrued emitted');
        const sheetTx = await chain.ok('balance_sheet', [
            getBalanceSheetInstruction({ market: m.market, reserve: usdc.reserve, insuranceVault: usdc.insuranceVault }),
        ]);
        assert.equal(sheetTx.returnData.length, 113);
        const sheet = getBalanceSheetDecoder().decode(sheetTx.returnData);
        assert.deepEqual(eventsOf(sheetTx.logs, 'balanceSheetReported')[0].sheet, sheet);
        assert.equal(sheet.reserve, usdc.reserve);
        assert.equal(sheet.liquid, chain.balance(usdc.liquidityVault));
        assert.equal(sheet.assets, sheet.liquid + sheet.deployed + sheet.borrowed);
        assert.ok(sheet.borrowed > units(usdc, 900), `interest on 900 USDC: ${sheet.borrowed}`);
    });

    await t.test('obligation_stress (return data decoded by the generated codec)', async () => {
        const ob = await loadObligation(src, bo.obligation);
        const stress = async (shocks: number[]) => {
            const ix = withRemainingAccounts(
                getObligationStressInstruction({ market: m.market, obligation: bo.obligation, shocksBps: shocks }),
                healthAccounts(snap, ob.account),
            );
            const sent = await chain.ok('obligation_stress', [ix]);
            assert.equal(sent.returnData.length, 561);
            return getObligationStressDecoder().decode(sent.returnData);
        };
        const one = 1n << 48n;
        const v = await stress([10_000, 10_000]);
        assert.equal(v.obligation, bo.obligation);
        assert.equal(v.reserveCount, 2);
        assert.equal(v.reserves[0].reserve, sol.reserve);
        assert.equal(v.reserves[0].exponent, -8);
        assert.ok(v.maintenanceHealth >= one);
        // 90 SOL against ~900 USDC (interest included) at LT 80%: about $12.50.
        const lp = v.reserves[0].liquidationPrice;
        assert.ok(lp > 1_250_000_000n && lp < 1_260_000_000n, `${lp}`);
        // Shocked to 60%: below 1 exactly when the shocked price is below it.
        const s = await stress([6_000, 10_000]);
        const shocked = (BigInt(Math.round(sol.price * 1e8)) * 6_000n) / 10_000n;
        assert.equal(s.maintenanceHealth < one, shocked < lp);
        const refused = await chain.fails('obligation_stress, one shock short', [
            withRemainingAccounts(
                getObligationStressInstruction({ market: m.market, obligation: bo.obligation, shocksBps: [10_000] }),
                healthAccounts(snap, ob.account),
            ),
        ]);
        assert.equal(refused.error?.errorName, 'PriceShockLengthMismatch');
    });

    // Before the treasury moves in (balance_sheet would then need the strategy reserve).
    await t.test('withdraw_protocol_fees and withdraw_insurance', async () => {
        const receiver = await chain.tokenAccount(usdc.mint, m.admin.address);
        const sheet = async () =>
            eventsOf(
                (await chain.ok('balance_sheet', [getBalanceSheetInstruction({ market: m.market, reserve: usdc.reserve, insuranceVault: usdc.insuranceVault })]))
                    .logs,
                'balanceSheetReported',
            )[0].sheet;
        const before = await sheet();
        const f = await chain.ok('withdraw_protocol_fees', [
            await getWithdrawProtocolFeesInstructionAsync({ admin: m.admin, market: m.market, reserve: usdc.reserve, mint: usdc.mint, liquidityVault: usdc.liquidityVault, receiver, amount: 1n }),
        ]);
        assert.equal(eventsOf(f.logs, 'protocolFeesWithdrawn')[0].amount, 1n);
        const after = await sheet();
        assert.equal(after.liabilities, before.liabilities, 'depositors are owed the same');
        assert.equal(after.liquid, before.liquid - 1n);
        chain.fund(usdc.insuranceVault, 5n);
        const i = await chain.ok('withdraw_insurance', [
            await getWithdrawInsuranceInstructionAsync({ admin: m.admin, market: m.market, reserve: usdc.reserve, mint: usdc.mint, insuranceVault: usdc.insuranceVault, receiver, amount: 5n }),
        ]);
        assert.equal(eventsOf(i.logs, 'insuranceWithdrawn')[0].amount, 5n);
        assert.equal(chain.balance(receiver), 6n);
    });

    await t.test('update_volatility (fixed-point argument)', async () => {
        const s = await chain.ok('update_volatility', [
            getUpdateVolatilityInstruction({
                riskAuthority: m.admin,
                market: m.market,
                reserve: eth.reserve,
                sigma: fxToWrapped(fxFromDecimal('0.8')),
            }),
        ]);
        const e = eventsOf(s.logs, 'volatilityUpdated')[0];
        assert.equal(fxToDecimal(fxFromWrapped(e.newSigma), 6), '0.8');
        const r = (await loadMarket(src, m.market)).reserves.get(eth.reserve)!.account;
        assert.equal(fxToDecimal(fxFromWrapped(r.risk.sigma), 6), '0.8');
    });

    // --- liquidation and bad debt -----------------------------------------------
    const liquidator = await chain.user();
    const lUsdc = await chain.tokenAccount(usdc.mint, liquidator.address, units(usdc, 10_000));
    const lSol = await chain.tokenAccount(sol.mint, liquidator.address);

    await t.test('liquidate', async () => {
        // 90 SOL against ~900 USDC at LT 80%: unhealthy below $12.50.
        sol.price = 12;
        refresh(chain, sol, usdc);
        snap = await loadMarket(src, m.market);
        const ob = await loadObligation(src, bo.obligation);
        const s = await chain.ok('liquidate', [
            await liquidateAction({
                snapshot: snap,
                liquidator,
                obligation: ob,
                debtReserve: usdc.reserve,
                collateralReserve: sol.reserve,
                liquidatorDebtAccount: lUsdc,
                liquidatorCollateralAccount: lSol,
                maxRepay: U64_MAX,
            }),
        ]);
        const e = eventsOf(s.logs, 'liquidated')[0];
        assert.ok(e.repaid > 0n && e.seized > 0n);
        assert.equal(chain.balance(lSol), e.seized);
        assert.equal(chain.balance(lUsdc), units(usdc, 10_000) - e.repaid);
        assert.ok(Number(fxToDecimal(fxFromWrapped(e.healthBefore), 6)) < 1, 'it was below Maintenance');
    });

    await t.test('liquidate_for_shares', async () => {
        // The first liquidation restored health; SOL falls on to $10.5 and
        // the liquidator takes SOL as deposit shares into its own obligation.
        sol.price = 10.5;
        refresh(chain, sol, usdc);
        snap = await loadMarket(src, m.market);
        const own = await initObligationAction({ payer: liquidator, owner: liquidator, market: m.market, index: 0 });
        await chain.ok('init_obligation', [own.instruction]);
        const ob = await loadObligation(src, bo.obligation);
        const s = await chain.ok('liquidate_for_shares', [
            await liquidateForSharesAction({
                snapshot: snap,
                liquidator,
                obligation: ob,
                liquidatorObligation: own.obligation,
                debtReserve: usdc.reserve,
                collateralReserve: sol.reserve,
                liquidatorDebtAccount: lUsdc,
                maxRepay: units(usdc, 1),
            }),
        ]);
        const e = eventsOf(s.logs, 'liquidatedForShares')[0];
        assert.equal(e.repaid, units(usdc, 1));
        assert.ok(e.sharesCredited > 0n);
        const held = (await loadObligation(src, own.obligation)).account.positions.find((p) => p.kind === PositionKind.Collateral);
        assert.equal(held?.depositShares, e.sharesCredited);
    });

    await t.test('socialize_bad_debt', async () => {
        // A second borrower whose collateral is worth less than the debt, in
        // two reserves: the liquidation that takes its last collateral writes
        // both debts off itself (the action builder passes the ETH reserve
        // writable with its write-off group). A third holds 0.0002 ETH
        // ($0.40, under the $1 dust value) beside its SOL and owes USDC: the
        // liquidation of all its SOL leaves the priced dust, so nothing is
        // written off there, and `socialize_bad_debt` forfeits the dust (ETH
        // reserve and oracle passed) and writes the USDC debt off.
        sol.price = 20;
        refresh(chain, sol, usdc, eth);
        snap = await loadMarket(src, m.market);
        const es = await chain.user();
        const esEth = await chain.tokenAccount(eth.mint, es.address, units(eth, 1));
        const eo = await initObligationAction({ payer: es, owner: es, market: m.market, index: 8 });
        await chain.ok('init_obligation', [eo.instruction]);
        await chain.ok('deposit', [depositAction({ snapshot: snap, owner: es, obligation: eo.obligation, reserve: eth.reserve, userTokenAccount: esEth, amount: units(eth, 1) })]);
        const b2 = await chain.user();
        const b2Sol = await chain.tokenAccount(sol.mint, b2.address, units(sol, 10));
        const b2Usdc = await chain.tokenAccount(usdc.mint, b2.address);
        const b2Eth = await chain.tokenAccount(eth.mint, b2.address);
        const o2 = await initObligationAction({ payer: b2, owner: b2, market: m.market, index: 7 });
        await chain.ok('init_obligation', [o2.instruction]);
        snap = await loadMarket(src, m.market);
        await chain.ok('deposit', [depositAction({ snapshot: snap, owner: b2, obligation: o2.obligation, reserve: sol.reserve, userTokenAccount: b2Sol, amount: units(sol, 10) })]);
        await chain.ok('borrow', [
            await borrowAction({ snapshot: snap, owner: b2, obligation: await loadObligation(src, o2.obligation), reserve: usdc.reserve, userTokenAccount: b2Usdc, amount: units(usdc, 60) }),
        ]);
        await chain.ok('borrow', [
            await borrowAction({ snapshot: snap, owner: b2, obligation: await loadObligation(src, o2.obligation), reserve: eth.reserve, userTokenAccount: b2Eth, amount: units(eth, 0.01) }),
        ]);
        const b3 = await chain.user();
        const b3Sol = await chain.tokenAccount(sol.mint, b3.address, units(sol, 10));
        const b3Eth = await chain.tokenAccount(eth.mint, b3.address, units(eth, 0.0002));
        const b3Usdc = await chain.tokenAccount(usdc.mint, b3.address);
        const o3 = await initObligationAction({ payer: b3, owner: b3, market: m.market, index: 9 });
        await chain.ok('init_obligation', [o3.instruction]);
        await chain.ok('deposit', [depositAction({ snapshot: snap, owner: b3, obligation: o3.obligation, reserve: sol.reserve, userTokenAccount: b3Sol, amount: units(sol, 10) })]);
        await chain.ok('deposit', [depositAction({ snapshot: snap, owner: b3, obligation: o3.obligation, reserve: eth.reserve, userTokenAccount: b3Eth, amount: units(eth, 0.0002) })]);
        await chain.ok('borrow', [
            await borrowAction({ snapshot: snap, owner: b3, obligation: await loadObligation(src, o3.obligation), reserve: usdc.reserve, userTokenAccount: b3Usdc, amount: units(usdc, 60) }),
        ]);
        sol.price = 5;
        refresh(chain, sol, usdc, eth);
        snap = await loadMarket(src, m.market);
        const liq2 = await chain.ok('liquidate', [
            await liquidateAction({
                snapshot: snap,
                liquidator,
                obligation: await loadObligation(src, o2.obligation),
                debtReserve: usdc.reserve,
                collateralReserve: sol.reserve,
                liquidatorDebtAccount: lUsdc,
                liquidatorCollateralAccount: lSol,
                maxRepay: U64_MAX,
            }),
        ]);
        assert.ok(eventsOf(liq2.logs, 'liquidated')[0].seized > 0n);
        const both = eventsOf(liq2.logs, 'badDebtSocialized');
        assert.deepEqual(new Set(both.map((e) => e.reserve)), new Set([usdc.reserve, eth.reserve]), 'both debts written off');
        const left = (await loadObligation(src, o2.obligation)).account.positions;
        assert.ok(left.every((p) => p.kind === PositionKind.Empty), 'nothing owed, nothing held');
        const liq3 = await chain.ok('liquidate', [
            await liquidateAction({
                snapshot: snap,
                liquidator,
                obligation: await loadObligation(src, o3.obligation),
                debtReserve: usdc.reserve,
                collateralReserve: sol.reserve,
                liquidatorDebtAccount: lUsdc,
                liquidatorCollateralAccount: lSol,
                maxRepay: U64_MAX,
            }),
        ]);
        assert.equal(eventsOf(liq3.logs, 'badDebtSocialized').length, 0, 'the ETH dust is priced collateral');
        const ix = await getSocializeBadDebtInstructionAsync({
            market: m.market,
            obligation: o3.obligation,
            reserve: usdc.reserve,
            mint: usdc.mint,
            liquidityVault: usdc.liquidityVault,
            insuranceVault: usdc.insuranceVault,
        });
        const s = await chain.ok('socialize_bad_debt', [
            withRemainingAccounts(ix, [
                { address: eth.reserve, role: AccountRole.WRITABLE },
                { address: eth.oracle, role: AccountRole.READONLY },
            ]),
        ]);
        assert.equal(eventsOf(s.logs, 'dustForfeited')[0].reserve, eth.reserve);
        const bad = eventsOf(s.logs, 'badDebtSocialized')[0];
        assert.equal(bad.obligation, o3.obligation);
        assert.equal(bad.coveredByInsurance + bad.writtenOff, bad.debt);
        const after = (await loadObligation(src, o3.obligation)).account.positions;
        assert.ok(after.every((p) => p.kind === PositionKind.Empty), 'nothing owed any more');
    });

    // --- treasury ---------------------------------------------------------------
    await t.test('set_treasury_strategy, rebalance, and withdraw recalling from the treasury', async () => {
        const m2 = await createMarket(chain);
        const strategy = await addReserve(chain, m2, 6, 1, {}, usdc.mint);
        const cfg = reserveOf(snap, usdc.reserve).account.config;
        await chain.ok('update_reserve_config', [
            getUpdateReserveConfigInstruction({
                admin: m.admin,
                market: m.market,
                reserve: usdc.reserve,
                oracle: usdc.oracle,
                config: {
                    ...cfg,
                    liquidity: { ...cfg.liquidity, bufferMinBps: 1_000, bufferTargetBps: 2_000, bufferMaxBps: 3_000, rehypothecationCapBps: 5_000 },
                },
            }),
        ]);
        const [strategyObligation] = await findTreasuryObligationPda({ strategyMarket: m2.market, market: m.market });
        const ap = await chain.ok('set_strategy_approval', [
            getSetStrategyApprovalInstruction({
                admin: m2.admin,
                market: m2.market,
                strategyReserve: strategy.reserve,
                userReserve: usdc.reserve,
                approved: true,
            }),
        ]);
        assert.equal(eventsOf(ap.logs, 'strategyApprovalSet')[0].userReserve, usdc.reserve);
        const s = await chain.ok('set_treasury_strategy', [
            await getSetTreasuryStrategyInstructionAsync({
                admin: m.admin,
                market: m.market,
                reserve: usdc.reserve,
                strategyReserve: strategy.reserve,
                strategyMarket: m2.market,
                strategyObligation,
            }),
        ]);
        assert.equal(eventsOf(s.logs, 'treasuryStrategySet')[0].strategyReserve, strategy.reserve);
        const [strategyMarketAuthority] = await findMarketAuthorityPda({ market: m2.market });
        const r = await chain.ok('rebalance', [
            await getRebalanceInstructionAsync({
                market: m.market,
                reserve: usdc.reserve,
                mint: usdc.mint,
                liquidityVault: usdc.liquidityVault,
                strategyMarket: m2.market,
                strategyMarketAuthority,
                strategyReserve: strategy.reserve,
                strategyLiquidityVault: strategy.liquidityVault,
                strategyObligation,
            }),
        ]);
        const moved = eventsOf(r.logs, 'rebalanced')[0];
        assert.equal(moved.deployed, true);
        assert.ok(moved.amount > 0n);
        assert.equal(chain.balance(strategy.liquidityVault), moved.amount);

        // The loader follows the strategy; the builders add the strategy
        // reserve (deposit) or the recall accounts (a withdrawal larger than
        // the vault).
        snap = await loadMarket(src, m.market);
        assert.ok(snap.strategies.has(strategy.reserve));
        const liquid = reserveOf(snap, usdc.reserve).account.availableAmount;
        const s2 = await chain.user();
        const s2Usdc = await chain.tokenAccount(usdc.mint, s2.address, units(usdc, 50));
        const o3 = await initObligationAction({ payer: s2, owner: s2, market: m.market, index: 0 });
        await chain.ok('init_obligation', [o3.instruction]);
        await chain.ok('deposit (treasury marked)', [
            depositAction({ snapshot: snap, owner: s2, obligation: o3.obligation, reserve: usdc.reserve, userTokenAccount: s2Usdc, amount: units(usdc, 50) }),
        ]);
        snap = await loadMarket(src, m.market);
        // The health accounts carry the strategy reserve after USDC's oracle
        // (the program values the deployed shares at min(book, marked)).
        assert.deepEqual(
            healthAccounts(snap, (await loadObligation(src, o3.obligation)).account).map((a) => a.address),
            [usdc.reserve, reserveOf(snap, usdc.reserve).account.oracle, strategy.reserve],
        );
        const want = liquid + units(usdc, 100);
        const w = await chain.ok('withdraw (recall)', [
            await withdrawAction({ snapshot: snap, owner: supplier, obligation: await loadObligation(src, so.obligation), reserve: usdc.reserve, userTokenAccount: sUsdc, amount: want }),
        ]);
        assert.equal(chain.balance(sUsdc), want);
        assert.equal(eventsOf(w.logs, 'rebalanced')[0].deployed, false, 'the shortfall was recalled');

        const back = await chain.ok('recall_treasury', [
            await getRecallTreasuryInstructionAsync({
                admin: m.admin,
                market: m.market,
                reserve: usdc.reserve,
                mint: usdc.mint,
                liquidityVault: usdc.liquidityVault,
                strategyMarket: m2.market,
                strategyMarketAuthority,
                strategyReserve: strategy.reserve,
                strategyLiquidityVault: strategy.liquidityVault,
                strategyObligation,
                amount: 2n ** 64n - 1n,
            }),
        ]);
        assert.equal(eventsOf(back.logs, 'treasuryRecalled')[0].deployedAfter, 0n);
    });

    await t.test('propose_admin and accept_admin', async () => {
        const next = await chain.user();
        const p = await chain.ok('propose_admin', [getProposeAdminInstruction({ admin: m.admin, market: m.market, pendingAdmin: next.address })]);
        assert.equal(eventsOf(p.logs, 'adminProposed').length, 1);
        const a = await chain.ok('accept_admin', [getAcceptAdminInstruction({ pendingAdmin: next, market: m.market })]);
        assert.equal(eventsOf(a.logs, 'adminAccepted').length, 1);
        assert.equal((await loadMarket(src, m.market)).market.admin, next.address);
    });

    // Every one of the program's instructions ran through the client.
    const ran = new Set(Object.keys(cuTable()).map((k) => k.split(' ')[0]));
    for (const ix of [
        'init_market', 'update_market', 'init_reserve', 'update_reserve_config', 'update_volatility', 'liquidate',
        'liquidate_for_shares', 'socialize_bad_debt', 'balance_sheet', 'set_treasury_strategy', 'rebalance', 'accrue_interest',
        'init_obligation', 'deposit', 'withdraw', 'borrow', 'repay', 'propose_admin', 'accept_admin',
        'set_strategy_approval', 'recall_treasury',
        'withdraw_protocol_fees', 'withdraw_insurance',
    ]) {
        assert.ok(ran.has(ix), `${ix} ran`);
    }
});
