/**
 * bench/ledger: append throughput against plain INSERTs, verification speed, proof and
 * checkpoint times on a large ledger. `npm run bench:ledger`; BENCH_EVENTS (default 1000000)
 * and BENCH_SECONDS (default 5) scale it down for a quick look.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { CheckpointService } from '../../src/ledger/checkpoint.service.js';
import { LedgerRepository } from '../../src/ledger/ledger.repository.js';
import { LedgerVerifierService } from '../../src/ledger/ledger-verifier.service.js';
import { LedgerSequencer } from '../../src/ledger/ledger-sequencer.service.js';
import { LedgerService, type EventInput } from '../../src/ledger/ledger.service.js';
import { KeyRing } from '../../src/ledger/signing-keys.js';
import { UNCONFIGURED_LEDGER_ORIGIN, type Config } from '../../src/config/config.js';
import { benchDatabase, machine } from '../support/bench-db.js';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 1_000_000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
/** BENCH_PARTS=append or =verify runs one half. */
const PARTS = process.env['BENCH_PARTS'] ?? 'append,verify';

/** A typical event: a promotion approval's size and shape. */
function sampleEvent(i: number): EventInput {
  return {
    type: 'promotion.approved',
    subject: `promotion:3f0c8a52-9a4e-4a8e-b1a2-${String(i).padStart(12, '0')}`,
    actor: { sub: 'carol@bank.example', roles: ['compliance-officer'] },
    payload: {
      promotionId: `3f0c8a52-9a4e-4a8e-b1a2-${String(i).padStart(12, '0')}`,
      requestDigest: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      approvals: [{ role: 'compliance-officer', approver: 'carol@bank.example' }],
      policySha256: '27651bf7c6606c0ee7c3e8d5ad0f97cfd0712701e17272dcb9c848c9d6d0ffda',
    },
  };
}

async function forSeconds(
  concurrency: number,
  seconds: number,
  op: (i: number) => Promise<void>,
): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op(done);
        done++;
      }
    }),
  );
  return done / seconds;
}

async function appendThroughput(
  ledger: LedgerService,
  dataSource: DataSource,
  concurrency: number,
): Promise<{ ledger: number; inTransaction: number; plain: number; plainInTransaction: number }> {
  const plainBody = JSON.stringify({
    ...sampleEvent(0),
    v: 1,
    seq: 1,
    id: crypto.randomUUID(),
    ts: new Date().toISOString(),
  });
  const body = plainBody + 'x'.repeat(64 + 160); // + hash and detached JWS, the same bytes a ledger row stores
  const plain = await forSeconds(concurrency, SECONDS, async () => {
    await dataSource.query('INSERT INTO bench_plain (body) VALUES ($1)', [body]);
  });
  // The same INSERT in a transaction of its own through TypeORM (START TRANSACTION, INSERT,
  // COMMIT): the baseline for a ledger append inside a unit of work.
  const plainInTransaction = await forSeconds(concurrency, SECONDS, async () => {
    await dataSource.transaction((manager) =>
      manager.query('INSERT INTO bench_plain (body) VALUES ($1)', [body]),
    );
  });
  // An event on its own: one INSERT into the queue, then sealed before the call returns.
  const appended = await forSeconds(concurrency, SECONDS, (i) => ledger.record(sampleEvent(i)));
  // The same event in a unit of work of its own (BEGIN, INSERT, COMMIT), sealed before returning.
  const inTransaction = await forSeconds(concurrency, SECONDS, async (i) => {
    await ledger.transaction((tx) => {
      tx.record(sampleEvent(i));
    });
  });
  return { ledger: appended, inTransaction, plain, plainInTransaction };
}

async function bulkAppend(ledger: LedgerService, total: number): Promise<number> {
  const started = performance.now();
  const batch = 5000;
  for (let done = 0; done < total; done += batch) {
    await ledger.transaction((tx) => {
      for (let i = done; i < Math.min(done + batch, total); i++) tx.record(sampleEvent(i));
    });
    if (done % 100_000 === 0) process.stderr.write(`  appended ${done}\n`);
  }
  return (performance.now() - started) / 1000;
}

async function timeMs(
  runs: number,
  op: (i: number) => Promise<unknown>,
): Promise<{ mean: number; p99: number; max: number }> {
  for (let i = 0; i < Math.min(runs, 10); i++) await op(runs + i); // warm the connection and plans
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await op(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return {
    mean: times.reduce((a, b) => a + b, 0) / runs,
    p99: times[Math.floor(runs * 0.99)] ?? Math.max(...times),
    max: Math.max(...times),
  };
}

function ledgerOn(dataSource: DataSource, ring: KeyRing) {
  const repository = new LedgerRepository(dataSource);
  const sequencer = new LedgerSequencer(repository, ring);
  return { repository, sequencer, service: new LedgerService(dataSource, repository, sequencer) };
}

async function main(): Promise<void> {
  const keysDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-keys-'));
  const ledgerConfig: Config['ledger'] = {
    signingKeyFile: undefined,
    signingKeysDir: keysDir,
    generateSigningKey: true,
    checkpointIntervalSeconds: 0,
    origin: UNCONFIGURED_LEDGER_ORIGIN,
  };
  const ring = await KeyRing.load(ledgerConfig);
  const lines: string[] = [
    `Machine: ${machine()}. Date: ${new Date().toISOString().slice(0, 10)}.`,
    '',
  ];

  lines.push(
    '| writers | plain INSERTs/s | ledger appends/s (event alone) | ratio | plain BEGIN, INSERT, COMMIT/s | ledger appends/s (BEGIN, event, COMMIT) | ratio to plain INSERT | ratio to plain BEGIN, INSERT, COMMIT |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const concurrency of PARTS.includes('append') ? [1, 16, 64] : []) {
    const db = await benchDatabase(`append${concurrency}`, concurrency);
    await db.dataSource.query(
      'CREATE TABLE bench_plain (id bigserial PRIMARY KEY, body text NOT NULL)',
    );
    const ledger = ledgerOn(db.dataSource, ring);
    const {
      ledger: l,
      inTransaction: t,
      plain,
      plainInTransaction: pt,
    } = await appendThroughput(ledger.service, db.dataSource, concurrency);
    lines.push(
      `| ${concurrency} | ${plain.toFixed(0)} | ${l.toFixed(0)} | ${(l / plain).toFixed(2)} | ${pt.toFixed(0)} | ${t.toFixed(0)} | ${(t / plain).toFixed(2)} | ${(t / pt).toFixed(2)} |`,
    );
    process.stderr.write(`${lines.at(-1) ?? ''}\n`);
    await db.drop();
  }

  if (!PARTS.includes('verify')) {
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  const db = await benchDatabase('verify', 4);
  const { service: ledger, repository, sequencer } = ledgerOn(db.dataSource, ring);
  const buildSeconds = await bulkAppend(ledger, EVENTS);
  // As a long-running ledger would be: statistics gathered and the new rows' visibility set,
  // so that autovacuum waking up on a freshly loaded table does not land in the timings.
  await db.dataSource.query('VACUUM ANALYZE ledger_events, ledger_merkle_nodes, ledger_pending');
  const verifier = new LedgerVerifierService(repository);
  const checkpoints = new CheckpointService(
    { ledger: ledgerConfig } as Config,
    repository,
    sequencer,
  );
  const checkpointStarted = performance.now();
  await checkpoints.create({ sub: 'system:bench' });
  const checkpointMs = performance.now() - checkpointStarted;
  const size = await repository.headSeq();
  const chainStarted = performance.now();
  const chainReport = await verifier.verify(1, size, { signatures: false });
  const chainOnly = { report: chainReport, seconds: (performance.now() - chainStarted) / 1000 };
  const t = performance.now();
  const full = await verifier.verify(1, size, { workers: 2 });
  const fullSeconds = (performance.now() - t) / 1000;
  const inclusion = await timeMs(100, (i) =>
    checkpoints.inclusionProof(1 + ((i * 7919) % size), size),
  );
  const consistency = await timeMs(100, (i) =>
    checkpoints.consistencyProof(1 + ((i * 104_729) % (size - 1)), size),
  );

  lines.push(
    '',
    `Ledger of ${size.toLocaleString('en')} events (built in ${buildSeconds.toFixed(0)} s, batches of 5,000 per transaction):`,
    '',
    '| measure | result |',
    '|---|---|',
    `| verify, chain only (hashes, links, canonical forms, checkpoint roots) | ${(size / chainOnly.seconds).toFixed(0)} events/s (${chainOnly.seconds.toFixed(1)} s, ok=${String(chainOnly.report.ok)}) |`,
    `| verify with signatures, 2 worker threads | ${(size / fullSeconds).toFixed(0)} events/s (${fullSeconds.toFixed(1)} s, ok=${String(full.ok)}) |`,
    `| inclusion proof at ${size.toLocaleString('en')} (mean / p99 / max of 1,000) | ${inclusion.mean.toFixed(2)} / ${inclusion.p99.toFixed(2)} / ${inclusion.max.toFixed(2)} ms |`,
    `| consistency proof (mean / p99 / max of 1,000) | ${consistency.mean.toFixed(2)} / ${consistency.p99.toFixed(2)} / ${consistency.max.toFixed(2)} ms |`,
    `| checkpoint | ${checkpointMs.toFixed(1)} ms |`,
  );
  await db.drop();
  rmSync(keysDir, { recursive: true, force: true });
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
