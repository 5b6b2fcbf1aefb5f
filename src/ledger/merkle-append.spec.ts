import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import {
  appendLeaves,
  compactRange,
  frontierLevels,
  MerkleFrontier,
  rootOfFrontier,
  type FrontierNode,
} from './merkle-append.js';
import { leafHash, rangeNodes, rootOf } from './merkle.js';

const leaves = Array.from({ length: 70 }, (_, i) =>
  leafHash(createHash('sha256').update(String(i)).digest()),
);

describe('appendLeaves', () => {
  it('keeps a frontier whose root is the RFC 9162 root, for every size up to 70, in any batch split', () => {
    for (const batch of [1, 3, 7]) {
      let frontier: FrontierNode[] = [];
      for (let size = 0; size < leaves.length; size += batch) {
        const next = leaves.slice(size, size + batch);
        frontier = appendLeaves(size, frontier, next).frontier;
        const newSize = size + next.length;
        expect(frontier.map((f) => f.level)).toEqual(frontierLevels(newSize));
        expect(rootOfFrontier(frontier)?.equals(rootOf(leaves.slice(0, newSize)))).toBe(true);
      }
    }
  });

  it('emits every complete subtree exactly once, as stored nodes (level, idx)', () => {
    const { nodes } = appendLeaves(0, [], leaves.slice(0, 16));
    expect(nodes).toHaveLength(16 + 8 + 4 + 2 + 1);
    const top = nodes.find((n) => n.level === 4 && n.idx === 0);
    expect(top?.hash.equals(rootOf(leaves.slice(0, 16)))).toBe(true);
    expect(new Set(nodes.map((n) => `${n.level}:${n.idx}`)).size).toBe(nodes.length);
  });

  it('refuses a frontier that does not belong to the size', () => {
    // The frontier of 2 leaves is one subtree of level 1; at size 3, leaf 3 needs a level-0 sibling.
    const { frontier } = appendLeaves(0, [], leaves.slice(0, 2));
    expect(() => appendLeaves(3, frontier, [leaves[3]!])).toThrow(/does not match/);
  });

  it('names the frontier levels of a size: one per set bit, largest first', () => {
    expect(frontierLevels(0)).toEqual([]);
    expect(frontierLevels(13)).toEqual([3, 2, 0]);
    expect(frontierLevels(13).length).toBe(rangeNodes(0, 13).length);
  });
});

describe('MerkleFrontier', () => {
  it('agrees with the reference root while growing from any starting frontier', () => {
    const start = appendLeaves(0, [], leaves.slice(0, 21)).frontier;
    const sut = new MerkleFrontier(21, start);
    for (let size = 21; size < leaves.length; size++) {
      sut.push(leaves[size]!);
      expect(sut.root()?.equals(rootOf(leaves.slice(0, size + 1)))).toBe(true);
    }
  });
});

describe('compactRange', () => {
  it('extends a frontier to the same root as leaf-by-leaf pushes, for every split point', () => {
    for (let start = 0; start < 40; start++) {
      for (const n of [1, 2, 5, 16, 29]) {
        const sut = new MerkleFrontier(start, appendLeaves(0, [], leaves.slice(0, start)).frontier);
        for (const subtree of compactRange(start, leaves.slice(start, start + n)))
          sut.pushSubtree(subtree);
        expect(sut.root()?.equals(rootOf(leaves.slice(0, start + n)))).toBe(true);
      }
    }
  });
});
