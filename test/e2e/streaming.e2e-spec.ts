import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { buildGermanCreditModels, type GermanCreditModels } from '../../src/model-builder/index.js';
import { StreamConsumers } from '../../src/streaming/stream-consumers.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { seedLiveEndpoint } from '../support/registry.js';

// Against the real NATS server (JetStream on) that `.ci/run` starts. Every subject and stream
// carries this file's run id, so runs never share one; the streams are deleted afterwards.
const RUN = randomUUID().replace(/-/g, '').slice(0, 12);
const STREAM = `GH_E2E_${RUN}`;
const INPUT = `gh-e2e.${RUN}.credit.in`;
const OUTPUT = `gh-e2e.${RUN}.credit.out`;
const DEAD = `${OUTPUT}.dead`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Delivered {
  readonly subject: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A stream-bound endpoint (docs/streaming.md): requests published on JetStream are answered on
 * the output subject by the same routing as HTTP, logged, and acknowledged; poison messages are
 * dead-lettered with their reason and never retried.
 */
describe('streaming inference: an endpoint bound to a JetStream input', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let db: pg.Client;

  const request = (row: number) => ({
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [1, models.data.featureNames.length],
        data: [Array.from(models.data.X[row] ?? [])],
      },
    ],
  });

  async function publish(body: string, headers: Record<string, string> = {}): Promise<void> {
    const h = natsHeaders();
    for (const [name, value] of Object.entries(headers)) h.set(name, value);
    await js.publish(INPUT, encoder.encode(body), { headers: h });
  }

  /** Everything the answers stream holds on `subject`, read from its start. */
  async function delivered(subject: string): Promise<Delivered[]> {
    const stream = `${STREAM}_ANSWERS`;
    const consumer = await jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      inactive_threshold: 60_000_000_000,
    });
    const info = await jsm.consumers.info(stream, consumer.name);
    const pending = info.num_pending;
    const out: Delivered[] = [];
    if (pending > 0) {
      const reader = await js.consumers.get(stream, consumer.name);
      const batch = await reader.fetch({ max_messages: pending, expires: 5000 });
      for await (const m of batch) {
        const headers: Record<string, string> = {};
        for (const [name, values] of m.headers ?? []) headers[name] = values[0] ?? '';
        out.push({ subject: m.subject, headers, body: decoder.decode(m.data) });
        if (out.length === pending) break;
      }
    }
    await jsm.consumers.delete(stream, consumer.name);
    return out;
  }

  async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
    const deadline = Date.now() + 60_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_PREDICTION_LOG_FLUSH_MS: '50',
      GATEHOUSE_NATS_URL: 'nats://127.0.0.1:4222',
    });
    await seedLiveEndpoint(app, { model: 'credit', endpoint: 'credit', versions: [models.fair] });
    nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    const engineer = await app.token('erin', 'ml-engineer');
    const bound = await app.gql(
      `mutation($input: StreamBindingInput!) {
         bindStream(endpoint: "credit", input: $input, reason: "Scores the application events of the loan desk.") { name } }`,
      { input: { inputSubject: INPUT, outputSubject: OUTPUT, stream: STREAM } },
      engineer,
    );
    expect(bound.errors).toBeUndefined();
    const consumers = app.running.app.get(StreamConsumers);
    await until('the binding runs', () => consumers.runningEndpoints().includes('credit'));
  }, 180_000);

  afterAll(async () => {
    await db.end();
    await app.close();
    for (const stream of [STREAM, `${STREAM}_ANSWERS`])
      await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it('answers each request on the output subject under its id, logs it, and leaves nothing unacknowledged', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `req-${RUN}-${i}`);
    for (const [i, id] of ids.entries())
      await publish(JSON.stringify(request(i)), {
        'Nats-Msg-Id': id,
        ...(i % 2 === 0 ? { 'X-Routing-Key': `customer-${i}` } : {}),
      });
    let answers: Delivered[] = [];
    await until('every request is answered', async () => {
      answers = await delivered(OUTPUT);
      return answers.length >= ids.length;
    });
    expect(answers.map((a) => a.headers['Nats-Msg-Id']).sort()).toEqual([...ids].sort());
    for (const answer of answers) {
      expect(answer.headers['Gatehouse-Arm']).toBe('live');
      expect(answer.headers['Gatehouse-Model-Version']).toBe('1');
      const body = JSON.parse(answer.body) as {
        id: string;
        model_name: string;
        model_version: string;
        outputs: { name: string; data: number[] }[];
      };
      expect(body.id).toBe(answer.headers['Nats-Msg-Id']);
      expect(body.model_name).toBe('credit');
      const score = body.outputs.find((o) => o.name === 'score')?.data[0];
      const row = ids.indexOf(body.id);
      expect(score).toBeCloseTo(
        models.fair.predict([Float32Array.from(models.data.X[row] ?? [])])[0] ?? NaN,
        5,
      );
    }
    // Acknowledged only once logged: nothing is left pending and every request is in the log.
    await until('the consumer has nothing pending', async () => {
      const info = await jsm.consumers.info(STREAM, 'gatehouse-credit');
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    const { rows } = await db.query<{ request_id: string }>(
      `SELECT request_id FROM predictions WHERE endpoint = 'credit' AND request_id = ANY($1)`,
      [ids],
    );
    expect(rows.map((r) => r.request_id).sort()).toEqual([...ids].sort());
  }, 120_000);

  it('dead-letters a poison message with its reason, once, and answers the next', async () => {
    await publish('{"inputs": [', { 'Nats-Msg-Id': `bad-json-${RUN}` });
    await publish(JSON.stringify({ inputs: 'features' }), { 'Nats-Msg-Id': `bad-shape-${RUN}` });
    await publish(JSON.stringify(request(3)));
    await publish(JSON.stringify(request(4)), { 'Nats-Msg-Id': `after-${RUN}` });
    let dead: Delivered[] = [];
    await until('three dead letters', async () => {
      dead = await delivered(DEAD);
      return dead.length >= 3;
    });
    const reasons = Object.fromEntries(
      dead.map((d) => [d.headers['Nats-Msg-Id'] ?? '(none)', d.headers['Gatehouse-Reason']]),
    );
    expect(reasons[`bad-json-${RUN}`]).toMatch(/^body: is not valid JSON/);
    expect(reasons[`bad-shape-${RUN}`]).toMatch(/^inputs: expected a non-empty array/);
    expect(reasons['(none)']).toMatch(/^Nats-Msg-Id: is required/);
    for (const d of dead) expect(d.headers['Gatehouse-Source-Subject']).toBe(INPUT);
    await until('the next request is answered', async () =>
      (await delivered(OUTPUT)).some((a) => a.headers['Nats-Msg-Id'] === `after-${RUN}`),
    );
    // Terminated, not retried: the consumer holds nothing, and no dead letter came twice.
    await until('the consumer has nothing pending', async () => {
      const info = await jsm.consumers.info(STREAM, 'gatehouse-credit');
      return info.num_ack_pending === 0 && info.num_pending === 0;
    });
    expect(await delivered(DEAD)).toHaveLength(3);
  }, 120_000);
});
