import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import type { ColumnSource } from 'hyparquet-writer';
import pg from 'pg';
import { BlobStore } from '../../src/blobs/blob-store.js';
import { readDatasetChunks, type DatasetChunk } from '../../src/datasets/dataset-reader.js';
import { defaultGermanCreditPath, loadGermanCredit } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { germanCreditParquet, PARQUET, parquetOf, type ParquetCodec } from '../support/parquet.js';

const MAX_ROWS = 1500;
const MAX_BYTES = 2_000_000;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface DatasetAnswer {
  id: string;
  name: string;
  sha256: string;
  format: string;
  columnarSha256: string | null;
  size: number;
  rows: number;
  columns: { name: string; type: string }[];
}

const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

describe('PUT /v1/datasets with a Parquet file', () => {
  let app: TestApp;
  let scientist: string;
  let auditor: string;
  let germanCsv: DatasetAnswer;

  async function put(
    name: string,
    body: Uint8Array | string,
    contentType = PARQUET,
  ): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${app.url}/v1/datasets?name=${encodeURIComponent(name)}`, {
      method: 'PUT',
      headers: { 'content-type': contentType, authorization: `Bearer ${scientist}` },
      body: typeof body === 'string' ? body : new Uint8Array(body),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: response.status, body: await response.json() };
  }

  async function accepted(name: string, body: Uint8Array): Promise<DatasetAnswer> {
    const res = await put(name, body);
    expect([res.status, res.body]).toEqual([200, expect.anything()]);
    return res.body as DatasetAnswer;
  }

  async function refused(body: Uint8Array | string, name = 'refused'): Promise<ErrorBody['error']> {
    const res = await put(name, body);
    expect([res.status, (res.body as ErrorBody).error.code]).toEqual([400, 'BAD_USER_INPUT']);
    return (res.body as ErrorBody).error;
  }

  async function read(
    dataset: DatasetAnswer,
    request: { features: string[]; strings?: string[]; chunkRows?: number },
  ): Promise<DatasetChunk[]> {
    const chunks: DatasetChunk[] = [];
    for await (const chunk of readDatasetChunks(app.running.app.get(BlobStore), dataset, request))
      chunks.push(chunk);
    return chunks;
  }

  async function readFailure(
    dataset: DatasetAnswer,
    request: { features: string[]; strings?: string[] },
  ): Promise<Error> {
    try {
      await read(dataset, request);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected the read to fail');
  }

  function storedBlobs(): string[] {
    const root = join(app.config.dataDir, 'blobs', 'sha256');
    if (!existsSync(root)) return [];
    return readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)));
  }

  async function query<T>(sql: string): Promise<T[]> {
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      return (await client.query(sql)).rows as T[];
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    app = await startTestApp({
      GATEHOUSE_DATASET_MAX_ROWS: String(MAX_ROWS),
      GATEHOUSE_DATASET_MAX_BYTES: String(MAX_BYTES),
    });
    scientist = await app.token('dana', 'data-scientist');
    auditor = await app.token('audrey', 'auditor');
    const csv = await put('german-credit', readFileSync(defaultGermanCreditPath()), 'text/csv');
    expect(csv.status).toBe(200);
    germanCsv = csv.body as DatasetAnswer;
  });
  afterAll(async () => {
    await app.close();
  });

  it('registers the German credit data sent as Parquet with the columns the CSV has', async () => {
    const bytes = germanCreditParquet({ rowGroupSize: 300 });
    const answer = await accepted('german-credit', bytes);
    expect(answer).toMatchObject({
      name: 'german-credit',
      sha256: sha256Of(bytes),
      format: 'parquet',
      size: bytes.length,
      rows: 1000,
      columns: germanCsv.columns,
    });
    expect(answer.id).not.toBe(germanCsv.id);
    expect(storedBlobs()).toEqual(expect.arrayContaining([answer.sha256, answer.columnarSha256]));

    const events = await app.gql<{
      ledgerEvents: { events: { type: string; payload: Record<string, unknown> }[] };
    }>(
      `query ($subject: String) { ledgerEvents(afterSeq: 0, subject: $subject) { events { type payload } } }`,
      { subject: `dataset:${answer.id}` },
      auditor,
    );
    expect(events.data?.ledgerEvents.events).toEqual([
      {
        type: 'dataset.registered',
        payload: {
          id: answer.id,
          name: 'german-credit',
          sha256: answer.sha256,
          format: 'parquet',
          columnarSha256: answer.columnarSha256,
          size: bytes.length,
          rows: 1000,
          columns: germanCsv.columns,
        },
      },
    ]);
  });

  it('reads back, chunk by chunk, exactly what the CSV gives', async () => {
    const credit = loadGermanCredit();
    const parquet = await accepted(
      'german-credit-chunks',
      germanCreditParquet({ rowGroupSize: 128 }),
    );
    const request = {
      features: credit.featureNames,
      strings: ['good_credit', 'sex', 'age_group', 'Duration'],
      chunkRows: 300,
    };
    const fromParquet = await read(parquet, request);
    const fromCsv = await read(germanCsv, request);
    expect(fromParquet).toEqual(fromCsv);
    expect(fromParquet.map((c) => c.rows)).toEqual([300, 300, 300, 100]);
    // The CSV's own reader (a dataset stored before columns were) agrees too.
    const fromCsvText = await read({ ...germanCsv, columnarSha256: null }, request);
    expect(
      fromCsvText.map((c) => [c.features, c.strings['sex'], c.strings['good_credit']]),
    ).toEqual(fromCsv.map((c) => [c.features, c.strings['sex'], c.strings['good_credit']]));
  });

  it('reads every codec, and the same values make the same columnar file', async () => {
    const codecs: ParquetCodec[] = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD'];
    const answers: DatasetAnswer[] = [];
    for (const codec of codecs) {
      const bytes = germanCreditParquet({ codec, rowGroupSize: 250 });
      answers.push(await accepted(`german-credit-${codec.toLowerCase()}`, bytes));
    }
    expect(new Set(answers.map((a) => a.sha256)).size).toBe(codecs.length);
    expect(new Set(answers.map((a) => a.columnarSha256)).size).toBe(1);
    for (const answer of answers) expect(answer.columns).toEqual(germanCsv.columns);
  });

  it('takes numbers, decimals, booleans, text, dates and timestamps, as numbers or text', async () => {
    const columns: ColumnSource[] = [
      { name: 'int32', data: [1, -2147483648, 2147483647, null], type: 'INT32' },
      {
        name: 'int64',
        data: [2n ** 53n - 1n, -(2n ** 53n - 1n), 0n, null],
        type: 'INT64',
      },
      { name: 'float', data: [0.1, -1.5, 3.4e38, null], type: 'FLOAT' },
      { name: 'double', data: [0.1, 5e-324, -0, null], type: 'DOUBLE' },
      { name: 'bool', data: [true, false, true, null], type: 'BOOLEAN' },
      { name: 'text', data: ['é', '', '😀 x', null], type: 'STRING' },
      { name: 'json', data: [{ a: 1 }, [1, 2], 'x', null], type: 'JSON' },
      {
        name: 'uuid',
        data: ['123e4567-e89b-12d3-a456-426614174000', null, null, null],
        type: 'UUID',
      },
      { name: 'decimal', data: [12.34, -0.01, 0.3, null] },
      { name: 'date', data: [new Date('2024-03-01'), new Date('1900-12-31'), null, null] },
      {
        name: 'ts_millis',
        data: [new Date('2024-03-01T13:45:00.250Z'), null, null, null],
        type: 'TIMESTAMP',
      },
      { name: 'ts_micros', data: [1709300700250123n, -1n, null, null] },
      { name: 'time', data: [49500250, 0, null, null] },
      { name: 'nothing', data: [null, null, null, null], type: 'DOUBLE' },
    ];
    const schema = [
      { name: 'root', num_children: columns.length },
      ...columns.map((c) => {
        switch (c.name) {
          case 'decimal':
            return {
              name: c.name,
              type: 'FIXED_LEN_BYTE_ARRAY' as const,
              type_length: 8,
              converted_type: 'DECIMAL' as const,
              scale: 2,
              precision: 10,
              repetition_type: 'OPTIONAL' as const,
            };
          case 'date':
            return {
              name: c.name,
              type: 'INT32' as const,
              converted_type: 'DATE' as const,
              repetition_type: 'OPTIONAL' as const,
            };
          case 'ts_micros':
            return {
              name: c.name,
              type: 'INT64' as const,
              logical_type: {
                type: 'TIMESTAMP' as const,
                isAdjustedToUTC: false,
                unit: 'MICROS' as const,
              },
              repetition_type: 'OPTIONAL' as const,
            };
          case 'time':
            return {
              name: c.name,
              type: 'INT32' as const,
              converted_type: 'TIME_MILLIS' as const,
              repetition_type: 'OPTIONAL' as const,
            };
          default:
            return undefined;
        }
      }),
    ];
    const { parquetWriteBuffer, schemaFromColumnData } = await import('hyparquet-writer');
    const auto = schemaFromColumnData({ columnData: columns });
    const bytes = Buffer.from(
      parquetWriteBuffer({
        columnData: columns.map(({ name, data }) => ({ name, data })),
        schema: auto.map((element, i) => schema[i] ?? element),
      }),
    );
    const answer = await accepted('types', bytes);
    expect(answer.columns).toEqual([
      { name: 'int32', type: 'number' },
      { name: 'int64', type: 'number' },
      { name: 'float', type: 'number' },
      { name: 'double', type: 'number' },
      { name: 'bool', type: 'number' },
      { name: 'text', type: 'string' },
      { name: 'json', type: 'string' },
      { name: 'uuid', type: 'string' },
      { name: 'decimal', type: 'number' },
      { name: 'date', type: 'string' },
      { name: 'ts_millis', type: 'string' },
      { name: 'ts_micros', type: 'string' },
      { name: 'time', type: 'string' },
      // A numeric column without a value is `string`, as an empty CSV column is.
      { name: 'nothing', type: 'string' },
    ]);
    const [chunk] = await read(answer, {
      features: [],
      strings: answer.columns.map((c) => c.name),
    });
    expect(chunk?.strings).toEqual({
      int32: ['1', '-2147483648', '2147483647', ''],
      int64: ['9007199254740991', '-9007199254740991', '0', ''],
      // A FLOAT is the double it stands for, printed as JavaScript prints that double.
      float: [String(Math.fround(0.1)), '-1.5', String(Math.fround(3.4e38)), ''],
      double: ['0.1', '5e-324', '0', ''],
      bool: ['1', '0', '1', ''],
      text: ['é', '', '😀 x', ''],
      json: ['{"a":1}', '[1,2]', '"x"', ''],
      uuid: ['123e4567-e89b-12d3-a456-426614174000', '', '', ''],
      decimal: ['12.34', '-0.01', '0.3', ''],
      date: ['2024-03-01', '1900-12-31', '', ''],
      ts_millis: ['2024-03-01T13:45:00.250Z', '', '', ''],
      ts_micros: ['2024-03-01T13:45:00.250123', '1969-12-31T23:59:59.999999', '', ''],
      time: ['13:45:00.250', '00:00:00.000', '', ''],
      nothing: ['', '', '', ''],
    });
    // As features, the fourth row is missing in every column.
    const error = await readFailure(answer, { features: ['double', 'int32'] });
    expect(error.message).toBe(
      'dataset: row 4, column "double": the value is empty; a feature column needs a number in every row',
    );
  });

  it('takes missing values as a CSV takes empty ones: refused only when read as a feature', async () => {
    const answer = await accepted(
      'with-nulls',
      parquetOf(
        [
          { name: 'x', data: [1, 2, 3, null, 5], type: 'DOUBLE' },
          { name: 'g', data: ['a', null, 'b', 'a', 'b'], type: 'STRING' },
        ],
        { rowGroupSize: 2 },
      ),
    );
    expect(answer.columns).toEqual([
      { name: 'x', type: 'number' },
      { name: 'g', type: 'string' },
    ]);
    const [chunk] = await read(answer, { features: [], strings: ['g'] });
    expect(chunk?.strings['g']).toEqual(['a', '', 'b', 'a', 'b']);
    const error = await readFailure(answer, { features: ['x'] });
    expect(error.message).toBe(
      'dataset: row 4, column "x": the value is empty; a feature column needs a number in every row',
    );
  });

  it('refuses a value it cannot take, naming the row group, row and column', async () => {
    const cases: [ColumnSource, string][] = [
      [{ name: 'x', data: [1, 2, 3, Number.NaN, 5], type: 'DOUBLE' }, 'NaN is not a finite number'],
      [
        { name: 'x', data: [1, 2, 3, Number.POSITIVE_INFINITY, 5], type: 'FLOAT' },
        'Infinity is not a finite number',
      ],
      [
        { name: 'x', data: [1n, 2n, 3n, -(2n ** 60n), 5n], type: 'INT64' },
        '-1152921504606846976 is beyond ±(2^53 − 1), the integers a double holds exactly',
      ],
    ];
    for (const [column, reason] of cases) {
      const error = await refused(
        parquetOf([{ name: 'id', data: [1, 2, 3, 4, 5], type: 'INT32' }, column], {
          rowGroupSize: 3,
        }),
      );
      expect(error.message).toMatch(
        new RegExp(
          `^dataset: row group 1, row 4, column "x": ${reason.replace(/[()^+]/g, '\\$&')}`,
        ),
      );
      expect(error.details).toEqual({ field: 'dataset', rowGroup: 1, row: 4, column: 'x' });
    }
    const binary = await refused(
      parquetOf(
        [
          {
            name: 'blob',
            data: [new Uint8Array([65]), new Uint8Array([0xff, 0xfe])],
            type: 'BYTE_ARRAY',
          },
        ],
        { rowGroupSize: 1 },
      ),
    );
    expect(binary.message).toBe(
      'dataset: row group 1, column "blob": holds bytes that are not UTF-8 text (a binary column?)',
    );
    expect(binary.details).toEqual({ field: 'dataset', rowGroup: 1, column: 'blob' });
  });

  it('refuses columns a dataset cannot hold, naming them', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const nested = (schema: Parameters<typeof parquetWriteBuffer>[0]['schema'], data: unknown[]) =>
      Buffer.from(
        parquetWriteBuffer({
          columnData: [
            { name: 'id', data: [1, 2] },
            { name: 'n', data },
          ],
          schema,
        }),
      );
    const list = await refused(
      nested(
        [
          { name: 'root', num_children: 2 },
          { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
          { name: 'n', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
          { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
          { name: 'element', type: 'INT32', repetition_type: 'OPTIONAL' },
        ],
        [[1, 2], [3]],
      ),
    );
    expect(list.message).toBe(
      'dataset: column "n": is nested (a struct, list or map); a dataset column holds numbers or text',
    );
    expect(list.details).toEqual({ field: 'dataset', column: 'n' });
    const struct = await refused(
      nested(
        [
          { name: 'root', num_children: 2 },
          { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
          { name: 'n', repetition_type: 'OPTIONAL', num_children: 1 },
          { name: 'a', type: 'INT32', repetition_type: 'OPTIONAL' },
        ],
        [{ a: 1 }, { a: 2 }],
      ),
    );
    expect(struct.message).toMatch(/^dataset: column "n": is nested/);
    const fixed = await refused(
      Buffer.from(
        parquetWriteBuffer({
          columnData: [{ name: 'f', data: [new Uint8Array([1, 2, 3, 4])] }],
          schema: [
            { name: 'root', num_children: 1 },
            {
              name: 'f',
              type: 'FIXED_LEN_BYTE_ARRAY',
              type_length: 4,
              repetition_type: 'REQUIRED',
            },
          ],
        }),
      ),
    );
    expect(fixed.message).toBe(
      'dataset: column "f": is binary (FIXED_LEN_BYTE_ARRAY); a dataset column holds numbers or text',
    );
    const twice = await refused(
      parquetOf([
        { name: 'a', data: [1], type: 'INT32' },
        { name: 'b', data: [1], type: 'INT32' },
        { name: 'a', data: [2], type: 'INT32' },
      ]),
    );
    expect(twice.message).toBe('dataset: column "a": the schema names two columns "a" (#1 and #3)');
    const blank = await refused(parquetOf([{ name: ' ', data: [1], type: 'INT32' }]));
    expect(blank.message).toBe('dataset: column "#1": the schema gives this column no name');
  });

  it('refuses a file that is not a whole Parquet file, with the reason', async () => {
    const german = germanCreditParquet();
    expect((await refused('id,name\n1,first\n2,second\n')).message).toBe(
      'dataset: is not a Parquet file: it does not begin with the Parquet magic bytes PAR1',
    );
    expect((await refused(german.subarray(0, german.length - 100))).message).toBe(
      'dataset: is not a Parquet file: it does not end with the Parquet magic bytes PAR1 (a truncated upload?)',
    );
    expect((await refused(german.subarray(0, 7))).message).toBe(
      'dataset: is not a Parquet file: it has 7 bytes, fewer than the 12 of the smallest one',
    );
    const noFooter = Buffer.concat([
      Buffer.from('PAR1'),
      Buffer.alloc(4, 0xff),
      Buffer.from('PAR1'),
    ]);
    expect((await refused(Buffer.concat([Buffer.from('PAR1'), noFooter]))).message).toMatch(
      /^dataset: is not a Parquet file: its footer claims 4294967295 bytes, more than the file holds/,
    );
    const garbage = Buffer.concat([
      Buffer.from('PAR1'),
      Buffer.from('not a footer at all'),
      Buffer.from([19, 0, 0, 0]),
      Buffer.from('PAR1'),
    ]);
    expect((await refused(garbage)).message).toMatch(
      /^dataset: is not a Parquet file: its footer cannot be decoded \(/,
    );
    const encrypted = Buffer.concat([german.subarray(0, german.length - 4), Buffer.from('PARE')]);
    expect((await refused(encrypted)).message).toBe(
      'dataset: is an encrypted Parquet file; Gatehouse reads unencrypted files',
    );
    // A damaged footer that still decodes: a column chunk placed nowhere.
    const misplaced = Buffer.from(germanCreditParquet({ rowGroupSize: 200 }));
    misplaced.set([1, 128, 128], 46_496);
    expect((await refused(misplaced)).message).toBe(
      'dataset: row group 3, column "NumberExistingCredits": the footer gives no valid place for the data (a damaged file)',
    );
    // A damaged column chunk: the row group and column are named.
    const damaged = Buffer.from(germanCreditParquet({ rowGroupSize: 500 }));
    damaged.fill(0xff, 4, 24);
    const error = await refused(damaged);
    expect(error.message).toMatch(/^dataset: row group 0, column "[^"]+": /);
  });

  it('refuses more rows than the limit, an empty file, and nothing else is kept of refusals', async () => {
    const many = Array.from({ length: MAX_ROWS + 1 }, (_, i) => i);
    expect((await refused(parquetOf([{ name: 'x', data: many, type: 'INT32' }]))).message).toBe(
      `dataset: the file has ${MAX_ROWS + 1} data rows, more than ${MAX_ROWS}, the most a dataset may have`,
    );
    expect((await refused(parquetOf([{ name: 'x', data: [], type: 'INT32' }]))).message).toBe(
      'dataset: has no data rows',
    );
    const big = parquetOf(
      [
        {
          name: 'x',
          data: Array.from({ length: 1000 }, (_, i) => String(i).padEnd(3000, 'x')),
          type: 'STRING',
        },
      ],
      { codec: 'UNCOMPRESSED' },
    );
    const tooBig = await put('too-big', big);
    expect([tooBig.status, (tooBig.body as ErrorBody).error.code]).toEqual([
      413,
      'PAYLOAD_TOO_LARGE',
    ]);

    const registered = await query<{ sha256: string }>(
      'SELECT sha256 FROM datasets UNION SELECT columnar_sha256 FROM datasets',
    );
    expect(storedBlobs().sort()).toEqual(registered.map((r) => r.sha256).sort());
    expect(readdirSync(join(app.config.dataDir, 'blobs', 'tmp'))).toEqual([]);
  });

  it('names the content type to use for a Parquet file sent as CSV, and refuses unknown types', async () => {
    const german = germanCreditParquet();
    const asCsv = await put('as-csv', german, 'text/csv');
    expect(asCsv.status).toBe(400);
    expect((asCsv.body as ErrorBody).error).toMatchObject({
      code: 'BAD_USER_INPUT',
      message: expect.stringMatching(/^content-type: .*application\/vnd\.apache\.parquet/),
      details: { field: 'content-type' },
    });
    const json = await put('as-json', '{"a":1}', 'application/json');
    expect(json.status).toBe(400);
    expect((json.body as ErrorBody).error.message).toBe(
      'content-type: application/json is not accepted here; send a CSV as text/csv and a Parquet file as application/vnd.apache.parquet',
    );
    const unknown = await put('as-x-parquet', german, 'application/x-parquet');
    expect(unknown.status).toBe(415);
    expect((unknown.body as ErrorBody).error.details).toEqual({ field: 'content-type' });
  });

  it('answers 400 to random bytes and to cut Parquet files, never 500 and never hanging', async () => {
    const german = germanCreditParquet({ rowGroupSize: 200 });
    const bodies = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 4096 }),
      fc
        .uint8Array({ minLength: 0, maxLength: 4096 })
        .map((bytes) => Buffer.concat([Buffer.from('PAR1'), bytes, Buffer.from('PAR1')])),
      fc.integer({ min: 0, max: german.length - 1 }).map((n) => german.subarray(0, n)),
    );
    // Damage inside the column chunks is sent to the built service, which decodes on a thread
    // it can stop (datasets-parquet-thread.e2e-spec.ts): this app decodes on the test's thread.
    let run = 0;
    await fc.assert(
      fc.asyncProperty(bodies, async (body) => {
        const res = await put(`fuzz-${run++}`, body);
        expect([res.status, (res.body as ErrorBody).error.code]).toEqual([400, 'BAD_USER_INPUT']);
        expect((res.body as ErrorBody).error.message).toMatch(/^(dataset|content-type): /);
      }),
      { numRuns: 120 },
    );
  }, 300_000);
});
