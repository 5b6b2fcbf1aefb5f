import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import pg from 'pg';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { RolloutController } from '../../src/rollouts/rollout-controller.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';
import {
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  PEOPLE,
  promote,
  RATIONALE,
  rollout,
  Traffic,
  uploadDataset,
  waitForRollout,
  clientOf,
} from '../support/rollout-story.js';

const ENDPOINT = 'credit-clock';
const BAKE_SECONDS = 2;
const DEAD = 'dead-host:1:deadbeef';
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: { minRequests: 20, seconds: 60 } },
  minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
  rationale: RATIONALE,
};

interface ClockRow {
  observed: number;
  status: string;
  current: number;
  by: string | null;
}

/**
 * A canary step whose driver dies without releasing its lease, an hour into the stage: the
 * replica that takes over must not count the hour. The controller's timer is off, so every
 * tick is the test's own call, and the crash is the dead driver's row as it would be left:
 * its lease expired, its last tick an hour ago. Nothing here depends on how fast the machine
 * is: a slow machine only makes the loops take more ticks.
 */
describe('a rollout stage’s clock across a crashed driver', () => {
  let app: TestApp;
  let models: GermanCreditModels;
  let policiesDir: string;
  let db: pg.Client;
  let controller: RolloutController;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  let fair = 0;
  let retrained = 0;
  let retrainedEvaluation = '';
  const traffic: Traffic[] = [];

  const clock = async (id: string): Promise<ClockRow> => {
    const { rows } = await db.query<ClockRow>(
      `SELECT stage_observed_ms AS observed, status, current_stage AS current,
              stage_clock_by AS by
         FROM rollouts WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`no rollout ${id}`);
    return row;
  };
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    models = buildGermanCreditModels();
    policiesDir = fastPolicies();
    app = await startTestApp({
      ...FAST_ROLLOUT_ENV,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      GATEHOUSE_ROLLOUT_CONTROLLER: 'false',
    });
    controller = app.running.app.get(RolloutController);
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    fair = await registerVersion(app, client.token('dana'), 'credit-risk', models.fair);
    retrained = await registerVersion(
      app,
      client.token('dana'),
      'credit-risk',
      models.fairRetrained,
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    await evaluate(client, 'credit-risk', fair, dataset);
    retrainedEvaluation = await evaluate(client, 'credit-risk', retrained, dataset);
    await createEndpoint(app, client.token('erin'), ENDPOINT, 'credit-risk');
    await setTraffic(app, ENDPOINT, { liveVersion: fair });
  }, 240_000);

  afterAll(async () => {
    for (const t of traffic) await t.stop();
    await db.end();
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('does not count a dead driver’s gap, nor time without metrics, and passes only on observed bake time after the takeover', async () => {
    traffic.push(new Traffic(client, ENDPOINT, models.data).start());
    await traffic[0]?.answered(20);
    const started = await promote(client, {
      endpoint: ENDPOINT,
      model: 'credit-risk',
      version: retrained,
      evaluationId: retrainedEvaluation,
      strategy: 'CANARY',
      plan: { canary: { steps: [25], minRequestsPerStep: 40, bakeSeconds: BAKE_SECONDS } },
      rollbackCriteria: CRITERIA,
    });
    expect(started.status).toBe('RUNNING');
    const id = started.id;

    // This replica drives until the stage has some observed time; each tick counts at most
    // two tick intervals, far short of the bake.
    for (let i = 0; i < 600 && (await clock(id)).observed === 0; i++) {
      await controller.tick();
      await pause(50);
    }
    const watched = await clock(id);
    expect(watched.observed).toBeGreaterThan(0);
    expect(watched.observed).toBeLessThan(BAKE_SECONDS * 1000);
    expect(watched.current).toBe(0);

    // Traffic stops: once the last counts are older than a flush of slack, ticks count nothing.
    await traffic[0]?.stop();
    for (let i = 0; i < 600; i++) {
      const { rows } = await db.query<{ idle: boolean }>(
        `SELECT coalesce(max(seen_at) < now() - interval '1 second', true) AS idle
           FROM arm_metrics_heartbeats WHERE endpoint = $1`,
        [ENDPOINT],
      );
      if (rows[0]?.idle) break;
      await pause(100);
    }
    await controller.tick();
    const idle = await clock(id);
    await pause(300);
    await controller.tick();
    expect((await clock(id)).observed).toBe(idle.observed);

    // The driver dies an hour into the stage: its lease has expired, its last tick is an hour
    // old, the stage was entered an hour ago. Counting wall time, the stage would pass now.
    traffic.push(new Traffic(client, ENDPOINT, models.data).start());
    await traffic[1]?.answered(400);
    await db.query(
      `UPDATE rollouts SET
          lease_owner = $2, lease_expires_at = now() - interval '1 second',
          stage_clock_by = $2, stage_clock_at = now() - interval '1 hour',
          stages = jsonb_set(stages, '{0,enteredAt}',
                             to_jsonb(to_char((now() - interval '1 hour') AT TIME ZONE 'UTC',
                                              'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))
        WHERE id = $1`,
      [id, DEAD],
    );
    const kept = (await clock(id)).observed;

    // The takeover's tick: the hour is not counted, the stage does not pass, and the ledger
    // says what was kept and what was not counted.
    const takenAt = Date.now();
    await controller.tick();
    const afterTakeover = await clock(id);
    expect(afterTakeover).toMatchObject({ status: 'RUNNING', current: 0, observed: kept });
    expect(afterTakeover.by).not.toBe(DEAD);
    const changed = await waitForRollout(client, id, (r) =>
      r.history.some((e) => e.type === 'rollout.driver.changed'),
    );
    expect(changed.history.some((e) => e.type === 'rollout.stage.passed')).toBe(false);
    const event = changed.history.find((e) => e.type === 'rollout.driver.changed');
    expect(event?.payload).toMatchObject({
      from: DEAD,
      to: afterTakeover.by,
      clock: {
        stage: 'canary-25',
        index: 0,
        rule: 'gap-subtracted',
        observedSeconds: kept / 1000,
        lastObservedBy: DEAD,
      },
    });
    const clockOf = event?.payload['clock'] as { unobservedSeconds: number };
    expect(clockOf.unobservedSeconds).toBeGreaterThanOrEqual(3600);

    // From here on the stage passes only once its observed time reaches the bake: what was
    // kept plus what this driver watched, never more than the wall time since the takeover.
    let ticks = 0;
    while ((await clock(id)).current === 0 && ticks < 2000) {
      await controller.tick();
      ticks++;
      await pause(50);
    }
    const doneAt = Date.now();
    expect(ticks).toBeGreaterThan(1);
    const done = await waitForRollout(client, id, (r) =>
      r.history.some((e) => e.type === 'rollout.stage.passed'),
    );
    const passed = done.history.find((e) => e.type === 'rollout.stage.passed');
    const evidence = passed?.payload['evidence'] as { observedSeconds: number; replica: string };
    expect(passed?.payload['manual']).toBe(false);
    expect(evidence.replica).toBe(afterTakeover.by);
    expect(evidence.observedSeconds).toBeGreaterThanOrEqual(BAKE_SECONDS);
    expect((evidence.observedSeconds * 1000 - kept) / 1000).toBeLessThanOrEqual(
      (doneAt - takenAt) / 1000,
    );
    const after = await rollout(client, id);
    expect(after.stages[0]?.status).toBe('PASSED');
  }, 300_000);
});
