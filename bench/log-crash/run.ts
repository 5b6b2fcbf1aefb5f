/**
 * bench/log-crash, `npm run bench:log-crash`: what a SIGKILL of the service itself can still
 * lose of the prediction log. Gatehouse runs as a process of its own (the log's writer on its
 * own thread) on a fresh database behind a TCP proxy; requests, each with its own id, go to a
 * HIGH-tier endpoint (which requires the log) at a fixed rate; the service is killed in the
 * middle of the run; a new process on the same data folder then writes what the spool held.
 * Every request answered 200 and absent from the log is lost; the report gives how many, and
 * how long before the kill the oldest of them was answered: the window.
 *
 * Two cases: the database up (the window is what the service held in memory: the hand-over to
 * the writer, the batch being filled, the batch being written), and the database away since
 * before the run (answered predictions go to the spool on disk once their write fails).
 *
 * BENCH_RATE (default 500 requests/s), BENCH_SECONDS (default 6; the kill comes halfway) and
 * BENCH_ROUNDS (default 3) per case.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { liveCreditEndpoint, PEOPLE, sleep, type Client } from '../../src/demo/story.js';
import { writeShortPolicies } from '../../src/demo/short-policies.js';
import { startFaultProxy } from '../../test/support/fault-proxy.js';
import { benchDatabase, machine } from '../support/bench-db.js';
import { startBenchService } from '../support/service.js';

const RATE = Number(process.env['BENCH_RATE'] ?? 500);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 6);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);

interface Round {
  readonly answered: number;
  readonly lost: number;
  /** ms between the answer of the oldest lost prediction and the kill (0: none lost). */
  readonly windowMs: number;
}

async function main(): Promise<void> {
  const models = buildGermanCreditModels();
  const database = await benchDatabase('log_crash', 2);
  await database.dataSource.destroy();
  const server = new URL(database.url);
  const proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-log-crash-'));
  const policiesDir = writeShortPolicies(mkdtempSync(join(tmpdir(), 'gatehouse-bench-policies-')), {
    lenientGates: true,
  });
  const env = {
    DATABASE_URL: proxy.route(database.url),
    GATEHOUSE_POLICIES_DIR: policiesDir,
    // A write to a database that does not answer fails within a second and is spooled.
    GATEHOUSE_PREDICTION_LOG_WRITE_TIMEOUT_MS: '1000',
  };
  let service = await startBenchService(env, dataDir);
  const tokens: Record<string, string> = {};
  for (const [who, roles] of Object.entries(PEOPLE))
    tokens[who] = await service.token(who, ...roles);
  const client: Client = { url: () => service.url, token: (who) => tokens[who] ?? '' };
  const db = new pg.Client({ connectionString: database.url });
  await db.connect();
  try {
    console.log(`bench/log-crash on ${machine()}, ${new Date().toISOString()}`);
    await liveCreditEndpoint(client, 'credit', models.fair, defaultGermanCreditPath());
    const results: { database: string; round: Round }[] = [];
    for (const away of [false, true]) {
      for (let round = 0; round < ROUNDS; round++) {
        const tag = `${away ? 'away' : 'up'}-${round}`;
        if (away) proxy.kill();
        const kill = new Promise<number>((resolve) => {
          setTimeout(
            () => {
              const at = performance.now();
              service.child.kill('SIGKILL');
              resolve(at);
            },
            (SECONDS * 1000) / 2,
          );
        });
        const answers = await send(client, models, tag);
        const killedAt = await kill;
        const dead = service.child;
        if (dead.exitCode === null && dead.signalCode === null)
          await new Promise((resolve) => dead.once('close', resolve));
        proxy.resume();
        service = await startBenchService(env, dataDir);
        const logged = await settledLog(db, tag);
        const lostAt = [...answers.entries()].filter(([id]) => !logged.has(id)).map(([, at]) => at);
        results.push({
          database: away ? 'away' : 'up',
          round: {
            answered: answers.size,
            lost: lostAt.length,
            windowMs: lostAt.length === 0 ? 0 : killedAt - Math.min(...lostAt),
          },
        });
      }
    }
    console.log(
      `\nSIGKILL of the service mid-run, ${RATE} requests/s, ${SECONDS} s (kill at ${SECONDS / 2} s):`,
    );
    console.log(
      '| database | round | answered 200 | lost | oldest lost answered before the kill |',
    );
    results.forEach(({ database: state, round }, i) => {
      console.log(
        `| ${state} | ${(i % ROUNDS) + 1} | ${round.answered} | ${round.lost} | ${round.windowMs.toFixed(0)} ms |`,
      );
    });
  } finally {
    await db.end();
    await service.stop();
    await proxy.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  }
}

/** Sends RATE requests a second for SECONDS; the answered ones' ids, with when each came back. */
async function send(
  client: Client,
  models: GermanCreditModels,
  tag: string,
): Promise<Map<string, number>> {
  const url = `${client.url()}/v2/models/credit/infer`;
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${client.token('ivan')}`,
  };
  const answered = new Map<string, number>();
  const inFlight: Promise<void>[] = [];
  const total = Math.round(RATE * SECONDS);
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const wait = start + (i * 1000) / RATE - performance.now();
    if (wait > 1) await sleep(wait);
    const id = `${tag}-${i}`;
    const body = JSON.stringify({
      id,
      inputs: [
        {
          name: 'features',
          shape: [1, 60],
          datatype: 'FP32',
          data: Array.from(models.data.X[i % 1000] ?? []),
        },
      ],
    });
    inFlight.push(
      fetch(url, { method: 'POST', headers, body })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status === 200) answered.set(id, performance.now());
        })
        .catch(() => undefined),
    );
  }
  await Promise.all(inFlight);
  return answered;
}

/** The ids of this round in the log, once the restarted service has written everything. */
async function settledLog(db: pg.Client, tag: string): Promise<Set<string>> {
  let last = -1;
  for (;;) {
    await sleep(1000);
    const { rows } = await db.query<{ request_id: string }>(
      `SELECT request_id FROM predictions WHERE request_id LIKE $1`,
      [`${tag}-%`],
    );
    // Unchanged over a second, and the restarted writer has had its first flushes.
    if (rows.length === last) return new Set(rows.map((r) => r.request_id));
    last = rows.length;
  }
}

await main();
