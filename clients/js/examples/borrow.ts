/**
 * From zero to a borrow with @ballast/client, end to end on the real
 * ballast.so (run: `make js-example` at the repository root).
 *
 * The integrator's part, `borrowFlow`, only needs a way to read accounts
 * (an `AccountSource`) and to send instructions: on a cluster these are
 * `rpcAccountSource(createSolanaRpc(url))` and Kit's
 * `sendAndConfirmTransactionFactory`; here they are an embedded LiteSVM
 * chain (test/harness.ts), on which `main` first lists a market as its
 * admin would.
 */
import type { Address, Instruction, KeyPairSigner } from '@solana/kit';
import {
    BallastProgramError,
    borrowAction,
    MarginEngine,
    depositAction,
    eventsOf,
    initObligationAction,
    loadMarket,
    loadObligation,
    type AccountSource,
} from '../src';
import { addReserve, createMarket, units } from '../test/fixture';
import { Chain } from '../test/harness';

/** Sends instructions in one transaction and returns the program logs (throws a BallastProgramError on failure). */
export type Send = (ixs: Instruction[]) => Promise<string[]>;

/** What the example did, for the test that runs it. */
export type FlowResult = { obligation: Address; limit: bigint; borrowed: bigint; refusedWith: string };

/**
 * Opens an obligation, deposits `collateral` of `collateralReserve`, and
 * borrows `amount` of `borrowReserve`.
 */
export async function borrowFlow(args: {
    source: AccountSource;
    send: Send;
    market: Address;
    user: KeyPairSigner;
    collateralReserve: Address;
    borrowReserve: Address;
    userCollateral: Address;
    userBorrowed: Address;
    collateral: bigint;
    amount: bigint;
    /** The chain's unix time (on a cluster: `getBlockTime` of the latest slot). */
    now: () => Promise<bigint>;
}): Promise<FlowResult> {
    const { source, send, market, user } = args;
    // 1. Load the market: reserves, their oracles and strategies.
    const snapshot = await loadMarket(source, market);

    // 2. Open obligation 0 of the user (a PDA of market, owner and index).
    const { instruction, obligation } = await initObligationAction({ payer: user, owner: user, market, index: 0 });
    await send([instruction]);

    // 3. Deposit collateral.
    await send([
        depositAction({
            snapshot,
            owner: user,
            obligation,
            reserve: args.collateralReserve,
            userTokenAccount: args.userCollateral,
            amount: args.collateral,
        }),
    ]);

    // 4. How much may it borrow? The program's own engine, in WebAssembly.
    const engine = new MarginEngine(await loadMarket(source, market), await args.now());
    const limit = engine.maxBorrow(await loadObligation(source, obligation), args.borrowReserve);
    engine.free();

    // 5. Borrow: the builder adds the health accounts (every reserve of the
    //    obligation and its oracle, in slot order, the new debt included).
    const borrow = (amount: bigint) =>
        loadObligation(source, obligation).then((ob) =>
            borrowAction({ snapshot, owner: user, obligation: ob, reserve: args.borrowReserve, userTokenAccount: args.userBorrowed, amount }),
        );
    const logs = await send([await borrow(args.amount)]);
    const [borrowed] = eventsOf(logs, 'borrowed');

    // 6. A refusal comes back typed, with the program's own explanation.
    let refusedWith = '';
    try {
        await send([await borrow(args.amount * 20n)]);
    } catch (e) {
        if (!(e instanceof BallastProgramError)) throw e;
        refusedWith = e.errorName; // "InitialRequirementNotMet"
    }
    return { obligation, limit, borrowed: borrowed.amount, refusedWith };
}

/** Lists a SOL/USDC market on an embedded chain and runs {@link borrowFlow} on it. */
export async function main(): Promise<FlowResult> {
    const chain = await Chain.create();
    const admin = await createMarket(chain);
    const sol = await addReserve(chain, admin, 9, 20);
    const usdc = await addReserve(chain, admin, 6, 1);
    // Someone supplies USDC to borrow.
    const supplier = await chain.user();
    const supplied = await chain.tokenAccount(usdc.mint, supplier.address, units(usdc, 10_000));
    const snap = await loadMarket(chain.source(), admin.market);
    const so = await initObligationAction({ payer: supplier, owner: supplier, market: admin.market, index: 0 });
    await chain.ok('init_obligation', [so.instruction]);
    await chain.ok('deposit', [
        depositAction({ snapshot: snap, owner: supplier, obligation: so.obligation, reserve: usdc.reserve, userTokenAccount: supplied, amount: units(usdc, 10_000) }),
    ]);

    const user = await chain.user();
    const send: Send = async (ixs) => {
        const r = await chain.send(ixs);
        if ('cu' in r) return r.logs;
        throw r.error ?? new Error(r.raw);
    };
    const result = await borrowFlow({
        source: chain.source(),
        send,
        market: admin.market,
        user,
        collateralReserve: sol.reserve,
        borrowReserve: usdc.reserve,
        userCollateral: await chain.tokenAccount(sol.mint, user.address, units(sol, 10)),
        userBorrowed: await chain.tokenAccount(usdc.mint, user.address),
        collateral: units(sol, 10),
        amount: units(usdc, 100),
        now: async () => chain.now(),
    });
    console.log(`obligation ${result.obligation}: may borrow ${result.limit} base units of USDC against 10 SOL; borrowed ${result.borrowed}`);
    console.log(`borrowing 20 times more was refused: ${result.refusedWith}`);
    return result;
}

if (require.main === module) {
    main().catch((e) => {
        console.error(e);
        process.exit(1);
    });
}
