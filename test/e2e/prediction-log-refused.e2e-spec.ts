import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { BatchStore } from '../../src/prediction-log/batch-store.js';
import { LogWriter, type WriterReport } from '../../src/prediction-log/log-writer.js';
import { batchDigest, type LoggedRow } from '../../src/prediction-log/prediction-digest.js';
import type { PredictionRecord } from '../../src/prediction-log/prediction.js';
import { RecordPacker } from '../../src/prediction-log/record-codec.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const record = (requestId: string): PredictionRecord => ({
  requestId,
  endpoint: 'credit',
  modelVersion: 1,
  arm: 'live',
  inputs: [{ data: [1, 0.5], datatype: 'FP32', name: 'x', shape: [1, 2] }],
  outputs: [{ data: [0.25], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  error: null,
  latencyMs: 0.2,
  routingKeyHash: null,
  createdAt: new Date('2026-12-06T10:00:00.000Z'),
});

/**
 * The prediction log's writer and its real connection, against a table that refuses one
 * prediction (a constraint): the refused one is given up with PostgreSQL's reason, every other
 * one is written in batches sealed with their own digest, and the log goes on.
 */
describe('the prediction log, when PostgreSQL refuses one prediction', () => {
  let database: TestDatabase;
  let db: pg.Client;
  let writer: LogWriter;
  const reports: WriterReport[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = new pg.Client({ connectionString: database.url });
    await db.connect();
    await db.query(
      `ALTER TABLE predictions ADD CONSTRAINT no_refused CHECK (request_id <> 'refused')`,
    );
    writer = new LogWriter(
      new BatchStore(database.url),
      { batchRows: 1000, flushIntervalMs: 3_600_000 },
      (r) => reports.push(r),
    );
  });

  afterAll(async () => {
    writer.handle({ kind: 'stop', id: -1 });
    await answered('stopped', -1);
    await db.end();
    await database.drop();
  });

  const answered = async (kind: 'flushed' | 'stopped', id: number): Promise<void> => {
    while (!reports.some((r) => r.kind === kind && r.id === id))
      await new Promise((resolve) => setTimeout(resolve, 5));
  };

  const send = (records: readonly PredictionRecord[]): void => {
    const packer = new RecordPacker();
    for (const r of records) packer.add(r);
    writer.handle({ kind: 'records', packed: packer.take() });
  };

  it('gives up the refused prediction and writes the others, each batch sealed', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => (i === 17 ? 'refused' : `ok-${i}`));
    send(ids.map(record));
    writer.handle({ kind: 'flush', id: 1 });
    await answered('flushed', 1);

    expect(reports.filter((r) => r.kind === 'dropped')).toEqual([
      {
        kind: 'dropped',
        count: 1,
        message: expect.stringMatching(
          /^PostgreSQL refused a prediction of credit: .*no_refused.*\(SQLSTATE 23514\)$/,
        ) as unknown,
        reason: 'refused',
        endpoints: [{ endpoint: 'credit', count: 1 }],
        spooled: false,
      },
    ]);
    // The refused one is settled in its place: after the 17 before it, before the 22 after.
    const settled = reports.flatMap((r) =>
      r.kind === 'written'
        ? Array.from({ length: r.count }, () => 'written')
        : r.kind === 'dropped'
          ? Array.from({ length: r.count }, () => 'dropped')
          : [],
    );
    expect(settled).toEqual(ids.map((id) => (id === 'refused' ? 'dropped' : 'written')));
    const { rows } = await db.query<{ request_id: string }>(
      `SELECT request_id FROM predictions ORDER BY id`,
    );
    expect(rows.map((r) => r.request_id)).toEqual(ids.filter((id) => id !== 'refused'));

    // Every batch written is sealed with the digest of exactly its rows, its event queued.
    const batches = await db.query<{ id: string; count: number; sha256: string }>(
      `SELECT id, count, sha256 FROM prediction_batches ORDER BY id`,
    );
    expect(batches.rows.reduce((n, b) => n + b.count, 0)).toBe(39);
    for (const b of batches.rows) {
      const logged = await db.query<LoggedRow & { created_at: Date }>(
        `SELECT request_id, endpoint, model_version, arm, inputs, outputs, error, latency_ms,
                routing_key_hash, created_at FROM predictions WHERE batch_id = $1 ORDER BY id`,
        [b.id],
      );
      expect(
        batchDigest(
          logged.rows.map((r) => ({ ...r, created_at: new Date(r.created_at).toISOString() })),
        ),
      ).toBe(b.sha256);
    }
    const queued = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ledger_pending WHERE type = 'predictions.logged'`,
    );
    expect(queued.rows[0]?.n).toBe(batches.rows.length);

    // Later predictions are written as usual.
    send([record('later')]);
    writer.handle({ kind: 'flush', id: 2 });
    await answered('flushed', 2);
    const later = await db.query(`SELECT 1 FROM predictions WHERE request_id = 'later'`);
    expect(later.rowCount).toBe(1);
  });
});
