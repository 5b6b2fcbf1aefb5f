import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import { startApp, type RunningApp } from '../../src/app.js';
import {
  buildGermanCreditModels,
  constantModel,
  defaultGermanCreditPath,
  erroringModel,
  nanAboveModel,
  slowModel,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';
import {
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  gqlRaw,
  inStage,
  PEOPLE,
  promote,
  RATIONALE,
  rollout,
  Traffic,
  uploadDataset,
  waitForRollout,
  type RolloutView,
  clientOf,
} from '../support/rollout-story.js';

const W = { minRequests: 20, seconds: 60 };
const GROUPS = { minRequests: 60, seconds: 60 };
const REQUIRED = {
  maxErrorRate: { value: 0.02, window: W },
  // 0.7 on the good paths: a fair candidate (0.90–0.97 in truth) seen on small canary groups
  // must not sit UNCERTAIN on a slow machine; the unfair case below holds 0.8 on 1000 rows.
  minDisparateImpact: { value: 0.7, window: GROUPS },
};
const SHADOW_PLAN = { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 };
const CANARY_PLAN = { steps: [25, 50], minRequestsPerStep: 40, bakeSeconds: 1 };
/** German credit amounts go up to 18,424 (in DM); a tenth of the test traffic goes beyond. */
const AMOUNT = 1;
const AMOUNT_LIMIT = 20_000;

const stageOf = (payload: Record<string, unknown>): string => {
  const stage = payload['stage'];
  return typeof stage === 'string' ? stage : '';
};

const ENDPOINT_FIELDS = `liveVersion candidateVersion standbyVersion mode candidateWeight`;

describe('the rollout engine: shadow, canary, blue-green and A/B, judged on live traffic', () => {
  let app: TestApp;
  let running: RunningApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => running.url, tokens);
  const versions: Record<string, number> = {};
  const evaluations: Record<string, string> = {};

  async function endpointState(name: string) {
    const r = await gql<{ endpoint: Record<string, number | string | null> }>(
      client,
      `query($name: String!) { endpoint(name: $name) { ${ENDPOINT_FIELDS} } }`,
      { name },
      'audrey',
    );
    return r.endpoint;
  }

  /** An endpoint of credit-risk with version 1 (fair) live. */
  async function liveEndpoint(name: string): Promise<void> {
    await createEndpoint(app, client.token('erin'), name, 'credit-risk');
    await setTraffic(app, name, { liveVersion: versions['fair'] ?? 1 });
  }

  function staged(
    endpoint: string,
    candidate: string,
    criteria: Record<string, unknown>,
    strategy = 'SHADOW_THEN_CANARY',
    plan: Record<string, unknown> | null = { shadow: SHADOW_PLAN, canary: CANARY_PLAN },
  ) {
    return promote(client, {
      endpoint,
      model: 'credit-risk',
      version: versions[candidate] ?? 0,
      evaluationId: evaluations[candidate] ?? '',
      strategy,
      plan,
      rollbackCriteria: { ...REQUIRED, ...criteria, rationale: RATIONALE },
    });
  }

  const event = (r: RolloutView, type: string) => r.history.filter((e) => e.type === type);

  beforeAll(async () => {
    models = buildGermanCreditModels();
    policiesDir = fastPolicies();
    app = await startTestApp({
      ...FAST_ROLLOUT_ENV,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      // The odd-batch model fails runs of an odd number of rows; micro-batching would merge
      // concurrent requests into even runs and hide the fault some of the time.
      GATEHOUSE_MICROBATCH_MAX_ROWS: '1',
    });
    running = app.running;
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    const candidates = {
      fair: models.fair,
      retrained: models.fairRetrained,
      erroring: erroringModel(models.fair, 'odd-batch'),
      nan: nanAboveModel(models.fair, AMOUNT, AMOUNT_LIMIT),
      slow: slowModel(models.fair, { iterations: 1500, width: 64 }),
      constant: constantModel(models.fair, 0.9),
      unfair: models.unfair,
    };
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    for (const [name, scoring] of Object.entries(candidates)) {
      versions[name] = await registerVersion(app, client.token('dana'), 'credit-risk', scoring);
      evaluations[name] = await evaluate(client, 'credit-risk', versions[name] ?? 0, dataset);
    }
  }, 240_000);

  afterAll(async () => {
    await running.close();
    await app.database.drop();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('takes a good version shadow → canary → live under steady load, with no failed request', async () => {
    await liveEndpoint('credit-good');
    const traffic = new Traffic(client, 'credit-good', models.data, { feedback: true }).start();
    await traffic.answered(50);
    const started = await staged('credit-good', 'retrained', {
      // Judged, but far above what a busy test machine can add to a good version's tail.
      maxP99LatencyMs: { value: 10_000, window: W },
      minAgreementWithLive: { value: 0.8, window: W },
      minAccuracy: { value: 0.55, window: W },
    });
    expect(started.stages.map((s) => `${s.name}:${s.status}`)).toEqual([
      'shadow:IN_PROGRESS',
      'canary-25:PENDING',
      'canary-50:PENDING',
      'live:PENDING',
    ]);
    expect(await endpointState('credit-good')).toMatchObject({
      liveVersion: versions['fair'],
      candidateVersion: versions['retrained'],
      mode: 'SHADOW',
    });

    // While in shadow, the progress view shows both arms and the criteria being judged.
    const progress = await gql<{
      rollout: {
        traffic: { mode: string; shadowSample: number };
        progress: {
          stage: string;
          arms: { arm: string; requests: number }[];
          criteria: { criterion: string; status: string }[];
        } | null;
      };
    }>(
      client,
      `query($id: ID!) { rollout(id: $id) { traffic { mode candidateWeight shadowSample }
        progress { stage decision waitingFor candidateRequests
        arms { arm version requests errors p99Ms agreement } criteria { criterion status measured n note } } } }`,
      { id: started.id },
      'audrey',
    );
    if (progress.rollout.progress) {
      expect(progress.rollout.traffic).toMatchObject({ mode: 'SHADOW', shadowSample: 10_000 });
      expect(progress.rollout.progress.stage).toBe('shadow');
      expect(progress.rollout.progress.arms.map((a) => a.arm)).toEqual(['live', 'shadow']);
      expect(progress.rollout.progress.criteria.map((c) => c.criterion)).toEqual([
        'maxErrorRate',
        'maxP99LatencyMs',
        'minAgreementWithLive',
        'minAccuracy',
        'minDisparateImpact',
      ]);
    }

    const done = await waitForRollout(client, started.id, (r) => r.status !== 'RUNNING', 150_000);
    const stats = await traffic.stop();
    expect(done.status).toBe('COMPLETED');
    expect(stats.failures).toEqual([]);
    expect(stats.byVersion[String(versions['retrained'])]).toBeGreaterThan(0);
    expect(stats.labelled).toBeGreaterThan(0);
    expect(await endpointState('credit-good')).toMatchObject({
      liveVersion: versions['retrained'],
      candidateVersion: null,
      standbyVersion: versions['fair'],
      mode: 'NONE',
    });

    // The evidence of every step is in the ledger, in order, each stage passed once.
    const final = await waitForRollout(
      client,
      started.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.completed'),
    );
    expect(final.history.map((e) => `${e.type}:${stageOf(e.payload)}`)).toEqual([
      'rollout.started:',
      'rollout.stage.entered:shadow',
      'rollout.stage.passed:shadow',
      'rollout.stage.entered:canary-25',
      'rollout.stage.passed:canary-25',
      'rollout.stage.entered:canary-50',
      'rollout.stage.passed:canary-50',
      'rollout.stage.entered:live',
      'rollout.completed:',
    ]);
    const shadowPassed = event(final, 'rollout.stage.passed')[0]!.payload['evidence'] as {
      arms: { candidate: { arm: string; requests: number; agreement: number } };
      rollbackCriteria: { criterion: string; status: string; n: number }[];
    };
    expect(shadowPassed.arms.candidate.arm).toBe('shadow');
    expect(shadowPassed.arms.candidate.requests).toBeGreaterThanOrEqual(40);
    expect(shadowPassed.arms.candidate.agreement).toBeGreaterThan(0.8);
    for (const verdict of shadowPassed.rollbackCriteria) expect(verdict.status).toBe('PASS');
    expect(event(final, 'rollout.stage.passed')[0]!.actor.sub).toBe('system:rollout-controller');

    // The go-live itself is a deployment.live.changed event of the endpoint.
    const live = await gql<{ ledgerEvents: { events: { payload: Record<string, unknown> }[] } }>(
      client,
      `{ ledgerEvents(limit: 50, subject: "endpoint:credit-good", type: "deployment.live.changed") {
        events { payload } } }`,
      {},
      'audrey',
    );
    expect(live.ledgerEvents.events.at(-1)?.payload['to']).toMatchObject({
      liveVersion: versions['retrained'],
      standbyVersion: versions['fair'],
    });
  }, 200_000);

  it('rolls back a faulty candidate automatically in the shadow stage, naming the criterion', async () => {
    const cases: {
      candidate: string;
      endpoint: string;
      expected: string;
      extra: Record<string, unknown>;
      shadow?: typeof SHADOW_PLAN;
    }[] = [
      { candidate: 'erroring', endpoint: 'credit-erroring', expected: 'maxErrorRate', extra: {} },
      { candidate: 'nan', endpoint: 'credit-nan', expected: 'maxErrorRate', extra: {} },
      {
        candidate: 'slow',
        endpoint: 'credit-slow',
        expected: 'maxP99LatencyMs',
        extra: { maxP99LatencyMs: { value: 3, window: W } },
      },
      {
        candidate: 'constant',
        endpoint: 'credit-disagree',
        expected: 'minAgreementWithLive',
        extra: { minAgreementWithLive: { value: 0.9, window: W } },
      },
      {
        // A four-fifths breach needs more rows than a crash to tell from chance (a true ratio
        // of 0.69 on 100 rows is seen above 0.8 now and then): the stage asks for 1000.
        candidate: 'unfair',
        endpoint: 'credit-unfair',
        expected: 'minDisparateImpact',
        extra: { minDisparateImpact: { value: 0.8, window: { minRequests: 1000, seconds: 120 } } },
        shadow: { ...SHADOW_PLAN, minRequests: 1000 },
      },
    ];
    const runs = await Promise.all(
      cases.map(async (c) => {
        await liveEndpoint(c.endpoint);
        const traffic = new Traffic(client, c.endpoint, models.data, {
          concurrency: 2,
          // Out-of-range amounts in a tenth of the requests: only the NaN model minds.
          transform: (row, i) => {
            if (i % 10 === 0) row[AMOUNT] = AMOUNT_LIMIT * 1.5;
            return row;
          },
        }).start();
        const started = await staged(c.endpoint, c.candidate, c.extra, 'SHADOW_THEN_CANARY', {
          shadow: c.shadow ?? SHADOW_PLAN,
          canary: CANARY_PLAN,
        });
        return { ...c, traffic, started };
      }),
    );
    for (const run of runs) {
      const done = await waitForRollout(
        client,
        run.started.id,
        (r) => r.status !== 'RUNNING',
        150_000,
      );
      const stats = await run.traffic.stop();
      if (done.status !== 'ROLLED_BACK' || done.stages[0]?.status !== 'FAILED')
        throw new Error(
          `${run.endpoint}: ${done.status} ${JSON.stringify(done.history.slice(2, 3))}`,
        );
      expect({ endpoint: run.endpoint, status: done.status }).toEqual({
        endpoint: run.endpoint,
        status: 'ROLLED_BACK',
      });
      // The live version answered every request: none failed.
      expect({ endpoint: run.endpoint, failures: stats.failures.slice(0, 3) }).toEqual({
        endpoint: run.endpoint,
        failures: [],
      });
      const back = await waitForRollout(
        client,
        run.started.id,
        (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
      );
      const rolledBack = event(back, 'rollout.rolled_back')[0]!;
      expect({ endpoint: run.endpoint, ...rolledBack.payload }).toMatchObject({
        endpoint: run.endpoint,
        stage: 'shadow',
        criterion: run.expected,
        manual: false,
      });
      const breached = (
        rolledBack.payload['breached'] as { criterion: string; test: unknown }[]
      )[0];
      expect(breached?.criterion).toBe(run.expected);
      expect(back.stages[0]?.status).toBe('FAILED');
      expect(back.outcome).toMatchObject({ rolledBack: true, manual: false });
      expect(await endpointState(run.endpoint)).toMatchObject({
        liveVersion: versions['fair'],
        candidateVersion: null,
        mode: 'NONE',
      });
    }
  }, 300_000);

  it('rolls back a canary that fails on real traffic in the canary step', async () => {
    await liveEndpoint('credit-canary-fault');
    const traffic = new Traffic(client, 'credit-canary-fault', models.data).start();
    const started = await staged('credit-canary-fault', 'erroring', {}, 'CANARY', {
      canary: CANARY_PLAN,
    });
    expect(started.stages[0]?.name).toBe('canary-25');
    const done = await waitForRollout(client, started.id, (r) => r.status !== 'RUNNING', 60_000);
    const stats = await traffic.stop();
    expect(done.status).toBe('ROLLED_BACK');
    const rolledBack = event(
      await waitForRollout(
        client,
        started.id,
        (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
      ),
      'rollout.rolled_back',
    )[0]!;
    expect(rolledBack.payload).toMatchObject({ stage: 'canary-25', criterion: 'maxErrorRate' });
    // Requests the candidate answered failed (that is the breach); live answered the rest.
    expect(stats.failures.length).toBeGreaterThan(0);
    expect(stats.failures.every((f) => f.status === 500 && f.body.includes('version'))).toBe(true);
    // (Two concurrent requests merged into one run of two rows succeed: the fault is odd runs.)
    expect(stats.failures.length).toBeGreaterThan(
      stats.byVersion[String(versions['erroring'])] ?? 0,
    );
  }, 90_000);

  it('is rolled back by hand mid-canary, and refuses who may not', async () => {
    await liveEndpoint('credit-manual');
    const traffic = new Traffic(client, 'credit-manual', models.data).start();
    const started = await staged('credit-manual', 'retrained', {}, 'SHADOW_THEN_CANARY', {
      shadow: SHADOW_PLAN,
      canary: { ...CANARY_PLAN, bakeSeconds: 600 },
    });
    await waitForRollout(client, started.id, inStage('canary-25'), 60_000);
    const ROLLBACK = `mutation($id: ID!, $reason: String!) { rollbackRollout(id: $id, reason: $reason) { status outcome } }`;
    const reason = 'The underwriting team saw odd refusals in the canary and asked to stop.';
    const refused = await gqlRaw(client, ROLLBACK, { id: started.id, reason }, 'dana');
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const short = await gqlRaw(client, ROLLBACK, { id: started.id, reason: 'stop' }, 'cora');
    expect(short.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const { rollbackRollout } = await gql<{ rollbackRollout: { status: string } }>(
      client,
      ROLLBACK,
      { id: started.id, reason },
      'cora',
    );
    expect(rollbackRollout.status).toBe('ROLLED_BACK');
    expect(await endpointState('credit-manual')).toMatchObject({
      liveVersion: versions['fair'],
      candidateVersion: null,
      mode: 'NONE',
    });
    const stats = await traffic.stop();
    expect(stats.failures).toEqual([]);
    const back = await waitForRollout(
      client,
      started.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.rolled_back'),
    );
    expect(event(back, 'rollout.rolled_back')[0]?.payload).toMatchObject({
      stage: 'canary-25',
      manual: true,
      by: 'cora',
      reason,
    });
    const again = await gqlRaw(client, ROLLBACK, { id: started.id, reason }, 'cora');
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
  }, 90_000);

  it('pauses (no stage passes) and resumes with advanceRollout', async () => {
    await liveEndpoint('credit-pause');
    const traffic = new Traffic(client, 'credit-pause', models.data).start();
    const started = await staged('credit-pause', 'retrained', {}, 'SHADOW', {
      shadow: { ...SHADOW_PLAN, minDurationSeconds: 2 },
    });
    const PAUSE = `mutation($id: ID!) { pauseRollout(id: $id) { status } }`;
    const ADVANCE = `mutation($id: ID!) { advanceRollout(id: $id) { status currentStage } }`;
    expect(
      (await gql<{ pauseRollout: { status: string } }>(client, PAUSE, { id: started.id }, 'erin'))
        .pauseRollout.status,
    ).toBe('PAUSED');
    await traffic.answered(150);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const paused = await rollout(client, started.id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.stages[0]?.status).toBe('IN_PROGRESS');
    const resumed = await gql<{ advanceRollout: { status: string } }>(
      client,
      ADVANCE,
      { id: started.id },
      'erin',
    );
    expect(resumed.advanceRollout.status).toBe('RUNNING');
    const done = await waitForRollout(
      client,
      started.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.completed'),
    );
    await traffic.stop();
    expect(done.status).toBe('COMPLETED');
    const types = done.history.map((e) => e.type);
    expect(types.indexOf('rollout.paused')).toBeLessThan(types.indexOf('rollout.resumed'));
    expect(types.indexOf('rollout.resumed')).toBeLessThan(types.indexOf('rollout.stage.passed'));
  }, 90_000);

  it('blue-green: the candidate warmed, one switch, the old version kept for an instant rollback', async () => {
    await liveEndpoint('credit-bluegreen');
    const traffic = new Traffic(client, 'credit-bluegreen', models.data).start();
    const started = await staged('credit-bluegreen', 'retrained', {}, 'BLUE_GREEN', null);
    const done = await waitForRollout(client, started.id, (r) => r.status !== 'RUNNING', 60_000);
    expect(done.status).toBe('COMPLETED');
    expect(await endpointState('credit-bluegreen')).toMatchObject({
      liveVersion: versions['retrained'],
      standbyVersion: versions['fair'],
    });
    await traffic.answered(30);
    const { rollbackRollout } = await gql<{ rollbackRollout: { status: string } }>(
      client,
      `mutation($id: ID!, $reason: String!) { rollbackRollout(id: $id, reason: $reason) { status } }`,
      {
        id: started.id,
        reason: 'Complaints from the branch network after the switch to the new version.',
      },
      'erin',
    );
    expect(rollbackRollout.status).toBe('ROLLED_BACK');
    await traffic.answered(30);
    const stats = await traffic.stop();
    expect(stats.failures).toEqual([]);
    expect(await endpointState('credit-bluegreen')).toMatchObject({
      liveVersion: versions['fair'],
      standbyVersion: null,
    });
    expect(stats.byVersion[String(versions['retrained'])]).toBeGreaterThan(0);
  }, 90_000);

  it('an A/B test records a result and leaves the live version alone', async () => {
    await liveEndpoint('credit-ab');
    const traffic = new Traffic(client, 'credit-ab', models.data).start();
    const started = await staged('credit-ab', 'retrained', {}, 'AB_TEST', {
      abTest: { splitPercent: 50, outcome: 'ERROR_RATE', minSamples: 40, significanceLevel: 0.05 },
    });
    expect(started.stages.map((s) => s.kind)).toEqual(['AB_TEST']);
    const done = await waitForRollout(client, started.id, (r) => r.status !== 'RUNNING', 60_000);
    const stats = await traffic.stop();
    expect(stats.failures).toEqual([]);
    expect(done.status).toBe('COMPLETED');
    // Neither version errs: no significant difference, no winner.
    expect(done.outcome?.['abTest']).toMatchObject({ outcome: 'ERROR_RATE', winner: 'none' });
    expect(await endpointState('credit-ab')).toMatchObject({
      liveVersion: versions['fair'],
      candidateVersion: null,
    });
  }, 90_000);

  it('takes feedback for answered requests, once each', async () => {
    await liveEndpoint('credit-feedback');
    const token = client.token('ivan');
    const infer = await fetch(`${client.url()}/v2/models/credit-feedback/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        id: 'application-42',
        inputs: [
          {
            name: 'features',
            shape: [1, 60],
            datatype: 'FP32',
            data: Array.from(models.data.X[0]!),
          },
        ],
      }),
    });
    expect(infer.status).toBe(200);
    const send = async (body: unknown) => {
      const r = await fetch(`${client.url()}/v1/endpoints/credit-feedback/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    // The prediction is logged off the request path: feedback for it is a 404 until it is.
    let first = await send({ requestId: 'application-42', label: 1 });
    for (let i = 0; i < 300 && first.status === 404; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      first = await send({ requestId: 'application-42', label: 1 });
    }
    expect(first).toMatchObject({
      status: 201,
      body: { label: 1, created: true, receivedBy: 'ivan' },
    });
    expect(await send({ requestId: 'application-42', label: true })).toMatchObject({
      status: 200,
      body: { created: false },
    });
    expect(await send({ requestId: 'application-42', label: 0 })).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT' } },
    });
    expect(await send({ requestId: 'application-42', label: 2 })).toMatchObject({
      status: 400,
      body: { error: { details: { field: 'label' } } },
    });
    expect(await send({ requestId: 'nobody', label: 1 })).toMatchObject({ status: 404 });
    expect(await send({ label: 1 })).toMatchObject({
      status: 400,
      body: { error: { details: { field: 'requestId' } } },
    });
  });
  it('resumes exactly where it stood after a restart mid-canary', async () => {
    await liveEndpoint('credit-restart');
    const traffic = new Traffic(client, 'credit-restart', models.data).start();
    const started = await staged('credit-restart', 'retrained', {}, 'SHADOW_THEN_CANARY', {
      shadow: SHADOW_PLAN,
      canary: { ...CANARY_PLAN, bakeSeconds: 3 },
    });
    await waitForRollout(client, started.id, inStage('canary-25'), 60_000);
    const before = await rollout(client, started.id);
    await running.close();
    running = await startApp(app.config);
    // The ledger seals its queued events a moment after the change commits: wait for them too.
    const done = await waitForRollout(
      client,
      started.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.completed'),
      60_000,
    );
    await traffic.stop();
    expect(done.status).toBe('COMPLETED');
    const entered = done.history.filter((e) => e.type === 'rollout.stage.entered');
    expect(entered.map((e) => e.payload['stage'])).toEqual([
      'shadow',
      'canary-25',
      'canary-50',
      'live',
    ]);
    // canary-25 was entered once, before the restart, and its observed time was kept.
    expect(
      done.history.filter((e) => e.payload['stage'] === 'canary-25').map((e) => e.type),
    ).toEqual(['rollout.stage.entered', 'rollout.stage.passed']);
    expect(before.stages[1]?.status).toBe('IN_PROGRESS');
  }, 120_000);
});
