import { columnarFileBytes } from './columnar-file.js';
import type { DatasetColumn } from './dataset.entity.js';
import { ParquetDataset } from './parquet-dataset.js';

export interface ParquetLimits {
  readonly maxRows: number;
}

export interface ParquetSummary {
  readonly rows: number;
  readonly columns: DatasetColumn[];
}

/** What the conversion is doing: the column chunk it is decoding. */
export interface ParquetProgress {
  readonly rowGroup: number;
  readonly column: string;
}

/** Pieces of the columnar file sent at once: few messages, little held. */
const PIECE_BYTES = 4 << 20;

/**
 * A stored Parquet upload converted to its columnar file (columnar-file.ts): the file's bytes
 * in pieces of about 4 MiB, then, as the generator's return value, the dataset's rows and
 * column types. Throws BadInputError at the first problem of the file (parquet-dataset.ts).
 */
export async function* parquetColumnBytes(
  path: string,
  limits: ParquetLimits,
  decoding: (at: ParquetProgress) => void = () => undefined,
): AsyncGenerator<Uint8Array, ParquetSummary> {
  const parquet = await ParquetDataset.open(path, limits);
  try {
    let parts: Uint8Array[] = [];
    let size = 0;
    for await (const part of columnarFileBytes(parquet.layout, parquet.batches(decoding))) {
      parts.push(part);
      size += part.length;
      if (size >= PIECE_BYTES) {
        yield joined(parts, size);
        parts = [];
        size = 0;
      }
    }
    if (size > 0) yield joined(parts, size);
    return { rows: parquet.rows, columns: parquet.columns() };
  } finally {
    await parquet.close();
  }
}

/** One array that owns its buffer, so that a thread can hand the buffer over. */
function joined(parts: readonly Uint8Array[], size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** The conversion thread's messages (parquet-columns.worker.ts, parquet-threads.ts). */
export type FromParquetThread =
  | ({ readonly type: 'decoding' } & ParquetProgress)
  | { readonly type: 'bytes'; readonly bytes: Uint8Array }
  | { readonly type: 'done'; readonly summary: ParquetSummary }
  | {
      readonly type: 'refused';
      readonly field: string;
      readonly message: string;
      readonly details: Record<string, unknown>;
    }
  | { readonly type: 'failed'; readonly message: string };

/** Sent after each `bytes` message, once its bytes are consumed: the next piece may come. */
export interface ToParquetThread {
  readonly type: 'more';
}
