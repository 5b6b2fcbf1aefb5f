/**
 * bench/inference/compare: this build of Gatehouse against another, side by side, at peak.
 * Both serve the same ten endpoints from one database; autocannon loads one, then the other,
 * round after round, so that a slower or busier minute of the machine falls on both. Per
 * round: requests per second, CPU per request of the event loop and of the whole process, and
 * p99; each build goes first every other round. `BENCH_OTHER=.` compares this build with
 * itself: the noise floor. A change to the hot path is worth a few percent at most, less than the spread between
 * two runs of bench/inference; alternating rounds of two builds is what can show it.
 *
 *   git worktree add /tmp/before <commit> && ln -s "$PWD/node_modules" /tmp/before/
 *   (cd /tmp/before && npx tsc -p tsconfig.build.json)
 *   npm run build:bench && BENCH_OTHER=/tmp/before node dist/bench/inference/compare.js
 *
 * BENCH_ROUNDS (default 6) rounds of BENCH_SECONDS (default 10) per build, BENCH_CONNECTIONS
 * (default 32). GATEHOUSE_* settings of this process reach both services.
 */
import 'reflect-metadata';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildGermanCreditModels } from '../../src/model-builder/index.js';
import { benchDatabase } from '../support/bench-db.js';
import { commandTicks, mainThreadTicks, microsPer, processTicks } from '../support/proc.js';
import { startBenchService, type BenchService } from '../support/service.js';
import { gatehouseSettings, inferenceBody, setUp } from './endpoints.js';
import { median } from '../support/stats.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 6);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const OTHER = process.env['BENCH_OTHER'];

interface Round {
  readonly rps: number;
  readonly eventLoopUs: number;
  readonly processUs: number;
  /** PostgreSQL's CPU per request, all its processes: the prediction log's other half. */
  readonly postgresUs: number;
  readonly p99: number;
}

async function main(): Promise<void> {
  if (OTHER === undefined) throw new Error('BENCH_OTHER: the checkout of the other build');
  const otherMain = resolve(OTHER, 'dist/src/cli/main.js');
  if (!existsSync(otherMain)) throw new Error(`${otherMain} does not exist: build it first`);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-compare-'));
  const dataDir = join(dir, 'data');
  const db = await benchDatabase('compare', 2);
  await db.dataSource.destroy();
  const services: BenchService[] = [];
  try {
    const models = buildGermanCreditModels();
    await setUp(db.url, dataDir, models);
    const env = { ...gatehouseSettings(), DATABASE_URL: db.url };
    const mine = await startBenchService(env, dataDir);
    services.push(mine);
    const theirs = await startBenchService(env, dataDir, otherMain);
    services.push(theirs);
    const builds: [string, BenchService][] = [
      ['this build', mine],
      [OTHER, theirs],
    ];
    const token = await mine.token('bench-client', 'inference-client');
    const body = inferenceBody(models);
    const load = (service: BenchService, seconds: number) =>
      autocannon({
        url: `${service.url}/v2/models/credit/infer`,
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body,
        connections: CONNECTIONS,
        duration: seconds,
      });
    for (const [, service] of builds) await load(service, 3);
    const rounds = new Map<string, Round[]>(builds.map(([label]) => [label, []]));
    console.log(`# bench/inference/compare: ${CONNECTIONS} connections, ${SECONDS} s rounds`);
    console.log('');
    // The log's table grows round after round; PostgreSQL's cost per row grows with it once
    // the table outgrows its shared buffers, and both builds pay that alike.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const tableMb = async (): Promise<number> => {
      const { rows } = await client.query<{ bytes: string }>(
        `SELECT pg_total_relation_size('predictions') AS bytes`,
      );
      return Number(rows[0]?.bytes ?? 0) / 2 ** 20;
    };
    console.log(
      '| round | build | req/s | event loop µs/request | process µs/request | PostgreSQL µs/request | p99 ms | predictions MB after |',
    );
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
    for (let round = 1; round <= ROUNDS; round++) {
      // Each build goes first every other round: the second of a pair runs on a machine the
      // first has just warmed (or tired), which measured several percent either way.
      const order = round % 2 === 1 ? builds : [...builds].reverse();
      for (const [label, service] of order) {
        const pid = service.child.pid ?? 0;
        const loop = mainThreadTicks(pid);
        const all = processTicks(pid);
        const postgres = commandTicks('postgres');
        const result = await load(service, SECONDS);
        const n = result.requests.total;
        const r: Round = {
          rps: result.requests.average,
          eventLoopUs: microsPer(mainThreadTicks(pid) - loop, n),
          processUs: microsPer(processTicks(pid) - all, n),
          postgresUs: microsPer(commandTicks('postgres') - postgres, n),
          p99: result.latency.p99,
        };
        rounds.get(label)?.push(r);
        console.log(
          `| ${round} | ${label} | ${Math.round(r.rps)} | ${r.eventLoopUs.toFixed(0)} | ${r.processUs.toFixed(0)} | ${r.postgresUs.toFixed(0)} | ${r.p99} | ${(await tableMb()).toFixed(0)} |`,
        );
      }
    }
    await client.end();
    console.log('');
    const ours = rounds.get('this build') ?? [];
    const other = rounds.get(OTHER) ?? [];
    const ratio = median(ours.map((r, i) => r.rps / (other[i]?.rps ?? Number.NaN)));
    console.log(
      `this build answers ${ratio.toFixed(3)} × the other's requests per second (median of the rounds' ratios)`,
    );
  } finally {
    for (const service of services) await service.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
