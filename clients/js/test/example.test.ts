/**
 * The integration guide's example runs end to end (examples/borrow.ts), and
 * every TypeScript snippet of docs/INTEGRATING.md is code of that example,
 * every Rust snippet code of the vault example program or its tests, so
 * that the guide cannot drift from what runs.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { main } from '../examples/borrow';
import { REPO } from './harness';

test('examples/borrow.ts: zero to a borrow on the real .so', async () => {
    const r = await main();
    assert.equal(r.borrowed, 100_000_000n);
    // 10 SOL at $20, LTV 75%: $150 of USDC, less what rounding in the protocol's favour takes.
    assert.ok(r.limit <= 150_000_000n && r.limit > 149_990_000n, `limit ${r.limit}`);
    assert.equal(r.refusedWith, 'InitialRequirementNotMet');
});

function files(dir: string, ext: string): string[] {
    return readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
    });
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

test('every snippet of docs/INTEGRATING.md is code that the tests run', () => {
    const doc = readFileSync(resolve(REPO, 'docs/INTEGRATING.md'), 'utf8');
    const blocks = [...doc.matchAll(/```(ts|rust)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
    assert.ok(blocks.length >= 6, `snippets found: ${blocks.length}`);
    const ts = norm(files(resolve(REPO, 'clients/js/examples'), '.ts').map((f) => readFileSync(f, 'utf8')).join('\n'));
    const rust = norm(
        [...files(resolve(REPO, 'programs/ballast-vault-example/src'), '.rs'), resolve(REPO, 'tests/tests/integration/vault_example.rs'), resolve(REPO, 'tests/src/vault.rs')]
            .map((f) => readFileSync(f, 'utf8'))
            .join('\n'),
    );
    for (const b of blocks) {
        // `...` lines elide code between the quoted parts.
        for (const part of b.body.split(/^\s*(?:\/\/ )?\.\.\.\s*$/m)) {
            if (!part.trim()) continue;
            assert.ok((b.lang === 'ts' ? ts : rust).includes(norm(part)), `not in the ${b.lang} sources:\n${part}`);
        }
    }
});
