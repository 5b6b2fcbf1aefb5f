import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  EMPTY_ROOT,
  consistencyProof,
  consistencyProofFromNodes,
  inclusionProof,
  inclusionProofFromNodes,
  leafHash,
  nodeHash,
  nodesForConsistency,
  nodesForInclusion,
  nodesForRoot,
  rangeNodes,
  rootFromNodes,
  rootOf,
  verifyConsistency,
  verifyInclusion,
  type NodeId,
} from './merkle.js';
import { appendLeaves } from './merkle-append.js';

const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const toHex = (list: readonly Uint8Array[]): string[] =>
  list.map((b) => Buffer.from(b).toString('hex'));

// RFC 6962 reference vectors as published in transparency-dev/merkle (testonly/constants.go:
// LeafInputs, NodeHashes, RootHashes; cmd/proofgen/main.go: inclusionProofs and
// consistencyProofs, whose leaf indices are 1-based there and 0-based here), originally from
// google/certificate-transparency.
const LEAF_INPUTS = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map(hex);

const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const NODE_HASHES = [
  [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
    '0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7',
    '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7',
    'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    '4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658',
    'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
    '46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1',
  ],
  [
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
    '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
    'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
  ],
  [
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
  ],
  ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
];

const INCLUSION_VECTORS: [number, number, string[]][] = [
  [0, 1, []],
  [
    0,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    5,
    8,
    [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [
    1,
    5,
    [
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
];

const CONSISTENCY_VECTORS: [number, number, string[]][] = [
  [1, 1, []],
  [
    1,
    8,
    [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  ],
  [
    6,
    8,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
  [
    2,
    5,
    [
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
    ],
  ],
  [
    6,
    7,
    [
      '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a',
      'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  ],
];

const LEAVES = LEAF_INPUTS.map(leafHash);

/** An in-memory node store filled the way the service fills it (appendLeaves). */
function buildStore(leaves: readonly Buffer[]): Map<string, Buffer> {
  const { nodes } = appendLeaves(0, [], leaves);
  return new Map(nodes.map((n) => [key({ level: n.level, index: n.idx }), n.hash]));
}

const key = (id: NodeId): string => `${id.level}:${id.index}`;

function storeLookup(store: Map<string, Buffer>, seen?: Set<string>): (id: NodeId) => Buffer {
  return (id) => {
    seen?.add(key(id));
    const hash = store.get(key(id));
    if (!hash) throw new Error(`node ${key(id)} is not stored`);
    return hash;
  };
}

function flipByte(bytes: Uint8Array, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
}

describe('Merkle hashes and roots (RFC 9162 §2.1.1)', () => {
  it('hashes leaves with 0x00 and nodes with 0x01', () => {
    const data = Buffer.from('abc');
    expect(leafHash(data)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([0]), data]))
        .digest(),
    );
    expect(nodeHash(LEAVES[0]!, LEAVES[1]!)).toEqual(
      createHash('sha256')
        .update(Buffer.concat([Buffer.from([1]), LEAVES[0]!, LEAVES[1]!]))
        .digest(),
    );
  });

  it('gives the empty tree the hash of the empty string', () => {
    expect(rootOf([]).toString('hex')).toBe(ROOTS[0]);
    expect(EMPTY_ROOT.toString('hex')).toBe(ROOTS[0]);
    expect(rootFromNodes(0, () => Buffer.alloc(0)).toString('hex')).toBe(ROOTS[0]);
  });

  it.each(ROOTS.slice(1).map((root, i) => [i + 1, root] as const))(
    'root of the first %i reference leaves',
    (size, root) => {
      expect(rootOf(LEAVES.slice(0, size)).toString('hex')).toBe(root);
      expect(rootFromNodes(size, storeLookup(buildStore(LEAVES))).toString('hex')).toBe(root);
    },
  );

  it('stores exactly the reference complete-subtree hashes', () => {
    const store = buildStore(LEAVES);
    const expected = new Map(
      NODE_HASHES.flatMap((level, l) => level.map((h, i) => [`${l}:${i}`, h] as const)),
    );
    expect(new Map([...store].map(([k, v]) => [k, v.toString('hex')]))).toEqual(expected);
  });
});

describe('reference proof vectors', () => {
  it.each(INCLUSION_VECTORS)('inclusion of leaf %i in a tree of %i', (index, size, proof) => {
    expect(toHex(inclusionProof(index, size, LEAVES))).toEqual(proof);
    expect(toHex(inclusionProofFromNodes(index, size, storeLookup(buildStore(LEAVES))))).toEqual(
      proof,
    );
    expect(verifyInclusion(LEAVES[index]!, index, size, proof.map(hex), hex(ROOTS[size]!))).toBe(
      true,
    );
  });

  it.each(CONSISTENCY_VECTORS)('consistency from size %i to %i', (first, second, proof) => {
    expect(toHex(consistencyProof(first, second, LEAVES))).toEqual(proof);
    expect(
      toHex(consistencyProofFromNodes(first, second, storeLookup(buildStore(LEAVES)))),
    ).toEqual(proof);
    expect(
      verifyConsistency(first, second, hex(ROOTS[first]!), hex(ROOTS[second]!), proof.map(hex)),
    ).toBe(true);
  });

  it('refuses garbage around a valid inclusion proof (transparency-dev probe kinds)', () => {
    const [index, size, proofHex] = INCLUSION_VECTORS[2]!;
    const proof = proofHex.map(hex);
    const root = hex(ROOTS[size]!);
    const leaf = LEAVES[index]!;
    expect(verifyInclusion(leaf, index, size, [...proof, root], root)).toBe(false);
    expect(verifyInclusion(leaf, index, size, [root, ...proof], root)).toBe(false);
    expect(verifyInclusion(leaf, index, size, [...proof, Buffer.alloc(0)], root)).toBe(false);
    expect(verifyInclusion(leaf, index, size, proof.slice(0, -1), root)).toBe(false);
    expect(verifyInclusion(leaf, index, size * 2, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, index, size / 2, proof, root)).toBe(false);
    expect(verifyInclusion(leaf, index, size, proof, EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(Buffer.from('WrongLeaf'), index, size, proof, root)).toBe(false);
  });

  it('refuses garbage around a valid consistency proof', () => {
    const [first, second, proofHex] = CONSISTENCY_VECTORS[2]!;
    const proof = proofHex.map(hex);
    const [r1, r2] = [hex(ROOTS[first]!), hex(ROOTS[second]!)];
    expect(verifyConsistency(first, second, r1, r2, [])).toBe(false);
    expect(verifyConsistency(first, second, r2, r1, proof)).toBe(false);
    expect(verifyConsistency(first, second, r1, r2, [...proof, r1])).toBe(false);
    expect(verifyConsistency(first, second, r1, r2, [r2, ...proof])).toBe(false);
    expect(verifyConsistency(first, second, r1, r2, proof.slice(0, -1))).toBe(false);
    expect(verifyConsistency(first + 1, second, r1, r2, proof)).toBe(false);
    expect(verifyConsistency(first - 1, second, r1, r2, proof)).toBe(false);
    expect(verifyConsistency(first, second * 2, r1, r2, proof)).toBe(false);
    expect(verifyConsistency(second, first, r2, r1, proof)).toBe(false);
  });

  it('treats size 0 and equal sizes as trivially consistent, with empty proofs only', () => {
    const r3 = hex(ROOTS[3]!);
    expect(verifyConsistency(0, 3, EMPTY_ROOT, r3, [])).toBe(true);
    expect(verifyConsistency(0, 3, r3, r3, [])).toBe(false);
    expect(verifyConsistency(3, 3, r3, r3, [])).toBe(true);
    expect(verifyConsistency(3, 3, r3, r3, [r3])).toBe(false);
    expect(verifyConsistency(3, 3, r3, hex(ROOTS[4]!), [])).toBe(false);
    expect(consistencyProof(0, 5, LEAVES)).toEqual([]);
    expect(consistencyProof(5, 5, LEAVES)).toEqual([]);
  });

  it('refuses out-of-range arguments in the reference functions', () => {
    expect(() => inclusionProof(3, 3, LEAVES)).toThrow(RangeError);
    expect(() => inclusionProof(0, 9, LEAVES)).toThrow(RangeError);
    expect(() => consistencyProof(4, 3, LEAVES)).toThrow(RangeError);
    expect(() => inclusionProofFromNodes(5, 5, () => EMPTY_ROOT)).toThrow(RangeError);
    expect(verifyInclusion(LEAVES[0]!, 1, 1, [], LEAVES[0]!)).toBe(false);
    expect(verifyInclusion(LEAVES[0]!, -1, 1, [], LEAVES[0]!)).toBe(false);
  });
});

describe('exhaustive round trips, tree sizes 1..64', () => {
  const MAX = 64;
  const leaves = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`leaf ${i}`)));
  const roots = Array.from({ length: MAX + 1 }, (_, n) => rootOf(leaves.slice(0, n)));
  const store = buildStore(leaves);

  it('every inclusion proof verifies, and fails when leaf, index or a proof byte changes', () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(i, n, leaves);
        const root = roots[n]!;
        expect(verifyInclusion(leaves[i]!, i, n, proof, root)).toBe(true);
        expect(verifyInclusion(flipByte(leaves[i]!, 31), i, n, proof, root)).toBe(false);
        if (n > 1) {
          expect(verifyInclusion(leaves[i]!, (i + 1) % n, n, proof, root)).toBe(false);
          expect(verifyInclusion(leaves[(i + 1) % n]!, i, n, proof, root)).toBe(false);
        }
        expect(verifyInclusion(leaves[i]!, i, n, proof, flipByte(root, 0))).toBe(false);
        proof.forEach((element, k) => {
          const tampered = proof.map((p, j) => (j === k ? flipByte(element, k % 32) : p));
          expect(verifyInclusion(leaves[i]!, i, n, tampered, root)).toBe(false);
        });
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('every consistency proof verifies, and fails when tampered', () => {
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = consistencyProof(m, n, leaves);
        const [rm, rn] = [roots[m]!, roots[n]!];
        expect(verifyConsistency(m, n, rm, rn, proof)).toBe(true);
        expect(verifyConsistency(m, n, flipByte(rm, 5), rn, proof)).toBe(false);
        expect(verifyConsistency(m, n, rm, flipByte(rn, 5), proof)).toBe(false);
        if (m < n) {
          expect(verifyConsistency(m, n, rm, rn, proof.slice(1))).toBe(false);
          expect(verifyConsistency(m, n, rm, rn, [...proof, rn])).toBe(false);
          if (m > 1) expect(verifyConsistency(m - 1, n, rm, rn, proof)).toBe(false);
        }
        proof.forEach((element, k) => {
          const tampered = proof.map((p, j) => (j === k ? flipByte(element, 31 - (k % 32)) : p));
          expect(verifyConsistency(m, n, rm, rn, tampered)).toBe(false);
        });
        checked++;
      }
    }
    expect(checked).toBe((MAX * (MAX + 1)) / 2);
  });

  it('store-backed roots and proofs equal the reference ones and read only the planned nodes', () => {
    const complete = (n: number) => (id: NodeId) => (id.index + 1) * 2 ** id.level <= n;
    for (let n = 0; n <= MAX; n++) {
      const seen = new Set<string>();
      expect(rootFromNodes(n, storeLookup(store, seen)).equals(roots[n]!)).toBe(true);
      expect(seen).toEqual(new Set(nodesForRoot(n).map(key)));
      expect(nodesForRoot(n).every(complete(n))).toBe(true);
      for (let i = 0; i < n; i++) {
        const used = new Set<string>();
        expect(toHex(inclusionProofFromNodes(i, n, storeLookup(store, used)))).toEqual(
          toHex(inclusionProof(i, n, leaves)),
        );
        const planned = nodesForInclusion(i, n);
        expect(used).toEqual(new Set(planned.map(key)));
        expect(planned.length).toBe(used.size);
        expect(planned.every(complete(n))).toBe(true);
      }
      for (let m = 0; m <= n; m++) {
        const used = new Set<string>();
        expect(toHex(consistencyProofFromNodes(m, n, storeLookup(store, used)))).toEqual(
          toHex(consistencyProof(m, n, leaves)),
        );
        expect(used).toEqual(new Set(nodesForConsistency(m, n).map(key)));
        expect(nodesForConsistency(m, n).every(complete(n))).toBe(true);
      }
    }
  });
});

describe('planning', () => {
  it('decomposes ranges into maximal aligned subtrees, left to right', () => {
    expect(rangeNodes(0, 0)).toEqual([]);
    expect(rangeNodes(0, 7)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
      { level: 0, index: 6 },
    ]);
    expect(rangeNodes(3, 13)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
    expect(() => rangeNodes(5, 4)).toThrow(RangeError);
  });

  it('needs O(log² n) stored nodes for a root or proof at 1,000,000 leaves', () => {
    const n = 1_000_000;
    const bound = Math.ceil(Math.log2(n)) ** 2;
    expect(nodesForRoot(n)).toHaveLength(7); // one per set bit of 1,000,000
    for (const i of [0, 1, 499_999, 524_288, 999_998, 999_999]) {
      const nodes = nodesForInclusion(i, n);
      expect(nodes.length).toBeLessThanOrEqual(bound);
      expect(nodes.every((id) => (id.index + 1) * 2 ** id.level <= n)).toBe(true);
    }
    for (const m of [1, 3, 65_537, 524_288, 999_999, 1_000_000]) {
      expect(nodesForConsistency(m, n).length).toBeLessThanOrEqual(bound);
    }
    // The proofs come out without touching anything but the planned nodes.
    const planned = new Set(nodesForInclusion(123_457, n).map(key));
    const fake = (id: NodeId): Buffer => {
      expect(planned.has(key(id))).toBe(true);
      return createHash('sha256').update(key(id)).digest();
    };
    expect(inclusionProofFromNodes(123_457, n, fake)).toHaveLength(20);
  });

  it('works beyond 32-bit leaf indices', () => {
    const n = 2 ** 40 + 5;
    expect(nodesForRoot(n)).toEqual([
      { level: 40, index: 0 },
      { level: 2, index: 2 ** 38 },
      { level: 0, index: 2 ** 40 + 4 },
    ]);
    expect(nodesForInclusion(2 ** 40 + 4, n)).toEqual([
      { level: 2, index: 2 ** 38 },
      { level: 40, index: 0 },
    ]);
  });
});
