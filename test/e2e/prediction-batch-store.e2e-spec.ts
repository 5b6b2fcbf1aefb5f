import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { BatchStore } from '../../src/prediction-log/batch-store.js';
import { BatchBuilder } from '../../src/prediction-log/prediction-digest.js';
import type { PredictionRecord } from '../../src/prediction-log/prediction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const record = (n: number): PredictionRecord => ({
  requestId: `store-${n}`,
  endpoint: 'credit',
  modelVersion: 1,
  arm: 'live',
  inputs: [{ data: [n, 0.5], datatype: 'FP32', name: 'x', shape: [1, 2] }],
  outputs: [{ data: [0.25], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  error: null,
  latencyMs: 0.2,
  routingKeyHash: null,
  createdAt: new Date('2026-12-06T10:00:00.000Z'),
});

/**
 * The writer thread's connection (batch-store.ts), against PostgreSQL: a batch, its
 * `prediction_batches` row and its queued ledger event commit together or not at all.
 */
describe('the prediction log batch store', () => {
  let database: TestDatabase;
  let store: BatchStore;
  let db: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    store = new BatchStore(database.url);
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
  });

  afterAll(async () => {
    await store.close();
    await db.end();
    await database.drop();
  });

  const counts = async () =>
    (
      await db.query<{ predictions: number; batches: number; queued: number }>(
        `SELECT (SELECT count(*)::int FROM predictions) AS predictions,
                (SELECT count(*)::int FROM prediction_batches) AS batches,
                (SELECT count(*)::int FROM ledger_pending) AS queued`,
      )
    ).rows[0];

  it('writes the rows, the batch and its ledger event, queued for the sequencer', async () => {
    const builder = new BatchBuilder('credit');
    for (let i = 0; i < 3; i++) builder.add(record(i));
    const batch = builder.seal();
    const stored = await store.write(batch);
    if (!stored) throw new Error('a first write found its batch already written');
    expect(stored.sealed).toMatchObject({ endpoint: 'credit', count: 3, sha256: batch.sha256 });
    expect(stored.sealed.lastId - stored.sealed.firstId).toBe(2);
    expect(await counts()).toEqual({ predictions: 3, batches: 1, queued: 1 });
    const { rows } = await db.query<{ id: string; type: string; subject: string; payload: string }>(
      `SELECT id, type, subject, payload FROM ledger_pending`,
    );
    expect(rows[0]).toMatchObject({
      id: String(stored.event.id),
      type: 'predictions.logged',
      subject: 'endpoint:credit',
    });
    expect(JSON.parse(rows[0]?.payload ?? '')).toEqual(stored.sealed);
    const ids = await db.query<{ request_id: string }>(
      `SELECT request_id FROM predictions WHERE batch_id = $1 ORDER BY id`,
      [stored.sealed.batchId],
    );
    expect(ids.rows.map((r) => r.request_id)).toEqual(['store-0', 'store-1', 'store-2']);
    // Tried again (its answer had been lost), the same batch is found, not written twice.
    expect(await store.write(batch, true)).toBeNull();
    expect(await counts()).toEqual({ predictions: 3, batches: 1, queued: 1 });
  });

  it('leaves nothing of a batch whose transaction fails, and goes on with the next', async () => {
    const before = await counts();
    const builder = new BatchBuilder('credit');
    builder.add(record(10));
    builder.add(record(11));
    // Claims a row more than it holds: the check after the COPY fails the transaction.
    const broken = { ...builder.seal(), count: 3 };
    await expect(store.write(broken)).rejects.toThrow(/2 rows written of 3/);
    expect(await counts()).toEqual(before);

    const next = new BatchBuilder('credit');
    next.add(record(12));
    await store.write(next.seal());
    expect(await counts()).toEqual({
      predictions: (before?.predictions ?? 0) + 1,
      batches: (before?.batches ?? 0) + 1,
      queued: (before?.queued ?? 0) + 1,
    });
  });
});
