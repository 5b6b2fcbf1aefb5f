/**
 * bench/rollout, `npm run bench:rollout`. Gatehouse runs as a process of its own
 * against a fresh database on DATABASE_URL's server (default: the local PostgreSQL), with the
 * rollout controller and arm metrics at their default cadence (1 s ticks, 1 s flushes) and the
 * test suite's small policy minimums, and measures:
 *
 * 1. the live path's p50/p99 with shadow mirroring off, then on (every request mirrored to the
 *    candidate), at the same fixed request rate (an open-loop paced load): goal p50 within 10 %;
 * 2. the time from a breach to all traffic back on live: a canary of a version that fails
 *    single-row runs takes 50 % of steady traffic; from the first failed request to the last
 *    one, as clients see it, and to the `rollout.rolled_back` event;
 * 3. requests lost during a blue-green switch and the rollback after it, under steady
 *    traffic: goal zero;
 * 4. a slow candidate (5 ms a row) in shadow and in a 25 % canary beside live, at half the
 *    peak: live's p50 and p99 within 10 % of the same load without a candidate (bulkhead.ts,
 *    a service of its own with the default settings).
 *
 * BENCH_RATE (default 300 requests/s), BENCH_SECONDS (default 10) and BENCH_ROUNDS (default 3)
 * for the latency runs; BENCH_PARTS=bulkhead runs part 4 alone.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  erroringModel,
} from '../../src/model-builder/index.js';
import {
  evaluate,
  registerCreditModel,
  gql,
  inStage,
  PEOPLE,
  promote,
  RATIONALE,
  rollout,
  sleep,
  Traffic,
  uploadDataset,
  waitForRollout,
  type Client,
} from '../../src/demo/story.js';
import { writeShortPolicies } from '../../src/demo/short-policies.js';
import { benchDatabase, machine } from '../support/bench-db.js';
import { startBenchService } from '../support/service.js';
import { benchBulkhead } from './bulkhead.js';

const RATE = Number(process.env['BENCH_RATE'] ?? 300);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const W = { minRequests: 20, seconds: 60 };
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: W },
  minDisparateImpact: { value: 0.8, window: { minRequests: 60, seconds: 60 } },
  rationale: RATIONALE,
};
interface Latency {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

async function main(): Promise<void> {
  console.log(`bench/rollout on ${machine()}, ${new Date().toISOString()}`);
  if (process.env['BENCH_PARTS'] !== 'bulkhead') await parts123();
  await benchBulkhead();
}

async function parts123(): Promise<void> {
  const models = buildGermanCreditModels();
  const database = await benchDatabase('rollout', 2);
  await database.dataSource.destroy();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-rollout-'));
  const policiesDir = writeShortPolicies(mkdtempSync(join(tmpdir(), 'gatehouse-bench-policies-')), {
    lenientGates: true,
  });
  const service = await startBenchService(
    {
      DATABASE_URL: database.url,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      // Odd-sized runs fail in the faulty version: no merging of concurrent requests.
      GATEHOUSE_MICROBATCH_MAX_ROWS: '1',
    },
    dataDir,
  );
  const tokens: Record<string, string> = {};
  for (const [who, roles] of Object.entries(PEOPLE))
    tokens[who] = await service.token(who, ...roles);
  const client: Client = { url: () => service.url, token: (who) => tokens[who] ?? '' };
  try {
    const versions = await registerCreditModel(client, [
      models.fair,
      models.fairRetrained,
      erroringModel(models.fair, 'odd-batch'),
    ]);
    const [v1, v2, v3] = versions as [number, number, number];
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    const evaluations = new Map<number, string>();
    for (const v of versions) evaluations.set(v, await evaluate(client, 'credit-risk', v, dataset));
    const promotion = (endpoint: string, version: number, strategy: string, plan: unknown) =>
      promote(client, {
        endpoint,
        model: 'credit-risk',
        version,
        evaluationId: evaluations.get(version) ?? '',
        strategy,
        plan: plan as Record<string, unknown> | null,
        rollbackCriteria: CRITERIA,
      });
    for (const endpoint of ['credit', 'credit-shadow', 'credit-canary', 'credit-bluegreen']) {
      await gql(
        client,
        `mutation($name: String!) { createEndpoint(name: $name, model: "credit-risk") { id } }`,
        { name: endpoint },
        'erin',
      );
      await promotion(endpoint, v1, 'INITIAL', null);
    }

    // 1. The live path with shadow mirroring off (endpoint credit) and on (credit-shadow, a
    // shadow rollout mirroring every request), alternated over rounds at the same rate.
    const body = JSON.stringify({
      inputs: [
        {
          name: 'features',
          shape: [1, 60],
          datatype: 'FP32',
          data: Array.from(models.data.X[0] ?? []),
        },
      ],
    });
    const shadow = await promotion('credit-shadow', v2, 'SHADOW', {
      shadow: { sampleRate: 1, minRequests: 1_000_000, minDurationSeconds: 86_400 },
    });
    await waitForRollout(client, shadow.id, inStage('shadow'));
    await load(client, 'credit', body, 3);
    await load(client, 'credit-shadow', body, 3);
    const runs: { shadow: 'off' | 'on'; r: Latency }[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      runs.push({ shadow: 'off', r: await load(client, 'credit', body, SECONDS) });
      runs.push({ shadow: 'on', r: await load(client, 'credit-shadow', body, SECONDS) });
    }
    const mirrored = await rollout(client, shadow.id);
    await gql(
      client,
      `mutation($id: ID!) { rollbackRollout(id: $id, reason: "End of the shadow latency benchmark run.") { status } }`,
      { id: mirrored.id },
      'erin',
    );
    console.log(`\nlive path, shadow off vs on (every request mirrored), ${RATE} requests/s:`);
    console.log(`| round | shadow | requests/s | p50 ms | p99 ms | failures |`);
    runs.forEach(({ shadow: mode, r }, i) => {
      console.log(
        `| ${Math.floor(i / 2) + 1} | ${mode} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.failures} |`,
      );
    });
    const median = (mode: 'off' | 'on') => {
      const p50s = runs
        .filter((x) => x.shadow === mode)
        .map((x) => x.r.p50)
        .sort((x, y) => x - y);
      return p50s[Math.floor(p50s.length / 2)] ?? NaN;
    };
    console.log(
      `median p50: off ${median('off').toFixed(2)} ms, on ${median('on').toFixed(2)} ms, on/off = ${(median('on') / median('off')).toFixed(2)} (goal ≤ 1.10)`,
    );

    // 2. Breach → all traffic back on live.
    const canaryTraffic = new Traffic(client, 'credit-canary', models.data, {
      concurrency: 4,
    }).start();
    await canaryTraffic.answered(200);
    const breachStart = Date.now();
    const canary = await promotion('credit-canary', v3, 'CANARY', {
      canary: { steps: [50], minRequestsPerStep: 1_000_000, bakeSeconds: 86_400 },
    });
    const back = await waitForRollout(
      client,
      canary.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
      120_000,
    );
    await canaryTraffic.answered(200);
    const stats = await canaryTraffic.stop();
    const failedAt = canaryTraffic.failureTimes();
    const rolledBack = back.history.find((e) => e.type === 'rollout.rolled_back');
    const rolledBackAt = rolledBack ? await eventTime(client, rolledBack.seq) : Number.NaN;
    const first = failedAt[0] ?? Number.NaN;
    const last = failedAt.at(-1) ?? Number.NaN;
    console.log(
      '\nbreach → all traffic on live (canary at 50 % failing every request it answers):',
    );
    console.log(`| measure | ms |`);
    console.log(
      `| first failed request → rollout.rolled_back recorded | ${(rolledBackAt - first).toFixed(0)} |`,
    );
    console.log(`| first failed request → last failed request | ${(last - first).toFixed(0)} |`);
    console.log(
      `| failed requests (the candidate's share until the rollback) | ${stats.failures.length} of ${stats.sent} |`,
    );
    console.log(`(rollout started ${first - breachStart} ms before the first failure)`);

    // 3. Blue-green switch and the rollback after it, under steady traffic.
    const bgTraffic = new Traffic(client, 'credit-bluegreen', models.data, {
      concurrency: 4,
    }).start();
    await bgTraffic.answered(200);
    const bg = await promotion('credit-bluegreen', v2, 'BLUE_GREEN', null);
    await waitForRollout(client, bg.id, (r) => r.status === 'COMPLETED', 60_000);
    await bgTraffic.answered(300);
    await gql(
      client,
      `mutation($id: ID!) { rollbackRollout(id: $id, reason: "Benchmark of the rollback after a blue-green switch.") { status } }`,
      { id: bg.id },
      'erin',
    );
    await bgTraffic.answered(300);
    const bgStats = await bgTraffic.stop();
    console.log('\nblue-green switch and rollback under steady traffic:');
    console.log(
      `| requests | failed | answered by v${v1} | answered by v${v2} |\n| ${bgStats.sent} | ${bgStats.failures.length} | ${bgStats.byVersion[String(v1)] ?? 0} | ${bgStats.byVersion[String(v2)] ?? 0} |`,
    );
  } finally {
    await service.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  }
}

/**
 * Requests at a fixed rate, each started on schedule whether or not earlier ones returned (an
 * open-loop load, so a slow answer cannot slow the load down and hide itself), latency
 * measured with the high-resolution clock around each request.
 */
async function load(
  client: Client,
  endpoint: string,
  body: string,
  seconds: number,
): Promise<Latency> {
  const url = `${client.url()}/v2/models/${endpoint}/infer`;
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${client.token('ivan')}`,
  };
  const total = Math.round(RATE * seconds);
  const latencies: number[] = [];
  let failures = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    const sent = performance.now();
    inFlight.push(
      fetch(url, { method: 'POST', headers, body })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status === 200) latencies.push(performance.now() - sent);
          else failures++;
        })
        .catch(() => {
          failures++;
        }),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((x, y) => x - y);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? NaN;
  return { rps: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), failures };
}

async function eventTime(client: Client, seq: number): Promise<number> {
  const r = await gql<{ ledgerEvents: { events: { seq: number; ts: string }[] } }>(
    client,
    `query($after: Int!) { ledgerEvents(afterSeq: $after, limit: 1) { events { seq ts } } }`,
    { after: seq - 1 },
    'audrey',
  );
  return Date.parse(r.ledgerEvents.events[0]?.ts ?? '');
}

await main();
