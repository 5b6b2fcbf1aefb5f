import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { appendLeaves } from './merkle-append.js';
import {
  consistencyProof,
  consistencyProofFromNodes,
  inclusionProof,
  inclusionProofFromNodes,
  leafHash,
  nodesForConsistency,
  nodesForInclusion,
  nodesForRoot,
  rootFromNodes,
  rootOf,
  type NodeId,
} from './merkle.js';
import {
  decodeEntryBundle,
  encodeEntryBundle,
  nodeLookupFromTiles,
  parseTilePath,
  tileNodes,
  tilePath,
  tilesForNodes,
  tileWidth,
  type TileId,
} from './tiles.js';

/** A tree as the ledger stores it: leaf hashes, and every complete subtree by level:idx. */
function storedTree(size: number): { leaves: Buffer[]; nodes: Map<string, Buffer> } {
  const leaves = Array.from({ length: size }, (_, i) =>
    leafHash(createHash('sha256').update(`event ${i}`).digest()),
  );
  const { nodes } = appendLeaves(0, [], leaves);
  return { leaves, nodes: new Map(nodes.map((n) => [`${n.level}:${n.idx}`, n.hash])) };
}

const BIG = 65_536 + 300;
const big = storedTree(BIG);

/** What the server sends for a tile: its stored nodes, concatenated; refuses what it lacks. */
function serve(nodes: Map<string, Buffer>, tile: TileId): Buffer {
  const { level, from, count } = tileNodes(tile);
  return Buffer.concat(
    Array.from({ length: count }, (_, i) => {
      const hash = nodes.get(`${level}:${from + i}`);
      if (!hash) throw new Error(`the server has no node ${level}:${from + i}`);
      return hash;
    }),
  );
}

/** A client holding only the tiles a computation at `treeSize` names, fetched from the server. */
function client(treeSize: number, needed: readonly NodeId[]) {
  const tiles = new Map(
    tilesForNodes(needed, treeSize).map((t) => [tilePath(t), serve(big.nodes, t)]),
  );
  return nodeLookupFromTiles(treeSize, (id) => {
    const bytes = tiles.get(tilePath(id));
    if (!bytes) throw new Error(`tile ${tilePath(id)} was not fetched`);
    return bytes;
  });
}

const hex = (hashes: readonly Buffer[]): string[] => hashes.map((h) => h.toString('hex'));
const EDGES = [0, 1, 2, 255, 256, 257, 511, 512, 65_535, 65_536, 65_537, BIG];
const size = fc.oneof(fc.constantFrom(...EDGES), fc.integer({ min: 0, max: BIG }));

describe('tiles of an RFC 9162 tree', () => {
  it('hold, at level L, index n, hash i, the MTH of leaves [(n·256+i)·256^L, (n·256+i+1)·256^L)', () => {
    for (const [level, index, width] of [
      [0, 0n, 256],
      [0, 256n, 256],
      [0, 257n, 44],
      [1, 0n, 256],
      [1, 1n, 1],
      [2, 0n, 1],
    ] as const) {
      const tile = { level, index, width };
      expect(tileWidth(level, index, BIG)).toBe(width);
      const bytes = serve(big.nodes, tile);
      const span = 256 ** level;
      for (const i of [0, width - 1]) {
        const start = (Number(index) * 256 + i) * span;
        expect(bytes.subarray(i * 32, (i + 1) * 32).toString('hex')).toBe(
          rootOf(big.leaves.slice(start, start + span)).toString('hex'),
        );
      }
    }
  });

  it('have the widths of the spec: a tree of 70,000 is 273 full level-0 tiles, one of 112, …', () => {
    expect(tileWidth(0, 272n, 70_000)).toBe(256);
    expect(tileWidth(0, 273n, 70_000)).toBe(112);
    expect(tileWidth(0, 274n, 70_000)).toBe(0);
    expect(tileWidth(1, 0n, 70_000)).toBe(256);
    expect(tileWidth(1, 1n, 70_000)).toBe(17);
    expect(tileWidth(2, 0n, 70_000)).toBe(1);
    expect(tileWidth(3, 0n, 70_000)).toBe(0);
    expect(tileWidth(1, 0n, 256)).toBe(1);
    expect(tileWidth(0, 1n, 256)).toBe(0);
  });

  it('give a client the root, inclusion and consistency proofs that merkle.ts computes', () => {
    fc.assert(
      fc.property(size, size, fc.double({ min: 0, max: 1, noNaN: true }), (a, b, at) => {
        const [first, second] = a <= b ? [a, b] : [b, a];
        const leaves = big.leaves.slice(0, second);
        const root = client(second, nodesForRoot(second));
        expect(rootFromNodes(second, root).toString('hex')).toBe(rootOf(leaves).toString('hex'));
        if (second > 0) {
          const index = Math.min(second - 1, Math.floor(at * second));
          const lookup = client(second, nodesForInclusion(index, second));
          expect(hex(inclusionProofFromNodes(index, second, lookup))).toEqual(
            hex(inclusionProof(index, second, leaves)),
          );
        }
        const lookup = client(second, [
          ...nodesForConsistency(first, second),
          ...nodesForRoot(first),
        ]);
        expect(hex(consistencyProofFromNodes(first, second, lookup))).toEqual(
          hex(consistencyProof(first, second, leaves)),
        );
        expect(rootFromNodes(first, lookup).toString('hex')).toBe(
          rootOf(leaves.slice(0, first)).toString('hex'),
        );
      }),
      { numRuns: 40 },
    );
  });

  it('are fetched at the width the tree size gives them, never a hash beyond it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: BIG }), (treeSize) => {
        for (const tile of tilesForNodes(nodesForRoot(treeSize), treeSize)) {
          const level = tile.level as number;
          const { from, count } = tileNodes(tile);
          expect(count).toBe(tileWidth(level, tile.index, treeSize));
          expect((from + count) * 256 ** level).toBeLessThanOrEqual(treeSize);
        }
      }),
    );
  });

  it('make a client refuse a tile of the wrong length', () => {
    const lookup = nodeLookupFromTiles(300, (id) => serve(big.nodes, { ...id, width: 1 }));
    expect(() => rootFromNodes(300, lookup)).toThrow(/a tile of width 44 is 1408 bytes, not 32/);
  });
});

describe('tile paths', () => {
  it('round-trip every tile, as the spec spells them', () => {
    expect(tilePath({ level: 0, index: 1_234_067n, width: 256 })).toBe('0/x001/x234/067');
    expect(tilePath({ level: 1, index: 0n, width: 17 })).toBe('1/000.p/17');
    expect(tilePath({ level: 'entries', index: 1000n, width: 256 })).toBe('entries/x001/000');
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant('entries' as const)),
        fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }),
        fc.integer({ min: 1, max: 256 }),
        (level, raw, width) => {
          // Every index whose tile starts within a uint64 tree.
          const index = raw / 256n ** BigInt(level === 'entries' ? 0 : level);
          const tile = { level, index, width };
          expect(parseTilePath(tilePath(tile))).toEqual(tile);
        },
      ),
    );
  });

  it.each([
    ['00/000', 'level', /without leading zeros, not "00"/],
    ['64/000', 'level', /from 0 to 63/],
    ['-1/000', 'level', /from 0 to 63/],
    ['entry/000', 'level', /"entries" or/],
    ['0', 'index', /is missing/],
    ['0/1', 'index', /zero-padded 3-digit/],
    ['0/0001', 'index', /zero-padded 3-digit/],
    ['0/x001', 'index', /all but the last beginning with "x"/],
    ['0/001/234', 'index', /all but the last beginning with "x"/],
    ['0/x001/x234', 'index', /3-digit path elements/],
    ['0/x000/001', 'index', /must not begin with x000 \("x000\/001" is 001\)/],
    ['0/x1a3/001', 'index', /3-digit/],
    ['7/001', 'index', /past leaf 2\^64/],
    ['0/x072/x057/x594/x037/x927/936', 'index', /past leaf 2\^64/],
    ['0/000.p', 'width', /is missing/],
    ['0/000.p/0', 'width', /from 1 to 255/],
    ['0/000.p/256', 'width', /from 1 to 255/],
    ['0/000.p/007', 'width', /without leading zeros/],
    ['0/000.p/', 'width', /from 1 to 255/],
    ['0/000.p/1/2', 'index', /3-digit/],
    ['entries/000.p/x', 'width', /from 1 to 255/],
  ])('refuse %s, naming %s', (path, field, reason) => {
    let error: unknown;
    try {
      parseTilePath(path);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'BAD_USER_INPUT', details: { field } });
    expect((error as Error).message).toMatch(reason);
  });

  it('take the largest index a uint64 tree has at each level', () => {
    expect(parseTilePath('0/x072/x057/x594/x037/x927/935').index).toBe(2n ** 56n - 1n);
    expect(parseTilePath('6/255').index).toBe(255n);
    expect(() => parseTilePath('6/256')).toThrow(/past leaf 2\^64/);
    expect(parseTilePath('63/000')).toEqual({ level: 63, index: 0n, width: 256 });
  });
});

describe('entry bundles', () => {
  it('length-prefix each entry with a big-endian uint16, up to 65,535 bytes', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.uint8Array({ minLength: 65_535, maxLength: 65_535 }),
        (entries, largest) => {
          const all = [...entries, largest];
          const bundle = encodeEntryBundle(all);
          expect(bundle.length).toBe(all.reduce((n, e) => n + 2 + e.length, 0));
          expect(decodeEntryBundle(bundle).map((e) => Buffer.from(e).toString('hex'))).toEqual(
            all.map((e) => Buffer.from(e).toString('hex')),
          );
        },
      ),
      { numRuns: 20 },
    );
    expect(encodeEntryBundle([Buffer.from('ab')]).toString('hex')).toBe('00026162');
    expect(() => encodeEntryBundle([Buffer.alloc(65_536)])).toThrow(/65536 bytes/);
  });

  it('refuse a cut bundle', () => {
    expect(() => decodeEntryBundle(Buffer.from([0x00]))).toThrow(/cut off at byte 0/);
    expect(() => decodeEntryBundle(Buffer.from([0x00, 0x03, 0x61]))).toThrow(/claims 3 bytes/);
  });
});
