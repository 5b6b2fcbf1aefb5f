/**
 * bench/inference: Gatehouse's `/v2/models/{endpoint}/infer` against a bare node:http +
 * ONNX Runtime server (bare-server.ts) answering the same Open Inference Protocol request
 * with the same model and session options, under the same autocannon load (peak req/s); then
 * Gatehouse's latency, with the log on and off, under an open-loop load at half the bare
 * server's peak rate (the servers in a rotating order after a CHECKPOINT, each run after 2 s
 * of the same load, unmeasured, as every server has sat idle through the others' turns; p99
 * over the run and over its typical second), every server's CPU per request at a fixed rate
 * (BENCH_COST_RATE, default 3000 req/s), and Gatehouse's resident memory idle with ten
 * endpoints loaded.
 * `npm run build:bench && node dist/bench/inference/run.js`.
 *
 * BENCH_TRACING=1 adds the defaults with the OpenTelemetry SDK started (no exporter, then OTLP
 * export at the default sampling) for the tracing on/off comparison.
 * BENCH_SECONDS (default 10) per run, BENCH_ROUNDS (default 3) rounds of every server in
 * turn, BENCH_CONNECTIONS (default 32). Every server runs as a process of its own; the
 * database is DATABASE_URL's server (default: the local PostgreSQL), in a fresh database
 * dropped at the end. A run during which other processes of the machine used more than a
 * tenth of a core is repeated (up to three times) and flagged if it stays disturbed; the
 * kernel's own threads count as other processes, among them the disk writeback of
 * PostgreSQL's writes, so with the prediction log on some flags are the log's own cost.
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { buildGermanCreditModels } from '../../src/model-builder/index.js';
import { benchDatabase, machine } from '../support/bench-db.js';
import { startBareServer } from './bare-process.js';
import { ENDPOINTS, inferenceBody, setUp } from './endpoints.js';
import { median } from '../support/stats.js';
import { pacedLoad, type PacedLoadResult } from '../support/paced-load.js';
import { commandTicks, microsPer, minorFaults, processTicks } from '../support/proc.js';
import { MB, startBenchService } from '../support/service.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const WARM_UP_SECONDS = 3;
/** Unmeasured load at the same rate before each open-loop run. */
const PACED_WARM_UP_SECONDS = 2;
/** The fixed rate at which each server's CPU per request is measured. */
const COST_RATE = Number(process.env['BENCH_COST_RATE'] ?? 3000);
/** Core-seconds per second that other processes may use during a run before it is redone. */
const OTHER_LOAD_LIMIT = 0.1;
/** BENCH_TRACING=1 adds the defaults with tracing on (goal: at most 10 % fewer req/s). */
const TRACING = process.env['BENCH_TRACING'] === '1';
const REGISTER = fileURLToPath(new URL('../../src/telemetry/register.js', import.meta.url));

/** An OTLP/HTTP receiver that accepts and discards: the export's cost without a collector. */
async function startOtlpSink(): Promise<{ url: string; stop: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
      }),
  };
}

interface Server {
  readonly label: string;
  readonly url: string;
  readonly pid: number;
  readonly headers: Record<string, string>;
  readonly logs: boolean;
  /** Requests it answered, every run (warm-up and repeated ones) included. */
  readonly tally: { answered: number };
  stop(): Promise<void>;
}

interface Run {
  readonly rps: number;
  /** CPU time of the server's process (all its threads) per answered request. */
  readonly cpuPerRequestUs: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  readonly failures: number;
  /** Core-seconds per second used by processes other than the server, PostgreSQL and this. */
  readonly otherLoad: number;
}

async function startBare(modelPath: string): Promise<Server> {
  const bare = await startBareServer(modelPath);
  return {
    ...bare,
    label: 'bare node:http + ONNX Runtime',
    headers: {},
    logs: false,
    tally: { answered: 0 },
  };
}

/** CPU seconds used so far: the whole machine (busy, total) and the given processes. */
function cpuSnapshot(pids: readonly number[]): { busy: number; total: number; ours: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  let ours = 0;
  for (const pid of pids) ours += processTicks(pid);
  return { busy: (total - idle) / 100, total: total / 100, ours: ours / 100 };
}

/** PostgreSQL's processes on this machine (the benchmark's database runs there). */
function postgresPids(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
      } catch {
        return false;
      }
    });
}

async function load(
  server: Server,
  body: string,
  options: { seconds?: number } = {},
): Promise<Run> {
  const pids = [server.pid, process.pid, ...postgresPids()];
  const before = cpuSnapshot(pids);
  const serverBefore = processTicks(server.pid);
  const seconds = options.seconds ?? SECONDS;
  const result = await autocannon({
    url: `${server.url}/v2/models/credit/infer`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.headers },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  const after = cpuSnapshot(pids);
  server.tally.answered += result.requests.total;
  const serverTicks = processTicks(server.pid) - serverBefore;
  return {
    rps: result.requests.average,
    cpuPerRequestUs: microsPer(serverTicks, result.requests.total),
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.non2xx + result.errors + result.timeouts,
    otherLoad: (after.busy - before.busy - (after.ours - before.ours)) / seconds,
  };
}

interface Paced extends PacedLoadResult {
  /** CPU time of the server's process (all its threads) per answered request. */
  readonly cpuPerRequestUs: number;
  /** PostgreSQL's CPU time (all its processes) per answered request: the log's other half. */
  readonly postgresPerRequestUs: number;
  /**
   * The server's minor page faults per answered request: fresh memory touched (on this kind of
   * virtual machine each costs tens of microseconds; most are the garbage collector's).
   */
  readonly faultsPerRequest: number;
}

async function paced(server: Server, body: string, rate: number): Promise<Paced> {
  const run = async (seconds: number): Promise<PacedLoadResult> => {
    const result = await pacedLoad({
      url: `${server.url}/v2/models/credit/infer`,
      headers: { 'content-type': 'application/json', ...server.headers },
      body,
      rate,
      seconds,
      connections: CONNECTIONS,
    });
    server.tally.answered += result.answered;
    return result;
  };
  // Every server waits idle while the others are measured, and on this kind of virtual machine
  // a process's first second of load after an idle spell can stall for 100 ms and more,
  // whatever it runs (docs/benchmarks.md): the same load, unmeasured, first.
  await run(PACED_WARM_UP_SECONDS);
  const before = processTicks(server.pid);
  const postgres = commandTicks('postgres');
  const faults = minorFaults(server.pid);
  const result = await run(SECONDS);
  const ticks = processTicks(server.pid) - before;
  const postgresTicks = commandTicks('postgres') - postgres;
  return {
    ...result,
    cpuPerRequestUs: microsPer(ticks, result.answered),
    postgresPerRequestUs: microsPer(postgresTicks, result.answered),
    faultsPerRequest: (minorFaults(server.pid) - faults) / Math.max(1, result.answered),
  };
}

function pacedSummary(runs: readonly Paced[]) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    p99TypicalSecond: median(runs.map((r) => r.p99TypicalSecond)),
    p999: median(runs.map((r) => r.p999)),
    max: median(runs.map((r) => r.max)),
    faults: median(runs.map((r) => r.faultsPerRequest)),
    failures: runs.reduce((n, r) => n + r.failures, 0),
  };
}

/** A run repeated while other processes disturb it (at most three tries). */
async function quietLoad(server: Server, body: string): Promise<Run> {
  let run = await load(server, body);
  for (let retry = 0; retry < 2 && run.otherLoad > OTHER_LOAD_LIMIT; retry++) {
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    run = await load(server, body);
  }
  return run;
}

async function scoreOnce(server: Server, body: string): Promise<number | undefined> {
  const response = await fetch(`${server.url}/v2/models/credit/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...server.headers },
    body,
  });
  const answer = (await response.json()) as { outputs?: { data: number[] }[] };
  if (!response.ok) throw new Error(`${server.url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer.outputs?.[0]?.data[0];
}

/** One statement on a connection of its own (the services hold theirs). */
async function queryOnce<T extends pg.QueryResultRow>(
  databaseUrl: string,
  sql: string,
): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** Has PostgreSQL write out its dirty pages now (CHECKPOINT: superuser or pg_checkpoint). */
async function checkpoint(databaseUrl: string): Promise<void> {
  await queryOnce(databaseUrl, 'CHECKPOINT');
}

async function countPredictions(databaseUrl: string): Promise<number> {
  const [row] = await queryOnce<{ n: number }>(
    databaseUrl,
    'SELECT count(*)::int AS n FROM predictions',
  );
  return row?.n ?? 0;
}

function summary(runs: readonly Run[]) {
  return {
    rps: median(runs.map((r) => r.rps)),
    minRps: Math.min(...runs.map((r) => r.rps)),
    maxRps: Math.max(...runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuPerRequestUs: median(runs.map((r) => r.cpuPerRequestUs)),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    disturbed: runs.filter((r) => r.otherLoad > OTHER_LOAD_LIMIT).length,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-inference-'));
  const dataDir = join(dir, 'data');
  const db = await benchDatabase('inference', 2);
  await db.dataSource.destroy();
  const servers: Server[] = [];
  let sink: Awaited<ReturnType<typeof startOtlpSink>> | undefined;
  try {
    const models = buildGermanCreditModels();
    await setUp(db.url, dataDir, models);
    const modelPath = join(dir, 'fair.onnx');
    writeFileSync(modelPath, models.fair.bytes);
    const body = inferenceBody(models);

    const bare = await startBare(modelPath);
    servers.push(bare);
    const gatehouse = async (label: string, env: Record<string, string>, logs: boolean) => {
      const service = await startBenchService({ DATABASE_URL: db.url, ...env }, dataDir);
      const server: Server = {
        label,
        url: service.url,
        pid: service.child.pid ?? 0,
        headers: {
          authorization: `Bearer ${await service.token('bench-client', 'inference-client')}`,
        },
        logs,
        tally: { answered: 0 },
        stop: () => service.stop(),
      };
      servers.push(server);
      return { server, service };
    };
    // Replicas of one service on one database: each loads the ten endpoints at start.
    const main = await gatehouse(
      'Gatehouse: log on, micro-batching on (defaults)',
      { GATEHOUSE_MICROBATCH_MAX_ROWS: '32', GATEHOUSE_MICROBATCH_WAIT_MS: '0' },
      true,
    );
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const idleRss = main.service.rss();
    await gatehouse(
      'Gatehouse: log on, micro-batching off',
      { GATEHOUSE_MICROBATCH_MAX_ROWS: '1' },
      true,
    );
    const logOff = await gatehouse(
      'Gatehouse: log off, micro-batching on',
      { GATEHOUSE_PREDICTION_LOG: 'false', GATEHOUSE_MICROBATCH_MAX_ROWS: '32' },
      false,
    );
    if (TRACING) {
      // The defaults with the OpenTelemetry SDK started as `npm start` starts it: without an
      // exporter (nothing sampled, trace ids only), and exporting over OTLP/HTTP to a sink in
      // this process at the default sampling (inference at 10 %).
      const withSdk = { NODE_OPTIONS: `--import ${REGISTER}` };
      await gatehouse('Gatehouse: defaults, tracing SDK without exporter', withSdk, true);
      sink = await startOtlpSink();
      await gatehouse(
        'Gatehouse: defaults, tracing exported (default sampling)',
        { ...withSdk, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url },
        true,
      );
    }

    const bareScore = await scoreOnce(bare, body);
    for (const server of servers) {
      const score = await scoreOnce(server, body);
      if (score === undefined || Math.abs(score - (bareScore ?? Number.NaN)) > 1e-6)
        throw new Error(`${server.label}: score ${String(score)} differs from the bare server's`);
    }
    const before = await countPredictions(db.url);

    const runs = new Map<Server, Run[]>(servers.map((s) => [s, []]));
    for (const server of servers) await load(server, body, { seconds: WARM_UP_SECONDS });
    for (let round = 0; round < ROUNDS; round++) {
      for (const server of servers) {
        runs.get(server)?.push(await quietLoad(server, body));
      }
    }
    const bareSummary = summary(runs.get(bare) ?? []);
    const halfRate = Math.round(bareSummary.rps / 2);
    // Open-loop at half the bare peak (bench/support/paced-load.ts): latency from the moment
    // each request was due. The bare server under the same load is the reference; the service
    // with the log off tells the log's share of the tail from the rest of the service's.
    const halfServers = [main.server, bare, logOff.server];
    const halfRuns = new Map<Server, Paced[]>(halfServers.map((s) => [s, []]));
    // The peak rounds leave PostgreSQL hundreds of MB of dirty pages whose writeback would fall
    // on whichever open-loop run it happened to meet: written out first.
    await checkpoint(db.url);
    for (let round = 0; round < ROUNDS; round++) {
      // Each server goes first in turn: the run after another's is on a machine that one warmed.
      const order = halfServers.map((_, i) => halfServers[(i + round) % halfServers.length]);
      for (const server of order)
        if (server) halfRuns.get(server)?.push(await paced(server, body, halfRate));
    }
    // What a request costs the server's process in CPU, at a rate every server sustains: on
    // this machine the load generator shares the cores, so peak req/s mixes the server's own
    // cost with the generator's; this does not.
    const costs = new Map<Server, Paced[]>(servers.map((s) => [s, []]));
    for (let round = 0; round < ROUNDS; round++)
      for (const server of servers) costs.get(server)?.push(await paced(server, body, COST_RATE));
    const answeredWithLog = servers.filter((s) => s.logs).reduce((n, s) => n + s.tally.answered, 0);
    for (const server of servers.splice(0).reverse()) await server.stop();
    const logged = (await countPredictions(db.url)) - before;

    const mainSummary = summary(runs.get(main.server) ?? []);
    console.log(`# bench/inference — ${machine()}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(
      `${CONNECTIONS} connections; ${ROUNDS} rounds of ${SECONDS} s per server (medians; range of req/s), after ${WARM_UP_SECONDS} s of warm-up; one row of 60 features per request; fair German credit model`,
    );
    console.log('');
    console.log(
      `| server | req/s (median) | req/s range | p50 ms | p99 ms | × bare | failed | CPU µs/request at peak | CPU µs/request at ${COST_RATE} req/s | PostgreSQL µs/request at ${COST_RATE} req/s |`,
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const costOf = (server: Server) =>
      median((costs.get(server) ?? []).map((r) => r.cpuPerRequestUs));
    const bareCost = costOf(bare);
    for (const [server, serverRuns] of runs) {
      const s = summary(serverRuns);
      const flag = s.disturbed > 0 ? ` (${s.disturbed} run(s) disturbed by other processes)` : '';
      const cost = costOf(server);
      const postgres = median((costs.get(server) ?? []).map((r) => r.postgresPerRequestUs));
      console.log(
        `| ${server.label}${flag} | ${Math.round(s.rps)} | ${Math.round(s.minRps)}–${Math.round(s.maxRps)} | ${s.p50} | ${s.p99} | ${(s.rps / bareSummary.rps).toFixed(2)} | ${s.failures} | ${Math.round(s.cpuPerRequestUs)} | ${Math.round(cost)} (${(bareCost / cost).toFixed(2)} × bare's cost) | ${postgres.toFixed(1)} |`,
      );
    }
    console.log('');
    console.log(
      `Open-loop at ${halfRate} req/s, half the bare peak (${ROUNDS} runs of ${SECONDS} s each, each after ${PACED_WARM_UP_SECONDS} s of the same load unmeasured; latency from the moment each request was due; medians):`,
    );
    console.log('');
    console.log(
      '| server | answered/s | p50 ms | p99 ms | p99 of a typical second ms | p99.9 ms | max ms | failed | page faults/request |',
    );
    console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    const half = pacedSummary(halfRuns.get(main.server) ?? []);
    for (const server of halfServers) {
      const r = pacedSummary(halfRuns.get(server) ?? []);
      console.log(
        `| ${server.label} | ${Math.round(r.rps)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.p99TypicalSecond.toFixed(2)} | ${r.p999.toFixed(2)} | ${r.max.toFixed(1)} | ${r.failures} | ${r.faults.toFixed(2)} |`,
      );
    }
    console.log('');
    console.log(
      `throughput, log on: ${(mainSummary.rps / bareSummary.rps).toFixed(2)} × bare (goal ≥ 0.8); p99 at half the bare peak: ${half.p99.toFixed(2)} ms (goal ≤ 5 ms)`,
    );
    console.log(
      `predictions logged: ${logged} of ${answeredWithLog} answered by the servers with the log on`,
    );
    console.log(
      `service RSS idle with ${ENDPOINTS} endpoints loaded: ${(idleRss / MB).toFixed(0)} MB`,
    );
  } finally {
    for (const server of servers.reverse()) await server.stop().catch(() => undefined);
    await sink?.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
