/**
 * The program's margin engine, compiled to WebAssembly (clients/wasm, built
 * by scripts/wasm-build.sh into clients/js/wasm/): every number below is
 * computed by the program's own Rust code from the accounts' raw bytes and
 * the chain's clock, never recomputed in TypeScript.
 */
import { resolve } from 'node:path';
import { getAddressEncoder, type Address } from '@solana/kit';
import { fxFromBits, type I80F48 } from './fixed';
import type { LoadedObligation, MarketSnapshot } from './market';
import type * as Wasm from '../wasm/ballast_wasm';

let loaded: typeof Wasm | undefined;
function wasm(): typeof Wasm {
    // The bindings are generated beside the package (clients/js/wasm), not compiled by tsc.
    loaded ??= require(resolve(__dirname, '../../wasm/ballast_wasm.js')) as typeof Wasm;
    return loaded;
}

const bytes = (a: Address) => new Uint8Array(getAddressEncoder().encode(a));

/** Health under one requirement; values in micro-USD. */
export type HealthValues = {
    /** Weighted collateral, rounded down. */
    collateral: I80F48;
    /** Weighted debt, rounded up. */
    debt: I80F48;
    /** `collateral / debt` rounded down; null without debt. */
    ratio: I80F48 | null;
    /** `debt <= collateral`. */
    satisfied: boolean;
};

function health(r: Wasm.HealthReport): HealthValues {
    const out = {
        collateral: fxFromBits(BigInt(r.collateral)),
        debt: fxFromBits(BigInt(r.debt)),
        ratio: r.ratio === '' ? null : fxFromBits(BigInt(r.ratio)),
        satisfied: r.satisfied,
    };
    r.free();
    return out;
}

/** What `liquidate` would move (the program's `LiquidationPlan`); token base units. */
export type LiquidationPreview = {
    /** Debt tokens the liquidator pays. */
    repay: bigint;
    /** Collateral tokens taken from the position. */
    seize: bigint;
    /** Collateral tokens the liquidator receives (`seize - protocolCut`). */
    toLiquidator: bigint;
    /** The protocol's share of the bonus, to the collateral reserve's insurance vault. */
    protocolCut: bigint;
    /** The bonus, bps of the repaid value. */
    bonusBps: number;
    /** Maintenance health before. */
    healthBefore: I80F48;
};

/** The margin engine over one market snapshot at unix time `now` (the chain's clock). */
export class MarginEngine {
    private readonly state: Wasm.MarketState;

    constructor(snapshot: MarketSnapshot, now: bigint) {
        const w = wasm();
        this.state = new w.MarketState(now);
        this.state.setMarket(new Uint8Array(snapshot.marketData));
        for (const r of [...snapshot.reserves.values(), ...snapshot.strategies.values()]) {
            this.state.addReserve(bytes(r.address), new Uint8Array(r.data));
            if (r.oracleData) this.state.addOracle(bytes(r.account.oracle), new Uint8Array(r.oracleData));
        }
    }

    /** Initial requirement (LTV; gates borrow and withdraw). */
    healthInitial(ob: LoadedObligation): HealthValues {
        return health(this.state.healthInitial(new Uint8Array(ob.data)));
    }

    /** Maintenance requirement (liquidation threshold; below 1, liquidatable). */
    healthMaintenance(ob: LoadedObligation): HealthValues {
        return health(this.state.healthMaintenance(new Uint8Array(ob.data)));
    }

    /** Initial weighted collateral minus weighted debt, micro-USD. */
    borrowingPower(ob: LoadedObligation): I80F48 {
        return fxFromBits(BigInt(this.state.borrowingPower(new Uint8Array(ob.data))));
    }

    /** The largest amount `borrow` from `reserve` accepts now, base units. */
    maxBorrow(ob: LoadedObligation, reserve: Address): bigint {
        return this.state.maxBorrow(new Uint8Array(ob.data), bytes(reserve));
    }

    /** The largest amount `withdraw` from `reserve` accepts now, base units (treasury recall not counted). */
    maxWithdraw(ob: LoadedObligation, reserve: Address): bigint {
        return this.state.maxWithdraw(new Uint8Array(ob.data), bytes(reserve));
    }

    /**
     * The lowest price of `collateral`'s oracle, in its integer units
     * (`price * 10^exponent` USD), at which the obligation meets Maintenance:
     * one unit below, it is liquidatable. 0n: no positive price makes it so.
     */
    liquidationPrice(ob: LoadedObligation, collateral: Address): bigint {
        return this.state.liquidationPrice(new Uint8Array(ob.data), bytes(collateral));
    }

    /**
     * What `liquidate` would do now, repaying up to `maxRepay` (`u64::MAX`:
     * as much as allowed) of the debt in `debtReserve` and seizing from
     * `collateralReserve`: the program's own `plan_liquidation`. Throws the
     * instruction's error (e.g. `ObligationHealthy`).
     */
    liquidationPreview(ob: LoadedObligation, debtReserve: Address, collateralReserve: Address, maxRepay: bigint): LiquidationPreview {
        const p = this.state.liquidationPreview(new Uint8Array(ob.data), bytes(debtReserve), bytes(collateralReserve), maxRepay);
        const out = {
            repay: p.repay,
            seize: p.seize,
            toLiquidator: p.to_liquidator,
            protocolCut: p.protocol_cut,
            bonusBps: p.bonus_bps,
            healthBefore: fxFromBits(BigInt(p.health_before)),
        };
        p.free();
        return out;
    }

    /** Frees the WASM memory. */
    free() {
        this.state.free();
    }
}
