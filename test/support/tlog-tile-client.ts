import { createHash } from 'node:crypto';

/**
 * A tile client written from c2sp.org/tlog-tiles and RFC 6962 alone, with node:crypto and
 * fetch: the tests hold the service's tiles against it rather than against the service's own
 * tile code. It reads a tree of a known size (a verified checkpoint's), fetching each tile at
 * the width that size gives it, once.
 */
export class TlogTileClient {
  private readonly tiles = new Map<string, Promise<Buffer[]>>();
  /** Every path fetched, for tests that look at what a computation needed. */
  readonly fetched: string[] = [];

  constructor(
    private readonly prefix: string,
    private readonly treeSize: number,
    private readonly headers: Record<string, string> = {},
  ) {}

  /** MTH(D[0:treeSize]). */
  async root(): Promise<Buffer> {
    return this.mth(0, this.treeSize);
  }

  /** PATH(m, D[0:treeSize]) of RFC 6962 §2.1.1, bottom up. */
  async inclusionProof(m: number): Promise<Buffer[]> {
    return this.path(m, 0, this.treeSize);
  }

  /** The leaf hash of entry m: hash m of level-0 tile ⌊m/256⌋. */
  async leafHash(m: number): Promise<Buffer> {
    return this.subtree(0, m);
  }

  /**
   * Entry bundle n at the tree's width, each entry checked to hash (RFC 6962 leaf hash) to its
   * level-0 tile hash.
   */
  async entries(n: number): Promise<Buffer[]> {
    const width = this.width(0, n);
    const response = await this.get(`tile/entries/${tileIndex(n)}${suffix(width)}`);
    const bytes = Buffer.from(await response.arrayBuffer());
    const entries: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const length = bytes.readUInt16BE(at);
      entries.push(bytes.subarray(at + 2, at + 2 + length));
      at += 2 + length;
    }
    if (entries.length !== width)
      throw new Error(`bundle ${n} holds ${entries.length} entries, not ${width}`);
    const hashes = await this.tile(0, n);
    entries.forEach((entry, i) => {
      if (!sha256(Buffer.from([0x00]), entry).equals(hashes[i] as Buffer))
        throw new Error(`entry ${n * 256 + i} does not hash to its level-0 tile hash`);
    });
    return entries;
  }

  /** Width of tile (level, n) in this tree: floor(s / 256^level) − n·256, at most 256. */
  width(level: number, n: number): number {
    return Math.max(0, Math.min(256, Math.floor(this.treeSize / 256 ** level) - n * 256));
  }

  private async mth(lo: number, hi: number): Promise<Buffer> {
    const n = hi - lo;
    if (n === 0) return sha256();
    if (n === 1) return this.subtree(0, lo);
    if (isPowerOfTwo(n) && lo % n === 0) return this.subtree(Math.log2(n), lo / n);
    const k = 2 ** Math.floor(Math.log2(n - 1));
    return nodeHash(await this.mth(lo, lo + k), await this.mth(lo + k, hi));
  }

  private async path(m: number, lo: number, hi: number): Promise<Buffer[]> {
    const n = hi - lo;
    if (n === 1) return [];
    const k = 2 ** Math.floor(Math.log2(n - 1));
    return m < k
      ? [...(await this.path(m, lo, lo + k)), await this.mth(lo + k, hi)]
      : [...(await this.path(m - k, lo + k, hi)), await this.mth(lo, lo + k)];
  }

  /**
   * The complete subtree of 2^height leaves at `index`: 2^(height mod 8) consecutive hashes of a
   * tile at level ⌊height/8⌋, hashed up (a tile is the 8 levels under its hashes' level above).
   */
  private async subtree(height: number, index: number): Promise<Buffer> {
    const level = Math.floor(height / 8);
    const count = 2 ** (height - level * 8);
    const first = index * count;
    const n = Math.floor(first / 256);
    let hashes = (await this.tile(level, n)).slice(first - n * 256, first - n * 256 + count);
    if (hashes.length !== count)
      throw new Error(`tile ${level}/${n} lacks subtree ${height}:${index}`);
    while (hashes.length > 1) {
      const up: Buffer[] = [];
      for (let i = 0; i < hashes.length; i += 2) up.push(nodeHash(hashes[i]!, hashes[i + 1]!));
      hashes = up;
    }
    return hashes[0]!;
  }

  private tile(level: number, n: number): Promise<Buffer[]> {
    const width = this.width(level, n);
    const path = `tile/${level}/${tileIndex(n)}${suffix(width)}`;
    let tile = this.tiles.get(path);
    if (!tile) {
      tile = this.get(path).then(async (response) => {
        const bytes = Buffer.from(await response.arrayBuffer());
        if (bytes.length !== width * 32) throw new Error(`${path} is ${bytes.length} bytes`);
        return Array.from({ length: width }, (_, i) => bytes.subarray(i * 32, (i + 1) * 32));
      });
      this.tiles.set(path, tile);
    }
    return tile;
  }

  private async get(path: string): Promise<Response> {
    this.fetched.push(path);
    const response = await fetch(`${this.prefix}/${path}`, { headers: this.headers });
    if (response.status !== 200)
      throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response;
  }
}

/** `<N>`: 3-digit elements, all but the last behind an x. */
export function tileIndex(n: number): string {
  const digits = String(n);
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/.../g)!;
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

function suffix(width: number): string {
  return width === 256 ? '' : `.p/${width}`;
}

export function sha256(...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return sha256(Buffer.from([0x01]), left, right);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(Math.log2(n));
}

/** RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its inclusion proof. */
export function rootFromInclusion(
  leaf: Buffer,
  index: number,
  treeSize: number,
  proof: Buffer[],
): Buffer {
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('the proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new Error('the proof is too short');
  return r;
}
