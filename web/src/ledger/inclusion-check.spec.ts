import { describe, expect, it } from '@jest/globals';
import { leafHashHex } from '../../../src/ledger/merkle-inclusion.js';
import { checkInclusion, type AuditPath, type ProvenEvent } from './inclusion-check.js';

const hexBytes = (hex: string): Uint8Array<ArrayBuffer> =>
  new Uint8Array((hex.match(/../g) ?? []).map((pair) => parseInt(pair, 16)));

async function node(left: string, right: string): Promise<string> {
  const input = new Uint8Array(65);
  input[0] = 1;
  input.set(hexBytes(left), 1);
  input.set(hexBytes(right), 33);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', input));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** RFC 9162 §2.1.1 MTH and §2.1.3.1 PATH, written out independently of the code under test. */
async function mth(leaves: readonly string[]): Promise<string> {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return node(await mth(leaves.slice(0, k)), await mth(leaves.slice(k)));
}

async function path(m: number, leaves: readonly string[]): Promise<string[]> {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k
    ? [...(await path(m, leaves.slice(0, k))), await mth(leaves.slice(k))]
    : [...(await path(m - k, leaves.slice(k))), await mth(leaves.slice(0, k))];
}

const CANONICAL = Array.from(
  { length: 7 },
  (_, i) => `{"actor":{"sub":"alice"},"seq":${i + 1},"type":"test.appended","v":1}`,
);

async function fixture(): Promise<{
  events: ProvenEvent[];
  proofs: AuditPath[];
  checkpoint: { treeSize: number; rootHash: string };
}> {
  const leaves = await Promise.all(CANONICAL.map((text) => leafHashHex(text)));
  const events = CANONICAL.map((canonical, i) => ({ seq: i + 1, canonical, hash: leaves[i]! }));
  const proofs = await Promise.all(
    leaves.map(async (leafHash, i) => ({
      seq: i + 1,
      treeSize: leaves.length,
      leafHash,
      proof: await path(i, leaves),
    })),
  );
  return { events, proofs, checkpoint: { treeSize: leaves.length, rootHash: await mth(leaves) } };
}

describe('checkInclusion', () => {
  it('finds every event of a tree under the checkpoint root', async () => {
    const { events, proofs, checkpoint } = await fixture();
    for (const [i, event] of events.entries()) {
      expect(await checkInclusion(event, proofs[i]!, checkpoint)).toEqual({
        included: true,
        leafHash: event.hash,
      });
    }
  });

  it('refuses an event whose canonical text was changed', async () => {
    const { events, proofs, checkpoint } = await fixture();
    const changed = { ...events[2]!, canonical: events[2]!.canonical.replace('alice', 'mallory') };
    const verdict = await checkInclusion(changed, proofs[2]!, checkpoint);
    expect(verdict.included).toBe(false);
    expect(verdict).toMatchObject({ reason: expect.stringMatching(/^the event's canonical text/) });
  });

  it('refuses a path that does not fold to the root, and one for another event or tree', async () => {
    const { events, proofs, checkpoint } = await fixture();
    const event = events[4]!;
    const proof = proofs[4]!;
    const swapped = { ...proof, proof: [...proof.proof].reverse() };
    expect(await checkInclusion(event, swapped, checkpoint)).toMatchObject({
      included: false,
      reason: "the audit path does not lead from the leaf hash to the checkpoint's root",
    });
    const otherRoot = { ...checkpoint, rootHash: event.hash };
    expect((await checkInclusion(event, proof, otherRoot)).included).toBe(false);
    expect(await checkInclusion(event, proofs[3]!, checkpoint)).toMatchObject({
      included: false,
      reason: 'the proof is of event 4, not 5',
    });
    expect(
      await checkInclusion(event, { ...proof, treeSize: 8 }, { ...checkpoint, treeSize: 7 }),
    ).toMatchObject({
      included: false,
      reason: "the proof is for a tree of 8 events, the checkpoint's has 7",
    });
    // The same path claimed against a larger tree: the walk no longer ends at the root.
    expect(
      (await checkInclusion(event, { ...proof, treeSize: 9 }, { ...checkpoint, treeSize: 9 }))
        .included,
    ).toBe(false);
  });
});
