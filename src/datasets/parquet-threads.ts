import { Worker } from 'node:worker_threads';
import { BadInputError } from '../common/errors.js';
import {
  parquetColumnBytes,
  type FromParquetThread,
  type ParquetLimits,
  type ParquetProgress,
  type ParquetSummary,
  type ToParquetThread,
} from './parquet-columns.js';
import { parquetProblem } from './parquet-dataset.js';
import { ThreadInbox } from './thread-inbox.js';

/** How long a conversion may go without a word (a column chunk decoded, a piece written). */
export const PARQUET_STALL_MS = 30_000;

export interface ParquetColumns {
  /** The columnar file's bytes; BadInputError at the file's first problem. */
  readonly bytes: AsyncIterable<Uint8Array>;
  /** The dataset's rows and column types, once `bytes` has been read to its end. */
  summary(): ParquetSummary;
}

/**
 * Converts a stored Parquet upload to its columnar file on a thread of its own. Decoding
 * runs synchronously column chunk by column chunk, over bytes anyone may have crafted: on the
 * service's thread a large row group would stall every request for its duration, and a damaged
 * page header that sends a decoder round a loop would stall it for good. The thread is ended
 * when it reports nothing for PARQUET_STALL_MS, and the upload refused, naming the row group
 * and column it was decoding. From TypeScript sources (under Jest) there is no compiled worker
 * file, and the conversion runs in the calling thread; the tests that start the built service
 * exercise the thread.
 */
export function parquetColumns(path: string, limits: ParquetLimits): ParquetColumns {
  const result: { summary?: ParquetSummary } = {};
  const done = (summary: ParquetSummary): void => {
    result.summary = summary;
  };
  return {
    bytes: import.meta.url.endsWith('.ts')
      ? inThisThread(path, limits, done)
      : onAThread(path, limits, done),
    summary() {
      if (result.summary === undefined) throw new Error('the Parquet conversion has not finished');
      return result.summary;
    },
  };
}

async function* inThisThread(
  path: string,
  limits: ParquetLimits,
  done: (summary: ParquetSummary) => void,
): AsyncGenerator<Uint8Array> {
  done(yield* parquetColumnBytes(path, limits));
}

async function* onAThread(
  path: string,
  limits: ParquetLimits,
  done: (summary: ParquetSummary) => void,
): AsyncGenerator<Uint8Array> {
  const worker = new Worker(new URL('./parquet-columns.worker.js', import.meta.url), {
    workerData: { path, limits },
  });
  const inbox = new ThreadInbox<FromParquetThread>(worker, 'Parquet conversion');
  let at: ParquetProgress | undefined;
  try {
    for (;;) {
      const message = await inbox.next(PARQUET_STALL_MS).catch((error: unknown) => {
        throw problemOf(error, at);
      });
      if (message === undefined)
        throw parquetProblem(
          at ?? {},
          `decoding made no progress for ${PARQUET_STALL_MS / 1000} s and was stopped (a damaged file?)`,
        );
      switch (message.type) {
        case 'decoding':
          at = { rowGroup: message.rowGroup, column: message.column };
          break;
        case 'bytes': {
          yield message.bytes;
          const more: ToParquetThread = { type: 'more' };
          worker.postMessage(more);
          break;
        }
        case 'done':
          done(message.summary);
          return;
        case 'refused':
          throw new BadInputError(
            message.field,
            message.message.slice(message.field.length + 2),
            message.details,
          );
        case 'failed':
          throw new Error(`converting the Parquet upload failed: ${message.message}`);
      }
    }
  } finally {
    await worker.terminate();
  }
}

/** A failure of the conversion thread, in the words of the upload's checks where it has them. */
function problemOf(error: unknown, at: ParquetProgress | undefined): unknown {
  if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY')
    return parquetProblem(
      at ?? {},
      'decoding needed more memory than a conversion may have (row groups too large, or a damaged file)',
    );
  return error;
}
