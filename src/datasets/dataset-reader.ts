import type { BlobStore } from '../blobs/blob-store.js';
import { BadInputError } from '../common/errors.js';
import { readColumnsOnAThread } from './columnar-read-thread.js';
import { csvProblem, parseNumber } from './csv-format.js';
import { ChunkBuffers, type DatasetChunk, type DatasetReadRequest } from './dataset-chunks.js';
import { csvRecordBatches, CsvRecordError } from './fast-csv-records.js';
import { verifiedChunks } from './verified-read.js';
import type { DatasetColumn } from './dataset.entity.js';

export type { DatasetChunk, DatasetReadRequest } from './dataset-chunks.js';

/**
 * Checks a read against the columns recorded at upload, so that a job or an evaluation is
 * refused when it is requested rather than when its reader reaches the first row: every
 * requested column exists and every feature column was inferred numeric. `field` names the
 * caller's argument that holds the column names.
 */
export function checkReadable(
  dataset: { readonly name: string; readonly columns: readonly DatasetColumn[] },
  request: Pick<DatasetReadRequest, 'features' | 'strings' | 'numbers' | 'groups'>,
  field = 'featureColumns',
): void {
  const types = new Map(dataset.columns.map((c) => [c.name, c.type]));
  for (const name of [
    ...request.features,
    ...(request.strings ?? []),
    ...(request.numbers ?? []),
    ...(request.groups ?? []),
  ]) {
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

/** What the reader needs of a dataset's row: where its bytes are. */
export interface StoredDataset {
  /** The uploaded file (CSV or Parquet), the dataset's identity. */
  readonly sha256: string;
  /**
   * Its columns as an Arrow IPC file (columnar-file.ts); null for a CSV dataset uploaded
   * before datasets were stored as columns, which is read from its CSV.
   */
  readonly columnarSha256: string | null;
}

/**
 * A stored dataset, chunk by chunk, in bounded memory (a few chunks and one record batch or
 * the CSV parser's buffers, whatever the file size): from its columnar file when it has one
 * (on a thread of its own, see columnar-read-thread.ts), else from its CSV. The bytes read are
 * hashed as they stream and the last chunk is held back until the digest matches the blob's
 * name, so a consumer never completes a run over a file that is not the one registered: it
 * gets BlobCorruptError instead, and must treat it (like any error from here) as failing the
 * whole run.
 */
export function readDatasetChunks(
  blobs: BlobStore,
  dataset: StoredDataset,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  return dataset.columnarSha256 === null
    ? verifiedChunks(blobs.createReadStream(dataset.sha256), dataset.sha256, (bytes) =>
        readCsvChunks(bytes, request),
      )
    : readColumnsOnAThread(blobs.pathOf(dataset.columnarSha256), dataset.columnarSha256, request);
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
  const buffers = new ChunkBuffers(request);
  const { chunkRows, width } = buffers;
  const featureNames = request.features;
  const stringNames = request.strings ?? [];
  const numberNames = request.numbers ?? [];
  const groupNames = request.groups ?? [];

  let header: string[] | undefined;
  let featureAt: number[] = [];
  let stringAt: number[] = [];
  let numberAt: number[] = [];
  let groupAt: number[] = [];
  let row = 0;
  let filled = 0;

  try {
    for await (const batch of csvRecordBatches(source))
      for (const record of batch) {
        if (header === undefined) {
          header = withoutBom(record);
          featureAt = featureNames.map((name) => columnIndex(record, name));
          stringAt = stringNames.map((name) => columnIndex(record, name));
          numberAt = numberNames.map((name) => columnIndex(record, name));
          groupAt = groupNames.map((name) => columnIndex(record, name));
          continue;
        }
        row++;
        if (record.length !== header.length)
          throw csvProblem(
            { row },
            `the row has ${record.length} values, the header has ${header.length} columns`,
          );
        const { features } = buffers;
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
        for (let k = 0; k < stringAt.length; k++)
          buffers.strings[k]?.push(record[stringAt[k] ?? -1] ?? '');
        for (let k = 0; k < numberAt.length; k++) {
          const numbers = buffers.numbers[k];
          if (numbers !== undefined)
            numbers[filled] = parseNumber(record[numberAt[k] ?? -1] ?? '') ?? Number.NaN;
        }
        for (let k = 0; k < groupAt.length; k++) {
          const codes = buffers.codes[k];
          const dictionary = buffers.dictionaries[k];
          if (codes !== undefined && dictionary !== undefined)
            codes[filled] = dictionary.code(record[groupAt[k] ?? -1] ?? '');
        }
        filled++;
        if (filled === chunkRows) {
          yield buffers.take(filled, row - filled + 1);
          filled = 0;
        }
      }
  } catch (error) {
    if (error instanceof CsvRecordError) throw recordProblem(error, header);
    throw error;
  }
  if (header === undefined)
    throw new BadInputError('dataset', 'is empty: a header line naming the columns is required');
  if (filled > 0) yield buffers.take(filled, row - filled + 1);
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
