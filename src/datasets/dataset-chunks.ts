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
  /**
   * Columns wanted as numbers (a label): a Float64Array per chunk, NaN where the value is
   * missing or is text that is not a number. Read straight from a numeric column's values.
   */
  readonly numbers?: readonly string[];
  /**
   * Columns wanted as group codes (protected attributes): each value, as `strings` would give
   * it, coded by its index in the column's dictionary. A group column stored dictionary-encoded
   * is read without making a string a row.
   */
  readonly groups?: readonly string[];
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
  /** Per requested number column, its `rows` values. */
  readonly numbers: Readonly<Record<string, Float64Array>>;
  /** Per requested group column, its `rows` codes. */
  readonly groups: Readonly<Record<string, GroupCodes>>;
}

export interface GroupCodes {
  /** Indexes into `dictionary`. */
  readonly codes: Int32Array;
  /**
   * The column's values in order of first appearance: one array for the whole read, growing
   * as values appear, so the codes of an earlier chunk stay valid.
   */
  readonly dictionary: readonly string[];
}

/** Codes values by first appearance, for `GroupCodes`. */
export class GroupDictionary {
  readonly values: string[] = [];
  private readonly index = new Map<string, number>();

  code(value: string): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.values.push(value);
      this.index.set(value, code);
    }
    return code;
  }
}

export const DEFAULT_CHUNK_ROWS = 1024;
export const MAX_CHUNK_ROWS = 1 << 20;

/**
 * The arrays of the chunk being filled, for a reader of any format: it writes rows into them,
 * then `take` hands them over as a chunk and starts fresh ones (a consumer may keep a chunk).
 */
export class ChunkBuffers {
  readonly width: number;
  readonly chunkRows: number;
  features!: Float32Array;
  strings!: string[][];
  numbers!: Float64Array[];
  codes!: Int32Array[];
  readonly dictionaries: readonly GroupDictionary[];

  constructor(private readonly request: DatasetReadRequest) {
    const chunkRows = request.chunkRows ?? DEFAULT_CHUNK_ROWS;
    if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS)
      throw new Error(`chunkRows must be an integer from 1 to ${MAX_CHUNK_ROWS}`);
    this.chunkRows = chunkRows;
    this.width = request.features.length;
    this.dictionaries = (request.groups ?? []).map(() => new GroupDictionary());
    this.fresh();
  }

  /** The first `rows` rows filled, as a chunk whose first row is data row `firstRow`. */
  take(rows: number, firstRow: number): DatasetChunk {
    const whole = rows === this.chunkRows;
    const cut = <T extends Float32Array | Float64Array | Int32Array>(a: T, size: number): T =>
      (whole ? a : a.slice(0, size)) as T;
    const chunk: DatasetChunk = {
      firstRow,
      rows,
      features: cut(this.features, rows * this.width),
      strings: Object.fromEntries(
        (this.request.strings ?? []).map((name, k) => [name, this.strings[k] ?? []]),
      ),
      numbers: Object.fromEntries(
        (this.request.numbers ?? []).map((name, k) => [
          name,
          cut(this.numbers[k] ?? new Float64Array(0), rows),
        ]),
      ),
      groups: Object.fromEntries(
        (this.request.groups ?? []).map((name, k) => [
          name,
          {
            codes: cut(this.codes[k] ?? new Int32Array(0), rows),
            dictionary: this.dictionaries[k]?.values ?? [],
          },
        ]),
      ),
    };
    this.fresh();
    return chunk;
  }

  private fresh(): void {
    const rows = this.chunkRows;
    this.features = new Float32Array(rows * this.width);
    this.strings = (this.request.strings ?? []).map((): string[] => []);
    this.numbers = (this.request.numbers ?? []).map(() => new Float64Array(rows));
    this.codes = (this.request.groups ?? []).map(() => new Int32Array(rows));
  }
}
