import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { signAttached, signDetached } from '../ledger/jws.js';
import {
  modelSource,
  newTestKey,
  syntheticEdgeBundle,
  type SyntheticEdgeBundle,
} from '../../test/support/synthetic-edge-bundle.js';
import { buildEdgeBundle, bundleBytes } from './edge-bundle-build.js';
import { BUNDLE_MEMBERS, EDGE_FILES, MANIFEST, MANIFEST_JWS } from './edge-bundle-format.js';
import { verifyEdgeBundle, type EdgeBundleVerification } from './edge-bundle-verify.js';
import { readUstar, writeUstar } from './ustar.js';

const UTF8 = new TextEncoder();
let genuine: SyntheticEdgeBundle;

beforeAll(async () => {
  genuine = await syntheticEdgeBundle();
});

/** The bundle's members, changed by `edit`, written again (the manifest and its JWS untouched). */
function rewrite(bytes: Uint8Array, edit: (members: Map<string, Uint8Array>) => void): Uint8Array {
  const members = new Map(readUstar(bytes).map((m) => [m.name, m.bytes.slice()]));
  edit(members);
  return writeUstar([...members].map(([name, b]) => ({ name, bytes: b })));
}

function refused(v: EdgeBundleVerification): { code: string; file: string; reason: string } {
  if (v.ok) throw new Error('the bundle was accepted');
  return { code: v.code, file: v.file, reason: v.reason };
}

describe('verifyEdgeBundle', () => {
  it('accepts a genuine bundle and returns its typed contents', async () => {
    const v = await verifyEdgeBundle(genuine.bytes, genuine.jwks);
    if (!v.ok) throw new Error(`${v.file}: ${v.reason}`);
    const { bundle } = v;
    expect(bundle.kid).toBe(genuine.key.kid);
    expect(bundle.model).toEqual(genuine.model);
    expect(bundle.spec).toEqual(genuine.input.spec);
    expect(bundle.promotion).toEqual(genuine.input.promotion);
    expect(bundle.modelCard).toEqual(genuine.input.modelCard);
    expect(bundle.evidence.event.type).toBe('deployment.live.changed');
    expect(bundle.evidence.hash).toBe(genuine.input.evidence.hash);
    expect(bundle.evidence.checkpoint).toEqual(genuine.input.evidence.checkpoint);
    expect(bundle.manifest.predicate.resources.map((r) => r.name)).toEqual(
      BUNDLE_MEMBERS.filter((n) => n !== MANIFEST && n !== MANIFEST_JWS),
    );
    expect(readUstar(genuine.bytes).map((m) => m.name)).toEqual(BUNDLE_MEMBERS);
  });

  it('writes the same bytes for the same inputs', async () => {
    const again = await buildEdgeBundle(genuine.input, (m) =>
      signDetached(m, genuine.key.privateKey, genuine.key.kid),
    );
    expect(again.size).toBe(genuine.bytes.length);
    expect(await bundleBytes(again)).toEqual(genuine.bytes);
  });

  it('refuses an unsigned bundle, and one signed by a key the JWKS does not hold', async () => {
    const unsigned = rewrite(genuine.bytes, (m) => m.delete(MANIFEST_JWS));
    expect(refused(await verifyEdgeBundle(unsigned, genuine.jwks))).toMatchObject({
      code: 'unsigned',
      file: MANIFEST_JWS,
    });
    const stranger = await newTestKey();
    expect(refused(await verifyEdgeBundle(genuine.bytes, { keys: [stranger.jwk] }))).toMatchObject({
      code: 'unknown-key',
      file: MANIFEST_JWS,
      reason: `signed with key ${genuine.key.kid}, which is not in the trusted JWKS`,
    });
    // A key listed under a kid that is not its thumbprint is not trusted.
    const misnamed = { keys: [{ ...stranger.jwk, kid: genuine.key.kid }] };
    expect(refused(await verifyEdgeBundle(genuine.bytes, misnamed)).code).toBe('unknown-key');
  });

  it('refuses a manifest the signature does not cover, and a signature by the right kid over other bytes', async () => {
    const edited = rewrite(genuine.bytes, (m) => {
      const text = new TextDecoder().decode(m.get(MANIFEST));
      m.set(MANIFEST, UTF8.encode(text.replace('credit-risk@3', 'credit-risk@4')));
    });
    expect(refused(await verifyEdgeBundle(edited, genuine.jwks))).toMatchObject({
      code: 'signature',
      file: MANIFEST_JWS,
    });
    const forged = rewrite(genuine.bytes, (m) => {
      m.set(MANIFEST_JWS, UTF8.encode(genuine.input.evidence.jws));
    });
    expect(refused(await verifyEdgeBundle(forged, genuine.jwks)).code).toBe('signature');
  });

  it('refuses a file whose digest does not match, a missing file and an extra one, naming it', async () => {
    const swapped = rewrite(genuine.bytes, (m) => m.set(EDGE_FILES.model, new Uint8Array(10)));
    expect(refused(await verifyEdgeBundle(swapped, genuine.jwks))).toMatchObject({
      code: 'digest',
      file: 'model.onnx',
    });
    const missing = rewrite(genuine.bytes, (m) => m.delete(EDGE_FILES.spec));
    expect(refused(await verifyEdgeBundle(missing, genuine.jwks))).toMatchObject({
      code: 'missing',
      file: 'spec.json',
      reason: 'the signed manifest lists it, the bundle lacks it',
    });
    const extra = rewrite(genuine.bytes, (m) => m.set('notes.txt', UTF8.encode('hello')));
    expect(refused(await verifyEdgeBundle(extra, genuine.jwks))).toMatchObject({
      code: 'extra',
      file: 'notes.txt',
    });
  });

  it('refuses a traversing or duplicate name in the container', async () => {
    const bytes = genuine.bytes.slice();
    // The first member's name becomes ../checkpoint.json (its checksum made right again).
    const h = bytes.subarray(0, 512);
    h.fill(0, 0, 100);
    h.set(UTF8.encode('../checkpoint.json'), 0);
    h.set(UTF8.encode('        '), 148);
    const sum = h.reduce((n, b) => n + b, 0);
    h.set(UTF8.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
    expect(refused(await verifyEdgeBundle(bytes, genuine.jwks))).toMatchObject({
      code: 'container',
      file: 'member 1',
    });
    expect(refused(await verifyEdgeBundle(bytes, genuine.jwks)).reason).toMatch(/path separator/);

    const twice = genuine.bytes.slice();
    const second = twice.subarray(0, 512);
    second.fill(0, 0, 100);
    second.set(UTF8.encode('deployment-event.ndjson'), 0); // the name of the member after it
    second.set(UTF8.encode('        '), 148);
    const sum2 = second.reduce((n, b) => n + b, 0);
    second.set(UTF8.encode(`${sum2.toString(8).padStart(6, '0')}\0 `), 148);
    expect(refused(await verifyEdgeBundle(twice, genuine.jwks))).toMatchObject({
      code: 'container',
      file: 'deployment-event.ndjson',
      reason: 'appears twice',
    });
  });

  it('refuses a ledger event whose hash or signature does not verify, even under a genuine manifest', async () => {
    const badHash = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({ ...i, evidence: { ...i.evidence, hash: 'a'.repeat(64) } }),
    });
    const r = refused(await verifyEdgeBundle(badHash.bytes, genuine.jwks));
    expect(r).toMatchObject({ code: 'event', file: 'deployment-event.ndjson' });
    expect(r.reason).toMatch(/^hash mismatch: recorded a{64}, recomputed [0-9a-f]{64}$/);

    const badJws = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({
        ...i,
        evidence: { ...i.evidence, jws: i.evidence.checkpoint.jws.replace(/\.[^.]*\./, '..') },
      }),
    });
    expect(refused(await verifyEdgeBundle(badJws.bytes, genuine.jwks))).toMatchObject({
      code: 'event',
      file: 'deployment-event.ndjson',
    });

    const otherLedger = await syntheticEdgeBundle({
      key: genuine.key,
      ledgerKey: await newTestKey(),
    });
    expect(refused(await verifyEdgeBundle(otherLedger.bytes, genuine.jwks))).toMatchObject({
      code: 'unknown-key',
      file: 'deployment-event.ndjson',
    });
  });

  it('refuses an inclusion proof that does not lead to the root, and a checkpoint whose JWS does not verify', async () => {
    const badProof = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({
        ...i,
        evidence: {
          ...i.evidence,
          proof: { ...i.evidence.proof, proof: i.evidence.proof.proof.map(() => 'b'.repeat(64)) },
        },
      }),
    });
    expect(refused(await verifyEdgeBundle(badProof.bytes, genuine.jwks))).toMatchObject({
      code: 'proof',
      file: 'inclusion-proof.json',
      reason: "the inclusion proof does not lead to the checkpoint's root (tree size 5)",
    });

    const other = { ...genuine.input.evidence.checkpoint.checkpoint, rootHash: 'c'.repeat(64) };
    const notShown = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({
        ...i,
        evidence: {
          ...i.evidence,
          checkpoint: {
            ...i.evidence.checkpoint,
            jws: `${i.evidence.checkpoint.jws.split('.').slice(0, 2).join('.')}.${'A'.repeat(86)}`,
          },
        },
      }),
    });
    expect(refused(await verifyEdgeBundle(notShown.bytes, genuine.jwks))).toMatchObject({
      code: 'checkpoint',
      file: 'checkpoint.json',
    });
    const signedOther = await signAttached(other, genuine.key.privateKey, genuine.key.kid);
    const mismatch = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({
        ...i,
        evidence: { ...i.evidence, checkpoint: { ...i.evidence.checkpoint, jws: signedOther } },
      }),
    });
    expect(refused(await verifyEdgeBundle(mismatch.bytes, genuine.jwks))).toMatchObject({
      code: 'checkpoint',
      reason: 'the signed checkpoint is not the one shown',
    });
  });

  it('refuses parts that do not agree: another version, another model, a statement that is not its digest', async () => {
    const version = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({ ...i, spec: { ...i.spec, version: 4 } }),
    });
    expect(refused(await verifyEdgeBundle(version.bytes, genuine.jwks))).toMatchObject({
      code: 'mismatch',
      file: 'deployment-event.ndjson',
      reason: 'the event does not put version 4 live',
    });
    const model = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({ ...i, model: modelSource(new Uint8Array([1, 2, 3])) }),
    });
    expect(refused(await verifyEdgeBundle(model.bytes, genuine.jwks))).toMatchObject({
      code: 'mismatch',
      file: 'model.onnx',
    });
    const statement = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({
        ...i,
        promotion: {
          ...i.promotion,
          approvals: i.promotion.approvals.map((a) => ({
            ...a,
            statement: a.statement && `${a.statement}!`,
          })),
        },
      }),
    });
    expect(refused(await verifyEdgeBundle(statement.bytes, genuine.jwks))).toMatchObject({
      code: 'mismatch',
      file: 'promotion.json',
      reason: 'approvals[1]: the statement does not hash to statementSha256',
    });
  });

  it('refuses prototype keys in a signed JSON file', async () => {
    const poisoned = await syntheticEdgeBundle({
      key: genuine.key,
      tamper: (i) => ({
        ...i,
        modelCard: JSON.parse('{"__proto__":{"polluted":true},"intendedUse":"x"}') as Record<
          string,
          unknown
        >,
      }),
    });
    expect(refused(await verifyEdgeBundle(poisoned.bytes, genuine.jwks))).toMatchObject({
      code: 'format',
      file: 'model-card.json',
      reason: '$.__proto__: a prototype key is not allowed',
    });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('refuses any single changed byte, with a reason naming a file', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(genuine.bytes.length - 1),
        fc.integer({ min: 1, max: 255 }),
        async (at, delta) => {
          const bytes = genuine.bytes.slice();
          bytes[at] = ((bytes[at] ?? 0) + delta) % 256;
          const r = refused(await verifyEdgeBundle(bytes, genuine.jwks));
          expect(r.file).not.toBe('');
          expect(r.reason).not.toBe('');
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('refuses any two files swapped, by content or by name', async () => {
    const names = BUNDLE_MEMBERS;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...names), { minLength: 2, maxLength: 2 }),
        async ([a = '', b = '']) => {
          const swapped = rewrite(genuine.bytes, (m) => {
            const x = m.get(a);
            const y = m.get(b);
            if (x && y) {
              m.set(a, y);
              m.set(b, x);
            }
          });
          const r = refused(await verifyEdgeBundle(swapped, genuine.jwks));
          expect([a, b, MANIFEST_JWS, MANIFEST]).toContain(r.file);
        },
      ),
      { numRuns: 60 },
    );
  });
});
