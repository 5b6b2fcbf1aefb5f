/**
 * bench/rollout, part 4: a slow candidate beside live. A candidate calibrated to about 5 ms a
 * row (the base model's exact scores behind a Loop of MatMuls, `slowModel`) in a shadow stage
 * mirroring every request, and in a 25 % canary, against the same open-loop load on an endpoint
 * without a candidate. The load runs at half the peak measured first (closed loop, no
 * candidate), in two streams: 75 % of it with a routing key whose bucket always goes to live,
 * 25 % with one whose bucket goes to the candidate in the canary. The live stream's p50 and p99
 * are the figures; goal: within 10 % of the same stream without a candidate.
 */
import autocannon from 'autocannon';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { MODEL_THREAD_NAME } from '../../src/runtime/model-worker-pool.js';
import {
  commandTicks,
  mainThreadTicks,
  microsPer,
  processTicks,
  threadTicks,
} from '../support/proc.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeShortPolicies } from '../../src/demo/short-policies.js';
import {
  evaluate,
  gql,
  PEOPLE,
  promote,
  RATIONALE,
  registerCreditModel,
  sleep,
  uploadDataset,
  waitForRollout,
  inStage,
  type Client,
} from '../../src/demo/story.js';
import { bucketOfHash, routingKeyHash } from '../../src/inference/traffic-split.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  slowModel,
  type ScoringModel,
} from '../../src/model-builder/index.js';
import { ort, SESSION_OPTIONS } from '../../src/runtime/ort.js';
import { benchDatabase } from '../support/bench-db.js';
import { pacedLoad, type PacedLoadResult } from '../support/paced-load.js';
import { startBenchService } from '../support/service.js';
import { median } from '../support/stats.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TARGET_MS_PER_ROW = 5;
const CANARY_PERCENT = 25;
const CONNECTIONS = 32;

type Setting = 'none' | 'shadow' | 'canary';
const ENDPOINTS: Record<Setting, string> = {
  none: 'bulk-none',
  shadow: 'bulk-shadow',
  canary: 'bulk-canary',
};

interface Round {
  readonly setting: Setting;
  readonly live: PacedLoadResult;
  readonly other: PacedLoadResult;
  /** Cores used by processes other than the service, this benchmark and PostgreSQL. */
  readonly otherCores: number;
  /** Cores used by the service's candidate thread. */
  readonly candidateCores: number;
  /** The service's main thread's CPU per request answered (µs). */
  readonly mainUsPerRequest: number;
}

/** CPU ticks (1/100 s) the whole machine has been busy, including time stolen from it. */
function machineBusyTicks(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/) ?? [];
  // user nice system idle iowait irq softirq steal
  return [1, 2, 3, 6, 7, 8].reduce((n, i) => n + Number(cpu[i] ?? 0), 0);
}

function candidateThreadTicks(pid: number): number {
  let ticks = 0;
  for (const thread of threadTicks(pid).values())
    if (thread.name === MODEL_THREAD_NAME) ticks += thread.ticks;
  return ticks;
}

export async function benchBulkhead(): Promise<void> {
  const models = buildGermanCreditModels();
  const { model: slow, msPerRow, iterations } = await calibrate(models.fair);
  console.log(
    `\nslow candidate: slowModel(fair, { iterations: ${iterations}, width: 128 }), ${msPerRow.toFixed(2)} ms a single-row run on this machine (median of 21)`,
  );
  const database = await benchDatabase('bulkhead', 2);
  await database.dataSource.destroy();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-bulkhead-'));
  const policiesDir = writeShortPolicies(mkdtempSync(join(tmpdir(), 'gatehouse-bench-policies-')), {
    lenientGates: true,
  });
  // The service's defaults but the policies: micro-batching on, one candidate thread at nice 19.
  const service = await startBenchService(
    { DATABASE_URL: database.url, GATEHOUSE_POLICIES_DIR: policiesDir },
    dataDir,
  );
  const tokens: Record<string, string> = {};
  for (const [who, roles] of Object.entries(PEOPLE))
    tokens[who] = await service.token(who, ...roles);
  const client: Client = { url: () => service.url, token: (who) => tokens[who] ?? '' };
  try {
    const [live, candidate] = (await registerCreditModel(client, [models.fair, slow])) as [
      number,
      number,
    ];
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    const evaluations = new Map<number, string>();
    for (const v of [live, candidate])
      evaluations.set(v, await evaluate(client, 'credit-risk', v, dataset));
    const promotion = (endpoint: string, version: number, strategy: string, plan: unknown) =>
      promote(client, {
        endpoint,
        model: 'credit-risk',
        version,
        evaluationId: evaluations.get(version) ?? '',
        strategy,
        plan: plan as Record<string, unknown> | null,
        rollbackCriteria: {
          maxErrorRate: { value: 0.02, window: { minRequests: 20, seconds: 60 } },
          minDisparateImpact: { value: 0.8, window: { minRequests: 60, seconds: 60 } },
          rationale: RATIONALE,
        },
      });
    for (const endpoint of Object.values(ENDPOINTS)) {
      await gql(
        client,
        `mutation($name: String!) { createEndpoint(name: $name, model: "credit-risk") { id } }`,
        { name: endpoint },
        'erin',
      );
      await promotion(endpoint, live, 'INITIAL', null);
    }
    const shadow = await promotion(ENDPOINTS.shadow, candidate, 'SHADOW', {
      shadow: { sampleRate: 1, minRequests: 1_000_000_000, minDurationSeconds: 86_400 },
    });
    await waitForRollout(client, shadow.id, inStage('shadow'));
    const canary = await promotion(ENDPOINTS.canary, candidate, 'CANARY', {
      canary: {
        steps: [CANARY_PERCENT],
        minRequestsPerStep: 1_000_000_000,
        bakeSeconds: 86_400,
      },
    });
    await waitForRollout(client, canary.id, inStage(`canary-${CANARY_PERCENT}`));

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
    const headers = {
      'content-type': 'application/json',
      authorization: `Bearer ${client.token('ivan')}`,
    };
    const keys = routingKeys(CANARY_PERCENT * 100);
    const peak = await measurePeak(service.url, ENDPOINTS.none, headers, body);
    const rate = Math.round(peak / 2);
    console.log(
      `peak (closed loop, ${CONNECTIONS} connections, no candidate, median of three 4 s runs): ${peak.toFixed(0)} req/s; the load: ${rate} req/s, open loop`,
    );
    const run = async (setting: Setting): Promise<Round> => {
      await candidateIdle(service.child.pid ?? 0);
      const url = `${service.url}/v2/models/${ENDPOINTS[setting]}/infer`;
      const stream = (key: string, share: number, connections: number) =>
        pacedLoad({
          url,
          headers: { ...headers, 'x-routing-key': key },
          body,
          rate: Math.round((rate * share) / 100),
          seconds: SECONDS,
          connections,
        });
      const pid = service.child.pid ?? 0;
      const ours = () => processTicks(pid) + processTicks(process.pid) + commandTicks('postgres');
      const mainBefore = mainThreadTicks(pid);
      const before = {
        machine: machineBusyTicks(),
        ours: ours(),
        candidate: candidateThreadTicks(pid),
      };
      const started = performance.now();
      const [liveStream, other] = await Promise.all([
        stream(keys.live, 100 - CANARY_PERCENT, CONNECTIONS),
        // As many connections as the live stream: one request at a time on each, so with
        // fewer a candidate that cannot keep up would hold its stream back in the generator
        // instead of filling its queue.
        stream(keys.candidate, CANARY_PERCENT, CONNECTIONS),
      ]);
      const ticksPerSecond = ((performance.now() - started) / 1000) * 100;
      const otherCores =
        (machineBusyTicks() - before.machine - (ours() - before.ours)) / ticksPerSecond;
      const candidateCores = (candidateThreadTicks(pid) - before.candidate) / ticksPerSecond;
      const mainUsPerRequest = microsPer(
        mainThreadTicks(pid) - mainBefore,
        liveStream.answered + other.answered,
      );
      return { setting, live: liveStream, other, otherCores, candidateCores, mainUsPerRequest };
    };
    // Warm-up, unmeasured: each endpoint under the load for a few seconds.
    for (const setting of ['none', 'shadow', 'canary'] as const) {
      const url = `${service.url}/v2/models/${ENDPOINTS[setting]}/infer`;
      await pacedLoad({ url, headers, body, rate, seconds: 3, connections: CONNECTIONS });
    }
    const rounds: Round[] = [];
    const order: Setting[] = ['none', 'shadow', 'canary'];
    for (let r = 0; r < ROUNDS; r++)
      for (let i = 0; i < order.length; i++)
        rounds.push(await run(order[(i + r) % order.length] as Setting));

    console.log(
      `\nlive stream (${100 - CANARY_PERCENT} % of ${rate} req/s, routing key in live's buckets) without a candidate, with the slow candidate in shadow (every request mirrored) and in a ${CANARY_PERCENT} % canary; ${ROUNDS} rounds of ${SECONDS} s, order rotating:`,
    );
    console.log(
      `| round | candidate | live req/s | live p50 ms | live p99 ms | live p99 typical second ms | other stream p50 ms | other stream p99 ms | failures | main thread µs/request | candidate thread, cores | other processes, cores |`,
    );
    rounds.forEach((x, i) => {
      console.log(
        `| ${Math.floor(i / 3) + 1} | ${x.setting} | ${x.live.rps.toFixed(0)} | ${x.live.p50.toFixed(2)} | ${x.live.p99.toFixed(2)} | ${x.live.p99TypicalSecond.toFixed(2)} | ${x.other.p50.toFixed(2)} | ${x.other.p99.toFixed(2)} | ${x.live.failures + x.other.failures} | ${x.mainUsPerRequest.toFixed(0)} | ${x.candidateCores.toFixed(2)} | ${x.otherCores.toFixed(2)} |`,
      );
    });
    const of = (setting: Setting, pick: (r: PacedLoadResult) => number) =>
      median(rounds.filter((x) => x.setting === setting).map((x) => pick(x.live)));
    for (const setting of ['shadow', 'canary'] as const) {
      const p50 = of(setting, (r) => r.p50) / of('none', (r) => r.p50);
      const p99 = of(setting, (r) => r.p99) / of('none', (r) => r.p99);
      const typical =
        of(setting, (r) => r.p99TypicalSecond) / of('none', (r) => r.p99TypicalSecond);
      console.log(
        `${setting}: live p50 ${p50.toFixed(2)} ×, p99 ${p99.toFixed(2)} ×, typical second's p99 ${typical.toFixed(2)} × the same stream without a candidate (medians of rounds; goal ≤ 1.10)`,
      );
    }
    const metrics = await fetch(`${service.url}/metrics`).then((r) => r.text());
    const total = (name: string) =>
      metrics
        .split('\n')
        .filter((l) => l.startsWith(name))
        .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    console.log(
      `shadow copies dropped: ${total('gatehouse_shadow_dropped_total')}; canary requests answered by live (candidate queue full): ${total('gatehouse_candidate_overflow_total')}; shadow and candidate runs: ${total(`gatehouse_inference_requests_total{endpoint="bulk-shadow",version="${candidate}",arm="shadow"}`)} and ${total(`gatehouse_inference_requests_total{endpoint="bulk-canary",version="${candidate}",arm="candidate"}`)}`,
    );
  } finally {
    await service.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  }
}

/**
 * Waits until the candidate thread has used no CPU for half a second: after a round with a
 * candidate, its queues (up to a thousand shadow copies) take seconds to run out, and the next
 * round must not share the cores with them.
 */
async function candidateIdle(pid: number): Promise<void> {
  for (let last = candidateThreadTicks(pid); ;) {
    await sleep(500);
    const now = candidateThreadTicks(pid);
    if (now === last) return;
    last = now;
  }
}

/** Iterations of slowModel (width 128) for about TARGET_MS_PER_ROW a single-row run, here. */
async function calibrate(
  base: ScoringModel,
): Promise<{ model: ScoringModel; msPerRow: number; iterations: number }> {
  let iterations = 400;
  let model = slowModel(base, { iterations, width: 128 });
  let msPerRow = await timeRun(model);
  for (let step = 0; step < 4 && Math.abs(msPerRow / TARGET_MS_PER_ROW - 1) > 0.05; step++) {
    iterations = Math.max(1, Math.round((iterations * TARGET_MS_PER_ROW) / msPerRow));
    model = slowModel(base, { iterations, width: 128 });
    msPerRow = await timeRun(model);
  }
  return { model, msPerRow, iterations };
}

async function timeRun(model: ScoringModel): Promise<number> {
  const session = await ort.InferenceSession.create(model.bytes, SESSION_OPTIONS);
  const features = new ort.Tensor('float32', new Float32Array(model.featureNames.length), [
    1,
    model.featureNames.length,
  ]);
  const timings: number[] = [];
  for (let i = 0; i < 24; i++) {
    const start = performance.now();
    await session.run({ features });
    if (i >= 3) timings.push(performance.now() - start);
  }
  await session.release();
  return median(timings);
}

/** A routing key whose bucket goes to the candidate at this weight, and one that never does. */
function routingKeys(weight: number): { live: string; candidate: string } {
  let live: string | undefined;
  let candidate: string | undefined;
  for (let i = 0; live === undefined || candidate === undefined; i++) {
    const key = `bench-client-${i}`;
    if (bucketOfHash(routingKeyHash(key)) < weight) candidate ??= key;
    else live ??= key;
  }
  return { live, candidate };
}

async function measurePeak(
  base: string,
  endpoint: string,
  headers: Record<string, string>,
  body: string,
): Promise<number> {
  const url = `${base}/v2/models/${endpoint}/infer`;
  await autocannon({ url, method: 'POST', headers, body, connections: CONNECTIONS, duration: 3 });
  // The median of three: this kind of machine has fast and slow spells of several seconds.
  const rates: number[] = [];
  for (let i = 0; i < 3; i++) {
    const result = await autocannon({
      url,
      method: 'POST',
      headers,
      body,
      connections: CONNECTIONS,
      duration: 4,
    });
    rates.push(result.requests.average);
  }
  return median(rates);
}
