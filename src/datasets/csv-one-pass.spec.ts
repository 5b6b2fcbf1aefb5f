import { describe, expect, it } from '@jest/globals';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { BadInputError } from '../common/errors.js';
import { COLUMNAR_BATCH_ROWS, columnarFileBytes } from './columnar-file.js';
import { checkCsv, type CheckedCsv, type CsvSummary } from './csv-analysis.js';
import { csvColumnBatches } from './csv-columns.js';
import { csvColumnarOnePass, type OnePassVerdict } from './csv-one-pass.js';

type Outcome =
  | { readonly refused: string; readonly details: unknown }
  | { readonly summary: CsvSummary; readonly columns: Buffer };

function source(pieces: readonly Buffer[]): Readable {
  return Readable.from(pieces, { objectMode: true });
}

async function bytesOf(pieces: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const piece of pieces) parts.push(piece);
  return Buffer.concat(parts);
}

function refusal(error: unknown): Outcome {
  if (!(error instanceof BadInputError)) throw error;
  return { refused: error.message, details: error.details };
}

/** The two reads: csv-parse checks the file, papaparse reads it again into columns. */
async function twoReads(csv: Buffer, maxRows: number): Promise<Outcome> {
  let checked: CheckedCsv;
  try {
    checked = await checkCsv(source([csv]), { maxRows });
  } catch (error) {
    return refusal(error);
  }
  const { summary, lineEnding } = checked;
  // The second read must agree with the checks: an error here fails the test.
  const columns = await bytesOf(
    columnarFileBytes(
      summary.columns.map((c) => ({ name: c.name, kind: c.type })),
      csvColumnBatches(source([csv]), summary.columns, summary.rows, lineEnding),
    ),
  );
  return { summary, columns };
}

async function onePass(
  pieces: readonly Buffer[],
  maxRows: number,
): Promise<{ verdict: OnePassVerdict; columns: Buffer } | { refused: string; details: unknown }> {
  const read = csvColumnarOnePass(source(pieces), { maxRows });
  const parts: Uint8Array[] = [];
  try {
    for (;;) {
      const next = await read.next();
      if (next.done === true) return { verdict: next.value, columns: Buffer.concat(parts) };
      parts.push(next.value);
    }
  } catch (error) {
    const refused = refusal(error);
    if (!('refused' in refused)) throw error;
    return refused;
  }
}

function cut(csv: Buffer, at: readonly number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (csv.length + 1)))].sort((a, b) => a - b);
  const pieces: Buffer[] = [];
  let start = 0;
  for (const point of [...points, csv.length]) {
    pieces.push(csv.subarray(start, point));
    start = point;
  }
  return pieces.filter((p) => p.length > 0);
}

const value = fc.oneof(
  { weight: 6, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map(String) },
  { weight: 4, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
  {
    weight: 4,
    arbitrary: fc.constantFrom('', '', '0', '-0', '007', ' 7 ', '1e3', '.5', '5.', '0x10'),
  },
  { weight: 3, arbitrary: fc.constantFrom('male', 'female', 'Zürich', '東京', 'n/a', 'NaN') },
  { weight: 1, arbitrary: fc.constantFrom('"quoted"', '"a,b"', '"x""y"', 'a"b', '"open') },
  { weight: 1, arbitrary: fc.constantFrom(' 7', 'x ', ' ') },
);

/** Small CSVs, mostly well formed: a header, rows of its width, now and then a flaw. */
const csvText = fc
  .record({
    bom: fc.boolean(),
    header: fc.oneof(
      {
        weight: 9,
        arbitrary: fc.uniqueArray(fc.constantFrom<string>('a', 'b', 'c', 'id', 'x y', 'é'), {
          minLength: 1,
          maxLength: 5,
        }),
      },
      {
        weight: 1,
        arbitrary: fc.array(fc.constantFrom<string>('a', 'b', ''), { minLength: 1, maxLength: 4 }),
      },
    ),
    rows: fc.array(
      fc.record({
        values: fc.array(value, { minLength: 1, maxLength: 6 }),
        ragged: fc.nat(150),
      }),
      { maxLength: 12 },
    ),
    newline: fc.constantFrom('\n', '\n', '\r\n', '\r'),
    // Now and then a line ending out of place, or a byte that is not UTF-8.
    stray: fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.constantFrom('\r', '\n', '\r\n', '\n\n') },
    ),
    strayAt: fc.nat(),
    end: fc.boolean(),
    latin1: fc.oneof(
      { weight: 12, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.nat() },
    ),
  })
  .map((c) => {
    const header = c.header.map((name, i) => (name === '' && i === 0 ? 'first' : name));
    const width = header.length;
    const lines = [
      header.join(','),
      ...c.rows.map((row) => {
        const values = Array.from({ length: width }, (_, j) => row.values[j % row.values.length]);
        if (row.ragged === 0) values.pop();
        if (row.ragged === 1) values.push('extra');
        return values.join(',');
      }),
    ];
    let text = lines.join(c.newline) + (c.end ? c.newline : '');
    if (c.stray !== null) {
      const at = c.strayAt % (text.length + 1);
      text = text.slice(0, at) + c.stray + text.slice(at);
    }
    let bytes = Buffer.from((c.bom ? '\ufeff' : '') + text);
    if (c.latin1 !== null && bytes.length > 0) {
      bytes = Buffer.from(bytes);
      bytes[c.latin1 % bytes.length] = 0xfc;
    }
    return bytes;
  });

describe('csvColumnarOnePass', () => {
  it('reads a file csv-parse checked a second time as csv-parse read it: its line ending, its BOM', async () => {
    // papaparse guesses a file's line ending from its first lines, and keeps a BOM.
    for (const text of ['a\r\n\rmale\r\n', '\ufeff\r\na\r\n0', 'a,b\r\n1,2\n3\r\n4,5\r\n']) {
      const expected = await twoReads(Buffer.from(text), 10);
      expect([text, 'summary' in expected]).toEqual([text, true]);
    }
  });

  it('checks and writes as the two reads do, or leaves the file to them when unsure', async () => {
    await fc.assert(
      fc.asyncProperty(
        csvText,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.constantFrom(3, 1000),
        async (csv, at, maxRows) => {
          const expected = await twoReads(csv, maxRows);
          // In one piece, a file's first problem is found first by both.
          const whole = await onePass([csv], maxRows);
          const plain = !csv.includes(0x22) && !csv.includes(0x0d) && csv.length >= 3;
          if ('refused' in whole) expect(whole).toEqual(expected);
          else if (whole.verdict.kind === 'unsure') expect(plain).toBe(false);
          else if ('refused' in expected) expect([whole.verdict, expected]).toBe('refused');
          else {
            expect(whole.verdict.summary).toEqual(expected.summary);
            if (whole.verdict.kind === 'written')
              expect(whole.columns.equals(expected.columns)).toBe(true);
          }
          // In pieces, the outcome is the same when the file holds one problem or none.
          const pieces = await onePass(cut(csv, at), maxRows);
          if ('refused' in pieces) expect('refused' in expected).toBe(true);
          else if (pieces.verdict.kind !== 'unsure' && !('refused' in expected)) {
            expect(pieces.verdict.summary).toEqual(expected.summary);
            if (pieces.verdict.kind === 'written')
              expect(pieces.columns.equals(expected.columns)).toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('writes the columns again when a column numeric in the first batch holds text later', async () => {
    const rows = COLUMNAR_BATCH_ROWS + 7_232; // 40,000
    const lines = ['id,code,score'];
    for (let i = 1; i <= rows; i++) lines.push(`${i},${i === rows ? 'A12' : String(i % 97)},0.5`);
    const csv = Buffer.from(`${lines.join('\n')}\n`);
    const expected = await twoReads(csv, 100_000);
    expect('summary' in expected && expected.summary.columns[1]).toEqual({
      name: 'code',
      type: 'string',
    });
    const read = await onePass(cut(csv, [70_000, 300_000]), 100_000);
    expect('verdict' in read && read.verdict).toEqual({
      kind: 'retyped',
      summary: 'summary' in expected ? expected.summary : undefined,
    });
  });

  it('types a column empty in the first batch by the values after it', async () => {
    const lines = ['id,later,never'];
    for (let i = 1; i <= COLUMNAR_BATCH_ROWS + 2; i++)
      lines.push(`${i},${i > COLUMNAR_BATCH_ROWS ? '1.5' : ''},`);
    const csv = Buffer.from(lines.join('\n'));
    const expected = await twoReads(csv, 100_000);
    expect('summary' in expected && expected.summary.columns.map((c) => c.type)).toEqual([
      'number',
      'number',
      'string',
    ]);
    // Written as numbers from the first batch on, `later` was right; `never` was not.
    const read = await onePass([csv], 100_000);
    expect('verdict' in read && read.verdict).toEqual({
      kind: 'retyped',
      summary: 'summary' in expected ? expected.summary : undefined,
    });
    const without = Buffer.from(lines.map((line) => line.replace(/,[^,]*$/, '')).join('\n'));
    const expectedWithout = await twoReads(without, 100_000);
    const readWithout = await onePass([without], 100_000);
    expect('verdict' in readWithout && readWithout.verdict.kind).toBe('written');
    expect(
      'columns' in readWithout &&
        'columns' in expectedWithout &&
        readWithout.columns.equals(expectedWithout.columns),
    ).toBe(true);
  });

  it('writes, across record batches, the file the two reads write', async () => {
    const lines = ['n,group,maybe'];
    for (let i = 0; i < 2 * COLUMNAR_BATCH_ROWS + 5; i++)
      lines.push(`${i / 8},${['x', 'y', 'z'][i % 3] ?? ''},${i % 5 === 0 ? '' : String(-i)}`);
    const csv = Buffer.from(`\ufeff${lines.join('\r\n')}\r\n`);
    const expected = await twoReads(csv, 1_000_000);
    const read = await onePass(cut(csv, [5, 6, 65_536, 400_001, 400_002]), 1_000_000);
    expect('verdict' in read && read.verdict.kind).toBe('written');
    expect(
      'verdict' in read && 'columns' in expected && read.columns.equals(expected.columns),
    ).toBe(true);
  });

  it('leaves to csv-parse a quote, a lone carriage return or a very long line met later', async () => {
    const start = 'a,b\n' + '1,2\n'.repeat(1000);
    for (const later of ['3,"4"\n', '3,4\r5,6\n', `3,${'9'.repeat(600_000)}\n`]) {
      const read = await onePass([Buffer.from(start), Buffer.from(later + '7,8\n')], 100);
      expect([later.slice(0, 8), 'verdict' in read && read.verdict]).toEqual([
        later.slice(0, 8),
        { kind: 'unsure' },
      ]);
    }
  });

  it('refuses as the upload checks do, before reading the rest', async () => {
    let read = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from('a,b\n1,2\n3\n');
      for (;;) {
        read++;
        yield await Promise.resolve(Buffer.from('4,5\n'.repeat(1000)));
      }
    }
    const pass = csvColumnarOnePass(endless(), { maxRows: 10 });
    await expect(pass.next()).rejects.toThrow(
      'dataset: row 2, column "b": the row has 1 values, the header has 2 columns; the first column without a value is named here',
    );
    expect(read).toBeLessThan(10);
  });
});
