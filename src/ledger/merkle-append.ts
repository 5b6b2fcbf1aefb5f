import { nodeHash } from './merkle.js';

/** A complete subtree on the right edge of the tree: leaves [idx·2^level, (idx+1)·2^level). */
export interface FrontierNode {
  readonly level: number;
  readonly hash: Buffer;
}

export interface StoredNode {
  readonly level: number;
  readonly idx: number;
  readonly hash: Buffer;
}

/**
 * Appends leaves to a tree of `size` leaves whose frontier is known (the complete subtrees
 * covering [0, size), largest first: one per set bit of `size`). Returns every complete
 * subtree that the new leaves finish, to be stored, and the new frontier. This is how an append
 * keeps the stored tree up to date in O(log n) without reading anything else.
 */
export function appendLeaves(
  size: number,
  frontier: readonly FrontierNode[],
  leafHashes: readonly Buffer[],
): { nodes: StoredNode[]; frontier: FrontierNode[] } {
  const stack = [...frontier];
  const nodes: StoredNode[] = [];
  let index = size;
  for (const leaf of leafHashes) {
    let node: FrontierNode = { level: 0, hash: leaf };
    nodes.push({ level: 0, idx: index, hash: leaf });
    // Each trailing 1 bit of the leaf index closes one more subtree with its left sibling.
    let position = index;
    while (position % 2 === 1) {
      const left = stack.pop();
      if (left?.level !== node.level)
        throw new Error(`Merkle frontier does not match tree size ${size}`);
      node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
      position = Math.floor(position / 2);
      nodes.push({ level: node.level, idx: position, hash: node.hash });
    }
    stack.push(node);
    index++;
  }
  return { nodes, frontier: stack };
}

/** RFC 9162 root of the tree whose frontier this is: the right fold of its subtrees. */
export function rootOfFrontier(frontier: readonly FrontierNode[]): Buffer | undefined {
  let root: Buffer | undefined;
  for (let i = frontier.length - 1; i >= 0; i--) {
    const node = frontier[i];
    if (!node) continue;
    root = root === undefined ? node.hash : nodeHash(node.hash, root);
  }
  return root;
}

/** The levels of the frontier of a tree of `size` leaves, largest subtree first. */
export function frontierLevels(size: number): number[] {
  const levels: number[] = [];
  for (let level = 52; level >= 0; level--) {
    if (Math.floor(size / 2 ** level) % 2 === 1) levels.push(level);
  }
  return levels;
}

/**
 * The right edge of a growing tree, updated in place: what the verifier keeps while it streams
 * a million events, to check checkpoint roots without storing the tree.
 */
export class MerkleFrontier {
  private readonly stack: FrontierNode[];

  constructor(
    private size: number,
    frontier: readonly FrontierNode[],
  ) {
    this.stack = [...frontier];
  }

  push(leaf: Buffer): void {
    this.pushSubtree({ level: 0, hash: leaf });
  }

  /**
   * Appends a complete subtree of 2^level leaves; the tree's size must be a multiple of that
   * (as it is for the nodes of a compact range that starts where the tree ends).
   */
  pushSubtree(subtree: FrontierNode): void {
    const width = 2 ** subtree.level;
    if (this.size % width !== 0)
      throw new Error(`a subtree of ${width} leaves cannot follow ${this.size}`);
    let node = subtree;
    for (
      let position = this.size / width;
      position % 2 === 1;
      position = Math.floor(position / 2)
    ) {
      const left = this.stack.pop();
      if (left?.level !== node.level)
        throw new Error(`Merkle frontier does not match tree size ${this.size}`);
      node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
    }
    this.stack.push(node);
    this.size += width;
  }

  root(): Buffer | undefined {
    return rootOfFrontier(this.stack);
  }
}

/**
 * The compact range of leaves [start, start + n): the maximal complete aligned subtrees that
 * cover it, left to right. A verification worker computes it for its run of events, so that the
 * caller extends the tree with O(log n) subtrees per run instead of one push per event.
 */
export function compactRange(start: number, leafHashes: readonly Uint8Array[]): FrontierNode[] {
  const stack: { level: number; index: number; hash: Buffer }[] = [];
  leafHashes.forEach((leaf, i) => {
    stack.push({ level: 0, index: start + i, hash: Buffer.from(leaf) });
    for (;;) {
      const right = stack.at(-1);
      const left = stack.at(-2);
      if (!right || !left || left.level !== right.level || left.index % 2 !== 0) break;
      stack.splice(-2, 2, {
        level: left.level + 1,
        index: left.index / 2,
        hash: nodeHash(left.hash, right.hash),
      });
    }
  });
  return stack.map(({ level, hash }) => ({ level, hash }));
}
