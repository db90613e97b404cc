/**
 * Typed events: every `Program data:` line of a transaction's logs that
 * carries a Ballast event (Anchor's `emit!`: base64 of the 8-byte
 * discriminator and the borsh payload), decoded with the generated codecs.
 */
import { getBase64Encoder } from '@solana/kit';
import { BALLAST_EVENTS, type BallastEvent } from './generated';

const ENTRIES = Object.entries(BALLAST_EVENTS) as [BallastEvent['name'], (typeof BALLAST_EVENTS)[keyof typeof BALLAST_EVENTS]][];

/** Every Ballast event in `logs`, in order (other programs' data lines are skipped). */
export function parseBallastEvents(logs: readonly string[]): BallastEvent[] {
    const b64 = getBase64Encoder();
    const out: BallastEvent[] = [];
    for (const line of logs) {
        if (!line.startsWith('Program data: ')) continue;
        let bytes: Uint8Array;
        try {
            bytes = b64.encode(line.slice('Program data: '.length)) as Uint8Array;
        } catch {
            continue;
        }
        for (const [name, e] of ENTRIES) {
            if (bytes.length >= 8 && e.discriminator.every((b, i) => bytes[i] === b)) {
                out.push({ name, data: e.decoder.decode(bytes.subarray(8)) } as BallastEvent);
                break;
            }
        }
    }
    return out;
}

/** The data of one event type, by name. */
export type EventData<N extends BallastEvent['name']> = Extract<BallastEvent, { name: N }>['data'];

/** The events named `name` in `logs`, typed. */
export function eventsOf<N extends BallastEvent['name']>(logs: readonly string[], name: N): EventData<N>[] {
    const out: EventData<N>[] = [];
    for (const e of parseBallastEvents(logs)) if (e.name === name) out.push(e.data as EventData<N>);
    return out;
}
