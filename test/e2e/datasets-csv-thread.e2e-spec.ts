import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BadInputError } from '../../src/common/errors.js';
import { columnarFileBytes } from '../../src/datasets/columnar-file.js';
import { checkCsv } from '../../src/datasets/csv-analysis.js';
import { csvColumnBatches } from '../../src/datasets/csv-columns.js';
import { freePort, runCli, startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

interface Answer {
  readonly status: number;
  readonly body: {
    columnarSha256?: string;
    rows?: number;
    columns?: { name: string; type: string }[];
    error?: { code: string; message: string };
  };
}

/** The checks and the second read, in this process: what the thread must write and say. */
async function twoReads(csv: Buffer): Promise<{ columnarSha256: string } | { refused: string }> {
  try {
    const { summary, lineEnding } = await checkCsv(Readable.from([csv]), { maxRows: 10_000_000 });
    const hash = createHash('sha256');
    for await (const piece of columnarFileBytes(
      summary.columns.map((c) => ({ name: c.name, kind: c.type })),
      csvColumnBatches(Readable.from([csv]), summary.columns, summary.rows, lineEnding),
    ))
      hash.update(piece);
    return { columnarSha256: hash.digest('hex') };
  } catch (error) {
    if (error instanceof BadInputError) return { refused: error.message };
    throw error;
  }
}

/** More than 4 MiB of rows, quote-free: read once, on a thread (csv-one-pass-run.ts). */
function rows(line: (i: number) => string, count = 300_000): Buffer {
  const lines = ['id,amount,group,code'];
  for (let i = 0; i < count; i++) lines.push(line(i));
  const csv = Buffer.from(`${lines.join('\n')}\n`);
  expect(csv.length).toBeGreaterThan(4 << 20);
  return csv;
}

/**
 * Large CSV uploads as the built service reads them: once, on a thread of their own (under
 * Jest the in-process app reads them in its own thread, see csv-one-pass-run.ts).
 */
describe('CSV upload read on its own thread (gatehouse serve)', () => {
  let dataDir: string;
  let database: TestDatabase;
  let server: ServingProcess;
  let token: string;

  async function put(name: string, csv: Buffer, chunked = false): Promise<Answer> {
    const body = chunked
      ? (Readable.toWeb(
          Readable.from([csv.subarray(0, 1000), csv.subarray(1000)]),
        ) as ReadableStream)
      : new Uint8Array(csv);
    const response = await fetch(`${server.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
      body,
      ...(chunked ? { duplex: 'half' } : {}),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-csv-thread-'));
    database = await createTestDatabase();
    const env = { GATEHOUSE_DATA_DIR: dataDir };
    const issued = await runCli(['token', '--sub', 'dana', '--role', 'data-scientist'], env);
    expect(issued.code).toBe(0);
    token = issued.stdout.trim();
    server = await startServe({
      ...env,
      DATABASE_URL: database.url,
      GATEHOUSE_PORT: String(await freePort()),
    });
  }, 120_000);

  afterAll(async () => {
    await server.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes the columnar file the checks and a second read write', async () => {
    const csv = rows((i) => `${i},${(i % 1000) / 8},${i % 3 === 0 ? 'a' : 'b'},${i % 7}`);
    const answer = await put('on-a-thread', csv);
    expect(answer.status).toBe(200);
    expect(answer.body.rows).toBe(300_000);
    expect(answer.body).toMatchObject(await twoReads(csv));
    // Sent without a length, it is read on the thread too.
    const chunked = await put('on-a-thread-chunked', csv, true);
    expect(chunked.body.columnarSha256).toBe(answer.body.columnarSha256);
  });

  it('writes the columns again when a column turns out text after its first batch', async () => {
    const csv = rows((i) => `${i},${i / 4},x,${i === 250_000 ? 'A12' : String(i % 7)}`);
    const answer = await put('retyped-on-a-thread', csv);
    expect(answer.status).toBe(200);
    expect(answer.body.columns?.[3]).toEqual({ name: 'code', type: 'string' });
    expect(answer.body).toMatchObject(await twoReads(csv));
  });

  it('refuses as csv-parse does, naming the row and column', async () => {
    const csv = rows((i) => (i === 290_000 ? `${i},1.5,a` : `${i},1.5,a,2`));
    const answer = await put('refused-on-a-thread', csv);
    expect(answer.status).toBe(400);
    expect({ refused: answer.body.error?.message }).toEqual(await twoReads(csv));
    expect(answer.body.error?.message).toMatch(/^dataset: row 290001, column "code": /);
  });
});
