import { open, type FileHandle } from 'node:fs/promises';
import {
  parquetMetadata,
  parquetRead,
  parquetSchema,
  type AsyncBuffer,
  type Compressors,
  type DecodedArray,
  type FileMetaData,
  type SchemaElement,
  type SchemaTree,
} from 'hyparquet';
import { compressors as allCompressors, decompressZstd } from 'hyparquet-compressors';
import { BadInputError, DomainError } from '../common/errors.js';
import type { ColumnBatch, ColumnSpec, ColumnValues } from './columnar-file.js';
import type { DatasetColumn } from './dataset.entity.js';
import {
  classify,
  numberOf,
  stringFromBytes,
  textOf,
  ValueProblem,
  type ParquetDecoding,
} from './parquet-types.js';

/** Where in a Parquet file a problem is: row groups count from 0, as Parquet tools count them. */
export interface ParquetPosition {
  readonly rowGroup?: number;
  /** The data row, 1-based, as Gatehouse names rows everywhere. */
  readonly row?: number;
  readonly column?: string;
}

export function parquetProblem(position: ParquetPosition, reason: string): BadInputError {
  const where = [
    position.rowGroup === undefined ? undefined : `row group ${position.rowGroup}`,
    position.row === undefined ? undefined : `row ${position.row}`,
    position.column === undefined ? undefined : `column ${JSON.stringify(position.column)}`,
  ].filter((p) => p !== undefined);
  const details: Record<string, unknown> = {};
  if (position.rowGroup !== undefined) details['rowGroup'] = position.rowGroup;
  if (position.row !== undefined) details['row'] = position.row;
  if (position.column !== undefined) details['column'] = position.column;
  return new BadInputError(
    'dataset',
    where.length === 0 ? reason : `${where.join(', ')}: ${reason}`,
    details,
  );
}

/** Magic, footer length, magic: the smallest a Parquet file can be. */
const MIN_FILE_BYTES = 12;
/** A footer this large would be a schema of hundreds of thousands of columns. */
const MAX_FOOTER_BYTES = 64 << 20;
/**
 * A row group is read whole before its rows are written as columns: this many values (512 MiB
 * as doubles) is the most one may hold. Writers' defaults (pyarrow's 1,048,576 rows, Spark's
 * 128 MiB) stay below it for datasets of up to 64 columns.
 */
export const MAX_ROW_GROUP_VALUES = 1 << 26;
/** No page of a file Gatehouse takes decompresses to more than this. */
const MAX_PAGE_BYTES = 1 << 28;

/**
 * The codecs of hyparquet-compressors, each refusing a page whose header claims more than
 * MAX_PAGE_BYTES (a decompression bomb needs only a few bytes); zstd is given the header's
 * size as its output, so a frame that claims more cannot allocate it.
 */
const COMPRESSORS: Compressors = Object.fromEntries(
  Object.entries({
    ...allCompressors,
    ZSTD: (input: Uint8Array, length: number) => decompressZstd(input, new Uint8Array(length)),
  }).map(([codec, decompress]) => [
    codec,
    (input: Uint8Array, length: number): Uint8Array => {
      if (length > MAX_PAGE_BYTES)
        throw new ValueProblem(
          `a page claims ${length} bytes once decompressed, more than the ${MAX_PAGE_BYTES} Gatehouse takes`,
        );
      return decompress(input, length);
    },
  ]),
);

interface ColumnPlan {
  readonly name: string;
  readonly decoding: ParquetDecoding;
}

/**
 * A Parquet upload, read from the stored file: its footer checked when it is opened (magic,
 * schema, row counts), then its row groups one at a time, each column decoded by hyparquet
 * and checked value by value. Memory holds one row group's columns (see MAX_ROW_GROUP_VALUES),
 * never the file.
 */
export class ParquetDataset {
  private readonly plans: ColumnPlan[];
  private readonly filled: boolean[];

  private constructor(
    private readonly file: AsyncBuffer,
    private readonly handle: FileHandle,
    private readonly metadata: FileMetaData,
    columns: ColumnPlan[],
    readonly rows: number,
  ) {
    this.plans = columns;
    this.filled = columns.map(() => false);
  }

  static async open(path: string, limits: { readonly maxRows: number }): Promise<ParquetDataset> {
    const handle = await open(path, 'r');
    try {
      const file = fileBuffer(handle, (await handle.stat()).size);
      const metadata = await readFooter(file);
      const { plans, patched } = planColumns(metadata);
      const rows = checkRowGroups(metadata, plans.length, limits.maxRows);
      return new ParquetDataset(file, handle, patched, plans, rows);
    } catch (error) {
      await handle.close();
      // A footer that decodes into something other than Parquet metadata (the wrong types
      // where numbers or lists should be) fails wherever it is first looked at.
      if (error instanceof DomainError) throw error;
      throw parquetProblem(
        {},
        `is not a Parquet file: its footer does not describe one (${messageOf(error)})`,
      );
    }
  }

  get layout(): ColumnSpec[] {
    return this.plans.map((plan) => ({ name: plan.name, kind: plan.decoding.kind }));
  }

  /**
   * The column types, once `batches` has read every row: a numeric column is `number` when it
   * has at least one value, as a CSV column is.
   */
  columns(): DatasetColumn[] {
    return this.plans.map((plan, j) => ({
      name: plan.name,
      type: plan.decoding.kind === 'number' && this.filled[j] === true ? 'number' : 'string',
    }));
  }

  /**
   * Each row group's columns, checked; the first problem stops the read. `decoding` is told
   * of each column chunk before it is decoded.
   */
  async *batches(
    decoding: (at: { rowGroup: number; column: string }) => void = () => undefined,
  ): AsyncGenerator<ColumnBatch> {
    let start = 0;
    for (const [group, rowGroup] of this.metadata.row_groups.entries()) {
      const rows = Number(rowGroup.num_rows);
      const columns: ColumnValues[] = [];
      for (const [j, plan] of this.plans.entries()) {
        decoding({ rowGroup: group, column: plan.name });
        columns.push(await this.readColumn(plan, j, group, start, rows));
      }
      yield { rows, columns };
      start += rows;
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }

  private async readColumn(
    plan: ColumnPlan,
    index: number,
    group: number,
    start: number,
    rows: number,
  ): Promise<ColumnValues> {
    const pieces: { rowStart: number; data: DecodedArray }[] = [];
    try {
      await parquetRead({
        file: this.file,
        metadata: this.metadata,
        columns: [plan.name],
        rowStart: start,
        rowEnd: start + rows,
        compressors: COMPRESSORS,
        // Every text column is marked UTF8 in the schema hyparquet is given (planColumns).
        utf8: false,
        geoparquet: false,
        parsers: { stringFromBytes, timestampFromNanoseconds: int96Text },
        onChunk: (chunk) => {
          pieces.push({ rowStart: chunk.rowStart, data: chunk.columnData });
        },
      });
    } catch (error) {
      throw parquetProblem(
        { rowGroup: group, column: plan.name },
        error instanceof ValueProblem ? error.message : `cannot be decoded (${messageOf(error)})`,
      );
    }
    const at = (i: number): ParquetPosition => ({
      rowGroup: group,
      row: start + i + 1,
      column: plan.name,
    });
    const { decoding } = plan;
    let count = 0;
    if (decoding.kind === 'number') {
      const values = new Float64Array(rows);
      let valid: Uint8Array | null = null;
      for (const piece of pieces)
        for (let k = 0; k < piece.data.length; k++) {
          const i = piece.rowStart - start + k;
          if (i < 0 || i >= rows) continue;
          let value: number | null;
          try {
            value = numberOf(decoding, piece.data[k]);
          } catch (error) {
            throw error instanceof ValueProblem ? parquetProblem(at(i), error.message) : error;
          }
          count++;
          if (value === null) {
            valid ??= new Uint8Array(rows).fill(1);
            valid[i] = 0;
          } else {
            values[i] = value;
            this.filled[index] = true;
          }
        }
      this.checkCount(count, rows, group, plan.name);
      return { kind: 'number', values, valid };
    }
    const values = new Array<string | null>(rows).fill(null);
    for (const piece of pieces)
      for (let k = 0; k < piece.data.length; k++) {
        const i = piece.rowStart - start + k;
        if (i < 0 || i >= rows) continue;
        try {
          values[i] = textOf(decoding, piece.data[k]);
        } catch (error) {
          throw error instanceof ValueProblem ? parquetProblem(at(i), error.message) : error;
        }
        count++;
      }
    this.checkCount(count, rows, group, plan.name);
    return { kind: 'string', values };
  }

  private checkCount(count: number, rows: number, group: number, column: string): void {
    if (count !== rows)
      throw parquetProblem(
        { rowGroup: group, column },
        `has ${count} values where the row group has ${rows} rows (a damaged file)`,
      );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function int96Text(nanos: bigint): string {
  return textOf({ kind: 'string', from: 'timestamp', unit: 'NANOS', utc: true }, nanos) ?? '';
}

/**
 * The stored file as hyparquet reads it: slices read from disk when asked for, so only the
 * footer and the column chunk being decoded are ever in memory.
 */
function fileBuffer(handle: FileHandle, size: number): AsyncBuffer {
  return {
    byteLength: size,
    slice(start: number, end = size): Promise<ArrayBuffer> {
      const read = readRange(handle, size, start, end);
      // hyparquet reads ahead the ranges a plan names and may never look at one of them again
      // (a damaged footer's range, say): its failure must not go unhandled. Whoever awaits
      // the range still gets it.
      read.catch(() => undefined);
      return read;
    },
  };
}

async function readRange(
  handle: FileHandle,
  size: number,
  start: number,
  end: number,
): Promise<ArrayBuffer> {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end))
    throw new ValueProblem('the footer gives no valid place for the data (a damaged file)');
  if (start < 0 || end > size)
    throw new ValueProblem(
      `the footer places data at bytes ${start} to ${end}, outside the file's ${size} bytes (a damaged or truncated file)`,
    );
  const bytes = new Uint8Array(Math.max(0, end - start));
  let read = 0;
  while (read < bytes.length) {
    const { bytesRead } = await handle.read(bytes, read, bytes.length - read, start + read);
    if (bytesRead === 0) break;
    read += bytesRead;
  }
  return bytes.buffer;
}

async function readFooter(file: AsyncBuffer): Promise<FileMetaData> {
  const size = file.byteLength;
  const notParquet = (reason: string): BadInputError =>
    parquetProblem({}, `is not a Parquet file: ${reason}`);
  if (size < MIN_FILE_BYTES)
    throw notParquet(`it has ${size} bytes, fewer than the ${MIN_FILE_BYTES} of the smallest one`);
  const head = Buffer.from(await file.slice(0, 4)).toString('latin1');
  const tail = Buffer.from(await file.slice(size - 8, size));
  const magic = tail.subarray(4).toString('latin1');
  if (head !== 'PAR1') throw notParquet('it does not begin with the Parquet magic bytes PAR1');
  if (magic === 'PARE')
    throw parquetProblem({}, 'is an encrypted Parquet file; Gatehouse reads unencrypted files');
  if (magic !== 'PAR1')
    throw notParquet('it does not end with the Parquet magic bytes PAR1 (a truncated upload?)');
  const footerBytes = tail.readUInt32LE(0);
  if (footerBytes > size - MIN_FILE_BYTES)
    throw notParquet(
      `its footer claims ${footerBytes} bytes, more than the file holds (a truncated upload?)`,
    );
  if (footerBytes > MAX_FOOTER_BYTES)
    throw parquetProblem(
      {},
      `its footer has ${footerBytes} bytes, more than the ${MAX_FOOTER_BYTES} Gatehouse reads`,
    );
  const footer = await file.slice(size - footerBytes - 8, size);
  try {
    return parquetMetadata(footer, { geoparquet: false });
  } catch (error) {
    throw notParquet(`its footer cannot be decoded (${messageOf(error)})`);
  }
}

/**
 * The columns to read: each top-level column flat (no struct, list or map), named, once, of a
 * type Gatehouse takes. The metadata given back is the file's with each column's schema
 * element as hyparquet should decode it (see parquet-types.ts).
 */
function planColumns(metadata: FileMetaData): { plans: ColumnPlan[]; patched: FileMetaData } {
  let tree: SchemaTree;
  try {
    tree = parquetSchema(metadata);
  } catch (error) {
    throw parquetProblem(
      {},
      `is not a Parquet file: its schema cannot be read (${messageOf(error)})`,
    );
  }
  if (tree.children.length === 0) throw parquetProblem({}, 'has no columns');
  const seen = new Map<string, number>();
  const replaced = new Map<SchemaElement, SchemaElement>();
  const plans = tree.children.map((child, i): ColumnPlan => {
    const { element } = child;
    const name = element.name;
    if (name.trim() === '')
      throw parquetProblem({ column: `#${i + 1}` }, 'the schema gives this column no name');
    const before = seen.get(name);
    if (before !== undefined)
      throw parquetProblem(
        { column: name },
        `the schema names two columns ${JSON.stringify(name)} (#${before + 1} and #${i + 1})`,
      );
    seen.set(name, i);
    if (child.children.length > 0 || element.repetition_type === 'REPEATED')
      throw parquetProblem(
        { column: name },
        'is nested (a struct, list or map); a dataset column holds numbers or text',
      );
    const classified = classify(element);
    if ('refused' in classified) throw parquetProblem({ column: name }, classified.refused);
    if (classified.element !== element) replaced.set(element, classified.element);
    return { name, decoding: classified.decoding };
  });
  const schema = metadata.schema.map((element) => replaced.get(element) ?? element);
  return { plans, patched: { ...metadata, schema } };
}

function checkRowGroups(metadata: FileMetaData, columns: number, maxRows: number): number {
  const declared = metadata.num_rows;
  let total = 0n;
  metadata.row_groups.forEach((group, g) => {
    const rows = group.num_rows;
    if (rows < 0n) throw parquetProblem({ rowGroup: g }, `claims ${rows} rows (a damaged file)`);
    if (rows * BigInt(columns) > BigInt(MAX_ROW_GROUP_VALUES))
      throw parquetProblem(
        { rowGroup: g },
        `has ${rows} rows × ${columns} columns; Gatehouse reads a row group at a time and takes at most ${MAX_ROW_GROUP_VALUES} values in one: write the file with smaller row groups`,
      );
    total += rows;
  });
  if (total !== declared)
    throw parquetProblem(
      {},
      `its footer counts ${declared} rows but its row groups ${total} (a damaged file)`,
    );
  if (total === 0n) throw parquetProblem({}, 'has no data rows');
  if (total > BigInt(maxRows))
    throw parquetProblem(
      {},
      `the file has ${total} data rows, more than ${maxRows}, the most a dataset may have`,
    );
  return Number(total);
}
