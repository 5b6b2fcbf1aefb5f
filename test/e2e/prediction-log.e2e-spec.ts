import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { buildGermanCreditModels, type GermanCreditModels } from '../../src/model-builder/index.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { recomputeDigest } from '../support/prediction-digest.js';
import { createEndpoint, registerModel, seedLiveEndpoint } from '../support/registry.js';

interface LoggedEvent {
  seq: number;
  subject: string;
  actor: { sub: string };
  payload: Record<string, unknown>;
}

describe('the prediction log', () => {
  let models: GermanCreditModels;

  const body = (i: number, extra: Record<string, unknown> = {}) => ({
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [1, 60],
        data: Array.from(models.data.X[i] ?? []),
      },
    ],
    ...extra,
  });

  async function infer(
    app: TestApp,
    token: string,
    payload: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; id: string }> {
    const response = await fetch(`${app.url}/v2/models/credit/infer`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        ...headers,
      },
      body: JSON.stringify(payload),
    });
    const answer = (await response.json()) as { id: string };
    return { status: response.status, id: answer.id };
  }

  /** `riskTier`: HIGH (the default) makes an endpoint that requires the log. */
  async function serving(
    env: Record<string, string>,
    riskTier: 'MEDIUM' | 'HIGH' = 'HIGH',
  ): Promise<{ app: TestApp; client: string }> {
    const app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0', ...env });
    await seedLiveEndpoint(app, {
      model: 'credit',
      endpoint: 'credit',
      versions: [models.fair],
      riskTier,
    });
    return { app, client: await app.token('app-7', 'inference-client') };
  }

  beforeAll(() => {
    models = buildGermanCreditModels();
  });

  describe('with logging on', () => {
    let app: TestApp;
    let client: string;
    let db: pg.Client;
    const N = 45;

    beforeAll(async () => {
      // Small batches, so that N predictions make several sealed batches.
      ({ app, client } = await serving({
        GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '20',
        GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '60000',
      }));
      db = new pg.Client({ connectionString: app.database.url });
      await db.connect();
      for (let i = 0; i < N; i++) {
        const headers: Record<string, string> = i % 3 === 0 ? { 'x-routing-key': `cust-${i}` } : {};
        const r = await infer(app, client, body(i, { id: `log-${i}` }), headers);
        expect(r.status).toBe(200);
      }
      // A refused request is not a prediction.
      expect((await infer(app, client, { inputs: [] })).status).toBe(400);
      await app.running.app.get(PredictionLog).flush();
    }, 120_000);

    afterAll(async () => {
      await db.end();
      await app.close();
    });

    it('has one row per answered request, with inputs, outputs, latency and version', async () => {
      const { rows } = await db.query<{
        request_id: string;
        model_version: number;
        arm: string;
        inputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
        outputs: { name: string; data: number[] }[];
        error: string | null;
        latency_ms: number;
      }>(`SELECT * FROM predictions ORDER BY id`);
      expect(rows.map((r) => r.request_id)).toEqual(
        Array.from({ length: N }, (_, i) => `log-${i}`),
      );
      const first = rows[0];
      expect(first).toMatchObject({ model_version: 1, arm: 'live', error: null });
      expect(first?.inputs).toEqual([
        {
          name: 'features',
          datatype: 'FP32',
          shape: [1, 60],
          data: Array.from(models.data.X[0] ?? []),
        },
      ]);
      const expected = models.fair.predict([models.data.X[0] ?? new Float32Array()])[0] ?? 0;
      expect(Math.abs((first?.outputs[0]?.data[0] ?? 0) - expected)).toBeLessThan(1e-5);
      for (const r of rows) expect(r.latency_ms).toBeGreaterThan(0);
      expect(app.running.app.get(PredictionLog).stats()).toMatchObject({
        enabled: true,
        queued: 0,
        accepted: N,
        written: N,
        dropped: 0,
      });
    });

    it('keeps the SHA-256 of the routing key, never the key', async () => {
      const { rows } = await db.query<{ routing_key_hash: string | null; text: string }>(
        `SELECT routing_key_hash, row_to_json(p)::text AS text FROM predictions p
         WHERE request_id IN ('log-3', 'log-4')
         ORDER BY id`,
      );
      expect(rows[0]?.routing_key_hash).toBe(createHash('sha256').update('cust-3').digest('hex'));
      expect(rows[0]?.text).not.toContain('cust-3');
      expect(rows[1]?.routing_key_hash).toBeNull();
    });

    it('seals every batch into the ledger with a digest an auditor can recompute', async () => {
      const auditor = await app.token('audrey', 'auditor');
      const r = await app.gql<{ ledgerEvents: { events: LoggedEvent[] } }>(
        `query { ledgerEvents(type: "predictions.logged", limit: 100) {
           events { seq subject actor { sub } payload } } }`,
        {},
        auditor,
      );
      expect(r.errors).toBeUndefined();
      const events = r.data?.ledgerEvents.events ?? [];
      expect(events.map((e) => e.payload['count'])).toEqual([20, 20, 5]);
      const { rows: batches } = await db.query<{ id: string; sha256: string; count: number }>(
        `SELECT id, sha256, count FROM prediction_batches ORDER BY id`,
      );
      expect(batches).toHaveLength(3);
      for (const [i, event] of events.entries()) {
        expect(event.subject).toBe('endpoint:credit');
        expect(event.actor.sub).toBe('system:prediction-log');
        const batchId = Number(event.payload['batchId']);
        const recomputed = await recomputeDigest(db, batchId);
        expect(event.payload['sha256']).toBe(recomputed);
        expect(batches[i]?.sha256).toBe(recomputed);
        const { rows: span } = await db.query<{ first: string; last: string; n: number }>(
          `SELECT min(id) AS first, max(id) AS last, count(*)::int AS n
           FROM predictions WHERE batch_id = $1`,
          [batchId],
        );
        expect(event.payload).toMatchObject({
          endpoint: 'credit',
          firstId: Number(span[0]?.first),
          lastId: Number(span[0]?.last),
          count: span[0]?.n,
        });
      }
    });

    it('takes no prediction outside a batch: batch_id has no value to default to', async () => {
      const insert = `INSERT INTO predictions (request_id, endpoint, model_version, arm, inputs, latency_ms, created_at)
         VALUES ('stray', 'credit', 1, 'live', '[]', 1, now())`;
      await expect(db.query(insert)).rejects.toThrow(/gatehouse\.prediction_batch/);
      // Once set and reset in a session, the setting reads as '' and the cast refuses it.
      await db.query(`BEGIN`);
      await db.query(`SELECT set_config('gatehouse.prediction_batch', '1', true)`);
      await db.query(`COMMIT`);
      await expect(db.query(insert)).rejects.toThrow(/bigint/);
    });

    it('detects a tampered row: the digest no longer matches', async () => {
      const { rows } = await db.query<{ batch_id: string; id: string }>(
        `SELECT batch_id, id FROM predictions WHERE request_id = 'log-0'`,
      );
      const batchId = Number(rows[0]?.batch_id);
      const before = await recomputeDigest(db, batchId);
      await db.query(
        `UPDATE predictions SET outputs = jsonb_set(outputs::jsonb, '{0,data,0}', '0.99')::json WHERE id = $1`,
        [rows[0]?.id],
      );
      expect(await recomputeDigest(db, batchId)).not.toBe(before);
    });

    it('deletes predictions past retention but keeps the batch digests, ledgering it', async () => {
      const log = app.running.app.get(PredictionLog);
      expect(await log.purgeExpired(new Date())).toBe(0);
      const later = new Date(
        Date.now() + (app.config.predictionLog.retentionDays + 1) * 86_400_000,
      );
      expect(await log.purgeExpired(later)).toBe(N);
      const left = await db.query(`SELECT count(*)::int AS n FROM predictions`);
      expect(left.rows[0]).toEqual({ n: 0 });
      const sealed = await db.query(`SELECT count(*)::int AS n FROM prediction_batches`);
      expect(sealed.rows[0]).toEqual({ n: 3 });
      const auditor = await app.token('audrey', 'auditor');
      const r = await app.gql<{ ledgerEvents: { events: LoggedEvent[] } }>(
        `query { ledgerEvents(type: "predictions.purged", limit: 10) {
           events { seq subject actor { sub } payload } } }`,
        {},
        auditor,
      );
      expect(r.data?.ledgerEvents.events.map((e) => e.payload['count'])).toEqual([N]);
    });
  });

  it('on a best-effort endpoint, drops and counts predictions beyond the queue limit, never failing a request', async () => {
    const { app, client } = await serving(
      {
        GATEHOUSE_PREDICTION_LOG_QUEUE_LIMIT: '3',
        GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '100',
        GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '60000',
      },
      'MEDIUM',
    );
    try {
      for (let i = 0; i < 10; i++) expect((await infer(app, client, body(i))).status).toBe(200);
      const log = app.running.app.get(PredictionLog);
      expect(log.stats()).toMatchObject({ queued: 3, accepted: 3, dropped: 7 });
      await log.flush();
      expect(log.stats()).toMatchObject({ queued: 0, written: 3, dropped: 7 });
    } finally {
      await app.close();
    }
  });

  it('on an endpoint that requires the log, refuses (503) beyond the queue limit rather than answer unlogged', async () => {
    const { app, client } = await serving({
      GATEHOUSE_PREDICTION_LOG_QUEUE_LIMIT: '3',
      GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '100',
      GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '60000',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await infer(app, client, body(i))).status);
      expect(statuses).toEqual([200, 200, 200, 503, 503]);
      const refused = await fetch(`${app.url}/v2/models/credit/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${client}` },
        body: JSON.stringify(body(9)),
      });
      expect(refused.status).toBe(503);
      expect(await refused.json()).toEqual({
        error: {
          code: 'UNAVAILABLE',
          message: expect.stringMatching(/requires every prediction to be logged/),
          details: { endpoint: 'credit', predictionLogPolicy: 'REQUIRED' },
        },
      });
      const log = app.running.app.get(PredictionLog);
      expect(log.stats()).toMatchObject({ queued: 3, accepted: 3, dropped: 0, refused: 3 });
      // Once the log has room again, the endpoint answers again.
      await log.flush();
      expect((await infer(app, client, body(10))).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("sets an endpoint's log policy with a reason in the ledger, and never lets a HIGH-tier one go unlogged", async () => {
    const { app } = await serving({}, 'MEDIUM');
    try {
      const engineer = await app.token('erin', 'ml-engineer');
      const set = (endpoint: string, policy: string, token = engineer) =>
        app.gql<{ setPredictionLogPolicy: { predictionLogPolicy: string; revision: number } }>(
          `mutation($e: String!, $p: PredictionLogPolicy!) {
             setPredictionLogPolicy(endpoint: $e, policy: $p,
               reason: "Serving lending decisions from now on, which must be logged") {
               predictionLogPolicy revision } }`,
          { e: endpoint, p: policy },
          token,
        );
      const before = await app.gql<{ endpoint: { predictionLogPolicy: string; revision: number } }>(
        `{ endpoint(name: "credit") { predictionLogPolicy revision } }`,
        {},
        engineer,
      );
      expect(before.data?.endpoint.predictionLogPolicy).toBe('BEST_EFFORT');
      const r = await set('credit', 'REQUIRED');
      expect(r.errors).toBeUndefined();
      expect(r.data?.setPredictionLogPolicy).toEqual({
        predictionLogPolicy: 'REQUIRED',
        revision: (before.data?.endpoint.revision ?? 0) + 1,
      });
      const auditor = await app.token('audrey', 'auditor');
      const events = await app.gql<{ ledgerEvents: { events: LoggedEvent[] } }>(
        `query { ledgerEvents(type: "endpoint.log_policy.changed", limit: 10) {
           events { seq subject actor { sub } payload } } }`,
        {},
        auditor,
      );
      expect(events.data?.ledgerEvents.events).toMatchObject([
        {
          subject: 'endpoint:credit',
          actor: { sub: 'erin' },
          payload: {
            from: 'best-effort',
            to: 'required',
            reason: 'Serving lending decisions from now on, which must be logged',
          },
        },
      ]);
      // Not the role for it.
      expect((await set('credit', 'BEST_EFFORT', auditor)).errors?.[0]?.extensions?.['code']).toBe(
        'FORBIDDEN',
      );
      // A HIGH-tier model's endpoint: created REQUIRED, and it stays so.
      const scientist = await app.token('dana', 'data-scientist');
      await registerModel(app, scientist, 'credit-high', { riskTier: 'HIGH' });
      const best = await app.gql(
        `mutation { createEndpoint(name: "credit-high", model: "credit-high", predictionLogPolicy: BEST_EFFORT) { id } }`,
        {},
        engineer,
      );
      expect(best.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        details: { field: 'predictionLogPolicy' },
      });
      await createEndpoint(app, engineer, 'credit-high', 'credit-high');
      const loosen = await set('credit-high', 'BEST_EFFORT');
      expect(loosen.errors?.[0]?.message).toMatch(
        /predictionLogPolicy: a HIGH-tier model may not be served unlogged/,
      );
    } finally {
      await app.close();
    }
  });

  it('flushes what is queued when the service shuts down', async () => {
    const { app, client } = await serving({
      GATEHOUSE_PREDICTION_LOG_BATCH_ROWS: '100',
      GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '60000',
    });
    for (let i = 0; i < 7; i++) expect((await infer(app, client, body(i))).status).toBe(200);
    expect(app.running.app.get(PredictionLog).stats().queued).toBe(7);
    await app.running.close();
    const db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    try {
      const r = await db.query(`SELECT count(*)::int AS n FROM predictions`);
      expect(r.rows[0]).toEqual({ n: 7 });
    } finally {
      await db.end();
      await app.database.drop();
      rmSync(app.config.dataDir, { recursive: true, force: true });
    }
  });

  it('writes nothing when turned off, and an endpoint that requires it answers nothing', async () => {
    const { app, client } = await serving({ GATEHOUSE_PREDICTION_LOG: 'false' }, 'MEDIUM');
    try {
      expect((await infer(app, client, body(0))).status).toBe(200);
      const engineer = await app.token('erin', 'ml-engineer');
      const set = await app.gql(
        `mutation { setPredictionLogPolicy(endpoint: "credit", policy: REQUIRED,
           reason: "Lending decisions must always be logged") { revision } }`,
        {},
        engineer,
      );
      expect(set.errors).toBeUndefined();
      // The router hears of the change through NOTIFY: poll until it has.
      for (let attempt = 0; ; attempt++) {
        const status = (await infer(app, client, body(1))).status;
        if (status === 503) break;
        expect(status).toBe(200);
        if (attempt === 100) throw new Error('the policy change never reached the router');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const log = app.running.app.get(PredictionLog);
      await log.flush();
      expect(log.stats()).toMatchObject({ enabled: false, accepted: 0, written: 0 });
      const db = new pg.Client({ connectionString: app.database.url });
      await db.connect();
      const r = await db.query(`SELECT count(*)::int AS n FROM predictions`);
      await db.end();
      expect(r.rows[0]).toEqual({ n: 0 });
    } finally {
      await app.close();
    }
  });
});
