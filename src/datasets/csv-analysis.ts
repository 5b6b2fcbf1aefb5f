import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BadInputError, DomainError } from '../common/errors.js';
import {
  CsvParser,
  csvProblem,
  csvSyntaxProblem,
  parseNumber,
  Utf8Guard,
  type LineEnding,
} from './csv-format.js';
import type { DatasetColumn } from './dataset.entity.js';

export interface CsvSummary {
  readonly rows: number;
  readonly columns: DatasetColumn[];
}

/**
 * What an upload must satisfy, checked record by record so that nothing but counters is held:
 * a header of unique, non-empty names; every row as wide as the header; at least one and at
 * most `maxRows` data rows. Each column's type is inferred on the way: `number` when it has
 * at least one value and every non-empty value is a finite number, else `string`.
 */
export class CsvSummarizer {
  private header: string[] | undefined;
  private rows = 0;
  private numeric: boolean[] = [];
  private filled: boolean[] = [];

  constructor(private readonly maxRows: number) {}

  add(record: readonly string[]): void {
    if (!this.shape(record)) return;
    for (let i = 0; i < record.length; i++) {
      const value = record[i] ?? '';
      if (value === '') continue;
      this.filled[i] = true;
      if (this.numeric[i] === true && parseNumber(value) === undefined) this.numeric[i] = false;
    }
  }

  /** The header's names, once it has been read. */
  names(): string[] {
    return [...(this.header ?? [])];
  }

  /**
   * The checks of the header and of a row's place and width, without the typing: false for the
   * header, true for a data row (as wide as the header).
   */
  shape(record: readonly string[]): boolean {
    if (this.header === undefined) {
      this.header = checkHeader(record);
      this.numeric = record.map(() => true);
      this.filled = record.map(() => false);
      return false;
    }
    const row = ++this.rows;
    if (row > this.maxRows)
      throw csvProblem(
        { row },
        `the file has more than ${this.maxRows} data rows, the most a dataset may have`,
      );
    if (record.length !== this.header.length) {
      const short = record.length < this.header.length;
      throw csvProblem(
        {
          row,
          column: short
            ? (this.header[record.length] ?? '')
            : `#${this.header.length + 1} (beyond the header)`,
        },
        `the row has ${record.length} values, the header has ${this.header.length} columns` +
          (short ? '; the first column without a value is named here' : ''),
      );
    }
    return true;
  }

  /**
   * The summary once every record was added; `numeric` and `filled` (per column: every value a
   * number, some value present) when the caller typed the rows itself.
   */
  finish(
    numeric: readonly boolean[] = this.numeric,
    filled: readonly boolean[] = this.filled,
  ): CsvSummary {
    if (this.header === undefined)
      throw new BadInputError('dataset', 'is empty: a header line naming the columns is required');
    if (this.rows === 0) throw new BadInputError('dataset', 'has a header but no data rows');
    return {
      rows: this.rows,
      columns: this.header.map((name, i) => ({
        name,
        type: numeric[i] === true && filled[i] === true ? 'number' : 'string',
      })),
    };
  }
}

function checkHeader(names: readonly string[]): string[] {
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (name.trim() === '')
      throw csvProblem({ column: `#${i + 1}` }, 'the header gives this column no name');
    const before = seen.get(name);
    if (before !== undefined)
      throw csvProblem(
        { column: name },
        `the header names two columns ${JSON.stringify(name)} (#${before + 1} and #${i + 1})`,
      );
    seen.set(name, i);
  });
  return [...names];
}

/**
 * Checks and summarizes a CSV while it streams past on its way to the blob store: `tap` wraps
 * the upload's bytes and, at the first problem, fails the upload (the rest is never read);
 * `result` gives the summary once the bytes are through. Bytes go to the parser with
 * backpressure, so memory stays bounded whatever the file size.
 */
export class CsvAnalysis {
  private readonly feed = new PassThrough();
  private readonly parser = new CsvParser();
  private readonly finished: Promise<CsvSummary>;

  constructor(limits: { readonly maxRows: number }) {
    const summarizer = new CsvSummarizer(limits.maxRows);
    const sink = new Writable({
      objectMode: true,
      write(record: string[], _encoding, done) {
        try {
          summarizer.add(record);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
    });
    this.finished = pipeline(this.feed, new Utf8Guard(), this.parser, sink).then(
      () => summarizer.finish(),
      (error: unknown) => {
        throw this.problemOf(error);
      },
    );
    // Observed here; callers see the failure through `tap` or `result`.
    this.finished.catch(() => undefined);
  }

  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let complete = false;
    let first = true;
    try {
      for await (const chunk of source) {
        if (first) refuseParquetAsCsv(chunk);
        first = false;
        if (this.feed.destroyed) await this.stopped();
        if (!this.feed.write(chunk)) await drainedOrClosed(this.feed);
        if (this.feed.destroyed) await this.stopped();
        yield chunk;
      }
      this.feed.end();
      complete = true;
    } finally {
      // The upload failed elsewhere (too large, client gone): stop the parser too.
      if (!complete) this.feed.destroy();
    }
  }

  /** The summary, once `tap` has passed every byte; rejects with the first problem. */
  result(): Promise<CsvSummary> {
    return this.finished;
  }

  /**
   * The line ending csv-parse found (the file's first), once the result is in: a second read
   * with papaparse is told it, since papaparse would guess it from the first lines' majority.
   */
  lineEnding(): LineEnding | undefined {
    const found = this.parser.options.record_delimiter[0]?.toString('latin1');
    return found === '\n' || found === '\r\n' || found === '\r' ? found : undefined;
  }

  private async stopped(): Promise<never> {
    await this.finished;
    throw new Error('CSV analysis stopped without a reason');
  }

  private problemOf(error: unknown): unknown {
    if (error instanceof DomainError) return error;
    return csvSyntaxProblem(error, this.parser.header) ?? error;
  }
}

/** A CSV that passed the checks: its summary, and the line ending csv-parse read it with. */
export interface CheckedCsv {
  readonly summary: CsvSummary;
  readonly lineEnding: LineEnding | undefined;
}

/** Checks a whole CSV (a stored upload) as CsvAnalysis checks one streaming in. */
export async function checkCsv(
  source: AsyncIterable<Uint8Array>,
  limits: { readonly maxRows: number },
): Promise<CheckedCsv> {
  const analysis = new CsvAnalysis(limits);
  const passed = analysis.tap(source);
  while ((await passed.next()).done !== true);
  return { summary: await analysis.result(), lineEnding: analysis.lineEnding() };
}

/** A Parquet file sent as CSV, told by its first bytes. */
export function refuseParquetAsCsv(chunk: Uint8Array): void {
  if (isParquet(chunk))
    throw new BadInputError(
      'content-type',
      'the body is a Parquet file (it begins with PAR1), sent as CSV: send it with content-type: application/vnd.apache.parquet',
    );
}

function isParquet(chunk: Uint8Array): boolean {
  return chunk.length >= 4 && Buffer.from(chunk.subarray(0, 4)).toString('latin1') === 'PAR1';
}

function drainedOrClosed(stream: PassThrough): Promise<void> {
  if (stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
