/**
 * Action builders: the generated instruction plus the remaining accounts the
 * program expects, in its order, from a loaded {@link MarketSnapshot}:
 *
 * - `borrow`: the health accounts, counting the debt position the borrow opens;
 * - `withdraw`: the health accounts (none while the obligation has no debt),
 *   then the six recall accounts while the reserve has shares deployed to its
 *   treasury strategy (or when the vault holds less than the withdrawal);
 * - `deposit`: the strategy reserve while shares are deployed;
 * - `liquidate` and `liquidate_for_shares`: {@link liquidationAccounts}: the
 *   health accounts (the obligation's other debt reserves writable), a
 *   write-off group per other debt reserve, then the collateral reserve's
 *   strategy reserve while it has shares deployed;
 * - `repay`: none.
 *
 * Every address (market authority, vaults, mint, token program, oracles) comes
 * from the snapshot: the caller names only the obligation, the reserve(s) and
 * its own token accounts.
 */
import { AccountRole, type AccountMeta, type Address, type Instruction, type TransactionSigner } from '@solana/kit';
import {
    BALLAST_PROGRAM_ADDRESS,
    findMarketAuthorityPda,
    findObligationPda,
    getBorrowInstruction,
    getDepositInstruction,
    getInitObligationInstruction,
    getLiquidateForSharesInstruction,
    getLiquidateInstruction,
    getRepayInstruction,
    getWithdrawInstruction,
} from './generated';
import { PositionKind } from './constants';
import { healthAccounts } from './health';
import { hasStrategy, reserveOf, type LoadedObligation, type LoadedReserve, type MarketSnapshot } from './market';
import { findTreasuryObligationPda } from './pda';

/** `ix` with `extra` appended to its accounts. */
export function withRemainingAccounts<T extends Instruction>(ix: T, extra: AccountMeta[]): T {
    return extra.length === 0 ? ix : Object.freeze({ ...ix, accounts: [...(ix.accounts ?? []), ...extra] });
}

/** The strategy reserve (read-only) while `r` has shares deployed to its treasury strategy, else nothing. */
export function strategyAccount(r: LoadedReserve): AccountMeta[] {
    return r.account.treasury.deployedShares > 0n
        ? [{ address: r.account.treasury.strategyReserve, role: AccountRole.READONLY }]
        : [];
}

/** The six accounts that let `withdraw` recall a shortfall from `r`'s treasury strategy. */
export async function recallAccounts(snapshot: MarketSnapshot, r: LoadedReserve): Promise<AccountMeta[]> {
    const s = snapshot.strategies.get(r.account.treasury.strategyReserve);
    if (!s) throw new Error(`strategy reserve of ${r.address} not loaded`);
    const [strategyAuthority] = await findMarketAuthorityPda({ market: s.account.market });
    const [treasuryObligation] = await findTreasuryObligationPda({
        strategyMarket: s.account.market,
        market: snapshot.address,
    });
    return [
        { address: s.account.market, role: AccountRole.READONLY },
        { address: strategyAuthority, role: AccountRole.READONLY },
        { address: s.address, role: AccountRole.WRITABLE },
        { address: s.account.liquidityVault, role: AccountRole.WRITABLE },
        { address: treasuryObligation, role: AccountRole.WRITABLE },
        { address: BALLAST_PROGRAM_ADDRESS, role: AccountRole.READONLY },
    ];
}

/**
 * The remaining accounts of `liquidate` and `liquidate_for_shares` for a
 * liquidation of `obligation`'s debt in `debtReserve` against `collateral`:
 * the health accounts, with every other reserve the obligation owes passed
 * writable; then, per such reserve in health order, its write-off group
 * (insurance vault and liquidity vault writable, mint, token program); then
 * the collateral reserve's strategy reserve while it has shares deployed.
 * When the liquidation takes the last collateral, the program writes the
 * obligation's debt off in every reserve in that instruction and fails with
 * `WriteOffAccountsRequired` without these; otherwise they go unused.
 */
export function liquidationAccounts(
    snapshot: MarketSnapshot,
    obligation: LoadedObligation,
    debtReserve: Address,
    collateral: LoadedReserve,
): AccountMeta[] {
    const others = new Set(
        obligation.account.positions
            .filter((p) => p.kind === PositionKind.Debt && p.reserve !== debtReserve)
            .map((p) => p.reserve),
    );
    const health = healthAccounts(snapshot, obligation.account).map((a) =>
        others.has(a.address) ? { address: a.address, role: AccountRole.WRITABLE } : a,
    );
    const groups = health
        .filter((a) => others.has(a.address))
        .flatMap((a) => {
            const r = reserveOf(snapshot, a.address).account;
            return [
                { address: r.insuranceVault, role: AccountRole.WRITABLE },
                { address: r.liquidityVault, role: AccountRole.WRITABLE },
                { address: r.mint, role: AccountRole.READONLY },
                { address: r.tokenProgram, role: AccountRole.READONLY },
            ];
        });
    return [...health, ...groups, ...strategyAccount(collateral)];
}

/** `init_obligation` of obligation `index` of `owner` (signs), paid by `payer`; returns its address too. */
export async function initObligationAction(args: {
    payer: TransactionSigner;
    owner: TransactionSigner;
    market: Address;
    index: number;
}): Promise<{ instruction: Instruction; obligation: Address }> {
    const [obligation] = await findObligationPda({ market: args.market, owner: args.owner.address, index: args.index });
    const instruction = getInitObligationInstruction({
        payer: args.payer,
        owner: args.owner,
        market: args.market,
        obligation,
        index: args.index,
    });
    return { instruction, obligation };
}

/** Arguments shared by the four position actions. */
export type PositionActionArgs = {
    snapshot: MarketSnapshot;
    /** The reserve acted on. */
    reserve: Address;
    /** The user's token account of the reserve's mint. */
    userTokenAccount: Address;
    /** Base units (`u64::MAX` = all, for withdraw and repay). */
    amount: bigint;
};

/** `deposit` into `obligation` (its owner signs the transfer). */
export function depositAction(args: PositionActionArgs & { owner: TransactionSigner; obligation: Address }): Instruction {
    const r = reserveOf(args.snapshot, args.reserve);
    const ix = getDepositInstruction({
        owner: args.owner,
        market: args.snapshot.address,
        reserve: r.address,
        obligation: args.obligation,
        mint: r.account.mint,
        liquidityVault: r.account.liquidityVault,
        userTokenAccount: args.userTokenAccount,
        tokenProgram: r.account.tokenProgram,
        amount: args.amount,
    });
    return withRemainingAccounts(ix, strategyAccount(r));
}

/**
 * `withdraw` from `obligation` (as loaded now). With a treasury strategy and
 * shares deployed (or a vault holding less than `amount`), appends the recall
 * accounts so that the program recalls what the withdrawal needs (its
 * shortfall, the rehypothecation cap, the buffer band's minimum) in the same
 * instruction.
 */
export async function withdrawAction(
    args: PositionActionArgs & { owner: TransactionSigner; obligation: LoadedObligation },
): Promise<Instruction> {
    const r = reserveOf(args.snapshot, args.reserve);
    const [marketAuthority] = await findMarketAuthorityPda({ market: args.snapshot.address });
    const ix = getWithdrawInstruction({
        owner: args.owner,
        market: args.snapshot.address,
        marketAuthority,
        reserve: r.address,
        obligation: args.obligation.address,
        mint: r.account.mint,
        liquidityVault: r.account.liquidityVault,
        userTokenAccount: args.userTokenAccount,
        tokenProgram: r.account.tokenProgram,
        amount: args.amount,
    });
    const hasDebt = args.obligation.account.positions.some((p) => p.kind === PositionKind.Debt);
    const health = hasDebt ? healthAccounts(args.snapshot, args.obligation.account) : [];
    // The recall accounts whenever shares are deployed (not only when the
    // vault is short): the program also recalls to keep the rehypothecation
    // cap and the buffer band's minimum, and refuses such a withdrawal
    // without them (`RecallAccountsRequired`).
    const short = args.amount !== 2n ** 64n - 1n && args.amount > r.account.availableAmount;
    const deployed = r.account.treasury.deployedShares > 0n;
    const tail = hasStrategy(r) && (short || deployed) ? await recallAccounts(args.snapshot, r) : strategyAccount(r);
    return withRemainingAccounts(ix, [...health, ...tail]);
}

/** `borrow` against `obligation` (as loaded now), with the health accounts after the borrow opens its slot. */
export async function borrowAction(
    args: PositionActionArgs & { owner: TransactionSigner; obligation: LoadedObligation },
): Promise<Instruction> {
    const r = reserveOf(args.snapshot, args.reserve);
    const [marketAuthority] = await findMarketAuthorityPda({ market: args.snapshot.address });
    const ix = getBorrowInstruction({
        owner: args.owner,
        market: args.snapshot.address,
        marketAuthority,
        reserve: r.address,
        obligation: args.obligation.address,
        mint: r.account.mint,
        liquidityVault: r.account.liquidityVault,
        userTokenAccount: args.userTokenAccount,
        tokenProgram: r.account.tokenProgram,
        amount: args.amount,
    });
    return withRemainingAccounts(ix, healthAccounts(args.snapshot, args.obligation.account, r.address));
}

/** `repay` of any obligation's debt by `repayer` (`u64::MAX`: all of it). */
export function repayAction(args: PositionActionArgs & { repayer: TransactionSigner; obligation: Address }): Instruction {
    const r = reserveOf(args.snapshot, args.reserve);
    return getRepayInstruction({
        repayer: args.repayer,
        market: args.snapshot.address,
        reserve: r.address,
        obligation: args.obligation,
        mint: r.account.mint,
        liquidityVault: r.account.liquidityVault,
        userTokenAccount: args.userTokenAccount,
        tokenProgram: r.account.tokenProgram,
        amount: args.amount,
    });
}

/** `liquidate`: repay up to `maxRepay` of the debt in `debtReserve`, seize from `collateralReserve`. */
export async function liquidateAction(args: {
    snapshot: MarketSnapshot;
    liquidator: TransactionSigner;
    obligation: LoadedObligation;
    debtReserve: Address;
    collateralReserve: Address;
    liquidatorDebtAccount: Address;
    liquidatorCollateralAccount: Address;
    maxRepay: bigint;
}): Promise<Instruction> {
    const d = reserveOf(args.snapshot, args.debtReserve);
    const c = reserveOf(args.snapshot, args.collateralReserve);
    const [marketAuthority] = await findMarketAuthorityPda({ market: args.snapshot.address });
    const ix = getLiquidateInstruction({
        liquidator: args.liquidator,
        market: args.snapshot.address,
        marketAuthority,
        obligation: args.obligation.address,
        debtReserve: d.address,
        debtMint: d.account.mint,
        debtVault: d.account.liquidityVault,
        liquidatorDebtAccount: args.liquidatorDebtAccount,
        debtTokenProgram: d.account.tokenProgram,
        collateralReserve: c.address,
        collateralMint: c.account.mint,
        collateralVault: c.account.liquidityVault,
        collateralInsuranceVault: c.account.insuranceVault,
        liquidatorCollateralAccount: args.liquidatorCollateralAccount,
        collateralTokenProgram: c.account.tokenProgram,
        debtInsuranceVault: d.account.insuranceVault,
        maxRepay: args.maxRepay,
    });
    return withRemainingAccounts(ix, liquidationAccounts(args.snapshot, args.obligation, d.address, c));
}

/**
 * `liquidate_for_shares`: as {@link liquidateAction}, the seized collateral
 * credited as deposit shares to `liquidatorObligation` (the liquidator's own,
 * in the same market) instead of paid from the collateral vault: the path
 * when that vault holds less than the seizure.
 */
export async function liquidateForSharesAction(args: {
    snapshot: MarketSnapshot;
    liquidator: TransactionSigner;
    obligation: LoadedObligation;
    liquidatorObligation: Address;
    debtReserve: Address;
    collateralReserve: Address;
    liquidatorDebtAccount: Address;
    maxRepay: bigint;
}): Promise<Instruction> {
    const d = reserveOf(args.snapshot, args.debtReserve);
    const c = reserveOf(args.snapshot, args.collateralReserve);
    const [marketAuthority] = await findMarketAuthorityPda({ market: args.snapshot.address });
    const ix = getLiquidateForSharesInstruction({
        liquidator: args.liquidator,
        market: args.snapshot.address,
        marketAuthority,
        obligation: args.obligation.address,
        liquidatorObligation: args.liquidatorObligation,
        debtReserve: d.address,
        debtMint: d.account.mint,
        debtVault: d.account.liquidityVault,
        liquidatorDebtAccount: args.liquidatorDebtAccount,
        debtTokenProgram: d.account.tokenProgram,
        debtInsuranceVault: d.account.insuranceVault,
        collateralReserve: c.address,
        maxRepay: args.maxRepay,
    });
    return withRemainingAccounts(ix, liquidationAccounts(args.snapshot, args.obligation, d.address, c));
}
