/** What a reader of a stored dataset asks for, and what it is given chunk by chunk. */
export interface DatasetReadRequest {
  /** Numeric columns, in the order of the model input's last dimension. */
  readonly features: readonly string[];
  /**
   * Further columns wanted as text (a label, protected attributes, an id): an evaluation reads
   * its label and groups here alongside the features. A CSV gives them as written; a dataset
   * stored as columns gives a text column as written and a numeric one as JavaScript prints
   * the number (`String(value)`: `1`, `0.5`, `1e-7`); a missing value is `''`.
   */
  readonly strings?: readonly string[];
  /** Rows per chunk (default 1024). */
  readonly chunkRows?: number;
}

export interface DatasetChunk {
  /** The data row (1-based, after the header) of the chunk's first row. */
  readonly firstRow: number;
  readonly rows: number;
  /** Row-major, `rows × features.length`; a fresh array per chunk, so it may be kept. */
  readonly features: Float32Array;
  /** Per requested string column, its `rows` values in row order. */
  readonly strings: Readonly<Record<string, readonly string[]>>;
}

export const DEFAULT_CHUNK_ROWS = 1024;
export const MAX_CHUNK_ROWS = 1 << 20;
