/**
 * RFC 9162 §2.1 Merkle tree with SHA-256: hashes, reference proofs over a full list of leaf
 * hashes, the two verification algorithms, and a planned, store-backed variant that reads
 * only the stored hashes of complete aligned subtrees.
 *
 * The store keeps node (level L, index i) for every complete aligned subtree, covering
 * leaves [i·2^L, (i+1)·2^L). Every hash a root or proof needs is either such a node or the
 * hash of a range ending at the tree size, which is the right fold of the range's maximal
 * complete subtrees; so a root or proof reads O(log² n) nodes, never the whole tree.
 *
 * Numbers are plain doubles (safe up to 2^53) and the arithmetic avoids 32-bit bitwise
 * operators, so trees larger than 2^31 leaves work.
 */
import { createHash, hash } from 'node:crypto';
import { half, inclusionSides, isIndex, isOdd } from './merkle-inclusion.js';

/** The 32-byte SHA-256 of the empty string: MTH({}), RFC 9162 §2.1.1. */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);
const HASH_SIZE = 32;

/** RFC 9162 §2.1.1: MTH({d(0)}) = HASH(0x00 || d(0)); the prefix separates leaves from nodes. */
export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(LEAF_PREFIX).update(data).digest();
}

/** RFC 9162 §2.1.1: an interior node is HASH(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  // One-shot crypto.hash over a reused 65-byte input: a third of the cost of a createHash chain,
  // which the sequencer and the verifier pay about once per event.
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE)
    return createHash('sha256').update(NODE_PREFIX).update(left).update(right).digest();
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 1 + HASH_SIZE);
  return hash('sha256', NODE_INPUT, 'buffer');
}

const NODE_INPUT = Buffer.alloc(1 + 2 * HASH_SIZE, NODE_PREFIX);

// ---------------------------------------------------------------------------------------------
// Reference implementations: RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, literally, over the full
// list. They define the expected results for the store-backed functions below.
// ---------------------------------------------------------------------------------------------

/** The largest power of two strictly smaller than n (n > 1): the RFC's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) of RFC 9162 §2.1.1 over already-hashed leaves. */
export function rootOf(leafHashes: readonly Uint8Array[]): Buffer {
  return mth(leafHashes, 0, leafHashes.length);
}

/** MTH(D[lo:hi]). */
function mth(leaves: readonly Uint8Array[], lo: number, hi: number): Buffer {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return Buffer.from(leafAt(leaves, lo));
  const k = splitPoint(n);
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

function leafAt(leaves: readonly Uint8Array[], index: number): Uint8Array {
  const leaf = leaves[index];
  if (leaf === undefined) throw new RangeError(`no leaf hash at index ${index}`);
  return leaf;
}

/** PATH(m, D[n]) of RFC 9162 §2.1.3.1: the inclusion proof of leaf `index`, bottom up. */
export function inclusionProof(
  index: number,
  treeSize: number,
  leafHashes: readonly Uint8Array[],
): Buffer[] {
  checkTreeSize(treeSize, leafHashes);
  if (!isIndex(index) || index >= treeSize) {
    throw new RangeError(`leaf index ${index} is not in a tree of size ${treeSize}`);
  }
  return path(index, leafHashes, 0, treeSize);
}

function path(m: number, leaves: readonly Uint8Array[], lo: number, hi: number): Buffer[] {
  const n = hi - lo;
  if (n === 1) return [];
  const k = splitPoint(n);
  return m < k
    ? [...path(m, leaves, lo, lo + k), mth(leaves, lo + k, hi)]
    : [...path(m - k, leaves, lo + k, hi), mth(leaves, lo, lo + k)];
}

/**
 * PROOF(m, D[n]) of RFC 9162 §2.1.4.1. The RFC defines it for 0 < m < n; for m = n (and for
 * m = 0) the proof is empty, matching what verifyConsistency accepts.
 */
export function consistencyProof(
  first: number,
  second: number,
  leafHashes: readonly Uint8Array[],
): Buffer[] {
  checkTreeSize(second, leafHashes);
  checkSizes(first, second);
  if (first === 0 || first === second) return [];
  return subproof(first, leafHashes, 0, second, true);
}

/** SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1. */
function subproof(
  m: number,
  leaves: readonly Uint8Array[],
  lo: number,
  hi: number,
  b: boolean,
): Buffer[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [mth(leaves, lo, hi)];
  const k = splitPoint(n);
  return m <= k
    ? [...subproof(m, leaves, lo, lo + k, b), mth(leaves, lo + k, hi)]
    : [...subproof(m - k, leaves, lo + k, hi, false), mth(leaves, lo, lo + k)];
}

function checkTreeSize(treeSize: number, leafHashes: readonly Uint8Array[]): void {
  if (!isIndex(treeSize) || treeSize > leafHashes.length) {
    throw new RangeError(`tree size ${treeSize} is not within ${leafHashes.length} leaves`);
  }
}

function checkSizes(first: number, second: number): void {
  if (!isIndex(first) || !isIndex(second) || first > second) {
    throw new RangeError(`no consistency proof from size ${first} to size ${second}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Verification: RFC 9162 §2.1.3.2 and §2.1.4.2, step by step.
// ---------------------------------------------------------------------------------------------

function isHash(value: Uint8Array): boolean {
  return value.length === HASH_SIZE;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` of the tree with `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(leaf) || !proof.every(isHash)) return false;
  const sides = inclusionSides(index, treeSize, proof.length);
  if (sides === null) return false;
  let r: Uint8Array = leaf;
  for (const [i, p] of proof.entries()) r = sides[i] === true ? nodeHash(p, r) : nodeHash(r, p);
  return sameBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: is the tree (second, secondRoot) an append-only extension of
 * (first, firstRoot)? The RFC's algorithm covers 0 < first < second; first = second holds
 * with an empty proof and equal roots, and first = 0 with an empty proof and the empty root.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!isIndex(first) || !isIndex(second) || first > second || !proof.every(isHash)) {
    return false;
  }
  if (first === second) return proof.length === 0 && sameBytes(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0 && sameBytes(firstRoot, EMPTY_ROOT);
  // 1. An empty consistency_path fails.
  if (proof.length === 0) return false;
  // 2. If first is an exact power of 2, prepend first_hash.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  // 3. fn = first - 1, sn = second - 1.
  let fn = first - 1;
  let sn = second - 1;
  // 4. While LSB(fn) is set, right-shift both.
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // 5. fr = sr = the first value of the path.
  const [head, ...rest] = path as [Uint8Array, ...Uint8Array[]];
  let fr: Uint8Array = head;
  let sr: Uint8Array = head;
  // 6.
  for (const c of rest) {
    // a. sn = 0 with path left over fails.
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      // b. c is a left sibling on both paths.
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // iii. Climb past the levels where this node has no right sibling in the tree.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      // c is a right sibling, present only in the second tree.
      sr = nodeHash(sr, c);
    }
    // c.
    fn = half(fn);
    sn = half(sn);
  }
  // 7.
  return sn === 0 && sameBytes(fr, firstRoot) && sameBytes(sr, secondRoot);
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

// ---------------------------------------------------------------------------------------------
// The store-backed tree: plans name the stored nodes needed; *FromNodes read only those.
// ---------------------------------------------------------------------------------------------

/** A stored complete aligned subtree: leaves [index·2^level, (index+1)·2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** Reads a stored node's hash; throws if the store lacks it. */
export type NodeLookup = (id: NodeId) => Buffer;

/**
 * A plan: one entry per hash of the result, each the nodes whose right fold gives it
 * (a single node when the range is itself a complete subtree).
 */
type Plan = NodeId[][];

/**
 * Leaves [start, end) as maximal complete aligned subtrees, left to right: at each step the
 * largest 2^L that start is a multiple of and that still fits.
 */
export function rangeNodes(start: number, end: number): NodeId[] {
  if (!isIndex(start) || !isIndex(end) || start > end) {
    throw new RangeError(`bad leaf range [${start}, ${end})`);
  }
  const nodes: NodeId[] = [];
  let at = start;
  while (at < end) {
    let size = 1;
    let level = 0;
    while (at % (size * 2) === 0 && at + size * 2 <= end) {
      size *= 2;
      level++;
    }
    nodes.push({ level, index: at / size });
    at += size;
  }
  return nodes;
}

/**
 * MTH(D[start:end]) from the nodes of rangeNodes(start, end), for a range whose start is a
 * multiple of 2^⌈log2(end−start)⌉. That holds for every range RFC 9162's recursion hashes
 * (left parts are complete subtrees, right parts end at the tree size), and there the RFC's
 * split at the largest power of two below the length is exactly the first maximal subtree,
 * so the hash is the right fold: HASH(0x01 || n1 || HASH(0x01 || n2 || … nk)).
 */
function foldHashes(nodes: readonly NodeId[], lookup: NodeLookup): Buffer {
  let hash: Buffer | undefined;
  for (let i = nodes.length - 1; i >= 0; i--) {
    const node = lookup(nodes[i] as NodeId);
    hash = hash === undefined ? node : nodeHash(node, hash);
  }
  return hash ?? EMPTY_ROOT;
}

function rootPlan(treeSize: number): Plan {
  if (!isIndex(treeSize)) throw new RangeError(`bad tree size ${treeSize}`);
  return treeSize === 0 ? [] : [rangeNodes(0, treeSize)];
}

/**
 * The proof path upwards from node (level, index) in a tree of treeSize leaves: at each level
 * the sibling's range clipped to the tree, skipped when empty (RFC 9162 trees are perfect trees
 * cut at the tree size, with single-child nodes collapsed), up to the node covering the tree.
 */
function siblingsPlan(level: number, index: number, treeSize: number): Plan {
  const plan: Plan = [];
  let size = 2 ** level;
  while (!(index === 0 && size >= treeSize)) {
    const siblingStart = (isOdd(index) ? index - 1 : index + 1) * size;
    if (siblingStart < treeSize) {
      plan.push(rangeNodes(siblingStart, Math.min(siblingStart + size, treeSize)));
    }
    index = half(index);
    size *= 2;
  }
  return plan;
}

function inclusionPlan(index: number, treeSize: number): Plan {
  if (!isIndex(index) || !isIndex(treeSize) || index >= treeSize) {
    throw new RangeError(`leaf index ${index} is not in a tree of size ${treeSize}`);
  }
  return siblingsPlan(0, index, treeSize);
}

/**
 * SUBPROOF's descent from the root follows the ancestors of leaf first−1 and stops at the
 * largest complete subtree ending at `first` (level = trailing zeros of first). It emits that
 * subtree unless it is the whole first tree (first a power of two, where the verifier uses
 * first_hash), then that subtree's siblings bottom up, exactly as an inclusion path.
 */
function consistencyPlan(first: number, second: number): Plan {
  checkSizes(first, second);
  if (first === 0 || first === second) return [];
  let level = 0;
  let index = first;
  while (!isOdd(index)) {
    index = half(index);
    level++;
  }
  index -= 1;
  const own: Plan = index === 0 ? [] : [[{ level, index }]];
  return [...own, ...siblingsPlan(level, index, second)];
}

function nodesOf(plan: Plan): NodeId[] {
  const seen = new Set<string>();
  const nodes: NodeId[] = [];
  for (const id of plan.flat()) {
    const key = `${id.level}:${id.index}`;
    if (!seen.has(key)) {
      seen.add(key);
      nodes.push(id);
    }
  }
  return nodes;
}

/** The stored nodes rootFromNodes(treeSize) reads. */
export function nodesForRoot(treeSize: number): NodeId[] {
  return nodesOf(rootPlan(treeSize));
}

/** The stored nodes inclusionProofFromNodes(index, treeSize) reads. */
export function nodesForInclusion(index: number, treeSize: number): NodeId[] {
  return nodesOf(inclusionPlan(index, treeSize));
}

/** The stored nodes consistencyProofFromNodes(first, second) reads. */
export function nodesForConsistency(first: number, second: number): NodeId[] {
  return nodesOf(consistencyPlan(first, second));
}

/** MTH of the first treeSize leaves from stored nodes; equals rootOf. */
export function rootFromNodes(treeSize: number, lookup: NodeLookup): Buffer {
  return foldHashes(rootPlan(treeSize).flat(), lookup);
}

/** The RFC 9162 inclusion proof from stored nodes; byte-identical to inclusionProof. */
export function inclusionProofFromNodes(
  index: number,
  treeSize: number,
  lookup: NodeLookup,
): Buffer[] {
  return inclusionPlan(index, treeSize).map((nodes) => foldHashes(nodes, lookup));
}

/** The RFC 9162 consistency proof from stored nodes; byte-identical to consistencyProof. */
export function consistencyProofFromNodes(
  first: number,
  second: number,
  lookup: NodeLookup,
): Buffer[] {
  return consistencyPlan(first, second).map((nodes) => foldHashes(nodes, lookup));
}
