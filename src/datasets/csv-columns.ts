import { COLUMNAR_BATCH_ROWS, type ColumnBatch, type ColumnValues } from './columnar-file.js';
import { parseNumber, type LineEnding } from './csv-format.js';
import type { DatasetColumn } from './dataset.entity.js';
import { csvRecordBatches } from './fast-csv-records.js';

/**
 * The columns of a CSV that passed the upload checks, batch by batch, for its columnar file:
 * a `number` column's values parsed (an empty cell is a missing value), a `string` column's
 * as written. The types are those the checks inferred, which is why this is a second read of
 * the stored file: they are known only once the last row has been seen.
 */
export async function* csvColumnBatches(
  source: AsyncIterable<Uint8Array>,
  columns: readonly DatasetColumn[],
  rows: number,
  /** The line ending the checks read the file with (else papaparse guesses one). */
  lineEnding?: LineEnding,
): AsyncGenerator<ColumnBatch> {
  let builder = new BatchBuilder(columns);
  let header = true;
  let row = 0;
  const records = csvRecordBatches(withoutBom(source), { newline: lineEnding });
  for await (const batch of records)
    for (const record of batch) {
      if (header) {
        header = false;
        continue;
      }
      row++;
      builder.add(record, row);
      if (builder.full) {
        yield builder.batch();
        builder = new BatchBuilder(columns);
      }
    }
  if (builder.rows > 0) yield builder.batch();
  // The upload checks (csv-parse) and this read (papaparse) saw different files: a bug.
  if (row !== rows) throw new Error(`the CSV read as columns has ${row} rows, its checks ${rows}`);
}

/**
 * The bytes without a leading UTF-8 BOM, as csv-parse reads them: papaparse reading a stream
 * keeps it, and a BOM before a blank first line would make that line a record.
 */
async function* withoutBom(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let first = true;
  let head = Buffer.alloc(0);
  for await (const chunk of source) {
    if (!first) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < 3) continue;
    first = false;
    yield head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
  }
  if (first && head.length > 0) yield head;
}

class BatchBuilder {
  rows = 0;
  private readonly numbers: (Float64Array | undefined)[];
  private readonly valid: (Uint8Array | undefined)[];
  private readonly missing: boolean[];
  private readonly texts: (string[] | undefined)[];

  constructor(private readonly columns: readonly DatasetColumn[]) {
    const numeric = columns.map((c) => c.type === 'number');
    this.numbers = numeric.map((n) => (n ? new Float64Array(COLUMNAR_BATCH_ROWS) : undefined));
    this.valid = numeric.map((n) => (n ? new Uint8Array(COLUMNAR_BATCH_ROWS) : undefined));
    this.missing = numeric.map(() => false);
    this.texts = numeric.map((n) => (n ? undefined : []));
  }

  get full(): boolean {
    return this.rows === COLUMNAR_BATCH_ROWS;
  }

  add(record: readonly string[], row: number): void {
    if (record.length !== this.columns.length)
      throw new Error(
        `row ${row} has ${record.length} values, the checks found it had ${this.columns.length}`,
      );
    const i = this.rows;
    for (let j = 0; j < record.length; j++) {
      const text = record[j] ?? '';
      const texts = this.texts[j];
      if (texts !== undefined) {
        texts.push(text);
        continue;
      }
      const numbers = this.numbers[j];
      const valid = this.valid[j];
      if (numbers === undefined || valid === undefined) continue;
      if (text === '') {
        this.missing[j] = true;
        continue;
      }
      const value = parseNumber(text);
      if (value === undefined)
        throw new Error(`row ${row}, column ${j + 1}: the checks found a number, not ${text}`);
      numbers[i] = value;
      valid[i] = 1;
    }
    this.rows++;
  }

  batch(): ColumnBatch {
    const rows = this.rows;
    const columns = this.columns.map((_, j): ColumnValues => {
      const texts = this.texts[j];
      if (texts !== undefined) return { kind: 'string', values: texts };
      const values = (this.numbers[j] ?? new Float64Array(0)).subarray(0, rows);
      const valid = this.missing[j] === true ? (this.valid[j]?.subarray(0, rows) ?? null) : null;
      return { kind: 'number', values, valid };
    });
    return { rows, columns };
  }
}
