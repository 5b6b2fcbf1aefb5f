import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TooLargeError } from '../common/errors.js';

/** A stored blob whose bytes no longer hash to its name: refused, never used. */
export class BlobCorruptError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} no longer matches its digest; refusing to use it`);
    this.name = 'BlobCorruptError';
  }
}

export interface StoredBlob {
  readonly sha256: string;
  readonly size: number;
  /** The stored file (content-addressed; never written again once there). */
  readonly path: string;
}

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content-addressed files under `<dataDir>/blobs/sha256/ab/abcdef…`: artifacts,
 * datasets and batch outputs. A blob is streamed to a temporary file while it is hashed and
 * counted, then linked to its name, so a half-written upload is never visible under a digest
 * and the same bytes twice are stored once. Readers that need the bytes to be what was
 * audited use `readVerified`, which refuses a file that no longer matches its digest.
 */
export class BlobStore {
  private readonly root: string;
  private readonly tmp: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'blobs', 'sha256');
    this.tmp = join(dataDir, 'blobs', 'tmp');
  }

  pathOf(sha256: string): string {
    if (!SHA256.test(sha256)) throw new Error(`not a SHA-256 digest: ${sha256}`);
    return join(this.root, sha256.slice(0, 2), sha256);
  }

  /**
   * Streams `source` into the store. Throws TooLargeError (and keeps nothing) past
   * `maxBytes`. `inspect` sees the finished temporary file before it is published: throw
   * there to refuse the bytes.
   */
  async put(
    source: Readable | AsyncIterable<Uint8Array>,
    options: {
      readonly maxBytes: number;
      readonly what: string;
      readonly inspect?: (tmpPath: string, sha256: string, size: number) => Promise<void>;
    },
  ): Promise<StoredBlob> {
    await mkdir(this.tmp, { recursive: true });
    const tmpPath = join(this.tmp, randomUUID());
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > options.maxBytes) {
          done(new TooLargeError(options.what, options.maxBytes));
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(tmpPath, { mode: 0o640 }));
      const sha256 = hash.digest('hex');
      await options.inspect?.(tmpPath, sha256, size);
      const path = this.pathOf(sha256);
      await mkdir(join(this.root, sha256.slice(0, 2)), { recursive: true });
      try {
        await link(tmpPath, path);
      } catch (error) {
        // Already stored (the same bytes uploaded before or concurrently): keep that copy.
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      return { sha256, size, path };
    } finally {
      await rm(tmpPath, { force: true });
    }
  }

  /** Stores bytes already in memory. */
  async putBytes(bytes: Uint8Array, what: string): Promise<StoredBlob> {
    return this.put(Readable.from([bytes]), { maxBytes: Math.max(1, bytes.length), what });
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await stat(this.pathOf(sha256));
      return true;
    } catch {
      return false;
    }
  }

  /** The whole blob, after checking that it still hashes to its name. */
  async readVerified(sha256: string): Promise<Buffer> {
    const bytes = await readFile(this.pathOf(sha256));
    if (createHash('sha256').update(bytes).digest('hex') !== sha256)
      throw new BlobCorruptError(sha256);
    return bytes;
  }

  /** Hashes the stored file as it streams: for blobs too large to hold in memory. */
  async verify(sha256: string): Promise<void> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(this.pathOf(sha256)), async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) hash.update(chunk);
    });
    if (hash.digest('hex') !== sha256) throw new BlobCorruptError(sha256);
  }

  /** The stored file's length in bytes. */
  async size(sha256: string): Promise<number> {
    return (await stat(this.pathOf(sha256))).size;
  }

  /** A stream of the stored bytes (not verified: call `verify` first where it matters). */
  createReadStream(sha256: string): Readable {
    return createReadStream(this.pathOf(sha256));
  }
}
