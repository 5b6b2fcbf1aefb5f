import { parentPort, workerData } from 'node:worker_threads';
import { BlobCorruptError } from '../blobs/blob-store.js';
import { BadInputError } from '../common/errors.js';
import {
  readStoredColumns,
  type FromReadThread,
  type SentChunk,
  type ToReadThread,
} from './columnar-read-thread.js';
import type { DatasetChunk, DatasetReadRequest } from './dataset-chunks.js';

/**
 * A thread reading one stored columnar file (columnar-read-thread.ts starts it): it sends up
 * to `ahead` chunks before the first is consumed, then one for each consumed.
 */
const { path, sha256, request, ahead } = workerData as {
  path: string;
  sha256: string;
  request: DatasetReadRequest;
  ahead: number;
};
const port = parentPort;
let credit = ahead;
let more: (() => void) | undefined;
port?.on('message', (_message: ToReadThread) => {
  credit++;
  more?.();
});

function send(message: FromReadThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

/** Values each group dictionary held when its last chunk was sent. */
const sentValues = new Map<string, number>();

function outgoing(chunk: DatasetChunk): { chunk: SentChunk; transfer: ArrayBuffer[] } {
  const codes: Record<string, Int32Array> = {};
  const added: Record<string, readonly string[]> = {};
  for (const [name, group] of Object.entries(chunk.groups)) {
    const before = sentValues.get(name) ?? 0;
    codes[name] = group.codes;
    added[name] = group.dictionary.slice(before);
    sentValues.set(name, group.dictionary.length);
  }
  const arrays = [chunk.features, ...Object.values(chunk.numbers), ...Object.values(codes)];
  return {
    chunk: {
      firstRow: chunk.firstRow,
      rows: chunk.rows,
      features: chunk.features,
      strings: chunk.strings,
      numbers: chunk.numbers,
      codes,
      added,
    },
    // Each array has a buffer of its own (dataset-chunks.ts), so each can be moved.
    transfer: arrays.map((a) => a.buffer as ArrayBuffer),
  };
}

async function read(): Promise<void> {
  for await (const chunk of readStoredColumns(path, sha256, request)) {
    while (credit === 0)
      await new Promise<void>((resolve) => {
        more = resolve;
      });
    credit--;
    const { chunk: sent, transfer } = outgoing(chunk);
    send({ type: 'chunk', chunk: sent }, transfer);
  }
  send({ type: 'end' });
}

read().catch((error: unknown) => {
  if (error instanceof BadInputError)
    send({
      type: 'refused',
      field: error.field,
      message: error.message,
      details: { ...error.details },
    });
  else if (error instanceof BlobCorruptError) send({ type: 'corrupt', sha256: error.sha256 });
  else send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
});
