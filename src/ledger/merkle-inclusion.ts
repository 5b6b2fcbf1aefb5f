/**
 * RFC 9162 inclusion proofs, environment-neutral: the walk of §2.1.3.2 apart from the hashing,
 * and a verifier over WebCrypto (`globalThis.crypto.subtle`, in Node and in browsers) that the
 * report verifier runs, in the CLI and in the console alike. merkle.ts folds the same walk with
 * node:crypto for the server.
 */

/**
 * RFC 9162 §2.1.3.2 without the hashing: for each proof hash in turn, true when it is a left
 * sibling (hash it before the running value), false when a right one; null when no proof of
 * this length can show the leaf at `index` of a tree of `treeSize`.
 */
export function inclusionSides(
  index: number,
  treeSize: number,
  proofLength: number,
): boolean[] | null {
  if (!isIndex(index) || !isIndex(treeSize)) return null;
  // 1. leaf_index >= tree_size fails.
  if (index >= treeSize) return null;
  // 2.-3. fn = leaf_index, sn = tree_size - 1.
  let fn = index;
  let sn = treeSize - 1;
  const sides: boolean[] = [];
  // 4.
  for (let i = 0; i < proofLength; i++) {
    // a. sn = 0 with proof left over fails.
    if (sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      // b. a left sibling.
      sides.push(true);
      // ii. Climb past the levels where this node has no right sibling in the tree.
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sides.push(false);
    }
    // c.
    fn = half(fn);
    sn = half(sn);
  }
  // 5. (the root comparison is the caller's).
  return sn === 0 ? sides : null;
}

/** Bytes over a plain ArrayBuffer, as WebCrypto takes them. */
type Bytes = Uint8Array<ArrayBuffer>;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const UTF8 = new TextEncoder();

/** Lowercase hex SHA-256 of the UTF-8 of `text`. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await digest(UTF8.encode(text)));
}

/** The RFC 9162 leaf hash of the UTF-8 of `text`, lowercase hex: SHA-256(0x00 ‖ text). */
export async function leafHashHex(text: string): Promise<string> {
  const bytes = UTF8.encode(text);
  const input = new Uint8Array(1 + bytes.length);
  input.set(bytes, 1);
  return toHex(await digest(input));
}

/** RFC 9162 §2.1.3.2 over hex hashes: does `proof` show `leaf` at `index` of the tree with `root`? */
export async function verifyInclusionHex(
  leaf: string,
  index: number,
  treeSize: number,
  proof: readonly string[],
  root: string,
): Promise<boolean> {
  if (![leaf, root, ...proof].every((h) => SHA256_HEX.test(h))) return false;
  const sides = inclusionSides(index, treeSize, proof.length);
  if (sides === null) return false;
  let r = fromHex(leaf);
  for (const [i, p] of proof.entries()) {
    const sibling = fromHex(p);
    r = await nodeHash(sides[i] === true ? sibling : r, sides[i] === true ? r : sibling);
  }
  return toHex(r) === root;
}

async function nodeHash(left: Bytes, right: Bytes): Promise<Bytes> {
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = 0x01;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return digest(input);
}

async function digest(bytes: Bytes): Promise<Bytes> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(hex: string): Bytes {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

export function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** LSB(n) is set; arithmetic rather than `&`, which would truncate to 32 bits. */
export function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** n >> 1 without the 32-bit truncation of `>>`. */
export function half(n: number): number {
  return Math.floor(n / 2);
}
