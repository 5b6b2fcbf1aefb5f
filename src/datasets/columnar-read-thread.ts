import { createReadStream } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { BlobCorruptError } from '../blobs/blob-store.js';
import { BadInputError } from '../common/errors.js';
import { IPC_FILE_PREFIX_BYTES, readColumnarChunks } from './columnar-file.js';
import type { DatasetChunk, DatasetReadRequest } from './dataset-chunks.js';
import { ThreadInbox } from './thread-inbox.js';
import { after, verifiedChunks } from './verified-read.js';

/** Chunks the reading thread may have sent ahead of the one being consumed. */
const CHUNKS_AHEAD = 2;

/** A stored columnar file's chunks, its digest checked (verified-read.ts), in this thread. */
export function readStoredColumns(
  path: string,
  sha256: string,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  return verifiedChunks(createReadStream(path), sha256, (bytes) =>
    readColumnarChunks(after(IPC_FILE_PREFIX_BYTES, bytes), request),
  );
}

/** A chunk as it crosses from the reading thread: group dictionaries by what each one added. */
export interface SentChunk {
  readonly firstRow: number;
  readonly rows: number;
  readonly features: Float32Array;
  readonly strings: Readonly<Record<string, readonly string[]>>;
  readonly numbers: Readonly<Record<string, Float64Array>>;
  readonly codes: Readonly<Record<string, Int32Array>>;
  readonly added: Readonly<Record<string, readonly string[]>>;
}

export type FromReadThread =
  | { readonly type: 'chunk'; readonly chunk: SentChunk }
  | { readonly type: 'end' }
  | {
      readonly type: 'refused';
      readonly field: string;
      readonly message: string;
      readonly details: Record<string, unknown>;
    }
  | { readonly type: 'corrupt'; readonly sha256: string }
  | { readonly type: 'failed'; readonly message: string };

export interface ToReadThread {
  readonly type: 'more';
}

/**
 * A stored columnar file's chunks, read on a thread of its own. Reading a file of hundreds of
 * megabytes allocates as much again in short-lived buffers (the file's pieces, each record
 * batch joined from them); on the service's thread, with its larger heap, each collection they
 * force costs tens of milliseconds, which made reading several times slower than the parsing
 * itself. On its own thread the reading also overlaps the consumer's work (ONNX Runtime scoring
 * the previous chunk). The chunks' arrays are moved, not copied. From TypeScript sources (under
 * Jest) there is no compiled worker file, and the file is read in the calling thread; the tests
 * that start the built service exercise the thread.
 */
export function readColumnsOnAThread(
  path: string,
  sha256: string,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  return import.meta.url.endsWith('.ts')
    ? readStoredColumns(path, sha256, request)
    : onAThread(path, sha256, request);
}

async function* onAThread(
  path: string,
  sha256: string,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  const worker = new Worker(new URL('./columnar-read.worker.js', import.meta.url), {
    workerData: { path, sha256, request, ahead: CHUNKS_AHEAD },
  });
  const inbox = new ThreadInbox<FromReadThread>(worker, 'dataset reading');
  const dictionaries = new Map((request.groups ?? []).map((name) => [name, [] as string[]]));
  try {
    for (;;) {
      const message = await inbox.next();
      switch (message.type) {
        case 'chunk': {
          yield received(message.chunk, dictionaries);
          const more: ToReadThread = { type: 'more' };
          worker.postMessage(more);
          break;
        }
        case 'end':
          return;
        case 'refused':
          throw new BadInputError(
            message.field,
            message.message.slice(message.field.length + 2),
            message.details,
          );
        case 'corrupt':
          throw new BlobCorruptError(message.sha256);
        case 'failed':
          throw new Error(`reading the dataset's columns failed: ${message.message}`);
      }
    }
  } finally {
    await worker.terminate();
  }
}

function received(sent: SentChunk, dictionaries: Map<string, string[]>): DatasetChunk {
  const groups = Object.fromEntries(
    [...dictionaries].map(([name, dictionary]) => {
      for (const value of sent.added[name] ?? []) dictionary.push(value);
      return [name, { codes: sent.codes[name] ?? new Int32Array(0), dictionary }];
    }),
  );
  return {
    firstRow: sent.firstRow,
    rows: sent.rows,
    features: sent.features,
    strings: sent.strings,
    numbers: sent.numbers,
    groups,
  };
}
