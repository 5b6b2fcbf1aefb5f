/**
 * C2SP tlog-tiles (c2sp.org/tlog-tiles) over the ledger's RFC 9162 tree: tile paths, tile
 * widths, entry bundles, and what a client that holds only tiles needs to compute roots and
 * proofs. Pure: the service uses it to serve tiles, and a witness or an offline verifier can
 * use it to read them.
 *
 * Tile (L, N) holds, for i < 256, MTH of leaves [(N·256+i)·256^L, (N·256+i+1)·256^L): a complete
 * subtree of 2^(8L) leaves, i.e. the stored node at level 8L, index N·256+i (merkle.ts NodeId).
 * Path arithmetic is in BigInt, since a path may name any index of a uint64 tree; tree sizes and
 * node indexes stay plain numbers (safe up to 2^53), as in merkle.ts.
 */
import { BadInputError } from '../common/errors.js';
import { nodeHash, type NodeId, type NodeLookup } from './merkle.js';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const HASH_SIZE = 32;
/** An entry bundle's length prefix is a big-endian uint16. */
export const MAX_BUNDLE_ENTRY_BYTES = 0xffff;
/** The spec's bound on `<L>`. */
export const MAX_TILE_LEVEL = 63;

/** A tile (level ≥ 0) or an entry bundle (level 'entries'); width 1–256, 256 being full. */
export interface TileId {
  readonly level: number | 'entries';
  readonly index: bigint;
  readonly width: number;
}

const TILE_SPAN = BigInt(TILE_WIDTH);
const UINT64_LIMIT = 1n << 64n;

/** 256^level leaves: what one hash of a tile at that level covers. */
function leavesPerHash(level: number): bigint {
  return TILE_SPAN ** BigInt(level);
}

/** The number of hashes tile (level, index) holds in a tree of `treeSize` leaves: 0 to 256. */
export function tileWidth(level: number, index: bigint, treeSize: number | bigint): number {
  const perHash = leavesPerHash(level);
  const start = index * TILE_SPAN * perHash;
  const size = BigInt(treeSize);
  if (size <= start) return 0;
  const hashes = (size - start) / perHash;
  return hashes >= TILE_SPAN ? TILE_WIDTH : Number(hashes);
}

/**
 * The tree sizes [from, to) at which tile (level, index) has exactly `width` hashes (width <
 * 256): the sizes whose checkpoint obliges the log to serve that partial tile.
 */
export function sizesWithWidth(
  level: number | 'entries',
  index: bigint,
  width: number,
): { from: bigint; to: bigint } {
  const perHash = leavesPerHash(level === 'entries' ? 0 : level);
  const start = index * TILE_SPAN * perHash;
  return { from: start + BigInt(width) * perHash, to: start + BigInt(width + 1) * perHash };
}

/** `<N>` as the spec writes it: 3-digit elements, all but the last behind an `x`. */
function indexPath(index: bigint): string {
  const digits = index.toString();
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/\d{3}/g) ?? ['000'];
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** The path of a tile under `<prefix>/tile/`: `1/x001/234`, `0/005.p/17`, `entries/000`. */
export function tilePath(tile: TileId): string {
  const suffix = tile.width === TILE_WIDTH ? '' : `.p/${tile.width}`;
  return `${String(tile.level)}/${indexPath(tile.index)}${suffix}`;
}

const LEVEL = /^(?:0|[1-9][0-9]?)$/;
const WIDTH = /^[1-9][0-9]{0,2}$/;

/**
 * Reads a path under `<prefix>/tile/` strictly: one spelling per resource, so that caches and
 * file-system mirrors never hold two copies of a tile. Throws BadInputError naming `level`,
 * `index` or `width` and the rule broken.
 */
export function parseTilePath(path: string): TileId {
  const parts = path.split('/');
  const first = parts.shift() ?? '';
  let level: number | 'entries';
  if (first === 'entries') level = 'entries';
  else if (LEVEL.test(first) && Number(first) <= MAX_TILE_LEVEL) level = Number(first);
  else
    throw new BadInputError(
      'level',
      `must be "entries" or a decimal integer from 0 to ${MAX_TILE_LEVEL} without leading zeros, not ${JSON.stringify(first)}`,
    );
  let width = TILE_WIDTH;
  const last = parts.at(-1);
  if (last?.endsWith('.p') === true)
    throw new BadInputError('width', 'is missing: a partial tile path ends in .p/<width>');
  const partial = parts.length >= 2 && parts.at(-2)?.endsWith('.p') === true;
  if (partial) {
    if (last === undefined || !WIDTH.test(last) || Number(last) > TILE_WIDTH - 1)
      throw new BadInputError(
        'width',
        `must be a decimal integer from 1 to 255 without leading zeros, not ${JSON.stringify(last)}`,
      );
    width = Number(last);
    parts.pop();
    parts[parts.length - 1] = (parts.at(-1) ?? '').slice(0, -'.p'.length);
  }
  const index = parseIndex(parts);
  const perTile = TILE_SPAN * leavesPerHash(level === 'entries' ? 0 : level);
  if (index * perTile >= UINT64_LIMIT)
    throw new BadInputError(
      'index',
      `tile ${String(level)}/${indexPath(index)} would start past leaf 2^64, beyond any tree a log can have`,
    );
  return { level, index, width };
}

function parseIndex(parts: readonly string[]): bigint {
  const rule =
    'must be zero-padded 3-digit path elements, all but the last beginning with "x" (1234067 is x001/x234/067)';
  if (parts.length === 0) throw new BadInputError('index', `is missing; it ${rule}`);
  let digits = '';
  for (const [i, part] of parts.entries()) {
    const element = i < parts.length - 1 ? /^x([0-9]{3})$/.exec(part) : /^([0-9]{3})$/.exec(part);
    if (!element?.[1])
      throw new BadInputError('index', `${rule}; ${JSON.stringify(parts.join('/'))} does not`);
    digits += element[1];
  }
  if (parts.length > 1 && digits.startsWith('000'))
    throw new BadInputError(
      'index',
      `must not begin with x000 (${JSON.stringify(parts.join('/'))} is ${indexPath(BigInt(digits))})`,
    );
  return BigInt(digits);
}

/** The stored Merkle nodes a tile's hashes are: level 8L, indexes N·256 to N·256 + width − 1. */
export function tileNodes(tile: TileId): { level: number; from: number; count: number } {
  const level = tile.level === 'entries' ? 0 : tile.level * TILE_HEIGHT;
  return { level, from: Number(tile.index * TILE_SPAN), count: tile.width };
}

/** A tile's bytes, checked to be `width` hashes. */
export function tileHashes(bytes: Uint8Array, width: number): Buffer[] {
  if (bytes.length !== width * HASH_SIZE)
    throw new RangeError(
      `a tile of width ${width} is ${width * HASH_SIZE} bytes, not ${bytes.length}`,
    );
  const hashes: Buffer[] = [];
  for (let i = 0; i < width; i++)
    hashes.push(Buffer.from(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)));
  return hashes;
}

/** Entries as a bundle: each behind its length as a big-endian uint16. */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.length > MAX_BUNDLE_ENTRY_BYTES)
      throw new RangeError(`an entry of ${entry.length} bytes has no uint16 length prefix`);
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(entry.length);
    parts.push(prefix, Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength));
  }
  return Buffer.concat(parts);
}

export function decodeEntryBundle(bytes: Uint8Array): Buffer[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: Buffer[] = [];
  let at = 0;
  while (at < buffer.length) {
    if (at + 2 > buffer.length) throw new RangeError(`a length prefix is cut off at byte ${at}`);
    const length = buffer.readUInt16BE(at);
    if (at + 2 + length > buffer.length)
      throw new RangeError(`the entry at byte ${at} claims ${length} bytes; fewer are left`);
    entries.push(buffer.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------
// A client's side: which tiles a computation needs, and stored nodes read out of tiles, so that
// merkle.ts's rootFromNodes, inclusionProofFromNodes and consistencyProofFromNodes run on them.
// ---------------------------------------------------------------------------------------------

/**
 * Where node (level, index) comes from: the tile at level ⌊level/8⌋ whose hashes
 * [offset, offset + 2^(level mod 8)) are the complete subtrees it is made of.
 */
function nodeSource(node: NodeId): { tileLevel: number; first: number; count: number } {
  const tileLevel = Math.floor(node.level / TILE_HEIGHT);
  const count = 2 ** (node.level - tileLevel * TILE_HEIGHT);
  return { tileLevel, first: node.index * count, count };
}

/**
 * The tiles, at their width in a tree of `treeSize` leaves, that hold every node of `nodes`
 * (each a complete subtree of that tree).
 */
export function tilesForNodes(nodes: readonly NodeId[], treeSize: number): TileId[] {
  const tiles = new Map<string, TileId>();
  for (const node of nodes) {
    if ((node.index + 1) * 2 ** node.level > treeSize)
      throw new RangeError(
        `node ${node.level}:${node.index} is not complete in a tree of ${treeSize}`,
      );
    const { tileLevel, first } = nodeSource(node);
    const index = BigInt(Math.floor(first / TILE_WIDTH));
    const tile = { level: tileLevel, index, width: tileWidth(tileLevel, index, treeSize) };
    tiles.set(tilePath(tile), tile);
  }
  return [...tiles.values()];
}

/**
 * A NodeLookup over tiles of a tree of `treeSize` leaves: node (8L + r, k) is the perfect
 * subtree over hashes [k·2^r, (k+1)·2^r) of level-L tiles. `tile` returns a tile's bytes (as
 * tilesForNodes names it); each tile is read once and checked to be its width.
 */
export function nodeLookupFromTiles(
  treeSize: number,
  tile: (id: TileId) => Uint8Array,
): NodeLookup {
  const read = new Map<string, Buffer[]>();
  const hashesOf = (id: TileId): Buffer[] => {
    const key = tilePath(id);
    let hashes = read.get(key);
    if (!hashes) {
      hashes = tileHashes(tile(id), id.width);
      read.set(key, hashes);
    }
    return hashes;
  };
  return (node) => {
    const [id] = tilesForNodes([node], treeSize);
    if (!id) throw new RangeError(`no tile holds node ${node.level}:${node.index}`);
    const { first, count } = nodeSource(node);
    const offset = first - Number(id.index) * TILE_WIDTH;
    let level = hashesOf(id).slice(offset, offset + count);
    while (level.length > 1) {
      const up: Buffer[] = [];
      for (let i = 0; i < level.length; i += 2)
        up.push(nodeHash(level[i] as Buffer, level[i + 1] as Buffer));
      level = up;
    }
    const [hash] = level;
    if (!hash) throw new RangeError(`tile ${tilePath(id)} lacks node ${node.level}:${node.index}`);
    return hash;
  };
}
