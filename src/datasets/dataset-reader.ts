import { createHash } from 'node:crypto';
import { BlobCorruptError, type BlobStore } from '../blobs/blob-store.js';
import { BadInputError } from '../common/errors.js';
import { csvProblem, parseNumber } from './csv-format.js';
import { csvRecordBatches, CsvRecordError } from './fast-csv-records.js';
import type { DatasetColumn } from './dataset.entity.js';

export interface DatasetReadRequest {
  /** Numeric columns, in the order of the model input's last dimension. */
  readonly features: readonly string[];
  /**
   * Further columns wanted as they are written (a label, protected attributes, an id): an
   * evaluation reads its label and groups here alongside the features.
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
const MAX_CHUNK_ROWS = 1 << 20;

/**
 * Checks a read against the columns recorded at upload, so that a job or an evaluation is
 * refused when it is requested rather than when its reader reaches the first row: every
 * requested column exists and every feature column was inferred numeric. `field` names the
 * caller's argument that holds the column names.
 */
export function checkReadable(
  dataset: { readonly name: string; readonly columns: readonly DatasetColumn[] },
  request: Pick<DatasetReadRequest, 'features' | 'strings'>,
  field = 'featureColumns',
): void {
  const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
  for (const name of [...request.features, ...(request.strings ?? [])]) {
    if (!types.has(name))
      throw new BadInputError(
        field,
        `dataset ${dataset.name} has no column ${JSON.stringify(name)}`,
        {
          column: name,
        },
      );
  }
  for (const name of request.features) {
    if (types.get(name) !== 'number')
      throw new BadInputError(
        field,
        `column ${JSON.stringify(name)} of dataset ${dataset.name} is not numeric (some value is not a number, or it has none), so it cannot be a feature`,
        { column: name },
      );
  }
}

/**
 * A stored dataset, chunk by chunk, in bounded memory (one chunk and the parser's buffers,
 * whatever the file size). The bytes are hashed as they stream and the last chunk is held back
 * until the digest matches the dataset's, so a consumer never completes a run over a file
 * that is not the one registered: it gets BlobCorruptError instead, and must treat it (like
 * any error from here) as failing the whole run.
 */
export async function* readDatasetChunks(
  blobs: BlobStore,
  sha256: string,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  const hash = createHash('sha256');
  const file = blobs.createReadStream(sha256);
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of file as AsyncIterable<Buffer>) {
      hash.update(chunk);
      yield chunk;
    }
  }
  let held: DatasetChunk | undefined;
  try {
    for await (const chunk of readCsvChunks(hashed(), request)) {
      if (held) yield held;
      held = chunk;
    }
  } finally {
    file.destroy();
  }
  if (hash.digest('hex') !== sha256) throw new BlobCorruptError(sha256);
  if (held) yield held;
}

/**
 * The parsing behind `readDatasetChunks`, for any byte source. Errors name the data row
 * (1-based, after the header) and column: a feature value that is empty or not a finite number, a row of the wrong width,
 * a requested column the header does not have.
 */
export async function* readCsvChunks(
  source: AsyncIterable<Uint8Array>,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  const chunkRows = request.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > MAX_CHUNK_ROWS)
    throw new Error(`chunkRows must be an integer from 1 to ${MAX_CHUNK_ROWS}`);
  const featureNames = request.features;
  const stringNames = request.strings ?? [];
  const width = featureNames.length;

  let header: string[] | undefined;
  let featureAt: number[] = [];
  let stringAt: number[] = [];
  let row = 0;
  let filled = 0;
  let features = new Float32Array(chunkRows * width);
  let strings = stringNames.map((): string[] => []);
  const chunk = (rows: number): DatasetChunk => ({
    firstRow: row - rows + 1,
    rows,
    features: rows === chunkRows ? features : features.slice(0, rows * width),
    strings: Object.fromEntries(stringNames.map((name, k) => [name, strings[k] ?? []])),
  });

  try {
    for await (const batch of csvRecordBatches(source))
      for (const record of batch) {
        if (header === undefined) {
          header = withoutBom(record);
          featureAt = featureNames.map((name) => columnIndex(record, name));
          stringAt = stringNames.map((name) => columnIndex(record, name));
          continue;
        }
        row++;
        if (record.length !== header.length)
          throw csvProblem(
            { row },
            `the row has ${record.length} values, the header has ${header.length} columns`,
          );
        const base = filled * width;
        for (let j = 0; j < width; j++) {
          const text = record[featureAt[j] ?? -1] ?? '';
          const value = parseNumber(text);
          if (value === undefined)
            throw csvProblem(
              { row, column: featureNames[j] ?? '' },
              text.trim() === ''
                ? 'the value is empty; a feature column needs a number in every row'
                : `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is not a number`,
            );
          features[base + j] = value;
        }
        for (let k = 0; k < stringAt.length; k++) strings[k]?.push(record[stringAt[k] ?? -1] ?? '');
        filled++;
        if (filled === chunkRows) {
          yield chunk(filled);
          filled = 0;
          features = new Float32Array(chunkRows * width);
          strings = stringNames.map((): string[] => []);
        }
      }
  } catch (error) {
    if (error instanceof CsvRecordError) throw recordProblem(error, header);
    throw error;
  }
  if (header === undefined)
    throw new BadInputError('dataset', 'is empty: a header line naming the columns is required');
  if (filled > 0) yield chunk(filled);
}

/** A UTF-8 byte order mark is not part of the first column's name. */
function withoutBom(header: string[]): string[] {
  const [first, ...rest] = header;
  return first?.startsWith('\ufeff') === true ? [first.slice(1), ...rest] : header;
}

/** papaparse's problems in the words of the upload checks (csv-format.ts). */
function recordProblem(error: CsvRecordError, header: readonly string[] | undefined): Error {
  const row = error.problem.record;
  const at = header === undefined || row === 0 ? {} : { row };
  switch (error.problem.code) {
    case 'MissingQuotes':
      return csvProblem(
        { ...at, column: header?.at(-1) },
        'a quoted value is never closed (the file ends inside it)',
      );
    case 'InvalidQuotes':
      return csvProblem(
        at,
        'a closing quote must be followed by a comma or the end of the line; write a quote inside a quoted value as two quotes ("")',
      );
    default:
      return csvProblem(at, error.problem.message);
  }
}

function columnIndex(header: readonly string[], name: string): number {
  const index = header.indexOf(name);
  if (index < 0)
    throw new BadInputError('dataset', `has no column ${JSON.stringify(name)}`, { column: name });
  return index;
}
