import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  liveCreditEndpoint,
  peopleTokens,
  type Client,
} from '../support/rollout-story.js';

// Against the real NATS server (JetStream on) that `.ci/run` starts. Every subject and stream
// carries this file's run id, so runs never share one; the streams are deleted afterwards.
const RUN = randomUUID().replace(/-/g, '').slice(0, 12);
const STREAM = `GH_E2E_REPLICAS_${RUN}`;
const ANSWERS = `${STREAM}_ANSWERS`;
const CONSUMER = 'gatehouse-credit';
const INPUT = `gh-e2e.${RUN}.replicas.in`;
const OUTPUT = `gh-e2e.${RUN}.replicas.out`;
const DEAD = `${OUTPUT}.dead`;
const MESSAGES = 300;
/**
 * Short, so the killed replica's messages come back in seconds; still several log flushes
 * long, so the survivor's own messages are not handed round while they wait for their batch.
 */
const ACK_WAIT_MS = 5000;
/**
 * A message waits for its prediction's batch before it is acknowledged: a flush interval this
 * long keeps each replica holding unacknowledged messages most of the time, so the kill lands
 * on some (counted afterwards as redeliveries, not assumed).
 */
const FLUSH_MS = 1000;
const encoder = new TextEncoder();

/**
 * Two `gatehouse serve` processes share one stream binding's durable consumer. One is killed
 * outright (SIGKILL: nothing acknowledged, nothing flushed, nothing released) while it holds
 * messages; once the ack wait passes, the other answers them. Every request is then answered
 * exactly once on the answers stream (the answer is published under the request id into a
 * deduplicating stream), the consumer holds nothing, and every request is in the prediction
 * log; a request whose prediction was written but whose ack died with the replica is logged
 * twice, which this test counts rather than forbids.
 */
describe('a stream binding across two service processes, one killed', () => {
  let database: TestDatabase;
  let dataDir: string;
  let policiesDir: string;
  let a: ServingProcess;
  let b: ServingProcess;
  let models: GermanCreditModels;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  const tokens: Record<string, string> = {};
  const clientA: Client = { url: () => a.url, token: (who) => tokens[who] ?? '' };

  const request = (row: number) => ({
    inputs: [
      {
        name: 'features',
        datatype: 'FP32',
        shape: [1, models.data.featureNames.length],
        data: [Array.from(models.data.X[row % models.data.X.length] ?? [])],
      },
    ],
  });

  async function until(
    what: string,
    condition: () => Promise<boolean> | boolean,
    timeoutMs = 120_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Messages the answers stream holds on `subject`. */
  async function stored(subject: string): Promise<number> {
    const info = await jsm.streams.info(ANSWERS, { subjects_filter: subject });
    return info.state.subjects?.[subject] ?? 0;
  }

  /** The request id of every message the answers stream holds on `subject`, read from its start. */
  async function storedIds(subject: string): Promise<string[]> {
    const consumer = await jsm.consumers.add(ANSWERS, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      inactive_threshold: 60_000_000_000,
    });
    const pending = (await jsm.consumers.info(ANSWERS, consumer.name)).num_pending;
    const ids: string[] = [];
    const reader = await js.consumers.get(ANSWERS, consumer.name);
    while (ids.length < pending) {
      const batch = await reader.fetch({ max_messages: pending - ids.length, expires: 5000 });
      for await (const m of batch) {
        ids.push(m.headers?.get('Nats-Msg-Id') ?? '(none)');
        if (ids.length === pending) break;
      }
    }
    await jsm.consumers.delete(ANSWERS, consumer.name);
    return ids;
  }

  /** Stream messages a replica has answered and acknowledged, from its Prometheus metrics. */
  async function answeredBy(replica: ServingProcess): Promise<number> {
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    return text
      .split('\n')
      .filter(
        (l) =>
          l.startsWith('gatehouse_stream_messages_total{') &&
          l.includes('endpoint="credit"') &&
          l.includes('outcome="answered"'),
      )
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-stream-replicas-'));
    policiesDir = fastPolicies();
    const env = {
      ...FAST_ROLLOUT_ENV,
      DATABASE_URL: database.url,
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_NATS_URL: 'nats://127.0.0.1:4222',
      GATEHOUSE_STREAM_ACK_WAIT_MS: String(ACK_WAIT_MS),
      GATEHOUSE_PREDICTION_LOG_FLUSH_MS: String(FLUSH_MS),
    };
    // The first start generates the signing key; the second finds it in the shared folder.
    a = await startServe(env);
    b = await startServe(env);
    Object.assign(tokens, await peopleTokens(dataDir));
    nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
  }, 180_000);

  afterAll(async () => {
    await a.stop().catch(() => undefined);
    await b.stop().catch(() => undefined);
    for (const stream of [STREAM, ANSWERS]) await jsm.streams.delete(stream).catch(() => false);
    await nc.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it("answers a killed replica's unacknowledged messages exactly once, on the other", async () => {
    const live = await liveCreditEndpoint(
      clientA,
      'credit',
      models.fair,
      defaultGermanCreditPath(),
    );
    expect(live.status).toBe('COMPLETED');
    // A small window shared by both replicas, so neither takes every message at once.
    await gql(
      clientA,
      `mutation($input: StreamBindingInput!) {
         bindStream(endpoint: "credit", input: $input, reason: "Scores the application events of the loan desk.") { name } }`,
      { input: { inputSubject: INPUT, outputSubject: OUTPUT, stream: STREAM, maxAckPending: 32 } },
      'erin',
    );
    // Each replica keeps one pull request open on the consumer while it has nothing to answer.
    await until('both replicas pull from the binding', async () => {
      const info = await jsm.consumers.info(STREAM, CONSUMER).catch(() => undefined);
      return (info?.num_waiting ?? 0) >= 2;
    });

    const ids = Array.from({ length: MESSAGES }, (_, i) => `req-${RUN}-${i}`);
    for (const [i, id] of ids.entries()) {
      const h = natsHeaders();
      h.set('Nats-Msg-Id', id);
      await js.publish(INPUT, encoder.encode(JSON.stringify(request(i))), { headers: h });
    }

    // Both are answering, and most messages are still to come: kill one outright.
    await until(
      'both replicas have answered some messages',
      async () => (await answeredBy(a)) > 0 && (await answeredBy(b)) > 0,
    );
    const victimAnswered = await answeredBy(a);
    const answeredAtKill = await stored(OUTPUT);
    await a.stop('SIGKILL');
    const atKill = await jsm.consumers.info(STREAM, CONSUMER);

    await until(
      'every request is answered and acknowledged',
      async () => {
        const info = await jsm.consumers.info(STREAM, CONSUMER);
        return (
          info.num_pending === 0 &&
          info.num_ack_pending === 0 &&
          info.num_redelivered === 0 &&
          (await stored(OUTPUT)) >= MESSAGES
        );
      },
      180_000,
    );
    const done = await jsm.consumers.info(STREAM, CONSUMER);

    // Each request id once on the answers stream: none missing, none twice, no dead letter.
    const answered = await storedIds(OUTPUT);
    const seen = new Map<string, number>();
    for (const id of answered) seen.set(id, (seen.get(id) ?? 0) + 1);
    const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    expect(twice).toEqual([]);
    expect([...seen.keys()].sort()).toEqual([...ids].sort());
    expect(await stored(DEAD)).toBe(0);

    // Deliveries beyond one per message: the killed replica's unacknowledged messages, handed
    // to the survivor once the ack wait ran out. Without any, the kill proved nothing.
    const redelivered = done.delivered.consumer_seq - done.delivered.stream_seq;
    expect(done.delivered.stream_seq).toBe(MESSAGES);
    expect(redelivered).toBeGreaterThan(0);
    const survivorAnswered = await answeredBy(b);

    // Every request in the log (a spooled prediction is written by the survivor's replay). One
    // whose row was written but whose ack died with the replica is logged twice, by design.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    let logged: { request_id: string; n: number }[] = [];
    try {
      await until('every request is in the prediction log', async () => {
        ({ rows: logged } = await db.query<{ request_id: string; n: number }>(
          `SELECT request_id, count(*)::int AS n FROM predictions
            WHERE endpoint = 'credit' AND request_id = ANY($1) GROUP BY request_id`,
          [ids],
        ));
        return logged.length === ids.length;
      });
    } finally {
      await db.end();
    }
    expect(logged.map((r) => r.request_id).sort()).toEqual([...ids].sort());
    const duplicateRows = logged.reduce((sum, r) => sum + r.n - 1, 0);
    // Only a redelivered message can be logged twice.
    expect(duplicateRows).toBeLessThanOrEqual(redelivered);

    process.stdout.write(
      `streaming-replicas: ${MESSAGES} messages; ${answeredAtKill} answered at the kill, ` +
        `${victimAnswered} acknowledged by the killed replica, ${atKill.num_ack_pending} unacknowledged at the kill; ` +
        `${answered.length} answers stored (${seen.size} distinct), ${redelivered} redeliveries, ` +
        `${survivorAnswered} answered by the survivor, ${duplicateRows} duplicate log rows\n`,
    );
  }, 400_000);
});
