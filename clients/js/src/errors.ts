/**
 * Typed errors: Ballast's own (codes 6000 + position, generated from the
 * IDL: `BALLAST_ERROR__*`, `getBallastErrorMessage`) and the Anchor
 * framework's account-constraint errors that its instructions raise, by
 * custom code; plus the failure's own line in the program log.
 */
import * as generated from './generated';

/** A decoded program error. */
export type BallastErrorInfo = {
    /** The custom error code. */
    code: number;
    /** The variant's name, e.g. `HealthAccountsMismatch` or Anchor's `ConstraintSeeds`. */
    name: string;
    /** Its message. */
    message: string;
    /** Who raised it: the Ballast program, or Anchor's account checks. */
    source: 'ballast' | 'anchor';
};

const pascal = (snake: string) =>
    snake
        .toLowerCase()
        .split('_')
        .map((w) => w[0].toUpperCase() + w.slice(1))
        .join('');

/** Ballast's errors by code, from the generated constants. */
const BALLAST: Map<number, string> = new Map(
    Object.entries(generated)
        .filter(([k, v]) => k.startsWith('BALLAST_ERROR__') && typeof v === 'number')
        .map(([k, v]) => [v as number, pascal(k.slice('BALLAST_ERROR__'.length))]),
);

/** Anchor framework errors an integrator meets on Ballast's instructions (anchor-lang 1.2 `ErrorCode`). */
export const ANCHOR_ERRORS: Record<number, [string, string]> = {
    2000: ['ConstraintMut', 'A mut constraint was violated'],
    2001: ['ConstraintHasOne', 'A has one constraint was violated'],
    2003: ['ConstraintRaw', 'A raw constraint was violated'],
    2006: ['ConstraintSeeds', 'A seeds constraint was violated'],
    2012: ['ConstraintAddress', 'An address constraint was violated'],
    2014: ['ConstraintTokenMint', 'A token mint constraint was violated'],
    2015: ['ConstraintTokenOwner', 'A token owner constraint was violated'],
    3001: ['AccountDiscriminatorNotFound', 'No discriminator was found on the account'],
    3002: ['AccountDiscriminatorMismatch', 'Account discriminator did not match what was expected'],
    3003: ['AccountDidNotDeserialize', 'Failed to deserialize the account'],
    3005: ['AccountNotEnoughKeys', 'Not enough account keys given to the instruction'],
    3006: ['AccountNotMutable', 'The given account is not mutable'],
    3007: ['AccountOwnedByWrongProgram', 'The given account is owned by a different program than expected'],
    3008: ['InvalidProgramId', 'Program ID was not as expected'],
    3009: ['InvalidProgramExecutable', 'Program account is not executable'],
    3010: ['AccountNotSigner', 'The given account did not sign'],
    3011: ['AccountNotSystemOwned', 'The given account is not owned by the system program'],
    3012: ['AccountNotInitialized', 'The program expected this account to be already initialized'],
    3014: ['AccountNotAssociatedTokenAccount', 'The given account is not the associated token account'],
};

/** Decodes a custom error code of the Ballast program (null for other codes, e.g. the token program's). */
export function decodeBallastError(code: number): BallastErrorInfo | null {
    const name = BALLAST.get(code);
    if (name) {
        return { code, name, message: generated.getBallastErrorMessage(code as generated.BallastError), source: 'ballast' };
    }
    const a = ANCHOR_ERRORS[code];
    return a ? { code, name: a[0], message: a[1], source: 'anchor' } : null;
}

/** A failed Ballast instruction: the decoded error, where it failed, and the program log. */
export class BallastProgramError extends Error {
    constructor(
        readonly info: BallastErrorInfo,
        /** Index of the failing instruction in its transaction. */
        readonly instructionIndex: number,
        readonly logs: readonly string[],
    ) {
        super(`${info.name} (${info.code}): ${info.message}${failureLine(logs) ? ` [${failureLine(logs)}]` : ''}`);
        this.name = 'BallastProgramError';
    }

    /** The error's name, e.g. `InitialRequirementNotMet`. */
    get errorName(): string {
        return this.info.name;
    }

    /** The custom code. */
    get code(): number {
        return this.info.code;
    }
}

/**
 * The log line that explains a failure: Anchor's `AnchorError ...` line (it
 * names the file, the account and the error), or the program's last
 * `Program log:` before it failed (Ballast logs the amounts it refused).
 */
export function failureLine(logs: readonly string[]): string | undefined {
    const anchor = logs.find((l) => l.includes('AnchorError'));
    if (anchor) return anchor.replace(/^Program log: /, '');
    const msgs = logs.filter((l) => l.startsWith('Program log: ') && !l.startsWith('Program log: Instruction:'));
    return msgs.at(-1)?.slice('Program log: '.length);
}
