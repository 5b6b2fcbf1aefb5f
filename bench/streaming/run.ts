/**
 * bench/streaming: messages a second through a stream-bound endpoint (the German credit model
 * live, the prediction log on, each message acknowledged once its prediction is logged),
 * against the floor: a bare JetStream consumer that only runs ONNX Runtime and publishes
 * (bare-consumer.ts). Each side gets BENCH_MESSAGES requests (default 20,000) published as fast
 * as JetStream takes them, BENCH_RUNS times (default 3), taking turns; the figure is requests
 * over the time from the first publish to the last answer. BENCH_MAX_ACK_PENDING (default
 * 1024, the binding's default) bounds the messages out at once on both sides. Then each side
 * gets an open-loop load at half the floor's rate for BENCH_LATENCY_SECONDS (default 10): the
 * requests are published on schedule whatever the answers do, and each one's time runs from
 * when it was due to when its answer arrives on the output subject.
 * `npm run bench:streaming`.
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { buildGermanCreditModels } from '../../src/model-builder/index.js';
import { inferenceBody, setUp } from '../inference/endpoints.js';
import { benchDatabase, machine } from '../support/bench-db.js';
import { startBenchService } from '../support/service.js';
import { median, quantile } from '../support/stats.js';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const MAX_ACK_PENDING = Number(process.env['BENCH_MAX_ACK_PENDING'] ?? 1024);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 10);
/** How often the open-loop publisher wakes to send what has come due. */
const PACE_TICK_MS = 2;
const NATS = 'nats://127.0.0.1:4222';
const BARE = fileURLToPath(new URL('./bare-consumer.js', import.meta.url));
/** Publishes awaiting their JetStream acknowledgement at once. */
const PUBLISH_WINDOW = 500;

const RUN = randomUUID().replace(/-/g, '').slice(0, 10);
const encoder = new TextEncoder();

/** Publishes `count` requests on `input` and resolves with the seconds until the last answer. */
async function throughput(
  nc: NatsConnection,
  input: string,
  output: string,
  body: string,
  count: number,
  tag: string,
): Promise<number> {
  const js = jetstream(nc);
  let answered = 0;
  const subscription = nc.subscribe(output);
  const all = (async () => {
    // Counted, not read: the answers' content is the tests' to check.
    for await (const answer of subscription) {
      if (answer.subject === output && ++answered === count) return performance.now();
    }
    return Number.NaN;
  })();
  await nc.flush();
  const started = performance.now();
  const pending: Promise<unknown>[] = [];
  const payload = encoder.encode(body);
  for (let i = 0; i < count; i++) {
    const h = natsHeaders();
    h.set('Nats-Msg-Id', `${tag}-${i}`);
    pending.push(js.publish(input, payload, { headers: h }));
    if (pending.length >= PUBLISH_WINDOW) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const ended = await all;
  subscription.unsubscribe();
  return (ended - started) / 1000;
}

interface Latencies {
  readonly sent: number;
  readonly answered: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

/**
 * Publishes requests on `input` at `rate` a second for `seconds`, on schedule whatever happens
 * to the answers, and times each from when it was due to when its answer (matched by
 * `Nats-Msg-Id`) arrived on `output`. Waits up to 30 s after the last publish for stragglers;
 * an unanswered request counts as answered never (it is reported, not timed).
 */
async function latencies(
  nc: NatsConnection,
  input: string,
  output: string,
  body: string,
  rate: number,
  seconds: number,
  tag: string,
): Promise<Latencies> {
  const js = jetstream(nc);
  const total = Math.round(rate * seconds);
  const due = new Float64Array(total);
  const took = new Float64Array(total).fill(Number.NaN);
  let answered = 0;
  const prefix = `${tag}-`;
  const subscription = nc.subscribe(output);
  let finished: () => void = () => undefined;
  const allIn = new Promise<void>((resolve) => {
    finished = resolve;
  });
  void (async () => {
    for await (const answer of subscription) {
      const at = performance.now();
      const id = answer.headers?.get('Nats-Msg-Id') ?? '';
      if (!id.startsWith(prefix)) continue;
      const i = Number(id.slice(prefix.length));
      if (!(i >= 0 && i < total) || !Number.isNaN(took[i])) continue;
      took[i] = at - (due[i] ?? at);
      if (++answered === total) finished();
    }
  })();
  await nc.flush();
  const payload = encoder.encode(body);
  const start = performance.now() + 50;
  const publishes: Promise<unknown>[] = [];
  let next = 0;
  while (next < total) {
    const now = performance.now();
    for (; next < total && start + (next * 1000) / rate <= now; next++) {
      due[next] = start + (next * 1000) / rate;
      const h = natsHeaders();
      h.set('Nats-Msg-Id', `${prefix}${next}`);
      publishes.push(js.publish(input, payload, { headers: h }));
    }
    await new Promise((resolve) => setTimeout(resolve, PACE_TICK_MS));
  }
  await Promise.all(publishes);
  await Promise.race([allIn, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  subscription.unsubscribe();
  const times = took.filter((t) => !Number.isNaN(t)).sort();
  return {
    sent: total,
    answered,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    p999: quantile(times, 0.999),
    max: times.length > 0 ? (times[times.length - 1] ?? Number.NaN) : Number.NaN,
  };
}

async function main(): Promise<void> {
  const models = buildGermanCreditModels();
  const db = await benchDatabase('streaming', 4);
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-streaming-'));
  const nc = await connect({ servers: [NATS] });
  const jsm = await jetstreamManager(nc);
  const stream = `BENCH_${RUN}`;
  const bareStream = `BENCH_BARE_${RUN}`;
  const subjects = {
    input: `bench.${RUN}.in`,
    output: `bench.${RUN}.out`,
    bareInput: `bench.${RUN}.bare.in`,
    bareOutput: `bench.${RUN}.bare.out`,
  };
  let bare: ChildProcess | undefined;
  await db.dataSource.destroy();
  await setUp(db.url, dir, models);
  const service = await startBenchService(
    { DATABASE_URL: db.url, GATEHOUSE_NATS_URL: NATS, GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' },
    dir,
  );
  try {
    const token = await service.token('bench', 'ml-engineer');
    const bound = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `mutation($i: StreamBindingInput!) {
          bindStream(endpoint: "credit", input: $i, reason: "Benchmark of stream-bound inference.") { name } }`,
        variables: {
          i: {
            inputSubject: subjects.input,
            outputSubject: subjects.output,
            stream,
            maxAckPending: MAX_ACK_PENDING,
          },
        },
      }),
    });
    const answer = (await bound.json()) as { errors?: unknown };
    if (answer.errors) throw new Error(`bindStream: ${JSON.stringify(answer.errors)}`);

    // The floor's streams: work-queue input and deduplicating answers, as the binding makes.
    await jsm.streams.add({
      name: bareStream,
      subjects: [subjects.bareInput],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
    });
    await jsm.streams.add({
      name: `${bareStream}_ANSWERS`,
      subjects: [subjects.bareOutput],
      storage: StorageType.File,
      duplicate_window: 5 * 60 * 1_000_000_000,
    });
    const modelPath = join(dir, 'credit.onnx');
    writeFileSync(modelPath, models.fair.bytes);
    const child = spawn(
      process.execPath,
      [
        BARE,
        modelPath,
        bareStream,
        subjects.bareInput,
        subjects.bareOutput,
        String(MAX_ACK_PENDING),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    bare = child;
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        if (data.toString().includes('ready')) resolve();
      });
      child.once('exit', (code) => {
        reject(new Error(`the bare consumer exited with ${String(code)}`));
      });
    });

    const body = inferenceBody(models);
    // Warm both (sessions, JIT, the binding's subscription) before anything is measured.
    await throughput(nc, subjects.input, subjects.output, body, 200, `warm-g`);
    await throughput(nc, subjects.bareInput, subjects.bareOutput, body, 200, `warm-b`);
    const gatehouse: number[] = [];
    const floor: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 === 0 ? ['gatehouse', 'bare'] : ['bare', 'gatehouse'];
      for (const side of order) {
        const seconds =
          side === 'gatehouse'
            ? await throughput(nc, subjects.input, subjects.output, body, MESSAGES, `g${run}`)
            : await throughput(
                nc,
                subjects.bareInput,
                subjects.bareOutput,
                body,
                MESSAGES,
                `b${run}`,
              );
        (side === 'gatehouse' ? gatehouse : floor).push(MESSAGES / seconds);
      }
    }
    const rate = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
    const g = median(gatehouse);
    const b = median(floor);
    const half = Math.round(b / 2);
    const paced: [string, Latencies][] = [
      [
        'stream-bound endpoint (log on)',
        await latencies(nc, subjects.input, subjects.output, body, half, LATENCY_SECONDS, 'pg'),
      ],
      [
        'bare JetStream consumer + ONNX Runtime',
        await latencies(
          nc,
          subjects.bareInput,
          subjects.bareOutput,
          body,
          half,
          LATENCY_SECONDS,
          'pb',
        ),
      ],
    ];
    const ms = (v: number) => v.toFixed(1);
    process.stdout.write(
      [
        `# bench/streaming — ${machine()}`,
        `${MESSAGES} requests a run, ${RUNS} runs a side, max ack pending ${MAX_ACK_PENDING}, messages a second`,
        '',
        '| side | runs | median |',
        '| --- | --- | --- |',
        `| stream-bound endpoint (log on) | ${rate(gatehouse)} | ${g.toFixed(0)} |`,
        `| bare JetStream consumer + ONNX Runtime | ${rate(floor)} | ${b.toFixed(0)} |`,
        `| ratio | | ${(g / b).toFixed(2)} (goal ≥ 0.8) |`,
        '',
        `Publish to answer, open loop at ${half} a second (half the floor's median) for ${LATENCY_SECONDS} s, from when each request was due, ms:`,
        '',
        '| side | answered | p50 | p99 | p99.9 | max |',
        '| --- | --- | --- | --- | --- | --- |',
        ...paced.map(
          ([side, l]) =>
            `| ${side} | ${l.answered} of ${l.sent} | ${ms(l.p50)} | ${ms(l.p99)} | ${ms(l.p999)} | ${ms(l.max)} |`,
        ),
        '',
      ].join('\n'),
    );
  } finally {
    bare?.kill('SIGTERM');
    await service.stop();
    for (const name of [stream, `${stream}_ANSWERS`, bareStream, `${bareStream}_ANSWERS`])
      await jsm.streams.delete(name).catch(() => false);
    await nc.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
