import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { BlobCorruptError } from '../blobs/blob-store.js';
import type { DatasetChunk } from './dataset-chunks.js';

/**
 * The chunks `parse` makes of a stored file, checked against the file's name (its SHA-256):
 * the bytes are hashed as the parser pulls them and the last chunk is held back until the
 * digest is known. A file altered on disk ends the read with BlobCorruptError, also when the
 * alteration broke the parse first: that is the fault to report, not what the altered bytes
 * happen to look like.
 */
export async function* verifiedChunks(
  stream: Readable,
  sha256: string,
  parse: (bytes: AsyncIterable<Uint8Array>) => AsyncIterable<DatasetChunk>,
): AsyncGenerator<DatasetChunk> {
  const file = new HashedFile(stream);
  let held: DatasetChunk | undefined;
  try {
    try {
      for await (const chunk of parse(file.bytes())) {
        if (held) yield held;
        held = chunk;
      }
    } catch (error) {
      if (!(await file.matches(sha256))) throw new BlobCorruptError(sha256);
      throw error;
    }
    if (!(await file.matches(sha256))) throw new BlobCorruptError(sha256);
  } finally {
    file.close();
  }
  if (held) yield held;
}

/**
 * A stored file's bytes, hashed as a parser pulls them. A parser that stops pulling (its end
 * of stream reached before the end of the file, or a failure) leaves the rest to `matches`,
 * which reads and hashes it.
 */
class HashedFile {
  private readonly hash = createHash('sha256');
  private readonly chunks: AsyncIterator<Buffer>;

  constructor(private readonly stream: Readable) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  bytes(): AsyncIterable<Uint8Array> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => this.next(),
        // A parser's early return must not close the file: `matches` still reads the rest.
        return: () => Promise.resolve({ done: true, value: undefined }),
      }),
    };
  }

  async matches(sha256: string): Promise<boolean> {
    while (!(await this.next()).done);
    return this.hash.digest('hex') === sha256;
  }

  close(): void {
    this.stream.destroy();
  }

  private async next(): Promise<IteratorResult<Uint8Array, undefined>> {
    const result = await this.chunks.next();
    if (result.done === true) return { done: true, value: undefined };
    this.hash.update(result.value);
    return result;
  }
}

/** The bytes after the first `skip`. */
export async function* after(
  skip: number,
  bytes: AsyncIterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  let left = skip;
  for await (const chunk of bytes) {
    if (left >= chunk.length) {
      left -= chunk.length;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}
