/**
 * bench/inference/profile: where Gatehouse's event loop spends its time on an inference
 * request. Starts `gatehouse serve` with V8's sampling profiler (`--cpu-prof`), sends an
 * open-loop load at BENCH_COST_RATE (default 3000 req/s) for BENCH_SECONDS (default 15), stops
 * it and prints the self time per request by origin (a package, a folder of src/, Node's
 * internals, the garbage collector) and the costliest functions.
 * `npm run build:bench && node dist/bench/inference/profile.js`; BENCH_PREDICTION_LOG=false profiles
 * with the log off, BENCH_TARGET=bare the bare server (bare-server.ts) for comparison, and
 * BENCH_PROFILE_OUT=FILE keeps the main thread's profile (for Chrome's DevTools). GATEHOUSE_* settings are passed
 * on to the service, and BENCH_NODE_OPTIONS to its Node.js (V8 flags, say).
 */
import 'reflect-metadata';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildGermanCreditModels } from '../../src/model-builder/index.js';
import { benchDatabase } from '../support/bench-db.js';
import { pacedLoad } from '../support/paced-load.js';
import { commandTicks, minorFaults, processTicks, threadTicks } from '../support/proc.js';
import { startBenchService } from '../support/service.js';
import { startBareServer } from './bare-process.js';
import { gatehouseSettings, inferenceBody, setUp } from './endpoints.js';

const RATE = Number(process.env['BENCH_COST_RATE'] ?? 3000);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 15);
const WARM_UP_SECONDS = 3;
const TOP = Number(process.env['BENCH_TOP'] ?? 40);
const BARE = process.env['BENCH_TARGET'] === 'bare';

interface Target {
  readonly pid: number;
  readonly url: string;
  readonly headers: Record<string, string>;
  stop(): Promise<void>;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a function comes from: a package, a folder of src/, or one of V8's pseudo-frames. */
export function originOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg?.[1]) return pkg[1];
  const own = /\/dist\/(src\/[^/]+)\//.exec(url);
  if (own?.[1]) return own[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  return url;
}

/** Self time (µs) per key over the samples, the idle time left out. */
function selfTimes(
  profile: CpuProfile,
  keyOf: (node: ProfileNode) => string,
): { byKey: Map<string, number>; busy: number } {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byKey = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const delta = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    busy += delta;
    const key = keyOf(node);
    byKey.set(key, (byKey.get(key) ?? 0) + delta);
  });
  return { byKey, busy };
}

function table(title: string, byKey: Map<string, number>, requests: number, top: number): void {
  console.log(`\n| ${title} | µs/request |\n|---|---:|`);
  for (const [key, us] of [...byKey].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`| ${key} | ${(us / requests).toFixed(1)} |`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-profile-'));
  const dataDir = join(dir, 'data');
  const profiles = join(dir, 'profiles');
  const db = await benchDatabase('inference_profile', 2);
  await db.dataSource.destroy();
  try {
    const models = buildGermanCreditModels();
    if (!BARE) await setUp(db.url, dataDir, models);
    let target: Target;
    if (BARE) {
      const modelPath = join(dir, 'fair.onnx');
      writeFileSync(modelPath, models.fair.bytes);
      // Under the profiler: it writes its profile when it exits on SIGTERM.
      const bare = await startBareServer(modelPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`]);
      target = { ...bare, headers: {} };
    } else {
      // GATEHOUSE_* settings of this process reach the service (batch size, sampling…).
      const service = await startBenchService(
        {
          ...gatehouseSettings(),
          DATABASE_URL: db.url,
          GATEHOUSE_PREDICTION_LOG: process.env['BENCH_PREDICTION_LOG'] ?? 'true',
          NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles} ${process.env['BENCH_NODE_OPTIONS'] ?? ''}`,
        },
        dataDir,
      );
      const token = await service.token('bench-client', 'inference-client');
      target = {
        pid: service.child.pid ?? 0,
        url: service.url,
        headers: { authorization: `Bearer ${token}` },
        stop: () => service.stop(),
      };
    }
    const load = (seconds: number) =>
      pacedLoad({
        url: `${target.url}/v2/models/credit/infer`,
        headers: { 'content-type': 'application/json', ...target.headers },
        body: inferenceBody(models),
        rate: RATE,
        seconds,
        connections: 32,
      });
    const warmUp = await load(WARM_UP_SECONDS);
    const before = threadTicks(target.pid);
    const aside = { postgres: commandTicks('postgres'), self: processTicks(process.pid) };
    const faults = minorFaults(target.pid);
    const run = await load(SECONDS);
    const after = threadTicks(target.pid);
    const faulted = minorFaults(target.pid) - faults;
    const postgres = commandTicks('postgres') - aside.postgres;
    const self = processTicks(process.pid) - aside.self;
    await target.stop();
    // One profile per thread, CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread 0
    // is the event loop; the others are worker threads (the prediction log's writer).
    const files = readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'));
    const file = files.find((f) => f.split('.')[4] === '0');
    if (!file) throw new Error('the service wrote no profile of its main thread');
    const out = process.env['BENCH_PROFILE_OUT'];
    if (out) copyFileSync(join(profiles, file), out);
    const read = (name: string) =>
      JSON.parse(readFileSync(join(profiles, name), 'utf8')) as CpuProfile;
    const profile = read(file);
    const workers = files.filter((f) => f !== file).map((f) => selfTimes(read(f), () => '').busy);
    // The profile spans start-up, the warm-up and shutdown too; those requests count as well.
    const requests = warmUp.answered + run.answered;
    const byOrigin = selfTimes(profile, (n) => originOf(n.callFrame.url, n.callFrame.functionName));
    const byFunction = selfTimes(profile, (n) => {
      const f = n.callFrame;
      const file = f.url.replace(/^.*\/(node_modules|dist)\//, '');
      return `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
    });
    console.log(
      `# profile: ${RATE} req/s for ${SECONDS} s (+${WARM_UP_SECONDS} s warm-up), ${requests} answered, ${run.failures} failed, p99 ${run.p99.toFixed(2)} ms; main thread busy ${(byOrigin.busy / requests).toFixed(1)} µs/request (start-up and shutdown included)`,
    );
    for (const busy of workers)
      console.log(
        `worker thread busy ${(busy / requests).toFixed(1)} µs/request (start-up and shutdown included)`,
      );
    // /proc counts in ticks of 10 ms; threads of one name (V8's workers, libuv's pool) summed.
    const threads = new Map<string, number>();
    for (const [tid, { name, ticks }] of after)
      threads.set(
        name,
        (threads.get(name) ?? 0) + (ticks - (before.get(tid)?.ticks ?? 0)) * 10_000,
      );
    table('thread (CPU, the measured run only)', threads, run.answered, TOP);
    console.log(
      `\npage faults (minor) per request, the measured run only: ${(faulted / run.answered).toFixed(2)}`,
    );
    // What shares the two cores with it over the same run.
    table(
      'beside the service (CPU, the measured run only)',
      new Map([
        ['PostgreSQL, all its processes', postgres * 10_000],
        ['the load generator (this process)', self * 10_000],
      ]),
      run.answered,
      TOP,
    );
    table('origin', byOrigin.byKey, requests, TOP);
    table('function', byFunction.byKey, requests, TOP);
  } finally {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
