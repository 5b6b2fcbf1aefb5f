import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import pg from 'pg';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  erroringModel,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';
import {
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  PEOPLE,
  promote,
  RATIONALE,
  Traffic,
  uploadDataset,
  waitForRollout,
  type RolloutView,
  clientOf,
} from '../support/rollout-story.js';

const ENDPOINT = 'credit-stall';
const W = { minRequests: 20, seconds: 60 };
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: W },
  minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
  rationale: RATIONALE,
};
const ADVANCE = `mutation($id: ID!) { advanceRollout(id: $id) { status } }`;

/**
 * A faulty candidate in shadow while the endpoint's arm metrics cannot be written (a trigger
 * in this test's own database refuses the endpoint's rows): the rollout must not wait in
 * silence. It pauses itself, saying which replica's metrics stopped and why; a person's resume
 * does not make it judge on silence (it pauses again); and once the metrics arrive, the
 * breach they show rolls the paused rollout back.
 */
describe('a rollout whose metrics stop arriving', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  let db: pg.Client;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  let fair = 0;
  let faulty = 0;
  let faultyEvaluation = '';
  let traffic: Traffic | undefined;

  beforeAll(async () => {
    models = buildGermanCreditModels();
    policiesDir = fastPolicies();
    app = await startTestApp({
      ...FAST_ROLLOUT_ENV,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      // Five ticks of 100 ms: half a second of unwritten counts while serving.
      GATEHOUSE_ROLLOUT_STALE_METRICS_TICKS: '5',
      // The odd-batch model fails runs of an odd number of rows: single-row runs only.
      GATEHOUSE_MICROBATCH_MAX_ROWS: '1',
    });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    fair = await registerVersion(app, client.token('dana'), 'credit-risk', models.fair);
    faulty = await registerVersion(
      app,
      client.token('dana'),
      'credit-risk',
      erroringModel(models.fair, 'odd-batch'),
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    // The performance gate compares the candidate with the live version's evaluation.
    await evaluate(client, 'credit-risk', fair, dataset);
    faultyEvaluation = await evaluate(client, 'credit-risk', faulty, dataset);
    await createEndpoint(app, client.token('erin'), ENDPOINT, 'credit-risk');
    await setTraffic(app, ENDPOINT, { liveVersion: fair });
  }, 240_000);

  afterAll(async () => {
    await traffic?.stop();
    await db.end();
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  const stalledTotal = async (): Promise<number> => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find(
        (l) =>
          l.startsWith('gatehouse_rollout_metrics_stalled_total{') &&
          l.includes(`endpoint="${ENDPOINT}"`),
      );
    return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  };
  const paused = (r: RolloutView) => r.history.filter((e) => e.type === 'rollout.paused');

  it('pauses itself with the reason ledgered, pauses again after a resume, and rolls back once the metrics show the breach', async () => {
    traffic = new Traffic(client, ENDPOINT, models.data).start();
    await traffic.answered(20);
    await db.query(`
      CREATE FUNCTION refuse_stalled_endpoint() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.endpoint = '${ENDPOINT}' THEN
          RAISE EXCEPTION 'arm metrics of % are refused by this test', NEW.endpoint;
        END IF;
        RETURN NEW;
      END $$`);
    await db.query(`
      CREATE TRIGGER refuse_stalled_endpoint BEFORE INSERT ON arm_metrics
        FOR EACH ROW EXECUTE FUNCTION refuse_stalled_endpoint()`);

    const started = await promote(client, {
      endpoint: ENDPOINT,
      model: 'credit-risk',
      version: faulty,
      evaluationId: faultyEvaluation,
      strategy: 'SHADOW',
      plan: { shadow: { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 } },
      rollbackCriteria: CRITERIA,
    });
    expect(started.status).toBe('RUNNING');

    // The candidate fails every request, but nothing of it reaches arm_metrics: without the
    // heartbeat the stage would hold for ever. It pauses itself instead, and says why.
    const first = await waitForRollout(client, started.id, (r) => r.status === 'PAUSED', 90_000);
    expect(first.stages[first.currentStage]?.name).toBe('shadow');
    const [event] = paused(first);
    expect(event?.actor.sub).toBe('system:rollout-controller');
    expect(event?.payload).toMatchObject({
      endpoint: ENDPOINT,
      stage: 'shadow',
      manual: false,
      metricsStalled: { endpoint: ENDPOINT, staleMetricsTicks: 5, tickMs: 100 },
    });
    const reason = String(event?.payload['reason']);
    expect(reason).toMatch(
      new RegExp(
        `^arm metrics of replica \\S+ for endpoint ${ENDPOINT} have not been written since \\S+Z`,
      ),
    );
    expect(reason).toContain(
      'arm metrics of credit-stall are refused by this test (SQLSTATE P0001)',
    );
    expect(await stalledTotal()).toBeGreaterThanOrEqual(1);

    // A person resumes it; with the metrics still stalled, the controller pauses it again.
    const resumed = await gql<{ advanceRollout: { status: string } }>(
      client,
      ADVANCE,
      { id: started.id },
      'erin',
    );
    expect(resumed.advanceRollout.status).toBe('RUNNING');
    const again = await waitForRollout(
      client,
      started.id,
      (r) => r.status === 'PAUSED' && paused(r).length === 2,
      90_000,
    );
    expect(again.history.map((e) => e.type)).toEqual(
      expect.arrayContaining(['rollout.paused', 'rollout.resumed', 'rollout.paused']),
    );

    // The metrics arrive again, kept counts included: the paused rollout rolls back on the breach.
    await db.query(`DROP TRIGGER refuse_stalled_endpoint ON arm_metrics`);
    const done = await waitForRollout(
      client,
      started.id,
      (r) => r.status === 'ROLLED_BACK',
      90_000,
    );
    await traffic.stop();
    const types = done.history.map((e) => e.type);
    expect(types.lastIndexOf('rollout.paused')).toBeGreaterThan(
      types.lastIndexOf('rollout.resumed'),
    );
    const rolledBack = done.history.find((e) => e.type === 'rollout.rolled_back');
    expect(rolledBack?.payload).toMatchObject({ criterion: 'maxErrorRate', manual: false });
  }, 300_000);
});
