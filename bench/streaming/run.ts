/**
 * bench/streaming: messages a second through a stream-bound endpoint (the German credit model
 * live, the prediction log on, each message acknowledged once its prediction is logged),
 * against the floor: a bare JetStream consumer that only runs ONNX Runtime and publishes
 * (bare-consumer.ts). Each side gets BENCH_MESSAGES requests (default 20,000) published as fast
 * as JetStream takes them, BENCH_RUNS times (default 3), taking turns; the figure is requests
 * over the time from the first publish to the last answer. BENCH_MAX_ACK_PENDING (default
 * 1024, the binding's default) bounds the messages out at once on both sides.
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
import { median } from '../support/stats.js';

const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 20_000);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
const MAX_ACK_PENDING = Number(process.env['BENCH_MAX_ACK_PENDING'] ?? 1024);
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
