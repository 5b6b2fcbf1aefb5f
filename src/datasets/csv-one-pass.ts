import {
  COLUMNAR_BATCH_ROWS,
  columnarFileBytes,
  type ColumnBatch,
  type ColumnKind,
  type ColumnValues,
} from './columnar-file.js';
import { CsvSummarizer, type CsvSummary } from './csv-analysis.js';
import { MAX_RECORD_CHARS, parseNumber, Utf8Check } from './csv-format.js';
import { csvRecordBatches } from './fast-csv-records.js';

/**
 * How a one-pass read of a CSV upload ended, when it did not refuse the file:
 * - `written`: the checks held and the columnar file it produced is the one a second read
 *   with the final column types writes;
 * - `retyped`: the checks held, but a column typed from the first record batch turned out
 *   otherwise later (text after numbers, or never a value): its columns must be written again;
 * - `unsure`: the file holds what only csv-parse judges as the upload checks require (a quote,
 *   mixed or old Mac line endings, a very long line): it must be checked again from its start.
 */
export type OnePassVerdict =
  | { readonly kind: 'written'; readonly summary: CsvSummary }
  | { readonly kind: 'retyped'; readonly summary: CsvSummary }
  | { readonly kind: 'unsure' };

/** Lines longer than this (in bytes) send a file to csv-parse, whose record limit is in characters. */
const PLAIN_LINE_BYTES = MAX_RECORD_CHARS / 2;
/** The columnar file leaves in pieces of about this size (one copy; a thread transfers them). */
const PIECE_BYTES = 4 << 20;

/**
 * Checks a CSV upload and writes its columnar file in one read, with papaparse, for the files
 * on which papaparse and csv-parse (which checks uploads: see csv-format.ts) cannot differ: no
 * double quote anywhere, so that a record is a line split at its commas, and one line ending
 * throughout. The bytes are refused as csv-parse's checks refuse them (UTF-8, NUL, header,
 * row widths, row limit, with the same messages); the first problem ends the read. Column
 * types are speculated from the first record batch (COLUMNAR_BATCH_ROWS rows) and the columnar
 * file written as the rows arrive; the checks go on to the end whatever the speculation.
 *
 * Yields the columnar file's bytes; returns how the read ended. The source is read to its end
 * in every case but a refusal, so that a caller streaming it elsewhere is never held up.
 */
export async function* csvColumnarOnePass(
  source: AsyncIterable<Uint8Array>,
  limits: { readonly maxRows: number },
): AsyncGenerator<Uint8Array, OnePassVerdict> {
  const screen = new PlainCsvScreen();
  const screened = screen.bytes(source)[Symbol.asyncIterator]();
  // papaparse is told the line ending (csv-parse's, found at the first one) before it starts.
  const held: Buffer[] = [];
  while (screen.newline === undefined && !screen.unsure) {
    const next = await screened.next();
    if (next.done === true) break;
    held.push(next.value);
  }
  const newline = screen.newline ?? '\n';
  async function* all(): AsyncGenerator<Buffer> {
    yield* held.splice(0);
    for (;;) {
      const next = await screened.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  const columns = new SpeculativeColumns(limits.maxRows);
  try {
    const batches = columns.batches(csvRecordBatches(all(), { newline }));
    const first = await batches.next();
    if (first.done !== true)
      yield* pieces(columnarFileBytes(columns.layout(), prepended(first.value, batches)));
  } catch (error) {
    // A quote or a line ending met later ends papaparse's input early, and its last line
    // with it: whatever it found wrong from there on, csv-parse decides.
    if (screen.failure !== undefined) throw screen.failure;
    if (screen.unsure) return { kind: 'unsure' };
    throw error;
  }
  if (screen.failure !== undefined) throw screen.failure;
  if (screen.unsure) return { kind: 'unsure' };
  const summary = columns.finish();
  return { kind: columns.held(summary) ? 'written' : 'retyped', summary };
}

async function* prepended<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/** The columnar file's many small buffers, copied into pieces of about PIECE_BYTES. */
async function* pieces(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let parts: Uint8Array[] = [];
  let size = 0;
  for await (const part of bytes) {
    parts.push(part);
    size += part.length;
    if (size >= PIECE_BYTES) {
      yield Buffer.concat(parts, size);
      parts = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(parts, size);
}

/**
 * Watches the bytes on their way to papaparse: checks them as UTF-8 (Utf8Check, as the upload
 * checks do), drops a leading BOM (csv-parse does; papaparse reading a stream does not), and
 * notes what papaparse and csv-parse might read differently. Once `unsure`, it passes nothing
 * more but still reads its source to the end; a UTF-8 problem it found is `failure`.
 */
class PlainCsvScreen {
  /** csv-parse's line ending: the first one in the file (`\r` alone is left to csv-parse). */
  newline: '\n' | '\r\n' | undefined;
  unsure = false;
  failure: Error | undefined;
  private readonly utf8 = new Utf8Check();
  private started = false;
  /** Bytes since the last `\n`. */
  private lineBytes = 0;
  /** The last byte of the previous chunk. */
  private previous = -1;
  private returns = 0;
  private newlines = 0;

  async *bytes(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
    for await (const piece of source) {
      if (this.unsure) continue;
      let chunk = Buffer.isBuffer(piece)
        ? piece
        : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      try {
        this.utf8.pass(chunk);
      } catch (error) {
        // The read ends here, and the failure is told from here whatever papaparse makes of it.
        this.failure = error as Error;
        throw error;
      }
      if (!this.started) {
        if (chunk.length < 3 && chunk.length > 0) {
          // Too short to tell a BOM (callers send the first 64 KiB at once): csv-parse's.
          this.unsure = true;
          continue;
        }
        this.started = chunk.length > 0;
        if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
      }
      if (!this.plain(chunk)) {
        this.unsure = true;
        continue;
      }
      yield chunk;
    }
    if (this.unsure) return;
    try {
      this.utf8.end();
    } catch (error) {
      this.failure = error as Error;
      return;
    }
    // Every `\n` followed a `\r`: as many of each means every `\r` ended a line.
    if (this.returns !== (this.newline === '\r\n' ? this.newlines : 0)) this.unsure = true;
  }

  /** Whether the chunk keeps the file one papaparse and csv-parse read alike. */
  private plain(chunk: Buffer): boolean {
    if (chunk.includes(0x22)) return false;
    if (this.newline === undefined) {
      const r = chunk.indexOf(0x0d);
      const n = chunk.indexOf(0x0a);
      if (r >= 0 && (n < 0 || r < n)) {
        // csv-parse takes `\r\n` or `\r` from the first line end; `\r` alone, or ending the
        // chunk so that the next byte is unknown, is left to it.
        if (chunk[r + 1] !== 0x0a) return false;
        this.newline = '\r\n';
      } else if (n >= 0) this.newline = '\n';
    }
    for (let at = chunk.indexOf(0x0d); at >= 0; at = chunk.indexOf(0x0d, at + 1)) this.returns++;
    if (this.newline === '\n' && this.returns > 0) return false;
    let start = 0;
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) {
      this.newlines++;
      const before = at > 0 ? chunk[at - 1] : this.previous;
      if (this.newline === '\r\n' && before !== 0x0d) return false;
      if (this.lineBytes + at - start > PLAIN_LINE_BYTES) return false;
      this.lineBytes = 0;
      start = at + 1;
    }
    this.lineBytes += chunk.length - start;
    if (this.lineBytes > PLAIN_LINE_BYTES) return false;
    if (chunk.length > 0) this.previous = chunk[chunk.length - 1] ?? -1;
    return true;
  }
}

/**
 * The upload checks (CsvSummarizer) and the column batches of the columnar file, from one
 * read. The first COLUMNAR_BATCH_ROWS rows are held as text until their column types are
 * known; from then on each value is parsed once, into the batch of its column. When a later
 * value contradicts a column's type, batches stop (the file must be written again) and only
 * the checks and the typing go on. The batches are those `csvColumnBatches` makes for the same
 * rows and types, so the columnar file is the same to the byte.
 */
class SpeculativeColumns {
  private readonly summarizer: CsvSummarizer;
  private width = 0;
  /** Per column, over every row so far: every value a number; some value present. */
  private numeric: boolean[] = [];
  private filled: boolean[] = [];
  /** The kinds the columnar file is written with, once the first batch is typed. */
  private kinds: ColumnKind[] | undefined;
  private speculating = true;
  private readonly firstRows: (readonly string[])[] = [];
  private batch: BatchArrays | undefined;

  constructor(maxRows: number) {
    this.summarizer = new CsvSummarizer(maxRows);
  }

  layout(): { name: string; kind: ColumnKind }[] {
    const kinds = this.kinds;
    if (kinds === undefined) throw new Error('the column kinds are not known yet');
    return this.summarizer.names().map((name, j) => ({ name, kind: kinds[j] ?? 'string' }));
  }

  async *batches(records: AsyncIterable<string[][]>): AsyncGenerator<ColumnBatch> {
    for await (const batch of records)
      for (const record of batch) {
        if (!this.summarizer.shape(record)) {
          this.width = record.length;
          this.numeric = record.map(() => true);
          this.filled = record.map(() => false);
          continue;
        }
        const full = this.add(record);
        if (full !== undefined) yield full;
      }
    const last = this.kinds === undefined ? this.typeFirstRows() : this.take();
    if (last !== undefined) yield last;
  }

  finish(): CsvSummary {
    return this.summarizer.finish(this.numeric, this.filled);
  }

  /** Whether the columnar file written is the one of the final types. */
  held(summary: CsvSummary): boolean {
    const kinds = this.kinds;
    return (
      this.speculating &&
      kinds !== undefined &&
      summary.columns.every((column, j) => column.type === kinds[j])
    );
  }

  private add(record: readonly string[]): ColumnBatch | undefined {
    if (this.kinds === undefined) {
      this.firstRows.push(record);
      return this.firstRows.length === COLUMNAR_BATCH_ROWS ? this.typeFirstRows() : undefined;
    }
    const batch = this.batch;
    if (batch === undefined) {
      this.typeOnly(record);
      return undefined;
    }
    const i = batch.rows;
    for (let j = 0; j < this.width; j++) {
      const text = record[j] ?? '';
      const texts = batch.texts[j];
      if (texts !== undefined) {
        texts.push(text);
        continue;
      }
      const numbers = batch.numbers[j];
      const valid = batch.valid[j];
      if (numbers === undefined || valid === undefined) continue;
      if (text === '') {
        batch.missing[j] = true;
        continue;
      }
      this.filled[j] = true;
      const value = parseNumber(text);
      if (value === undefined) {
        // Text in a column written as numbers: the file is written again once checked.
        this.numeric[j] = false;
        this.speculating = false;
        this.batch = undefined;
        this.typeOnly(record, j + 1);
        return undefined;
      }
      numbers[i] = value;
      valid[i] = 1;
    }
    batch.rows++;
    return batch.rows === COLUMNAR_BATCH_ROWS ? this.take() : undefined;
  }

  /** The typing of CsvSummarizer.add, from column `from` on. */
  private typeOnly(record: readonly string[], from = 0): void {
    for (let j = from; j < this.width; j++) {
      const text = record[j] ?? '';
      if (text === '') continue;
      this.filled[j] = true;
      if (this.numeric[j] === true && parseNumber(text) === undefined) this.numeric[j] = false;
    }
  }

  /** Types the columns from the rows held, and gives them as the first batch. */
  private typeFirstRows(): ColumnBatch | undefined {
    const rows = this.firstRows.splice(0);
    if (rows.length === 0) return undefined;
    const columns: ColumnValues[] = [];
    const kinds: ColumnKind[] = [];
    for (let j = 0; j < this.width; j++) {
      const values = new Float64Array(COLUMNAR_BATCH_ROWS);
      const valid = new Uint8Array(COLUMNAR_BATCH_ROWS);
      let missing = false;
      for (let i = 0; i < rows.length; i++) {
        const text = rows[i]?.[j] ?? '';
        if (text === '') {
          missing = true;
          continue;
        }
        this.filled[j] = true;
        if (this.numeric[j] !== true) continue;
        const value = parseNumber(text);
        if (value === undefined) this.numeric[j] = false;
        else {
          values[i] = value;
          valid[i] = 1;
        }
      }
      if (this.numeric[j] === true) {
        kinds.push('number');
        columns.push({
          kind: 'number',
          values: values.subarray(0, rows.length),
          valid: missing ? valid.subarray(0, rows.length) : null,
        });
      } else {
        kinds.push('string');
        columns.push({ kind: 'string', values: rows.map((row) => row[j] ?? '') });
      }
    }
    this.kinds = kinds;
    this.batch = new BatchArrays(kinds);
    return { rows: rows.length, columns };
  }

  private take(): ColumnBatch | undefined {
    const batch = this.batch;
    if (batch === undefined || batch.rows === 0 || this.kinds === undefined) return undefined;
    this.batch = new BatchArrays(this.kinds);
    return batch.columns();
  }
}

/** One batch's values as they are filled, as csv-columns.ts's BatchBuilder holds them. */
class BatchArrays {
  rows = 0;
  readonly numbers: (Float64Array | undefined)[];
  readonly valid: (Uint8Array | undefined)[];
  readonly missing: boolean[];
  readonly texts: (string[] | undefined)[];

  constructor(kinds: readonly ColumnKind[]) {
    const numeric = kinds.map((kind) => kind === 'number');
    this.numbers = numeric.map((n) => (n ? new Float64Array(COLUMNAR_BATCH_ROWS) : undefined));
    this.valid = numeric.map((n) => (n ? new Uint8Array(COLUMNAR_BATCH_ROWS) : undefined));
    this.missing = numeric.map(() => false);
    this.texts = numeric.map((n) => (n ? undefined : []));
  }

  columns(): ColumnBatch {
    const rows = this.rows;
    const columns = this.texts.map((texts, j): ColumnValues => {
      if (texts !== undefined) return { kind: 'string', values: texts };
      const values = (this.numbers[j] ?? new Float64Array(0)).subarray(0, rows);
      const valid = this.missing[j] === true ? (this.valid[j]?.subarray(0, rows) ?? null) : null;
      return { kind: 'number', values, valid };
    });
    return { rows, columns };
  }
}
