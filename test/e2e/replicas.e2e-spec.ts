import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SHORT_ROLLOUT_ENV, writeShortPolicies } from '../../src/demo/short-policies.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { CANDIDATES_AT_NORMAL_PRIORITY } from '../support/app.js';
import { runCli, startServe, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import {
  evaluate,
  registerCreditModel,
  gql,
  peopleTokens,
  promote,
  RATIONALE,
  Traffic,
  uploadDataset,
  waitForRollout,
  type Client,
  type RolloutView,
} from '../support/rollout-story.js';

const W = { minRequests: 20, seconds: 60 };
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: W },
  minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
  rationale: RATIONALE,
};
const PLAN = {
  shadow: { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 },
  canary: { steps: [25, 50], minRequestsPerStep: 40, bakeSeconds: 1 },
};
const ENDPOINTS = ['credit-a', 'credit-b', 'credit-c'];

/**
 * Three `gatehouse serve` processes on one PostgreSQL, with promotions, approvals,
 * rollouts and inference spread over all three at once. Afterwards: one gapless chain that
 * verifies, each rollout decided by one replica at a time, and every answered prediction in
 * the log, in a batch sealed by exactly one ledger event.
 */
describe('three replicas on one database', () => {
  let database: TestDatabase;
  let dataDir: string;
  let policiesDir: string;
  const replicas: ServingProcess[] = [];
  const tokens: Record<string, string> = {};
  let models: GermanCreditModels;
  let turn = 0;
  /** Each call goes to the next replica: every operation of the story lands anywhere. */
  const roundRobin: Client = {
    url: () => replicas[turn++ % replicas.length]?.url ?? '',
    token: (who) => tokens[who] ?? '',
  };
  let env: Record<string, string>;

  beforeAll(async () => {
    models = buildGermanCreditModels();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-replicas3-'));
    policiesDir = writeShortPolicies(join(dataDir, 'policies'), { lenientGates: true });
    env = {
      ...SHORT_ROLLOUT_ENV,
      ...CANDIDATES_AT_NORMAL_PRIORITY,
      DATABASE_URL: database.url,
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_POLICIES_DIR: policiesDir,
      GATEHOUSE_PORT: '0',
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '2',
    };
    // The first start generates the signing key; the others find it in the shared folder.
    replicas.push(await startServe(env));
    replicas.push(...(await Promise.all([startServe(env), startServe(env)])));
    Object.assign(tokens, await peopleTokens(dataDir));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps one chain, one driver per rollout and every prediction', async () => {
    const versions = await registerCreditModel(roundRobin, [models.fair, models.fairRetrained]);
    const [v1, v2] = versions as [number, number];
    const dataset = await uploadDataset(roundRobin, defaultGermanCreditPath());
    const [e1, e2] = await Promise.all([
      evaluate(roundRobin, 'credit-risk', v1, dataset),
      evaluate(roundRobin, 'credit-risk', v2, dataset),
    ]);
    const promotion = (endpoint: string, version: number, staged: boolean) =>
      promote(roundRobin, {
        endpoint,
        model: 'credit-risk',
        version,
        evaluationId: version === v1 ? e1 : e2,
        strategy: staged ? 'SHADOW_THEN_CANARY' : 'INITIAL',
        plan: staged ? PLAN : null,
        rollbackCriteria: CRITERIA,
      });

    // Three endpoints, each taken live and then through a staged rollout, all at once.
    const traffic = ENDPOINTS.map(
      (e) => new Traffic(roundRobin, e, models.data, { concurrency: 2 }),
    );
    const rollouts: RolloutView[] = await Promise.all(
      ENDPOINTS.map(async (endpoint, i) => {
        await gql(
          roundRobin,
          `mutation($name: String!) { createEndpoint(name: $name, model: "credit-risk") { id } }`,
          { name: endpoint },
          'erin',
        );
        await promotion(endpoint, v1, false);
        traffic[i]?.start();
        const started = await promotion(endpoint, v2, true);
        return waitForRollout(
          roundRobin,
          started.id,
          (r) => r.status !== 'RUNNING' && r.history.some((e) => e.type === 'rollout.completed'),
          120_000,
        );
      }),
    );
    const stats = await Promise.all(traffic.map((t) => t.stop()));
    for (const r of rollouts) expect(r.status).toBe('COMPLETED');
    for (const s of stats) expect(s.failures).toEqual([]);

    // One driver at a time: within a rollout, decisions change hands only with a takeover.
    for (const r of rollouts) {
      const deciders = r.history
        .filter((e) => e.type === 'rollout.stage.passed')
        .map((e) => (e.payload['evidence'] as { replica: string }).replica);
      const handovers = deciders.filter((d, i) => i > 0 && d !== deciders[i - 1]).length;
      const takeovers = r.history.filter((e) => e.type === 'rollout.driver.changed').length;
      expect(handovers).toBeLessThanOrEqual(takeovers);
    }

    // Clean shutdown flushes every replica's prediction log.
    for (const r of replicas.splice(0)) await r.stop();
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const answered = stats.flatMap((s) => s.answeredIds);
      const { rows: logged } = await db.query<{ n: string }>(
        `SELECT count(DISTINCT request_id) AS n FROM predictions WHERE request_id = ANY($1)`,
        [answered],
      );
      expect(Number(logged[0]?.n)).toBe(new Set(answered).size);
      const { rows: batches } = await db.query<{ rows: string; batches: string; sum: string }>(
        `SELECT (SELECT count(*) FROM predictions) AS rows,
                (SELECT count(*) FROM prediction_batches) AS batches,
                (SELECT coalesce(sum(count), 0) FROM prediction_batches) AS sum`,
      );
      expect(batches[0]?.rows).toBe(batches[0]?.sum);
      const { rows: events } = await db.query<{ batch: string; n: string }>(
        `SELECT canonical::json -> 'payload' ->> 'batchId' AS batch, count(*) AS n
           FROM ledger_events WHERE type = 'predictions.logged' GROUP BY 1`,
      );
      expect(events.length).toBe(Number(batches[0]?.batches));
      expect(events.every((e) => e.n === '1')).toBe(true);
    } finally {
      await db.end();
    }

    // One gapless chain that verifies, checked by the CLI with no service running.
    const verify = await runCli(['ledger', 'verify', '--json'], env, 120_000);
    expect(verify.code).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
  }, 300_000);
});
