import { afterEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredBatch } from './batch-store.js';
import {
  LogWriter,
  startLogWriter,
  type BatchSink,
  type LogWriterOptions,
  type WriterReport,
} from './log-writer.js';
import type { PredictionRecord } from './prediction.js';
import { BatchBuilder, type PreparedBatch } from './prediction-digest.js';
import { RecordPacker } from './record-codec.js';

const record = (n: number, endpoint = 'credit'): PredictionRecord => ({
  requestId: `req-${n}`,
  endpoint,
  modelVersion: 1,
  arm: 'live',
  inputs: [{ data: [n], datatype: 'FP32', name: 'x', shape: [1, 1] }],
  outputs: [{ data: [0.5], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  error: null,
  latencyMs: 0.1,
  routingKeyHash: null,
  createdAt: new Date('2025-01-02T03:04:05.678Z'),
});

/**
 * Keeps what it is given; fails while `failing` is set, and refuses, as PostgreSQL refuses a
 * value, a batch with a row that starts with `refusing`. With `losingAnswers`, a write commits
 * and then fails as if its answer were lost on the way back.
 */
class MemorySink implements BatchSink {
  readonly batches: { endpoint: string; count: number; rows: string; sha256: string }[] = [];
  failing = false;
  losingAnswers = false;
  refusing: string | null = null;
  attempts = 0;
  closed = false;

  write(batch: PreparedBatch, retried: boolean): Promise<StoredBatch | null> {
    this.attempts++;
    if (this.failing) return Promise.reject(new Error('connection refused'));
    if (retried && this.batches.some((b) => b.sha256 === batch.sha256))
      return Promise.resolve(null);
    // The buffers go back to the writer's pool once written: read them now.
    const rows = Buffer.concat(batch.chunks).toString('utf8');
    const refusing = this.refusing;
    if (refusing !== null && rows.split('\n').some((r) => r.startsWith(refusing)))
      return Promise.reject(
        Object.assign(new Error('new row violates check constraint "no_bad_rows"'), {
          code: '23514',
          severity: 'ERROR',
        }),
      );
    this.batches.push({ endpoint: batch.endpoint, count: batch.count, rows, sha256: batch.sha256 });
    if (this.losingAnswers) return Promise.reject(new Error('Connection terminated unexpectedly'));
    const sealed = {
      batchId: this.batches.length,
      endpoint: batch.endpoint,
      firstId: 1,
      lastId: batch.count,
      count: batch.count,
      sha256: batch.sha256,
    };
    return Promise.resolve({
      sealed,
      event: {
        id: this.batches.length,
        eventId: `e-${this.batches.length}`,
        ts: '2025-01-02T03:04:05.678Z',
        type: 'predictions.logged',
        subject: `endpoint:${batch.endpoint}`,
        actor: '{"sub":"system:prediction-log"}',
        payload: JSON.stringify(sealed),
        traceId: null,
      },
    });
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/**
 * What the reports say of each prediction of `endpoint` received from the service, in the
 * order they settle it: what the service's settlement counts (settlements.ts) rely on.
 */
function settledInOrder(reports: readonly WriterReport[], endpoint: string): string[] {
  const told: string[] = [];
  const push = (kind: string, n: number): void => {
    for (let i = 0; i < n; i++) told.push(kind);
  };
  for (const r of reports) {
    if (r.kind === 'written' && !r.spooled && r.endpoint === endpoint) push('written', r.count);
    if ((r.kind === 'spooled' || (r.kind === 'dropped' && r.spooled !== true)) && r.endpoints)
      for (const e of r.endpoints) if (e.endpoint === endpoint) push(r.kind, e.count);
  }
  return told;
}

describe('the prediction log writer', () => {
  let writer: LogWriter | undefined;
  const reports: WriterReport[] = [];
  let sink: MemorySink;

  function start(batchRows: number, spool?: LogWriterOptions['spool']): LogWriter {
    reports.length = 0;
    sink = new MemorySink();
    // A flush interval the tests never reach: they flush themselves.
    writer = startLogWriter(sink, { batchRows, flushIntervalMs: 3_600_000, spool }, (r) =>
      reports.push(r),
    );
    return writer;
  }

  function send(w: LogWriter, records: readonly PredictionRecord[], urgent = false): void {
    const packer = new RecordPacker();
    for (const r of records) packer.add(r);
    w.handle({ kind: 'records', packed: packer.take(), urgent });
  }

  const turns = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  const answered = async (kind: 'flushed' | 'stopped', id: number): Promise<void> => {
    while (!reports.some((r) => r.kind === kind && r.id === id))
      await new Promise((resolve) => setImmediate(resolve));
  };

  afterEach(async () => {
    writer?.handle({ kind: 'stop', id: -1 });
    await answered('stopped', -1);
  });

  it('closes a batch when full, per endpoint, and writes the rest on a flush', async () => {
    const w = start(3);
    send(w, [record(1), record(2, 'other'), record(3), record(4), record(5)]);
    w.handle({ kind: 'flush', id: 1 });
    await answered('flushed', 1);
    // The full batch first; then the flush closes the open ones.
    expect(sink.batches[0]).toMatchObject({ endpoint: 'credit', count: 3 });
    expect(sink.batches.slice(1).map((b) => [b.endpoint, b.count])).toEqual(
      expect.arrayContaining([
        ['credit', 1],
        ['other', 1],
      ]),
    );
    expect(sink.batches).toHaveLength(3);
    expect(sink.batches[0]?.rows.split('\n').map((l) => l.split('\t')[0])).toEqual([
      'req-1',
      'req-3',
      'req-4',
      '',
    ]);
    const written = reports.filter((r) => r.kind === 'written');
    expect(written.map((r) => r.count)).toEqual([3, 1, 1]);
    // Reports come in the order things happened: the flush answer after its writes.
    expect(reports.at(-1)).toEqual({ kind: 'flushed', id: 1 });
  });

  it('writes an urgent hand-over at once, and gathers what arrives during a write into the next batch', async () => {
    const w = start(1000);
    // Each write waits until the test lets it finish.
    const releases: (() => void)[] = [];
    const write = sink.write.bind(sink);
    sink.write = (batch, retried) =>
      new Promise<void>((resolve) => releases.push(resolve)).then(() => write(batch, retried));
    const writesStarted = async (n: number): Promise<void> => {
      for (let i = 0; i < 1000 && releases.length < n; i++) await turns(1);
      expect(releases).toHaveLength(n);
    };
    const requestIds = (i: number) =>
      sink.batches[i]?.rows
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')[0]);
    try {
      // Not urgent: it waits for the flush interval (an hour here).
      send(w, [record(1)]);
      await turns(20);
      expect(releases).toHaveLength(0);
      // Urgent: the open batch, the earlier prediction with it, is written without a flush.
      send(w, [record(2)], true);
      await writesStarted(1);
      // Arriving while that write is under way: they wait for it, then go as one batch.
      send(w, [record(3)], true);
      send(w, [record(4), record(5)], true);
      send(w, [record(6)]);
      await turns(20);
      expect(releases).toHaveLength(1);
      releases[0]?.();
      await writesStarted(2);
      releases[1]?.();
      await turns(20);
      expect(requestIds(0)).toEqual(['req-1', 'req-2']);
      expect(requestIds(1)).toEqual(['req-3', 'req-4', 'req-5', 'req-6']);
      expect(reports.filter((r) => r.kind === 'written').map((r) => r.count)).toEqual([2, 4]);
      // Nothing urgent is left open: no third write comes before a flush.
      send(w, [record(7)]);
      await turns(20);
      expect(releases).toHaveLength(2);
    } finally {
      sink.write = write;
      for (const release of releases) release();
    }
    w.handle({ kind: 'flush', id: 9 });
    await answered('flushed', 9);
    expect(requestIds(2)).toEqual(['req-7']);
  });

  it('keeps a batch whose write failed and writes it, digest and all, on the next flush', async () => {
    const w = start(100);
    sink.failing = true;
    send(w, [record(1), record(2)]);
    w.handle({ kind: 'flush', id: 1 });
    await answered('flushed', 1);
    expect(reports).toContainEqual({
      kind: 'failed',
      endpoint: 'credit',
      count: 2,
      message: 'connection refused',
    });
    sink.failing = false;
    w.handle({ kind: 'flush', id: 2 });
    await answered('flushed', 2);
    expect(sink.batches.map((b) => b.count)).toEqual([2]);
    expect(reports.filter((r) => r.kind === 'written')).toHaveLength(1);
  });

  it('reports what it could not write when stopped, closes its connection, and takes nothing more', async () => {
    const w = start(100);
    sink.failing = true;
    send(w, [record(1), record(2), record(3)]);
    w.handle({ kind: 'stop', id: 1 });
    await answered('stopped', 1);
    expect(reports).toContainEqual({
      kind: 'dropped',
      count: 3,
      message: 'still unwritten at shutdown',
      reason: 'shutdown',
      endpoints: [{ endpoint: 'credit', count: 3 }],
    });
    expect(sink.closed).toBe(true);
    send(w, [record(4), record(5, 'other')]);
    while (reports.at(-1)?.kind !== 'dropped') await new Promise((r) => setImmediate(r));
    expect(reports.at(-1)).toEqual({
      kind: 'dropped',
      count: 2,
      message: 'the writer has stopped',
      reason: 'stopped',
      endpoints: [
        { endpoint: 'credit', count: 1 },
        { endpoint: 'other', count: 1 },
      ],
    });
  });

  it('finds the one prediction PostgreSQL refuses, gives it up, and writes the others sealed', async () => {
    const w = start(100);
    sink.refusing = 'req-5\t';
    const records = Array.from({ length: 9 }, (_, i) => record(i + 1));
    send(w, records);
    send(w, [record(20, 'other')]);
    w.handle({ kind: 'flush', id: 1 });
    await answered('flushed', 1);
    const dropped = reports.filter((r) => r.kind === 'dropped');
    expect(dropped).toEqual([
      {
        kind: 'dropped',
        count: 1,
        message:
          'PostgreSQL refused a prediction of credit: new row violates check constraint "no_bad_rows" (SQLSTATE 23514)',
        reason: 'refused',
        endpoints: [{ endpoint: 'credit', count: 1 }],
        spooled: false,
      },
    ]);
    // Settled in the order received: the refused one between the ones around it.
    expect(settledInOrder(reports, 'credit')).toEqual([
      ...Array.from({ length: 4 }, () => 'written'),
      'dropped',
      ...Array.from({ length: 4 }, () => 'written'),
    ]);
    expect(reports.some((r) => r.kind === 'failed')).toBe(false);
    // Every other prediction is written, in order, in batches sealed with their own digest.
    const credit = sink.batches.filter((b) => b.endpoint === 'credit');
    const ids = credit.flatMap((b) =>
      b.rows
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('\t')[0]),
    );
    expect(ids).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-6', 'req-7', 'req-8', 'req-9']);
    for (const b of credit) {
      const builder = new BatchBuilder('credit');
      for (const n of b.rows.split('\n').filter((l) => l !== ''))
        builder.add(record(Number(n.split('\t')[0]?.slice(4))));
      expect(builder.seal().sha256).toBe(b.sha256);
    }
    // Halving: a handful of attempts for nine rows, not one per row.
    expect(sink.attempts).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(9)) + 2);
    expect(sink.batches.find((b) => b.endpoint === 'other')?.count).toBe(1);

    // The log goes on.
    sink.refusing = null;
    send(w, [record(30)]);
    w.handle({ kind: 'flush', id: 2 });
    await answered('flushed', 2);
    expect(sink.batches.at(-1)?.rows.startsWith('req-30\t')).toBe(true);
  });

  it('gives up a prediction it cannot serialize after the ones received before it', async () => {
    const w = start(100);
    const bad = { ...record(3), createdAt: new Date(Number.NaN) };
    send(w, [record(1), record(2), record(10, 'other'), bad, record(4)]);
    w.handle({ kind: 'flush', id: 1 });
    await answered('flushed', 1);
    expect(reports.find((r) => r.kind === 'dropped')).toMatchObject({
      count: 1,
      reason: 'invalid',
      endpoints: [{ endpoint: 'credit', count: 1 }],
    });
    expect(settledInOrder(reports, 'credit')).toEqual(['written', 'written', 'dropped', 'written']);
    expect(settledInOrder(reports, 'other')).toEqual(['written']);
  });

  it('drops and reports a message it cannot read, and goes on', async () => {
    const w = start(100);
    w.handle({ kind: 'records', packed: { count: 2, numbers: new Float64Array(3) } });
    expect(reports[0]).toMatchObject({
      kind: 'dropped',
      count: 2,
      reason: 'unreadable',
      endpoints: null,
    });
    send(w, [record(1)]);
    w.handle({ kind: 'flush', id: 1 });
    await answered('flushed', 1);
    expect(sink.batches.map((b) => b.count)).toEqual([1]);
  });

  describe('with a spool', () => {
    const dirs: string[] = [];
    const spoolIn = (): { dir: string; limitBytes: number } => {
      const dir = mkdtempSync(join(tmpdir(), 'gatehouse-writer-spool-'));
      dirs.push(dir);
      return { dir, limitBytes: 1 << 20 };
    };
    afterEach(() => {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    });
    const ids = (): string[] =>
      sink.batches.flatMap((b) =>
        b.rows
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => l.split('\t')[0] ?? ''),
      );
    const flush = async (w: LogWriter, id: number): Promise<void> => {
      w.handle({ kind: 'flush', id });
      await answered('flushed', id);
    };

    it('puts a failed batch and every one behind it on disk, and writes them in order once the database is back', async () => {
      const w = start(2, spoolIn());
      sink.failing = true;
      send(w, [record(1), record(2), record(3)]);
      await flush(w, 1);
      send(w, [record(4), record(5)]);
      await flush(w, 2);
      const spooled = reports.filter((r) => r.kind === 'spooled');
      expect(spooled.reduce((n, r) => n + r.count, 0)).toBe(5);
      expect(sink.batches).toEqual([]);
      sink.failing = false;
      send(w, [record(6)]);
      await flush(w, 3);
      // Oldest first. The last batch, closed while the spool still held some, went there too.
      expect(ids()).toEqual(['req-1', 'req-2', 'req-3', 'req-4', 'req-5', 'req-6']);
      const written = reports.filter((r) => r.kind === 'written');
      expect(written.map((r) => [r.count, r.spooled])).toEqual([
        [2, true],
        [1, true],
        [2, true],
        [1, true],
      ]);
      // Written out, the spool is back to writing straight to the database.
      send(w, [record(7)]);
      await flush(w, 4);
      expect(reports.at(-2)).toMatchObject({ kind: 'written', count: 1, spooled: false });
    });

    it('keeps batches in memory, behind the spool, when the spool is full', async () => {
      const w = start(1, { ...spoolIn(), limitBytes: 700 });
      sink.failing = true;
      send(w, [record(1), record(2), record(3), record(4)]);
      await flush(w, 1);
      const spooled = reports.filter((r) => r.kind === 'spooled').reduce((n, r) => n + r.count, 0);
      expect(spooled).toBeGreaterThan(0);
      expect(spooled).toBeLessThan(4);
      sink.failing = false;
      await flush(w, 2);
      expect(ids()).toEqual(['req-1', 'req-2', 'req-3', 'req-4']);
    });

    it('leaves what it could not write on disk at shutdown, for the next writer to write first', async () => {
      const spool = spoolIn();
      const first = start(100, spool);
      sink.failing = true;
      send(first, [record(1), record(2), record(3)]);
      first.handle({ kind: 'stop', id: 1 });
      await answered('stopped', 1);
      expect(reports.some((r) => r.kind === 'dropped')).toBe(false);
      expect(reports).toContainEqual({
        kind: 'spooled',
        count: 3,
        batches: 1,
        endpoints: [{ endpoint: 'credit', count: 3 }],
      });
      const second = start(100, spool);
      expect(reports[0]).toEqual({ kind: 'spool', count: 3, batches: 1 });
      send(second, [record(4)]);
      await flush(second, 2);
      expect(ids()).toEqual(['req-1', 'req-2', 'req-3', 'req-4']);
      expect(readdirSync(spool.dir).filter((f) => f.endsWith('.spool'))).toEqual([]);
    });

    it('writes a batch once when its commit got through but its answer was lost', async () => {
      const w = start(100, spoolIn());
      sink.losingAnswers = true;
      send(w, [record(1), record(2)]);
      await flush(w, 1);
      expect(reports.filter((r) => r.kind === 'spooled')).toHaveLength(1);
      sink.losingAnswers = false;
      await flush(w, 2);
      expect(ids()).toEqual(['req-1', 'req-2']);
      // Counted written, with no second ledger event for the batch.
      expect(reports.filter((r) => r.kind === 'written')).toMatchObject([
        { count: 2, event: null, spooled: true },
      ]);
    });
  });
});
