import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  newTestKey,
  syntheticEdgeBundle,
  type SyntheticEdgeBundle,
} from '../../test/support/synthetic-edge-bundle.js';
import { pythonWithCryptography } from '../../test/support/python.js';
import type { EdgeCandidateInput } from './edge-bundle-build.js';
import { verifyEdgeBundle } from './edge-bundle-verify.js';

/**
 * docs/edge.md is the format's contract for devices written in other languages; the Python
 * verifier in docs/examples follows it step by step. Run against the same bundles as the
 * JavaScript verifier, the two must agree.
 */
const SCRIPT = fileURLToPath(new URL('../../docs/examples/verify_edge_bundle.py', import.meta.url));

let dir: string;
let genuine: SyntheticEdgeBundle;
let count = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-python-'));
  genuine = await syntheticEdgeBundle();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function python(bytes: Uint8Array, jwks: unknown): { code: number | null; out: string } {
  const bundle = join(dir, `b${++count}.tar`);
  const keys = join(dir, `k${count}.json`);
  writeFileSync(bundle, bytes);
  writeFileSync(keys, JSON.stringify(jwks));
  const run = spawnSync('python3', [SCRIPT, bundle, keys], { encoding: 'utf8' });
  return { code: run.status, out: `${run.stdout}${run.stderr}` };
}

const describeWithPython = pythonWithCryptography() ? describe : describe.skip;

describeWithPython('the Python verifier of docs/examples', () => {
  it('verifies a genuine bundle', () => {
    const r = python(genuine.bytes, genuine.jwks);
    expect(r.out).toMatch(
      /^verified: credit-risk@3 live on credit, promotion [0-9a-f-]{36}, ledger seq 4 in tree size 5, signed by \S+\n$/,
    );
    expect(r.code).toBe(0);
  });

  it('refuses what the JavaScript verifier refuses, naming the same file', async () => {
    const cases = [
      await syntheticEdgeBundle({
        key: genuine.key,
        tamper: (i) => ({ ...i, evidence: { ...i.evidence, hash: 'a'.repeat(64) } }),
      }),
      await syntheticEdgeBundle({
        key: genuine.key,
        tamper: (i) => ({
          ...i,
          evidence: {
            ...i.evidence,
            proof: { ...i.evidence.proof, proof: i.evidence.proof.proof.slice(1) },
          },
        }),
      }),
      await syntheticEdgeBundle({ key: genuine.key, ledgerKey: await newTestKey() }),
      await syntheticEdgeBundle({
        key: genuine.key,
        tamper: (i) => ({ ...i, spec: { ...i.spec, version: 4 } }),
      }),
    ];
    for (const bundle of cases) {
      const js = await verifyEdgeBundle(bundle.bytes, genuine.jwks);
      if (js.ok) throw new Error('the JavaScript verifier accepted a tampered bundle');
      const r = python(bundle.bytes, genuine.jwks);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(new RegExp(`^refused: ${js.file.replace('.', '\\.')}: `));
    }
    const stranger = python(genuine.bytes, { keys: [(await newTestKey()).jwk] });
    expect(stranger.out).toMatch(
      /^refused: manifest\.jws: signed with key \S+, which is not in the trusted JWKS\n$/,
    );
  });

  it('verifies shadow and canary bundles, and refuses a candidate part the JavaScript verifier refuses', async () => {
    for (const mode of ['shadow', 'canary'] as const) {
      const b = await syntheticEdgeBundle({ key: genuine.key, candidate: mode });
      const r = python(b.bytes, genuine.jwks);
      expect(r.out).toMatch(
        new RegExp(
          `^verified: credit-risk@3 live on credit, .*; candidate credit-risk@4 \\(${mode}, stage \\S+ of rollout [0-9a-f-]{36}, (5000|2500) basis points, ledger seq 7\\)\\n$`,
        ),
      );
      expect(r.code).toBe(0);
    }
    const tampered = [
      (c: EdgeCandidateInput): EdgeCandidateInput => ({
        ...c,
        assignment: { ...c.assignment, basisPoints: 10_000 },
      }),
      (c: EdgeCandidateInput): EdgeCandidateInput => ({
        ...c,
        evidence: { ...c.evidence, hash: 'a'.repeat(64) },
      }),
      (c: EdgeCandidateInput): EdgeCandidateInput => ({
        ...c,
        evidence: {
          ...c.evidence,
          proof: { ...c.evidence.proof, proof: c.evidence.proof.proof.slice(1) },
        },
      }),
      (c: EdgeCandidateInput): EdgeCandidateInput => ({
        ...c,
        spec: { ...c.spec, artifactSha256: 'b'.repeat(64) },
      }),
      (c: EdgeCandidateInput): EdgeCandidateInput => ({
        ...c,
        promotion: { ...c.promotion, version: 5 },
      }),
    ];
    for (const edit of tampered) {
      const b = await syntheticEdgeBundle({
        key: genuine.key,
        candidate: 'shadow',
        tamper: (i) => (i.candidate ? { ...i, candidate: edit(i.candidate) } : i),
      });
      const js = await verifyEdgeBundle(b.bytes, genuine.jwks);
      if (js.ok) throw new Error('the JavaScript verifier accepted a tampered candidate');
      const r = python(b.bytes, genuine.jwks);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(new RegExp(`^refused: ${js.file.replace('.', '\\.')}: `));
    }
  });

  it('refuses a bundle with any byte of a file changed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(genuine.bytes.length - 1), async (at) => {
        const bytes = genuine.bytes.slice();
        bytes[at] = ((bytes[at] ?? 0) + 1) % 256;
        const js = await verifyEdgeBundle(bytes, genuine.jwks);
        expect(js.ok).toBe(false);
        // Header fields Python's tarfile does not read (mode, owner, time, padding) change no
        // file; the signature and the digests cover every file's content.
        if (js.ok || js.code === 'container') return;
        expect(python(bytes, genuine.jwks).code).toBe(1);
      }),
      { numRuns: 40 },
    );
  });
});
