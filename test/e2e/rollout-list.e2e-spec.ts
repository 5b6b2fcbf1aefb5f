import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';
import {
  evaluate,
  FAST_ROLLOUT_ENV,
  fastPolicies,
  gql,
  gqlRaw,
  PEOPLE,
  promote,
  RATIONALE,
  rollout,
  uploadDataset,
  clientOf,
} from '../support/rollout-story.js';

/**
 * The `rollouts` list (newest first, by status or endpoint, page by page, read as `rollout(id)`
 * is) and the reason a person gives when pausing or advancing a rollout, kept in the ledger.
 */

const W = { minRequests: 20, seconds: 60 };
const CRITERIA = {
  maxErrorRate: { value: 0.02, window: W },
  minDisparateImpact: { value: 0.7, window: { minRequests: 60, seconds: 60 } },
  rationale: RATIONALE,
};
const LIST = `query($status: RolloutStatus, $endpoint: String, $cursor: String, $limit: Int!) {
  rollouts(status: $status, endpoint: $endpoint, cursor: $cursor, limit: $limit) {
    items { id endpoint status } nextCursor } }`;
const PAUSE = `mutation($id: ID!, $reason: String) { pauseRollout(id: $id, reason: $reason) { status } }`;
const ADVANCE = `mutation($id: ID!, $reason: String) {
  advanceRollout(id: $id, reason: $reason) { status currentStage } }`;

interface Page {
  rollouts: {
    items: { id: string; endpoint: string; status: string }[];
    nextCursor: string | null;
  };
}

describe('rollouts: the list, and the reasons for pausing and advancing', () => {
  let app: TestApp;
  let policiesDir: string;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  let initialId: string;
  let stagedId: string;

  beforeAll(async () => {
    policiesDir = fastPolicies();
    app = await startTestApp({ ...FAST_ROLLOUT_ENV, GATEHOUSE_POLICIES_DIR: policiesDir });
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    const models = buildGermanCreditModels();
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    const fair = await registerVersion(app, client.token('dana'), 'credit-risk', models.fair);
    const retrained = await registerVersion(
      app,
      client.token('dana'),
      'credit-risk',
      models.fairRetrained,
    );
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    const fairEvaluation = await evaluate(client, 'credit-risk', fair, dataset);
    const retrainedEvaluation = await evaluate(client, 'credit-risk', retrained, dataset);

    await createEndpoint(app, client.token('erin'), 'credit-initial', 'credit-risk');
    initialId = (
      await promote(client, {
        endpoint: 'credit-initial',
        model: 'credit-risk',
        version: fair,
        evaluationId: fairEvaluation,
        strategy: 'INITIAL',
        plan: null,
        rollbackCriteria: CRITERIA,
      })
    ).id;
    // No traffic reaches this endpoint: its shadow stage waits for requests until advanced.
    await createEndpoint(app, client.token('erin'), 'credit-staged', 'credit-risk');
    await setTraffic(app, 'credit-staged', { liveVersion: fair });
    stagedId = (
      await promote(client, {
        endpoint: 'credit-staged',
        model: 'credit-risk',
        version: retrained,
        evaluationId: retrainedEvaluation,
        strategy: 'SHADOW',
        plan: { shadow: { sampleRate: 1, minRequests: 40, minDurationSeconds: 1 } },
        rollbackCriteria: CRITERIA,
      })
    ).id;
  }, 240_000);

  afterAll(async () => {
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('lists rollouts newest first, page by page, by status and by endpoint', async () => {
    const first = await gql<Page>(client, LIST, { limit: 1 }, 'audrey');
    expect(first.rollouts.items).toEqual([
      { id: stagedId, endpoint: 'credit-staged', status: 'RUNNING' },
    ]);
    expect(first.rollouts.nextCursor).not.toBeNull();
    const second = await gql<Page>(
      client,
      LIST,
      { limit: 1, cursor: first.rollouts.nextCursor },
      'audrey',
    );
    expect(second.rollouts.items).toEqual([
      { id: initialId, endpoint: 'credit-initial', status: 'COMPLETED' },
    ]);
    expect(second.rollouts.nextCursor).toBeNull();

    const running = await gql<Page>(client, LIST, { limit: 50, status: 'RUNNING' }, 'erin');
    expect(running.rollouts.items.map((r) => r.id)).toEqual([stagedId]);
    const onEndpoint = await gql<Page>(
      client,
      LIST,
      { limit: 50, endpoint: 'credit-initial' },
      'cora',
    );
    expect(onEndpoint.rollouts.items.map((r) => r.id)).toEqual([initialId]);
    const nowhere = await gql<Page>(client, LIST, { limit: 50, endpoint: 'no-such' }, 'audrey');
    expect(nowhere.rollouts).toEqual({ items: [], nextCursor: null });

    const tooMany = await gqlRaw(client, LIST, { limit: 500 }, 'audrey');
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badCursor = await gqlRaw(client, LIST, { limit: 5, cursor: 'not-a-cursor' }, 'audrey');
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('refuses the list to a role that may not read rollouts, as rollout(id) is', async () => {
    const list = await gqlRaw(client, LIST, { limit: 5 }, 'ivan');
    expect(list.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const one = await gqlRaw(
      client,
      `query($id: ID!) { rollout(id: $id) { id } }`,
      { id: stagedId },
      'ivan',
    );
    expect(one.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses a reason that says nothing, is too long or is not text', async () => {
    for (const reason of ['   ', 'ok', 'x'.repeat(10_001), 'Paused for the \u0000 review.']) {
      const r = await gqlRaw(client, PAUSE, { id: stagedId, reason }, 'erin');
      expect({ reason: reason.slice(0, 20), code: r.errors?.[0]?.extensions?.code }).toEqual({
        reason: reason.slice(0, 20),
        code: 'BAD_USER_INPUT',
      });
    }
    expect((await rollout(client, stagedId)).status).toBe('RUNNING');
  });

  it('keeps the reason of a pause, a resume and a manual advance in their ledger events', async () => {
    const pauseReason = 'Holding the shadow stage while the underwriters review complaints.';
    const resumeReason = 'The complaints were unrelated to this version; carrying on.';
    const advanceReason = 'Validated offline on last month of applications; no need to wait.';
    const paused = await gql<{ pauseRollout: { status: string } }>(
      client,
      PAUSE,
      { id: stagedId, reason: `  ${pauseReason}\n` },
      'erin',
    );
    expect(paused.pauseRollout.status).toBe('PAUSED');
    const resumed = await gql<{ advanceRollout: { status: string } }>(
      client,
      ADVANCE,
      { id: stagedId, reason: resumeReason },
      'erin',
    );
    expect(resumed.advanceRollout.status).toBe('RUNNING');
    const advanced = await gql<{ advanceRollout: { status: string } }>(
      client,
      ADVANCE,
      { id: stagedId, reason: advanceReason },
      'erin',
    );
    expect(advanced.advanceRollout.status).toBe('COMPLETED');

    const history = (await rollout(client, stagedId)).history;
    const of = (type: string) => history.filter((e) => e.type === type);
    expect(of('rollout.paused')).toEqual([
      expect.objectContaining({
        actor: { sub: 'erin' },
        payload: expect.objectContaining({ stage: 'shadow', reason: pauseReason }),
      }),
    ]);
    expect(of('rollout.resumed')).toEqual([
      expect.objectContaining({
        actor: { sub: 'erin' },
        payload: expect.objectContaining({ stage: 'shadow', reason: resumeReason }),
      }),
    ]);
    expect(of('rollout.stage.passed')).toEqual([
      expect.objectContaining({
        actor: { sub: 'erin' },
        payload: expect.objectContaining({ stage: 'shadow', manual: true, reason: advanceReason }),
      }),
    ]);
    const list = await gql<Page>(client, LIST, { limit: 50, status: 'RUNNING' }, 'audrey');
    expect(list.rollouts.items).toEqual([]);
  });
});
