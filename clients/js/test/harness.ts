/**
 * The TS tests' chain: the `litesvm` npm package running the real
 * target/deploy/ballast.so (or $BALLAST_SO), SPL Token mints and accounts
 * written directly with @solana-program/token's codecs, Pyth
 * `PriceUpdateV2` accounts with the client's own encoder, and sends that
 * return the logs, the compute units and the decoded Ballast error.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
    appendTransactionMessageInstructions,
    createTransactionMessage,
    generateKeyPairSigner,
    getAddressEncoder,
    lamports,
    pipe,
    setTransactionMessageFeePayerSigner,
    setTransactionMessageLifetimeUsingBlockhash,
    signTransactionMessageWithSigners,
    some,
    none,
    type Address,
    type Instruction,
    type KeyPairSigner,
} from '@solana/kit';
import { AccountState, getMintEncoder, getMintSize, getTokenDecoder, getTokenEncoder, getTokenSize } from '@solana-program/token';
import { Clock, FailedTransactionMetadata, LiteSVM } from 'litesvm';
// Exported by the binding at run time, not by its type declarations.
import { InstructionErrorCustom, TransactionErrorInstructionError } from 'litesvm/dist/internal';
import {
    BALLAST_PROGRAM_ADDRESS,
    BallastProgramError,
    decodeBallastError,
    encodePriceUpdateV2,
    matchesFilter,
    PYTH_RECEIVER_PROGRAM_ID,
    TOKEN_PROGRAM_ADDRESS,
    type AccountSource,
} from '../src';

/** Repository root (clients/js/dist/test -> ../../../..). */
export const REPO = resolve(__dirname, '../../../..');
/** The program under test. */
export const SO_PATH = process.env.BALLAST_SO ?? resolve(REPO, 'target/deploy/ballast.so');

/** A successful send. */
export type Sent = { logs: string[]; cu: number; returnData: Uint8Array };
/** A refused send: the custom code when there is one, decoded. */
export type Refused = { logs: string[]; code: number | null; error: BallastProgramError | null; raw: string };

/** Compute units per instruction label, across the whole test run. */
export const CU = new Map<string, number[]>();

export class Chain {
    readonly svm: LiteSVM;
    readonly payer: KeyPairSigner;

    private constructor(svm: LiteSVM, payer: KeyPairSigner) {
        this.svm = svm;
        this.payer = payer;
    }

    /** A fresh VM with ballast.so, a funded payer and the clock at `unixTime`. */
    static async create(unixTime = 1_700_000_000n): Promise<Chain> {
        if (!existsSync(SO_PATH)) throw new Error(`${SO_PATH} missing: run \`make program\``);
        const svm = new LiteSVM().withLogBytesLimit(100_000n);
        svm.addProgramFromFile(BALLAST_PROGRAM_ADDRESS, SO_PATH);
        const payer = await generateKeyPairSigner();
        svm.airdrop(payer.address, lamports(1_000_000_000_000n));
        const chain = new Chain(svm, payer);
        chain.setTime(unixTime);
        return chain;
    }

    /** A new keypair holding `sol` SOL. */
    async user(sol = 10n): Promise<KeyPairSigner> {
        const k = await generateKeyPairSigner();
        this.svm.airdrop(k.address, lamports(sol * 1_000_000_000n));
        return k;
    }

    now(): bigint {
        return this.svm.getClock().unixTimestamp;
    }

    setTime(unixTime: bigint) {
        const c = this.svm.getClock();
        this.svm.setClock(new Clock(c.slot + 1n, c.epochStartTimestamp, c.epoch, c.leaderScheduleEpoch, unixTime));
    }

    warp(seconds: bigint) {
        this.setTime(this.now() + seconds);
    }

    /** Sends `ixs` in one transaction paid by the payer; signers come from the instructions. */
    async send(ixs: Instruction[]): Promise<Sent | Refused> {
        const msg = pipe(
            createTransactionMessage({ version: 0 }),
            (m) => setTransactionMessageFeePayerSigner(this.payer, m),
            (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: this.svm.latestBlockhash(), lastValidBlockHeight: 0n }, m),
            (m) => appendTransactionMessageInstructions(ixs, m),
        );
        const tx = await signTransactionMessageWithSigners(msg);
        const res = this.svm.sendTransaction(tx);
        this.svm.expireBlockhash();
        if (res instanceof FailedTransactionMetadata) {
            const logs = res.meta().logs();
            const err = res.err();
            let code: number | null = null;
            let index = 0;
            if (err instanceof TransactionErrorInstructionError) {
                const e = err as TransactionErrorInstructionError;
                index = e.index;
                const inner = e.err();
                if (inner instanceof InstructionErrorCustom) code = inner.code;
            }
            const info = code === null ? null : decodeBallastError(code);
            return { logs, code, error: info ? new BallastProgramError(info, index, logs) : null, raw: String(err) };
        }
        return { logs: res.logs(), cu: Number(res.computeUnitsConsumed()), returnData: res.returnData().data() };
    }

    /** Sends and expects success; records the compute units under `label`. */
    async ok(label: string, ixs: Instruction[]): Promise<Sent> {
        const r = await this.send(ixs);
        if (!('cu' in r)) {
            throw new Error(`[${label}] expected success: ${r.error?.message ?? r.raw}\n${r.logs.join('\n')}`);
        }
        CU.set(label, [...(CU.get(label) ?? []), r.cu]);
        return r;
    }

    /** Sends and expects a refusal. */
    async fails(label: string, ixs: Instruction[]): Promise<Refused> {
        const r = await this.send(ixs);
        if ('cu' in r) throw new Error(`[${label}] expected failure, succeeded:\n${r.logs.join('\n')}`);
        return r;
    }

    /** An SPL Token mint with `decimals`, the payer its authority. */
    async mint(decimals: number): Promise<Address> {
        const k = await generateKeyPairSigner();
        const data = getMintEncoder().encode({
            mintAuthority: some(this.payer.address),
            supply: 0n,
            decimals,
            isInitialized: true,
            freezeAuthority: none(),
        });
        this.write(k.address, TOKEN_PROGRAM_ADDRESS, data, getMintSize());
        return k.address;
    }

    /** A token account of `mint` owned by `owner` holding `amount`. */
    async tokenAccount(mint: Address, owner: Address, amount = 0n): Promise<Address> {
        const k = await generateKeyPairSigner();
        this.setTokenAccount(k.address, mint, owner, amount);
        return k.address;
    }

    setTokenAccount(address: Address, mint: Address, owner: Address, amount: bigint) {
        const data = getTokenEncoder().encode({
            mint,
            owner,
            amount,
            delegate: none(),
            state: AccountState.Initialized,
            isNative: none(),
            delegatedAmount: 0n,
            closeAuthority: none(),
        });
        this.write(address, TOKEN_PROGRAM_ADDRESS, data, getTokenSize());
    }

    /** Adds `amount` to a token account (tests mint freely). */
    fund(account: Address, amount: bigint) {
        const t = this.token(account);
        this.setTokenAccount(account, t.mint, t.owner, t.amount + amount);
    }

    token(account: Address) {
        const acc = this.svm.getAccount(account);
        if (!acc.exists) throw new Error(`token account ${account} missing`);
        return getTokenDecoder().decode(acc.data);
    }

    balance(account: Address): bigint {
        return this.token(account).amount;
    }

    /** Writes a fully verified Pyth price, published now, conf and EMA as given. */
    setPrice(oracle: Address, feedId: Uint8Array, priceUsd: number, opts: { confUsd?: number; emaUsd?: number; publishTime?: bigint } = {}) {
        const scale = (x: number) => BigInt(Math.round(x * 1e8));
        const data = encodePriceUpdateV2({
            feedId,
            price: scale(priceUsd),
            conf: scale(opts.confUsd ?? 0),
            exponent: -8,
            publishTime: opts.publishTime ?? this.now(),
            emaPrice: scale(opts.emaUsd ?? priceUsd),
            emaConf: scale(opts.confUsd ?? 0),
            verification: 'full',
        });
        this.write(oracle, PYTH_RECEIVER_PROGRAM_ID, data, data.length);
    }

    /** Writes a fully verified price given in the oracle's integer units (exponent -8), spot = EMA. */
    setPriceRaw(oracle: Address, feedId: Uint8Array, price: bigint, conf = 0n) {
        const data = encodePriceUpdateV2({
            feedId,
            price,
            conf,
            exponent: -8,
            publishTime: this.now(),
            emaPrice: price,
            emaConf: conf,
            verification: 'full',
        });
        this.write(oracle, PYTH_RECEIVER_PROGRAM_ID, data, data.length);
    }

    write(address: Address, owner: Address, data: ArrayLike<number>, space: number) {
        this.svm.setAccount({
            address,
            data: Uint8Array.from(data),
            executable: false,
            lamports: lamports(this.svm.minimumBalanceForRentExemption(BigInt(space))),
            programAddress: owner,
            space: BigInt(space),
        });
    }

    /** The client's {@link AccountSource} over this VM (filters applied locally). */
    source(): AccountSource {
        return {
            getAccount: async (address) => {
                const a = this.svm.getAccount(address);
                return a.exists ? { address, owner: a.programAddress, data: a.data } : null;
            },
            getProgramAccounts: async (program, filters) =>
                this.svm
                    .getProgramAccounts(program)
                    .filter((a) => filters.every((f) => matchesFilter(a.data, f)))
                    .map((a) => ({ address: a.address, owner: a.programAddress, data: a.data })),
        };
    }
}

/** A 32-byte feed id derived from an address (as the Rust harness does). */
export function feedIdOf(a: Address): Uint8Array {
    return new Uint8Array(getAddressEncoder().encode(a));
}

/** Median of the recorded compute units per label. */
export function cuTable(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of [...CU.entries()].sort()) {
        const s = [...v].sort((a, b) => a - b);
        out[k] = s[Math.floor(s.length / 2)];
    }
    return out;
}
