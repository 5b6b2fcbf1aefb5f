import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parquetMetadata } from 'hyparquet';
import { parquetColumnBytes } from '../../src/datasets/parquet-columns.js';
import { PARQUET_STALL_MS } from '../../src/datasets/parquet-threads.js';
import { freePort, runCli, startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { germanCreditParquet, PARQUET } from '../support/parquet.js';

interface Answer {
  status: number;
  body: {
    columnarSha256?: string;
    columns?: unknown[];
    error?: { code: string; message: string; details?: Record<string, unknown> };
  };
}

/**
 * Parquet uploads as the built service converts them: on a thread of their own (under Jest the
 * in-process app converts in its own thread, see parquet-threads.ts), which is stopped when a
 * damaged file sends the decoder round a loop, while the service goes on answering.
 */
describe('Parquet conversion on its own thread (gatehouse serve)', () => {
  let dataDir: string;
  let database: TestDatabase;
  let server: ServingProcess;
  let token: string;

  async function put(name: string, body: Uint8Array): Promise<Answer> {
    const response = await fetch(`${server.url}/v1/datasets?name=${name}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': PARQUET },
      body: new Uint8Array(body),
      signal: AbortSignal.timeout(PARQUET_STALL_MS + 30_000),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-parquet-'));
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

  it('writes the columnar file the in-process conversion writes', async () => {
    const bytes = germanCreditParquet({ rowGroupSize: 300 });
    const answer = await put('german-credit', bytes);
    expect(answer.status).toBe(200);
    expect(answer.body.columns).toHaveLength(63);

    const path = join(dataDir, 'expected.parquet');
    writeFileSync(path, bytes);
    const hash = createHash('sha256');
    for await (const piece of parquetColumnBytes(path, { maxRows: 10_000_000 })) hash.update(piece);
    expect(answer.body.columnarSha256).toBe(hash.digest('hex'));
  });

  it('stops a conversion that makes no progress, naming where, and answers others meanwhile', async () => {
    const bytes = Buffer.from(germanCreditParquet({ rowGroupSize: 200 }));
    // A data page header (v2) of a BOOLEAN column, two bytes changed: the header loses the
    // length of its definition levels, and hyparquet's decoder goes round a loop for good.
    const metadata = parquetMetadata(bytes);
    const chunk = metadata.row_groups[0]?.columns.find(
      (c) => c.meta_data?.path_in_schema[0] === 'SavingsAccountBonds.Unknown',
    );
    expect(chunk?.meta_data?.type).toBe('BOOLEAN');
    const at = Number(chunk?.meta_data?.data_page_offset) + 17;
    bytes.set([8, 238], at);

    const started = Date.now();
    const upload = put('stuck', bytes);
    // The service thread is free: it answers while the conversion spins.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const live = await fetch(`${server.url}/v2/health/live`, { signal: AbortSignal.timeout(2000) });
    expect(live.status).toBe(200);

    const answer = await upload;
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toMatch(
      /^dataset: row group 0, column "SavingsAccountBonds\.Unknown": /,
    );
    expect(answer.body.error?.details).toEqual({
      field: 'dataset',
      rowGroup: 0,
      column: 'SavingsAccountBonds.Unknown',
    });
    expect(Date.now() - started).toBeLessThan(PARQUET_STALL_MS + 20_000);
  }, 120_000);

  it('answers 400 to damaged Parquet files, never 500 and never hanging', async () => {
    const german = germanCreditParquet({ rowGroupSize: 200 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 4, max: german.length - 9 }),
        fc.uint8Array({ minLength: 1, maxLength: 16 }),
        async (at, damage) => {
          const bytes = Buffer.from(german);
          bytes.set(damage.subarray(0, german.length - 8 - at), at);
          const answer = await put(`damaged-${run++}`, bytes);
          // A damaged byte can fall where it changes nothing that is read: then it is a dataset.
          if (answer.status === 200) return;
          expect([answer.status, answer.body.error?.code]).toEqual([400, 'BAD_USER_INPUT']);
          expect(answer.body.error?.message).toMatch(/^dataset: /);
        },
      ),
      { numRuns: 60 },
    );
  }, 600_000);
});
