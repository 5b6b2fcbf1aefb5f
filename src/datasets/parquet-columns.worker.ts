import { parentPort, workerData } from 'node:worker_threads';
import { BadInputError } from '../common/errors.js';
import {
  parquetColumnBytes,
  type FromParquetThread,
  type ParquetLimits,
  type ToParquetThread,
} from './parquet-columns.js';

/**
 * A thread converting one Parquet upload to its columnar file (parquet-threads.ts starts it):
 * each piece of the file is sent once the previous one was consumed.
 */
const { path, limits } = workerData as { path: string; limits: ParquetLimits };
const port = parentPort;
let more: (() => void) | undefined;
port?.on('message', (_message: ToParquetThread) => {
  more?.();
});

function send(message: FromParquetThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function convert(): Promise<void> {
  const pieces = parquetColumnBytes(path, limits, (at) => {
    send({ type: 'decoding', ...at });
  });
  for (;;) {
    const next = await pieces.next();
    if (next.done === true) {
      send({ type: 'done', summary: next.value });
      return;
    }
    const consumed = new Promise<void>((resolve) => {
      more = resolve;
    });
    send({ type: 'bytes', bytes: next.value }, [next.value.buffer as ArrayBuffer]);
    await consumed;
  }
}

convert().catch((error: unknown) => {
  if (error instanceof BadInputError)
    send({
      type: 'refused',
      field: error.field,
      message: error.message,
      details: { ...error.details },
    });
  else send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
});
