import { beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  newTestKey,
  syntheticEdgeBundle,
  type SyntheticEdgeBundle,
} from '../../test/support/synthetic-edge-bundle.js';
import type { EdgeBundleInput, EdgeCandidateInput } from './edge-bundle-build.js';
import { canonicalize } from '../ledger/canonical-json.js';
import { signDetached } from '../ledger/jws.js';
import {
  BUNDLE_MEMBERS,
  CANDIDATE_MEMBERS,
  EDGE_CANDIDATE_FILES,
  MANIFEST,
  MANIFEST_JWS,
  manifestOf,
  sha256OfBytes,
} from './edge-bundle-format.js';
import { verifyEdgeBundle, type EdgeBundleVerification } from './edge-bundle-verify.js';
import { readUstar, writeUstar } from './ustar.js';

const UTF8 = new TextEncoder();
let shadow: SyntheticEdgeBundle;
let canary: SyntheticEdgeBundle;

beforeAll(async () => {
  shadow = await syntheticEdgeBundle({ candidate: 'shadow' });
  canary = await syntheticEdgeBundle({ candidate: 'canary', key: shadow.key });
});

function refused(v: EdgeBundleVerification): { code: string; file: string; reason: string } {
  if (v.ok) throw new Error('the bundle was accepted');
  return { code: v.code, file: v.file, reason: v.reason };
}

/** A shadow bundle whose candidate part is changed before it is signed. */
function withCandidate(
  edit: (c: EdgeCandidateInput) => EdgeCandidateInput,
): (i: EdgeBundleInput) => EdgeBundleInput {
  return (i) => (i.candidate ? { ...i, candidate: edit(i.candidate) } : i);
}

async function tampered(
  edit: (c: EdgeCandidateInput) => EdgeCandidateInput,
): Promise<{ code: string; file: string; reason: string }> {
  const b = await syntheticEdgeBundle({
    candidate: 'shadow',
    key: shadow.key,
    tamper: withCandidate(edit),
  });
  return refused(await verifyEdgeBundle(b.bytes, b.jwks));
}

describe('verifyEdgeBundle on a bundle that carries a rollout’s candidate', () => {
  it('accepts shadow and canary bundles and returns the candidate with its assignment', async () => {
    for (const b of [shadow, canary]) {
      const v = await verifyEdgeBundle(b.bytes, b.jwks);
      if (!v.ok) throw new Error(`${v.file}: ${v.reason}`);
      const candidate = v.bundle.candidate;
      expect(candidate?.assignment).toEqual(b.input.candidate?.assignment);
      expect(candidate?.spec.version).toBe(4);
      expect(candidate?.evidence.event.type).toBe('rollout.stage.entered');
      expect(candidate?.evidence.proof.treeSize).toBe(
        v.bundle.evidence.checkpoint.checkpoint.treeSize,
      );
      expect(v.bundle.spec.version).toBe(3);
      expect(readUstar(b.bytes).map((m) => m.name)).toEqual(
        [...BUNDLE_MEMBERS, ...CANDIDATE_MEMBERS].sort(),
      );
    }
    expect((await syntheticEdgeBundle()).input.candidate).toBeUndefined();
    const live = await verifyEdgeBundle(
      (await syntheticEdgeBundle({ key: shadow.key })).bytes,
      shadow.jwks,
    );
    if (!live.ok) throw new Error(`${live.file}: ${live.reason}`);
    expect(live.bundle.candidate).toBe(null);
  });

  it('refuses a candidate file missing from the archive, and a bundle with only some of them', async () => {
    const members = readUstar(shadow.bytes).filter(
      (m) => m.name !== EDGE_CANDIDATE_FILES.assignment,
    );
    const r = refused(await verifyEdgeBundle(writeUstar(members), shadow.jwks));
    expect(r).toMatchObject({ code: 'missing', file: EDGE_CANDIDATE_FILES.assignment });

    // Signed as it is: a manifest that lists the candidate without its assignment.
    const files = members.filter((m) => m.name !== MANIFEST && m.name !== MANIFEST_JWS);
    const digests = new Map<string, string>();
    for (const m of files) digests.set(m.name, await sha256OfBytes(m.bytes));
    const manifest = UTF8.encode(canonicalize(await manifestOf('credit-risk@3', digests)));
    const jws = await signDetached(manifest, shadow.key.privateKey, shadow.key.kid);
    const partial = writeUstar([
      ...files,
      { name: MANIFEST, bytes: manifest },
      { name: MANIFEST_JWS, bytes: UTF8.encode(jws) },
    ]);
    expect(refused(await verifyEdgeBundle(partial, shadow.jwks))).toMatchObject({
      code: 'missing',
      file: EDGE_CANDIDATE_FILES.assignment,
    });
  });

  it('refuses an assignment that is not what the stage event records', async () => {
    const cases: [Partial<EdgeCandidateInput['assignment']>, string][] = [
      [{ mode: 'canary' }, 'kind'],
      [{ basisPoints: 10_000 }, 'sampleBasisPoints'],
      [{ stage: 'canary-50' }, 'stage'],
      [{ stageIndex: 2 }, 'index'],
      [{ rolloutId: '00000000-0000-4000-8000-000000000000' }, 'subject'],
      [{ candidateVersion: 5 }, 'version'],
    ];
    for (const [change, named] of cases) {
      const r = await tampered((c) => ({ ...c, assignment: { ...c.assignment, ...change } }));
      expect(r).toMatchObject({ code: 'mismatch', file: EDGE_CANDIDATE_FILES.assignment });
      expect(r.reason).toContain(named);
    }
    const live = await tampered((c) => ({ ...c, assignment: { ...c.assignment, liveVersion: 2 } }));
    expect(live).toMatchObject({ code: 'mismatch', file: EDGE_CANDIDATE_FILES.assignment });
  });

  it('refuses a candidate event, proof, model or promotion that does not hold, naming the file', async () => {
    expect(
      await tampered((c) => ({ ...c, evidence: { ...c.evidence, hash: 'a'.repeat(64) } })),
    ).toMatchObject({ code: 'event', file: EDGE_CANDIDATE_FILES.event });
    expect(
      await tampered((c) => ({
        ...c,
        evidence: {
          ...c.evidence,
          proof: { ...c.evidence.proof, proof: c.evidence.proof.proof.slice(1) },
        },
      })),
    ).toMatchObject({ code: 'proof', file: EDGE_CANDIDATE_FILES.proof });
    expect(
      await tampered((c) => ({
        ...c,
        evidence: { ...c.evidence, proof: { ...c.evidence.proof, treeSize: 7 } },
      })),
    ).toMatchObject({ code: 'proof', file: EDGE_CANDIDATE_FILES.proof });
    expect(
      await tampered((c) => ({ ...c, spec: { ...c.spec, artifactSha256: 'b'.repeat(64) } })),
    ).toMatchObject({ code: 'mismatch', file: EDGE_CANDIDATE_FILES.model });
    expect(
      await tampered((c) => ({ ...c, spec: { ...c.spec, model: 'another-model' } })),
    ).toMatchObject({ code: 'mismatch', file: EDGE_CANDIDATE_FILES.spec });
    expect(
      await tampered((c) => ({
        ...c,
        promotion: { ...c.promotion, rolloutId: '00000000-0000-4000-8000-000000000000' },
      })),
    ).toMatchObject({ code: 'mismatch', file: EDGE_CANDIDATE_FILES.promotion });
    // The candidate's event must be a stage of a rollout, not another go-live.
    const live = shadow.input.evidence;
    expect(
      await tampered((c) => ({
        ...c,
        evidence: { ...c.evidence, canonical: live.canonical, hash: live.hash, jws: live.jws },
      })),
    ).toMatchObject({ code: 'proof', file: EDGE_CANDIDATE_FILES.proof });
  });

  it('refuses a candidate event signed by a key the JWKS does not hold', async () => {
    const stranger = await newTestKey();
    const b = await syntheticEdgeBundle({
      candidate: 'shadow',
      key: shadow.key,
      ledgerKey: stranger,
    });
    const r = refused(await verifyEdgeBundle(b.bytes, shadow.jwks));
    expect(r.code).toBe('unknown-key');
  });

  it('refuses any single changed byte of a candidate bundle', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(canary.bytes.length - 1), async (at) => {
        const bytes = canary.bytes.slice();
        bytes[at] = ((bytes[at] ?? 0) + 1) % 256;
        expect((await verifyEdgeBundle(bytes, canary.jwks)).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
