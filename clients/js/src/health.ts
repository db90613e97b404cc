/**
 * The health remaining accounts (programs/ballast/src/health.rs): for each
 * distinct reserve of the obligation's open positions, in slot order of
 * first appearance, the reserve, its oracle and, when the reserve has a
 * treasury strategy configured, its strategy reserve (the program values
 * deployed shares at the lower of book and their value at the strategy's
 * rate there; missing or substituted: `StrategyAccountRequired`), read-only.
 * A borrow that
 * opens a debt position takes the first free slot, so its reserve is
 * counted where that slot is; a withdraw that empties a position frees it
 * only after the check, so the obligation is taken as it is before the
 * instruction. A wrong order fails on-chain with `HealthAccountsMismatch`,
 * a wrong oracle with `OracleAccountMismatch`.
 */
import { AccountRole, type AccountMeta, type Address } from '@solana/kit';
import { PositionKind } from './constants';
import { MAX_OBLIGATION_POSITIONS } from './generated';
import type { Obligation } from './generated';
import { hasStrategy, reserveOf, type MarketSnapshot } from './market';

/**
 * The reserves a health check reads, in order, for `obligation` after a
 * borrow from `borrowing` (if any) opened its debt position.
 */
export function healthReserves(obligation: Obligation, borrowing?: Address): Address[] {
    const slots = obligation.positions.map((p) => ({ reserve: p.reserve, kind: p.kind }));
    if (borrowing && !slots.some((p) => p.kind === PositionKind.Debt && p.reserve === borrowing)) {
        const free = slots.findIndex((p) => p.kind !== PositionKind.Collateral && p.kind !== PositionKind.Debt);
        if (free < 0) throw new Error(`obligation is full (${MAX_OBLIGATION_POSITIONS} positions): the borrow would fail with ObligationFull`);
        slots[free] = { reserve: borrowing, kind: PositionKind.Debt };
    }
    const out: Address[] = [];
    for (const p of slots) {
        if (p.kind !== PositionKind.Collateral && p.kind !== PositionKind.Debt) continue;
        if (!out.includes(p.reserve)) out.push(p.reserve);
    }
    return out;
}

/**
 * The (reserve, oracle[, strategy reserve]) accounts of {@link healthReserves},
 * oracles and strategies from the snapshot.
 */
export function healthAccounts(snapshot: MarketSnapshot, obligation: Obligation, borrowing?: Address): AccountMeta[] {
    return healthReserves(obligation, borrowing).flatMap((r) => {
        const reserve = reserveOf(snapshot, r);
        const metas: AccountMeta[] = [
            { address: r, role: AccountRole.READONLY },
            { address: reserve.account.oracle, role: AccountRole.READONLY },
        ];
        if (hasStrategy(reserve)) metas.push({ address: reserve.account.treasury.strategyReserve, role: AccountRole.READONLY });
        return metas;
    });
}
