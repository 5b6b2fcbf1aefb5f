import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
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
  constantModel,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { StreamConsumers } from '../../src/streaming/stream-consumers.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';
import {
  clientOf,
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  PEOPLE,
  promote,
  RATIONALE,
  rollout,
  uploadDataset,
  waitForRollout,
  type RolloutView,
} from '../support/rollout-story.js';

// Against the real NATS server (JetStream on) that `.ci/run` starts. Every subject and stream
// carries this file's run id, so runs never share one; the streams are deleted afterwards.
const RUN = randomUUID().replace(/-/g, '').slice(0, 12);
const STREAM = `GH_E2E_ROLL_${RUN}`;
const INPUT = `gh-e2e.${RUN}.rollout.in`;
const OUTPUT = `gh-e2e.${RUN}.rollout.out`;
const ENDPOINT = 'credit-stream';
const CONSUMER = `gatehouse-${ENDPOINT}`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const W = { minRequests: 20, seconds: 60 };
/**
 * Messages the consumer may hold unanswered before the publisher waits: enough to keep the
 * shadow queue busy, few enough that the answers of a rolled-back rollout are read promptly.
 */
const IN_FLIGHT = 10;
/** A bound on the publisher if the rollout never ends: the test then fails on its wait. */
const MAX_MESSAGES = 4000;

interface Delivered {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A staged rollout judged on stream traffic alone: the shadow copies of messages answered from
 * JetStream feed the same arm metrics as HTTP requests, so a candidate that disagrees with live
 * is rolled back in its shadow stage, and the stream only ever saw live's answers.
 */
describe('a rollout of a faulty candidate on stream traffic', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let db: pg.Client;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.running.url, tokens);
  const versions = { live: 0, candidate: 0 };
  let evaluationId = '';

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

  /** Everything the answers stream holds on the output subject, read from its start. */
  async function delivered(): Promise<Delivered[]> {
    const stream = `${STREAM}_ANSWERS`;
    const consumer = await jsm.consumers.add(stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: OUTPUT,
      inactive_threshold: 60_000_000_000,
    });
    const pending = (await jsm.consumers.info(stream, consumer.name)).num_pending;
    const out: Delivered[] = [];
    const reader = await js.consumers.get(stream, consumer.name);
    while (out.length < pending) {
      const batch = await reader.fetch({
        max_messages: Math.min(pending - out.length, 500),
        expires: 5000,
      });
      const before = out.length;
      for await (const m of batch) {
        const headers: Record<string, string> = {};
        for (const [name, values] of m.headers ?? []) headers[name] = values[0] ?? '';
        out.push({ headers, body: decoder.decode(m.data) });
        if (out.length === pending) break;
      }
      if (out.length === before) break;
    }
    await jsm.consumers.delete(stream, consumer.name);
    return out;
  }

  async function until(
    what: string,
    condition: () => Promise<boolean> | boolean,
    timeoutMs = 90_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Unanswered messages of the binding's durable consumer. */
  async function inFlight(): Promise<number> {
    const info = await jsm.consumers.info(STREAM, CONSUMER);
    return info.num_pending + info.num_ack_pending;
  }

  /**
   * Publishes requests to the input subject while `going()` holds, a few at a time, waiting
   * for the consumer to catch up rather than for any fixed time; returns the ids published.
   */
  async function publishWhile(going: () => Promise<boolean>): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < MAX_MESSAGES && (await going())) {
      if ((await inFlight()) >= IN_FLIGHT) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      for (let i = 0; i < IN_FLIGHT / 2; i++) {
        const id = `msg-${RUN}-${ids.length}`;
        const h = natsHeaders();
        h.set('Nats-Msg-Id', id);
        await js.publish(INPUT, encoder.encode(JSON.stringify(request(ids.length))), {
          headers: h,
        });
        ids.push(id);
      }
    }
    return ids;
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    policiesDir = fastPolicies();
    app = await startTestApp({
      ...FAST_ROLLOUT_ENV,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      GATEHOUSE_NATS_URL: 'nats://127.0.0.1:4222',
    });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    versions.live = await registerVersion(app, client.token('dana'), 'credit-risk', models.fair);
    // Scores every applicant 0.9: it runs cleanly, but its decisions disagree with live's.
    versions.candidate = await registerVersion(
      app,
      client.token('dana'),
      'credit-risk',
      constantModel(models.fair, 0.9),
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    // The performance gate compares the candidate with live on the same dataset.
    await evaluate(client, 'credit-risk', versions.live, dataset);
    evaluationId = await evaluate(client, 'credit-risk', versions.candidate, dataset);
    await createEndpoint(app, client.token('erin'), ENDPOINT, 'credit-risk');
    await setTraffic(app, ENDPOINT, { liveVersion: versions.live });

    nc = await connect({ servers: ['nats://127.0.0.1:4222'] });
    js = jetstream(nc);
    jsm = await jetstreamManager(nc);
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    await gql(
      client,
      `mutation($endpoint: String!, $input: StreamBindingInput!) {
         bindStream(endpoint: $endpoint, input: $input,
           reason: "Scores the application events of the loan desk.") { name } }`,
      { endpoint: ENDPOINT, input: { inputSubject: INPUT, outputSubject: OUTPUT, stream: STREAM } },
      'erin',
    );
    const consumers = app.running.app.get(StreamConsumers);
    await until('the binding runs', () => consumers.runningEndpoints().includes(ENDPOINT));
  }, 240_000);

  afterAll(async () => {
    try {
      await db.end();
      await app.close();
      rmSync(policiesDir, { recursive: true, force: true });
    } finally {
      // After the app has stopped pulling from them, and even if it failed to stop.
      for (const stream of [STREAM, `${STREAM}_ANSWERS`])
        await jsm.streams.delete(stream).catch(() => false);
      await nc.close();
    }
  });

  it('is rolled back in shadow on the breached criterion; the stream saw only live answers', async () => {
    expect(versions.live).toBe(1);
    const started = await promote(client, {
      endpoint: ENDPOINT,
      model: 'credit-risk',
      version: versions.candidate,
      evaluationId,
      strategy: 'SHADOW_THEN_CANARY',
      plan: {
        shadow: { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 },
        canary: { steps: [25, 50], minRequestsPerStep: 40, bakeSeconds: 1 },
      },
      rollbackCriteria: {
        maxErrorRate: { value: 0.02, window: W },
        // Required of a HIGH-risk model; a constant score treats every group alike.
        minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
        minAgreementWithLive: { value: 0.9, window: W },
        rationale: RATIONALE,
      },
    });
    expect(started.stages[0]).toMatchObject({ name: 'shadow', status: 'IN_PROGRESS' });

    // Stream traffic only, until the rollout decides (or the bound above is reached).
    const deadline = Date.now() + 120_000;
    const ids = await publishWhile(
      async () => Date.now() < deadline && (await rollout(client, started.id)).status === 'RUNNING',
    );
    const done: RolloutView = await waitForRollout(
      client,
      started.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
      90_000,
    );
    expect(done.status).toBe('ROLLED_BACK');
    expect(done.stages[0]).toMatchObject({ name: 'shadow', status: 'FAILED' });
    expect(done.stages.slice(1).every((s) => s.status === 'PENDING')).toBe(true);
    expect(
      done.history.some(
        (e) => e.type === 'rollout.stage.entered' && e.payload['stage'] !== 'shadow',
      ),
    ).toBe(false);
    const rolledBack = done.history.filter((e) => e.type === 'rollout.rolled_back');
    expect(rolledBack).toHaveLength(1);
    expect(rolledBack[0]?.payload).toMatchObject({
      endpoint: ENDPOINT,
      stage: 'shadow',
      criterion: 'minAgreementWithLive',
      manual: false,
    });
    const breached = rolledBack[0]?.payload['breached'] as { criterion: string }[];
    expect(breached[0]?.criterion).toBe('minAgreementWithLive');
    expect(rolledBack[0]?.actor.sub).toBe('system:rollout-controller');
    const endpoint = await gql<{ endpoint: Record<string, unknown> }>(
      client,
      `query($name: String!) { endpoint(name: $name) { liveVersion candidateVersion mode } }`,
      { name: ENDPOINT },
      'audrey',
    );
    expect(endpoint.endpoint).toEqual({ liveVersion: 1, candidateVersion: null, mode: 'NONE' });

    // Every message was answered once, by the live version, under its own id.
    let answers: Delivered[] = [];
    await until('every message is answered', async () => {
      answers = await delivered();
      return answers.length >= ids.length;
    });
    expect(answers.map((a) => a.headers['Nats-Msg-Id']).sort()).toEqual([...ids].sort());
    const arms = new Set(
      answers.map((a) => `${a.headers['Gatehouse-Arm']}@${a.headers['Gatehouse-Model-Version']}`),
    );
    expect([...arms]).toEqual(['live@1']);
    for (const answer of answers)
      expect((JSON.parse(answer.body) as { model_version: string }).model_version).toBe('1');
    await until('the consumer has nothing pending', async () => (await inFlight()) === 0);

    // The candidate's shadow answers to those messages are in the prediction log, and it
    // answered none of them on the candidate arm.
    await until('the shadow predictions are logged', async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM predictions WHERE endpoint = $1 AND arm = 'shadow'`,
        [ENDPOINT],
      );
      return Number(rows[0]?.n ?? 0) >= W.minRequests;
    });
    const { rows } = await db.query<{
      request_id: string;
      model_version: number;
      arm: string;
      error: string | null;
    }>(`SELECT request_id, model_version, arm, error FROM predictions WHERE endpoint = $1`, [
      ENDPOINT,
    ]);
    const published = new Set(ids);
    const shadow = rows.filter((r) => r.arm === 'shadow');
    expect(shadow.length).toBeGreaterThanOrEqual(W.minRequests);
    for (const r of shadow) {
      expect(r.model_version).toBe(versions.candidate);
      expect(r.error).toBeNull();
      expect(published.has(r.request_id)).toBe(true);
    }
    expect(rows.filter((r) => r.arm === 'candidate')).toEqual([]);
    const live = rows.filter((r) => r.arm === 'live');
    expect(live.every((r) => r.model_version === versions.live)).toBe(true);
    expect(live.map((r) => r.request_id).sort()).toEqual([...ids].sort());
  }, 300_000);
});
