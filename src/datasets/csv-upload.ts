import { CsvAnalysis, refuseParquetAsCsv, type CsvSummary } from './csv-analysis.js';
import type { LineEnding } from './csv-format.js';
import { startOnePass, type OnePassLimits, type OnePassRun } from './csv-one-pass-run.js';

/** How much of an upload is looked at before choosing how to read it. */
const FIRST_BYTES = 64 << 10;

/**
 * What the read of a CSV upload found, once every byte has passed: its summary, and whether
 * its columnar file was written on the way; or `unsure`, when a one-pass read met what only
 * csv-parse may judge after the first bytes, and the stored file must be checked again.
 */
export type CsvUploadRead =
  | {
      readonly kind: 'checked';
      readonly summary: CsvSummary;
      readonly columnsWritten: boolean;
      /** What csv-parse read it with, when it did (one papaparse read: one line ending). */
      readonly lineEnding?: LineEnding;
    }
  | { readonly kind: 'unsure' };

/**
 * Reads a CSV upload as it streams to the blob store, choosing from its first 64 KiB: with a
 * double quote there, csv-parse checks it as it streams (CsvAnalysis) and its columns are
 * written afterwards by a second read; without, one papaparse read checks it and writes its
 * columns as it streams (csv-one-pass.ts), most often on a thread of its own. Either way the
 * first problem fails `tap`, so the rest of a refused upload is never read.
 */
export class CsvUpload {
  private analysis: CsvAnalysis | undefined;
  private run: OnePassRun | undefined;
  private chosen: ((run: OnePassRun | undefined) => void) | undefined;
  private readonly route: Promise<OnePassRun | undefined>;

  constructor(
    private readonly limits: OnePassLimits,
    private readonly options: { readonly thread: boolean },
  ) {
    this.route = new Promise((resolve) => {
      this.chosen = resolve;
    });
  }

  /**
   * The one-pass read, once chosen, whose `columns` are to be stored as they come; undefined
   * when csv-parse reads the upload (or it ended before a choice).
   */
  onePass(): Promise<OnePassRun | undefined> {
    return this.route;
  }

  async *tap(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const chunks = source[Symbol.asyncIterator]();
    let complete = false;
    try {
      const held: Uint8Array[] = [];
      let size = 0;
      while (size < FIRST_BYTES) {
        const next = await chunks.next();
        if (next.done === true) break;
        if (held.length === 0) refuseParquetAsCsv(next.value);
        held.push(next.value);
        size += next.value.length;
      }
      const head = Buffer.concat(held, size);
      async function* all(): AsyncGenerator<Uint8Array> {
        if (head.length > 0) yield head;
        for (;;) {
          const next = await chunks.next();
          if (next.done === true) return;
          yield next.value;
        }
      }
      if (head.includes(0x22)) {
        const analysis = (this.analysis = new CsvAnalysis(this.limits));
        this.choose(undefined);
        yield* analysis.tap(all());
      } else {
        const run = (this.run = startOnePass(this.limits, this.options));
        this.choose(run);
        for await (const chunk of all()) {
          await run.write(chunk);
          yield chunk;
        }
        run.end();
      }
      complete = true;
    } finally {
      this.choose(undefined);
      if (!complete) {
        // The upload failed elsewhere (too large, client gone), or was refused: stop reading.
        this.run?.abort();
        await chunks.return?.();
      }
    }
  }

  /** What the read found, once `tap` has passed every byte; rejects with the first problem. */
  async result(): Promise<CsvUploadRead> {
    const run = await this.route;
    if (run !== undefined) {
      const verdict = await run.verdict();
      return verdict.kind === 'unsure'
        ? verdict
        : { kind: 'checked', summary: verdict.summary, columnsWritten: verdict.kind === 'written' };
    }
    if (this.analysis === undefined) throw new Error('the CSV upload was not read');
    const summary = await this.analysis.result();
    const lineEnding = this.analysis.lineEnding();
    return {
      kind: 'checked',
      summary,
      columnsWritten: false,
      ...(lineEnding === undefined ? {} : { lineEnding }),
    };
  }

  private choose(run: OnePassRun | undefined): void {
    const chosen = this.chosen;
    this.chosen = undefined;
    chosen?.(run);
  }
}
