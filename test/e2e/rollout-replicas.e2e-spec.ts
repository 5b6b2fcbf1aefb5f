import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { metricValue, startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  evaluate,
  registerCreditModel,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  inStage,
  peopleTokens,
  promote,
  RATIONALE,
  Traffic,
  uploadDataset,
  waitForRollout,
  type Client,
} from '../support/rollout-story.js';

const W = { minRequests: 20, seconds: 60 };
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: W },
  minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
  rationale: RATIONALE,
};

/**
 * Two `gatehouse serve` processes on one database, both taking traffic and both running the
 * rollout controller: one drives the rollout at a time; when the driver dies (SIGKILL, no
 * clean release of its lease), the other takes over once the lease expires, and the rollout
 * finishes with every stage entered and passed once, in one verifying chain.
 */
describe('a rollout across two service processes', () => {
  let database: TestDatabase;
  let dataDir: string;
  let policiesDir: string;
  let a: ServingProcess;
  let b: ServingProcess;
  let models: GermanCreditModels;
  const tokens: Record<string, string> = {};
  const clientOf = (p: () => ServingProcess): Client => ({
    url: () => p().url,
    token: (who) => tokens[who] ?? '',
  });
  const clientA = clientOf(() => a);
  const clientB = clientOf(() => b);

  beforeAll(async () => {
    models = buildGermanCreditModels();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-replicas-'));
    policiesDir = fastPolicies();
    const env = {
      ...FAST_ROLLOUT_ENV,
      DATABASE_URL: database.url,
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      GATEHOUSE_PORT: '0',
    };
    a = await startServe(env);
    b = await startServe(env);
    Object.assign(tokens, await peopleTokens(dataDir));
  }, 120_000);

  afterAll(async () => {
    await a.stop().catch(() => undefined);
    await b.stop().catch(() => undefined);
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('has one driver at a time, and the survivor finishes what a killed driver started', async () => {
    const versions = await registerCreditModel(clientA, [models.fair, models.fairRetrained]);
    await gql(
      clientA,
      `mutation { createEndpoint(name: "credit", model: "credit-risk") { id } }`,
      {},
      'erin',
    );
    const dataset = await uploadDataset(clientA, defaultGermanCreditPath());
    const [v1, v2] = versions as [number, number];
    const initial = await promote(clientA, {
      endpoint: 'credit',
      model: 'credit-risk',
      version: v1,
      evaluationId: await evaluate(clientA, 'credit-risk', v1, dataset),
      strategy: 'INITIAL',
      plan: null,
      rollbackCriteria: CRITERIA,
    });
    expect(initial.status).toBe('COMPLETED');

    const trafficA = new Traffic(clientA, 'credit', models.data, { concurrency: 2 }).start();
    const trafficB = new Traffic(clientB, 'credit', models.data, { concurrency: 2 }).start();
    const started = await promote(clientB, {
      endpoint: 'credit',
      model: 'credit-risk',
      version: v2,
      evaluationId: await evaluate(clientB, 'credit-risk', v2, dataset),
      strategy: 'SHADOW_THEN_CANARY',
      plan: {
        shadow: { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 },
        canary: { steps: [25, 50], minRequestsPerStep: 40, bakeSeconds: 4 },
      },
      rollbackCriteria: CRITERIA,
    });
    await waitForRollout(clientB, started.id, inStage('canary-25'), 60_000);

    // Who drives it now? Kill that process outright: its lease is not released.
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    const { rows } = await db.query<{ lease_owner: string }>(
      'SELECT lease_owner FROM rollouts WHERE id = $1',
      [started.id],
    );
    await db.end();
    const owner = rows[0]?.lease_owner ?? '';
    const driverIsA = owner.includes(`:${String(a.child.pid)}:`);
    expect(driverIsA || owner.includes(`:${String(b.child.pid)}:`)).toBe(true);
    const [victim, survivor, victimTraffic, survivorTraffic, survivorClient] = driverIsA
      ? [a, b, trafficA, trafficB, clientB]
      : [b, a, trafficB, trafficA, clientA];
    const victimAnswered = (await victimTraffic.stop()).answeredIds;
    // What the victim holds in memory, not yet written: all a SIGKILL may lose of its log (its
    // traffic has stopped, so this only shrinks until the kill).
    const backlog = await metricValue(victim.url, 'gatehouse_prediction_log_backlog');
    await victim.stop('SIGKILL');

    const done = await waitForRollout(
      survivorClient,
      started.id,
      (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.completed'),
      60_000,
    );
    const stats = await survivorTraffic.stop();
    expect(done.status).toBe('COMPLETED');
    expect(stats.failures).toEqual([]);

    // Answered against logged: every answer of the survivor is in the log (once its writer has
    // caught up); of the victim's, at most what it held in memory when it was killed is not.
    const logged = async (ids: readonly string[]): Promise<Set<string>> => {
      const { rows } = await observer.query<{ request_id: string }>(
        `SELECT DISTINCT request_id FROM predictions WHERE arm <> 'shadow' AND request_id = ANY($1)`,
        [ids],
      );
      return new Set(rows.map((r) => r.request_id));
    };
    const observer = new pg.Client({ connectionString: database.url });
    await observer.connect();
    try {
      for (
        let attempt = 0;
        (await logged(stats.answeredIds)).size < stats.answeredIds.length;
        attempt++
      ) {
        if (attempt === 600) throw new Error('the survivor never logged all it answered');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const victimLogged = await logged(victimAnswered);
      expect(victimAnswered.length - victimLogged.size).toBeLessThanOrEqual(backlog);
      expect(victimLogged.size).toBeGreaterThan(0);
    } finally {
      await observer.end();
    }

    const stages = done.history.filter((e) => e.type.startsWith('rollout.stage.'));
    expect(stages.map((e) => `${e.type}:${String(e.payload['stage'])}`)).toEqual([
      'rollout.stage.entered:shadow',
      'rollout.stage.passed:shadow',
      'rollout.stage.entered:canary-25',
      'rollout.stage.passed:canary-25',
      'rollout.stage.entered:canary-50',
      'rollout.stage.passed:canary-50',
      'rollout.stage.entered:live',
    ]);
    // The driver changed once, from the killed process to the survivor, after its lease ran out.
    const changed = done.history.filter((e) => e.type === 'rollout.driver.changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]?.payload['from']).toBe(owner);
    expect(String(changed[0]?.payload['to'])).toContain(`:${String(survivor.child.pid)}:`);
    // Every decision names the replica that took it: the victim before the change, then the
    // survivor, never interleaved.
    const deciders = done.history
      .filter((e) => e.type === 'rollout.stage.passed')
      .map((e) => (e.payload['evidence'] as { replica: string }).replica);
    const firstSurvivor = deciders.findIndex((d) => d !== owner);
    expect(deciders.slice(0, firstSurvivor).every((d) => d === owner)).toBe(true);
    expect(deciders.slice(firstSurvivor).every((d) => d === changed[0]?.payload['to'])).toBe(true);

    const { verifyLedger } = await gql<{ verifyLedger: { ok: boolean; eventsChecked: number } }>(
      survivorClient,
      `{ verifyLedger { ok eventsChecked } }`,
      {},
      'audrey',
    );
    expect(verifyLedger.ok).toBe(true);
  }, 180_000);
});
