import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { metricValue, startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { recomputeDigest } from '../support/prediction-digest.js';
import {
  clientOf,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  liveCreditEndpoint,
  peopleTokens,
} from '../support/rollout-story.js';

/**
 * The service killed outright (SIGKILL) while the database is away: the predictions it
 * answered and spooled are on disk, and the next process on the same data folder writes them
 * and seals them, in order, with nothing done by hand. The real `gatehouse serve` (the log's
 * writer on its own thread), its database behind a TCP proxy that cuts it off.
 */
describe('the service killed while its predictions wait in the spool', () => {
  let database: TestDatabase;
  let proxy: FaultProxy;
  let dataDir: string;
  let policiesDir: string;
  let env: Record<string, string>;
  let models: GermanCreditModels;
  let service: ServingProcess | undefined;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => service?.url ?? '', tokens);

  beforeAll(async () => {
    models = buildGermanCreditModels();
    database = await createTestDatabase();
    const server = new URL(database.url);
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-spool-crash-'));
    policiesDir = fastPolicies();
    env = {
      ...FAST_ROLLOUT_ENV,
      DATABASE_URL: proxy.route(database.url),
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '7',
      GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '50',
      GATEHOUSE_PREDICTION_LOG_WRITE_TIMEOUT_MS: '500',
    };
    service = await startServe(env);
    Object.assign(tokens, await peopleTokens(dataDir));
  }, 120_000);

  afterAll(async () => {
    proxy.resume();
    await service?.stop().catch(() => undefined);
    await proxy.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  });

  async function infer(id: string, row: number): Promise<number> {
    const response = await fetch(`${client.url()}/v2/models/credit/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens['ivan']}` },
      body: JSON.stringify({
        id,
        inputs: [
          {
            name: 'features',
            datatype: 'FP32',
            shape: [1, 60],
            data: Array.from(models.data.X[row] ?? []),
          },
        ],
      }),
    });
    await response.arrayBuffer();
    return response.status;
  }

  async function waitForRows(sql: string, count: number): Promise<void> {
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      for (let attempt = 0; (await db.query(sql)).rowCount !== count; attempt++) {
        if (attempt === 1200) throw new Error(`never ${count} rows of ${sql}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await db.end();
    }
  }

  it('answers while the database is away, dies, and the next process logs every answer', async () => {
    const live = await liveCreditEndpoint(client, 'credit', models.fair, defaultGermanCreditPath());
    expect(live.status).toBe('COMPLETED');
    // Serving before the fault, as in production.
    for (let attempt = 0; (await infer('warm', 0)) !== 200; attempt++)
      if (attempt === 100) throw new Error('the endpoint never served');
    // Its row written before the cut: the spooled count then counts only the answers below.
    await waitForRows(`SELECT 1 FROM predictions WHERE request_id = 'warm'`, 1);

    proxy.kill();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      // A HIGH-tier endpoint requires the log: 200 means the prediction is kept.
      expect(await infer(`crash-${i}`, i)).toBe(200);
      ids.push(`crash-${i}`);
    }
    for (
      let attempt = 0;
      (await metricValue(client.url(), 'gatehouse_prediction_log_spooled')) < ids.length;
      attempt++
    )
      if (attempt === 1200) throw new Error('the answers were never all spooled');
    const killed = service;
    await killed?.stop('SIGKILL');
    expect(
      readdirSync(join(dataDir, 'prediction-spool', '0')).some((f) => f.endsWith('.spool')),
    ).toBe(true);

    proxy.resume();
    service = await startServe(env);
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      let logged: string[] = [];
      for (let attempt = 0; logged.length < ids.length; attempt++) {
        if (attempt === 1200) throw new Error(`only ${logged.length} of ${ids.length} logged`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const { rows } = await db.query<{ request_id: string }>(
          `SELECT request_id FROM predictions WHERE request_id LIKE 'crash-%' ORDER BY id`,
        );
        logged = rows.map((r) => r.request_id);
      }
      // Once each, in the order answered, in batches whose digests an auditor recomputes.
      expect(logged).toEqual(ids);
      const batches = await db.query<{ id: string; sha256: string }>(
        `SELECT DISTINCT b.id, b.sha256 FROM prediction_batches b
         JOIN predictions p ON p.batch_id = b.id WHERE p.request_id LIKE 'crash-%'`,
      );
      for (const b of batches.rows) expect(await recomputeDigest(db, Number(b.id))).toBe(b.sha256);
    } finally {
      await db.end();
    }
    for (
      let attempt = 0;
      readdirSync(join(dataDir, 'prediction-spool', '0')).some((f) => f.endsWith('.spool'));
      attempt++
    ) {
      if (attempt === 200) throw new Error('the spool was never emptied');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const { verifyLedger } = await gql<{ verifyLedger: { ok: boolean } }>(
      client,
      `{ verifyLedger { ok } }`,
      {},
      'audrey',
    );
    expect(verifyLedger.ok).toBe(true);
  }, 180_000);
});
