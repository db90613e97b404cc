/**
 * A reserve-config builder: fills the padding and the unused curve points
 * with zeros, takes the curve as `[utilisation bps, APR bps]` pairs and
 * fixed-point values as decimal strings, and checks every range the program
 * checks (`ReserveConfig::validate`, `RateCurve::validate`,
 * `LiquidityConfig::validate`, `RiskConfig::validate` in
 * programs/ballast/src), throwing a {@link ReserveConfigError} that names the
 * field and the rule. The program answers the same configurations with one
 * code per group (`InvalidReserveConfig`, `InvalidRateCurve`,
 * `InvalidLiquidityConfig`, `InvalidRiskConfig`) and no field name.
 */
import type { ReadonlyUint8Array } from '@solana/kit';
import {
    BPS,
    MAX_BORROW_FACTOR_BPS,
    MAX_BORROW_RATE_BPS,
    MAX_CURVE_POINTS,
    MAX_ORACLE_AGE_SECS,
    RiskPolicy,
} from './constants';
import { fxFromDecimal, fxFromWrapped, fxToWrapped } from './fixed';
import type { HaircutCurveArgs, LiquidityConfigArgs, ReserveConfigArgs, RiskConfigArgs } from './generated';

const SECONDS_PER_YEAR = 31_536_000;

/** The program error a rule corresponds to. */
export type ConfigErrorGroup = 'InvalidReserveConfig' | 'InvalidRateCurve' | 'InvalidLiquidityConfig' | 'InvalidRiskConfig';

/** A configuration the program would refuse: which field, which rule, which program error. */
export class ReserveConfigError extends Error {
    constructor(
        /** The field's path, e.g. `rateCurve.points[2].utilizationBps`. */
        readonly field: string,
        /** The rule it breaks. */
        readonly rule: string,
        /** The program's error for it. */
        readonly programError: ConfigErrorGroup,
    ) {
        super(`reserve config: ${field}: ${rule} (the program answers ${programError})`);
        this.name = 'ReserveConfigError';
    }
}

/** A haircut curve: `clamp(base + z * sigma * sqrt(horizon / year), min, max)`, bps, `z` in thousandths. */
export type HaircutInput = { baseBps: number; minBps: number; maxBps: number; zMilli: number };

/** The builder's input; see `ReserveConfig` in programs/ballast/src/state/reserve.rs for units. */
export type ReserveConfigInput = {
    /** The Pyth feed id, 32 bytes or 64 hex digits. */
    oracleFeedId: ReadonlyUint8Array | string;
    depositCap: bigint;
    borrowCap: bigint;
    oracleMaxAgeSecs: number;
    oracleMaxConfBps: number;
    loanToValueBps: number;
    liquidationThresholdBps: number;
    /** Default 10,000 (debt counts at its value). */
    borrowFactorBps?: number;
    reserveFactorBps: number;
    maxUtilizationBps: number;
    /** 2..=11 `[utilisation bps, APR bps]` points from 0 to 10,000. */
    rateCurve: ReadonlyArray<readonly [number, number]>;
    /** Default: the static policy. */
    risk?: {
        policy: 'dynamic';
        /** Annualised volatility bounds, decimal strings (e.g. `"0.1"`). */
        sigmaMin: string;
        sigmaMax: string;
        initial: HaircutInput;
        maintenance: HaircutInput;
        borrow: HaircutInput;
        horizonSecs: number;
        minUpdateIntervalSecs: number;
        maxAgeSecs: number;
        maxLtStepBps: number;
        maxLtvStepBps: number;
    };
    /** Default: no buffer band, limiter or stress rate. */
    liquidity?: Partial<Omit<LiquidityConfigArgs, 'padding'>>;
};

function feedId(x: ReadonlyUint8Array | string): ReadonlyUint8Array {
    if (typeof x !== 'string') {
        if (x.length !== 32) throw new ReserveConfigError('oracleFeedId', `32 bytes, got ${x.length}`, 'InvalidReserveConfig');
        return x;
    }
    const hex = x.startsWith('0x') ? x.slice(2) : x;
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new ReserveConfigError('oracleFeedId', '64 hex digits', 'InvalidReserveConfig');
    return Uint8Array.from(hex.match(/../g)!.map((b) => parseInt(b, 16)));
}

const haircut = (h: HaircutInput): HaircutCurveArgs => ({ ...h, padding: 0 });

/** Builds a complete `ReserveConfig` argument and validates it ({@link validateReserveConfig}). */
export function reserveConfig(input: ReserveConfigInput): ReserveConfigArgs {
    if (input.rateCurve.length > MAX_CURVE_POINTS) {
        throw new ReserveConfigError('rateCurve', `at most ${MAX_CURVE_POINTS} points, got ${input.rateCurve.length}`, 'InvalidRateCurve');
    }
    const points = Array.from({ length: MAX_CURVE_POINTS }, (_, i) => {
        const p = input.rateCurve[i];
        return { utilizationBps: p ? p[0] : 0, padding: new Uint8Array(2), borrowRateBps: p ? p[1] : 0 };
    });
    const r = input.risk;
    const risk: RiskConfigArgs = r
        ? {
              sigmaMin: fxToWrapped(fxFromDecimal(r.sigmaMin)),
              sigmaMax: fxToWrapped(fxFromDecimal(r.sigmaMax)),
              initial: haircut(r.initial),
              maintenance: haircut(r.maintenance),
              borrow: haircut(r.borrow),
              horizonSecs: r.horizonSecs,
              minUpdateIntervalSecs: r.minUpdateIntervalSecs,
              maxAgeSecs: r.maxAgeSecs,
              maxLtStepBps: r.maxLtStepBps,
              maxLtvStepBps: r.maxLtvStepBps,
              policy: RiskPolicy.Dynamic,
              padding: new Uint8Array(7),
          }
        : {
              sigmaMin: fxToWrapped(fxFromDecimal('0')),
              sigmaMax: fxToWrapped(fxFromDecimal('0')),
              initial: haircut({ baseBps: 0, minBps: 0, maxBps: 0, zMilli: 0 }),
              maintenance: haircut({ baseBps: 0, minBps: 0, maxBps: 0, zMilli: 0 }),
              borrow: haircut({ baseBps: 0, minBps: 0, maxBps: 0, zMilli: 0 }),
              horizonSecs: 0,
              minUpdateIntervalSecs: 0,
              maxAgeSecs: 0,
              maxLtStepBps: 0,
              maxLtvStepBps: 0,
              policy: RiskPolicy.Static,
              padding: new Uint8Array(7),
          };
    const l = input.liquidity ?? {};
    const config: ReserveConfigArgs = {
        oracleFeedId: feedId(input.oracleFeedId),
        depositCap: input.depositCap,
        borrowCap: input.borrowCap,
        oracleMaxAgeSecs: input.oracleMaxAgeSecs,
        borrowFactorBps: input.borrowFactorBps ?? BPS,
        oracleMaxConfBps: input.oracleMaxConfBps,
        loanToValueBps: input.loanToValueBps,
        liquidationThresholdBps: input.liquidationThresholdBps,
        reserveFactorBps: input.reserveFactorBps,
        maxUtilizationBps: input.maxUtilizationBps,
        padding: new Uint8Array(6),
        rateCurve: { points, numPoints: input.rateCurve.length, padding: new Uint8Array(7) },
        risk,
        padding2: new Uint8Array(4),
        liquidity: {
            bufferMinBps: l.bufferMinBps ?? 0,
            bufferTargetBps: l.bufferTargetBps ?? 0,
            bufferMaxBps: l.bufferMaxBps ?? 0,
            rehypothecationCapBps: l.rehypothecationCapBps ?? 0,
            stressOutflowBps: l.stressOutflowBps ?? 0,
            padding: new Uint8Array(2),
            outflowWindowSecs: l.outflowWindowSecs ?? 0,
            outflowCap: l.outflowCap ?? 0n,
        },
    };
    validateReserveConfig(config);
    return config;
}

const zero = (b: ReadonlyUint8Array) => b.every((x) => x === 0);

/**
 * Throws a {@link ReserveConfigError} for the first rule `c` breaks, in the
 * program's order of checks (so the group matches the program's error).
 */
export function validateReserveConfig(c: ReserveConfigArgs): void {
    const fail = (field: string, rule: string, group: ConfigErrorGroup = 'InvalidReserveConfig'): never => {
        throw new ReserveConfigError(field, rule, group);
    };
    // RateCurve::validate
    const curve = c.rateCurve;
    const n = curve.numPoints;
    if (n < 2 || n > MAX_CURVE_POINTS) fail('rateCurve.numPoints', `2..=${MAX_CURVE_POINTS}, got ${n}`, 'InvalidRateCurve');
    const pts = curve.points.slice(0, n);
    if (pts[0].utilizationBps !== 0) fail('rateCurve.points[0].utilizationBps', `must be 0, got ${pts[0].utilizationBps}`, 'InvalidRateCurve');
    if (pts[n - 1].utilizationBps !== BPS) {
        fail(`rateCurve.points[${n - 1}].utilizationBps`, `the last point must be at ${BPS}, got ${pts[n - 1].utilizationBps}`, 'InvalidRateCurve');
    }
    for (let i = 1; i < n; i++) {
        if (pts[i - 1].utilizationBps >= pts[i].utilizationBps) {
            fail(`rateCurve.points[${i}].utilizationBps`, 'utilisations must strictly increase', 'InvalidRateCurve');
        }
        if (pts[i - 1].borrowRateBps > pts[i].borrowRateBps) {
            fail(`rateCurve.points[${i}].borrowRateBps`, 'rates must not decrease', 'InvalidRateCurve');
        }
    }
    pts.forEach((p, i) => {
        if (p.borrowRateBps > MAX_BORROW_RATE_BPS) {
            fail(`rateCurve.points[${i}].borrowRateBps`, `at most ${MAX_BORROW_RATE_BPS}, got ${p.borrowRateBps}`, 'InvalidRateCurve');
        }
        if (!zero(p.padding)) fail(`rateCurve.points[${i}].padding`, 'must be zero', 'InvalidRateCurve');
    });
    curve.points.slice(n).forEach((p, j) => {
        if (p.utilizationBps !== 0 || p.borrowRateBps !== 0 || !zero(p.padding)) {
            fail(`rateCurve.points[${n + j}]`, 'unused points must be zero', 'InvalidRateCurve');
        }
    });
    if (!zero(curve.padding)) fail('rateCurve.padding', 'must be zero', 'InvalidRateCurve');
    // ReserveConfig::validate
    if (c.oracleMaxAgeSecs < 1 || c.oracleMaxAgeSecs > MAX_ORACLE_AGE_SECS) {
        fail('oracleMaxAgeSecs', `1..=${MAX_ORACLE_AGE_SECS}, got ${c.oracleMaxAgeSecs}`);
    }
    if (c.oracleMaxConfBps < 1 || c.oracleMaxConfBps > BPS) fail('oracleMaxConfBps', `1..=${BPS}, got ${c.oracleMaxConfBps}`);
    if (c.loanToValueBps >= c.liquidationThresholdBps) {
        fail('loanToValueBps', `must be below liquidationThresholdBps (${c.liquidationThresholdBps}), got ${c.loanToValueBps}`);
    }
    if (c.liquidationThresholdBps >= BPS) fail('liquidationThresholdBps', `below ${BPS}, got ${c.liquidationThresholdBps}`);
    if (c.borrowFactorBps < BPS || c.borrowFactorBps > MAX_BORROW_FACTOR_BPS) {
        fail('borrowFactorBps', `${BPS}..=${MAX_BORROW_FACTOR_BPS}, got ${c.borrowFactorBps}`);
    }
    if (c.reserveFactorBps > BPS) fail('reserveFactorBps', `at most ${BPS}, got ${c.reserveFactorBps}`);
    if (c.maxUtilizationBps < 1 || c.maxUtilizationBps > BPS) fail('maxUtilizationBps', `1..=${BPS}, got ${c.maxUtilizationBps}`);
    if (!zero(c.padding)) fail('padding', 'must be zero');
    if (!zero(c.padding2)) fail('padding2', 'must be zero');
    // LiquidityConfig::validate
    const l = c.liquidity;
    const liq = (f: string, rule: string) => fail(`liquidity.${f}`, rule, 'InvalidLiquidityConfig');
    if (l.bufferMinBps > l.bufferTargetBps) liq('bufferMinBps', 'must not exceed bufferTargetBps');
    if (l.bufferTargetBps > l.bufferMaxBps) liq('bufferTargetBps', 'must not exceed bufferMaxBps');
    if (l.bufferMaxBps > BPS) liq('bufferMaxBps', `at most ${BPS}`);
    if (l.rehypothecationCapBps > BPS) liq('rehypothecationCapBps', `at most ${BPS}`);
    if (l.stressOutflowBps > BPS) liq('stressOutflowBps', `at most ${BPS}`);
    if (!zero(l.padding)) liq('padding', 'must be zero');
    if (l.outflowWindowSecs !== 0 && BigInt(l.outflowCap) === 0n) liq('outflowCap', 'must be positive when outflowWindowSecs is set');
    // RiskConfig::validate
    const r = c.risk;
    const risk = (f: string, rule: string) => fail(`risk.${f}`, rule, 'InvalidRiskConfig');
    if (r.policy > 1) risk('policy', `0 (static) or 1 (dynamic), got ${r.policy}`);
    if (!zero(r.padding)) risk('padding', 'must be zero');
    if (r.policy === RiskPolicy.Static) return;
    const lo = fxFromWrapped(r.sigmaMin).raw;
    const hi = fxFromWrapped(r.sigmaMax).raw;
    if (lo < 0n) risk('sigmaMin', 'must not be negative');
    if (lo > hi) risk('sigmaMin', 'must not exceed sigmaMax');
    for (const k of ['initial', 'maintenance', 'borrow'] as const) {
        if (r[k].minBps > r[k].maxBps) risk(`${k}.minBps`, 'must not exceed maxBps');
        if (r[k].padding !== 0) risk(`${k}.padding`, 'must be zero');
    }
    if (r.initial.maxBps >= BPS) risk('initial.maxBps', `below ${BPS} (collateral keeps a positive weight)`);
    const [i, m] = [r.initial, r.maintenance];
    if (!(i.zMilli > m.zMilli)) risk('initial.zMilli', 'must exceed maintenance.zMilli (Initial stricter than Maintenance)');
    if (i.baseBps < m.baseBps) risk('initial.baseBps', 'must be at least maintenance.baseBps');
    if (i.minBps < m.minBps) risk('initial.minBps', 'must be at least maintenance.minBps');
    if (i.maxBps < m.maxBps) risk('initial.maxBps', 'must be at least maintenance.maxBps');
    if (r.horizonSecs < 1 || r.horizonSecs > SECONDS_PER_YEAR) risk('horizonSecs', `1..=${SECONDS_PER_YEAR}`);
    if (r.minUpdateIntervalSecs < 60) risk('minUpdateIntervalSecs', 'at least 60 seconds between pushes');
    if (r.maxAgeSecs <= r.minUpdateIntervalSecs) risk('maxAgeSecs', 'must exceed minUpdateIntervalSecs');
    if (r.maxLtStepBps < 1) risk('maxLtStepBps', 'at least 1');
    if (r.maxLtvStepBps < 1) risk('maxLtvStepBps', 'at least 1');
}
