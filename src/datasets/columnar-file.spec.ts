import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import { BlobCorruptError, BlobStore } from '../blobs/blob-store.js';
import { BadInputError } from '../common/errors.js';
import {
  COLUMNAR_BATCH_ROWS,
  columnarFileBytes,
  IPC_FILE_PREFIX_BYTES,
  readColumnarChunks,
  type ColumnBatch,
  type ColumnSpec,
  type ColumnValues,
} from './columnar-file.js';
import { parseNumber } from './csv-format.js';
import { readDatasetChunks, type DatasetChunk, type DatasetReadRequest } from './dataset-reader.js';

/** A column as a test states it: numbers (null missing) or text (null missing). */
type Column =
  | { name: string; kind: 'number'; values: (number | null)[] }
  | { name: string; kind: 'string'; values: (string | null)[] };

/** The columns, handed to the writer in batches of the given sizes. */
async function* batchesOf(columns: Column[], sizes: number[]): AsyncGenerator<ColumnBatch> {
  const rows = columns[0]?.values.length ?? 0;
  let start = 0;
  for (let k = 0; start < rows; k++) {
    await Promise.resolve();
    const end = Math.min(rows, start + Math.max(1, sizes[k % sizes.length] ?? rows));
    yield {
      rows: end - start,
      columns: columns.map((column): ColumnValues => {
        if (column.kind === 'string')
          return { kind: 'string', values: column.values.slice(start, end) };
        const part = column.values.slice(start, end);
        const missing = part.some((v) => v === null);
        return {
          kind: 'number',
          values: Float64Array.from(part, (v) => v ?? 0),
          valid: missing ? Uint8Array.from(part, (v) => (v === null ? 0 : 1)) : null,
        };
      }),
    };
    start = end;
  }
}

async function fileOf(columns: Column[], sizes: number[] = [COLUMNAR_BATCH_ROWS]): Promise<Buffer> {
  const layout: ColumnSpec[] = columns.map((c) => ({ name: c.name, kind: c.kind }));
  const parts: Uint8Array[] = [];
  for await (const part of columnarFileBytes(layout, batchesOf(columns, sizes))) parts.push(part);
  return Buffer.concat(parts);
}

/** The body after the leading magic, in pieces of `piece` bytes, as a file stream gives it. */
async function* bodyOf(file: Buffer, piece = 65_536): AsyncGenerator<Uint8Array> {
  const body = file.subarray(IPC_FILE_PREFIX_BYTES);
  for (let at = 0; at < body.length; at += piece) {
    await Promise.resolve();
    yield body.subarray(at, at + piece);
  }
}

async function collect(chunks: AsyncIterable<DatasetChunk>): Promise<DatasetChunk[]> {
  const all: DatasetChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

async function failure(chunks: AsyncIterable<DatasetChunk>): Promise<unknown> {
  try {
    await collect(chunks);
  } catch (error) {
    return error;
  }
  throw new Error('expected the read to fail');
}

/** What a reader of the request should get: the CSV reader's rules, applied to the columns. */
function expected(columns: Column[], request: DatasetReadRequest) {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const rows = columns[0]?.values.length ?? 0;
  const features: number[] = [];
  for (let i = 0; i < rows; i++)
    for (const name of request.features)
      features.push(Math.fround(Number(byName.get(name)?.values[i])));
  const text = (name: string) =>
    (byName.get(name)?.values ?? []).map((v) => (v === null ? '' : String(v)));
  const strings = Object.fromEntries((request.strings ?? []).map((name) => [name, text(name)]));
  const numbers = Object.fromEntries(
    (request.numbers ?? []).map((name) => {
      const column = byName.get(name);
      return [
        name,
        (column?.values ?? []).map((v) =>
          v === null
            ? Number.NaN
            : column?.kind === 'number'
              ? Number(v)
              : (parseNumber(String(v)) ?? Number.NaN),
        ),
      ];
    }),
  );
  const groups = Object.fromEntries((request.groups ?? []).map((name) => [name, text(name)]));
  return { features, strings, numbers, groups };
}

function joined(chunks: DatasetChunk[], request: DatasetReadRequest) {
  return {
    features: chunks.flatMap((c) => Array.from(c.features)),
    strings: Object.fromEntries(
      (request.strings ?? []).map((name) => [name, chunks.flatMap((c) => c.strings[name] ?? [])]),
    ),
    numbers: Object.fromEntries(
      (request.numbers ?? []).map((name) => [
        name,
        chunks.flatMap((c) => Array.from(c.numbers[name] ?? [])),
      ]),
    ),
    // Decoded through each chunk's dictionary: the codes are only a means.
    groups: Object.fromEntries(
      (request.groups ?? []).map((name) => [
        name,
        chunks.flatMap((c) => {
          const read = c.groups[name];
          return Array.from(read?.codes ?? [], (code) => read?.dictionary[code]);
        }),
      ]),
    ),
  };
}

const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(0, -0, 1, 0.1, 5e-324, Number.MAX_VALUE, 2 ** 53 - 1),
);
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', 'female', 'male', 'é', '😀', '1', ' 2 '),
);

/** Random columns of one length: numbers with and without gaps, text with repeats and gaps. */
const columnsArbitrary = fc.integer({ min: 1, max: 300 }).chain((rows) =>
  fc
    .array(
      fc.oneof(
        fc.record({
          kind: fc.constant('number' as const),
          values: fc.array(number, { minLength: rows, maxLength: rows }),
        }),
        fc.record({
          kind: fc.constant('number' as const),
          values: fc.array(fc.option(number, { freq: 4 }), { minLength: rows, maxLength: rows }),
        }),
        fc.record({
          kind: fc.constant('string' as const),
          values: fc.array(fc.option(text, { freq: 6 }), { minLength: rows, maxLength: rows }),
        }),
        fc.record({
          kind: fc.constant('string' as const),
          values: fc.array(fc.constantFrom('a', 'b', 'c', null), {
            minLength: rows,
            maxLength: rows,
          }),
        }),
      ),
      { minLength: 1, maxLength: 6 },
    )
    .map((columns): Column[] => columns.map((c, j) => ({ ...c, name: `c${j}` }))),
);

describe('the columnar file', () => {
  it('gives back every value, as the CSV reader would, whatever the batches and chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        columnsArbitrary,
        fc.array(fc.integer({ min: 1, max: 120 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 200 }),
        async (columns, sizes, chunkRows, piece) => {
          const file = await fileOf(columns, sizes);
          const complete = columns.filter(
            (c) => c.kind === 'number' && c.values.every((v) => v !== null),
          );
          const request: DatasetReadRequest = {
            features: complete.map((c) => c.name),
            strings: columns.map((c) => c.name),
            numbers: columns.map((c) => c.name),
            groups: columns.map((c) => c.name),
            chunkRows,
          };
          const chunks = await collect(readColumnarChunks(bodyOf(file, piece), request));
          const rows = columns[0]?.values.length ?? 0;
          expect(chunks.map((c) => c.rows).reduce((a, b) => a + b, 0)).toBe(rows);
          chunks.forEach((c, k) => {
            expect(c.firstRow).toBe(k * chunkRows + 1);
            expect(c.rows).toBe(Math.min(chunkRows, rows - k * chunkRows));
          });
          expect(joined(chunks, request)).toEqual(expected(columns, request));

          // A reader that knows only the format (footer first) sees the same table.
          const table = tableFromIPC(file);
          expect(table.numRows).toBe(rows);
          for (const column of columns) {
            const values = table.getChild(column.name)?.toArray() as ArrayLike<unknown>;
            const nulls = table.getChild(column.name);
            column.values.forEach((v, i) => {
              if (v === null) expect(nulls?.isValid(i)).toBe(false);
              else expect(Object.is(values[i], v) || values[i] === v).toBe(true);
            });
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('cuts record batches at COLUMNAR_BATCH_ROWS and reads chunks straddling them', async () => {
    const rows = 2 * COLUMNAR_BATCH_ROWS + 123;
    const x = Array.from({ length: rows }, (_, i) => i * 0.5);
    const group = Array.from({ length: rows }, (_, i) =>
      // New groups keep appearing after the first batch: the dictionary grows by deltas.
      i < COLUMNAR_BATCH_ROWS ? `g${i % 3}` : `g${i % 7}`,
    );
    const id = Array.from({ length: rows }, (_, i) => `row-${i}`);
    const columns: Column[] = [
      { name: 'x', kind: 'number', values: x },
      { name: 'group', kind: 'string', values: group },
      { name: 'id', kind: 'string', values: id },
    ];
    const file = await fileOf(columns, [rows]);
    const table = tableFromIPC(file);
    expect(table.batches.map((b) => b.numRows)).toEqual([
      COLUMNAR_BATCH_ROWS,
      COLUMNAR_BATCH_ROWS,
      123,
    ]);
    expect(String(table.schema.fields[1]?.type)).toMatch(/^Dictionary/);
    expect(String(table.schema.fields[2]?.type)).toBe('Utf8');
    for (const chunkRows of [1000, COLUMNAR_BATCH_ROWS, COLUMNAR_BATCH_ROWS + 1, rows + 5]) {
      const request = {
        features: ['x'],
        strings: ['group', 'id', 'x'],
        numbers: ['x'],
        groups: ['group', 'id', 'x'],
        chunkRows,
      };
      const chunks = await collect(readColumnarChunks(bodyOf(file), request));
      expect(chunks.map((c) => c.firstRow)).toEqual(
        Array.from({ length: Math.ceil(rows / chunkRows) }, (_, k) => k * chunkRows + 1),
      );
      expect(joined(chunks, request)).toEqual(expected(columns, request));
    }
  });

  it('names the row and column of a missing feature value, and a column it does not have', async () => {
    const file = await fileOf([
      { name: 'a', kind: 'number', values: [1, 2, null, 4] },
      { name: 's', kind: 'string', values: ['x', '2.5', 'y', null] },
    ]);
    const missing = await failure(readColumnarChunks(bodyOf(file), { features: ['a'] }));
    expect(missing).toBeInstanceOf(BadInputError);
    expect((missing as Error).message).toBe(
      'dataset: row 3, column "a": the value is empty; a feature column needs a number in every row',
    );
    const text = await failure(readColumnarChunks(bodyOf(file), { features: ['s'] }));
    expect((text as Error).message).toBe('dataset: row 1, column "s": "x" is not a number');
    const absent = await failure(readColumnarChunks(bodyOf(file), { features: ['b'] }));
    expect((absent as Error).message).toBe('dataset: has no column "b"');
  });
});

describe('readDatasetChunks over a columnar file', () => {
  let dir: string;
  let blobs: BlobStore;
  const rows = 5000;
  const columns: Column[] = [
    { name: 'x', kind: 'number', values: Array.from({ length: rows }, (_, i) => i / 7) },
    {
      name: 'sex',
      kind: 'string',
      values: Array.from({ length: rows }, (_, i) => (i % 2 ? 'f' : 'm')),
    },
  ];
  const request = { features: ['x'], strings: ['sex'], chunkRows: 1000 };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-columnar-'));
    blobs = new BlobStore(dir);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  async function stored(): Promise<{ sha256: string; path: string }> {
    return blobs.putBytes(await fileOf(columns), 'dataset columns');
  }

  it('reads the stored file when it matches its digest', async () => {
    const { sha256 } = await stored();
    const chunks = await collect(
      readDatasetChunks(blobs, { sha256: 'f'.repeat(64), columnarSha256: sha256 }, request),
    );
    expect(joined(chunks, request)).toEqual(expected(columns, request));
  });

  it('refuses a file altered on disk before its last chunk, however it was altered', async () => {
    const original = await fileOf(columns);
    // A number changed in place: the file still parses, only the digest can tell.
    const changed = Buffer.from(original);
    const at = changed.indexOf(Buffer.from(new Float64Array([2500 / 7]).buffer));
    expect(at).toBeGreaterThan(0);
    changed[at] = (changed[at] ?? 0) ^ 1;
    // Cut short: the parse fails, and the failure is reported as the corruption it is.
    const truncated = original.subarray(0, Math.floor(original.length / 2));
    // Its footer removed: every record batch is intact, the end of the file is not.
    const footerless = original.subarray(0, original.length - 20);
    for (const altered of [changed, truncated, footerless]) {
      const { sha256, path } = await blobs.putBytes(original, 'dataset columns');
      writeFileSync(path, altered);
      const seen: number[] = [];
      const error = await failure(
        (async function* () {
          for await (const chunk of readDatasetChunks(
            blobs,
            { sha256: 'f'.repeat(64), columnarSha256: sha256 },
            request,
          )) {
            seen.push(chunk.rows);
            yield chunk;
          }
        })(),
      );
      expect(error).toBeInstanceOf(BlobCorruptError);
      expect((error as BlobCorruptError).sha256).toBe(sha256);
      // The last chunk is never handed out.
      expect(seen.reduce((a, b) => a + b, 0)).toBeLessThan(rows);
      writeFileSync(path, original);
      expect(readFileSync(path).equals(original)).toBe(true);
    }
  });
});
