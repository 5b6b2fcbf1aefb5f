import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { rmSync } from 'node:fs';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { loadConfig } from '../../src/config/config.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { startTelemetry, type Telemetry } from '../../src/telemetry/sdk.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { devSignIn, freshPage, seriousViolations } from '../support/console-page.js';
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
  clientOf,
} from '../support/rollout-story.js';

/**
 * The console's Rollouts pages (docs/console.md) over real rollouts driven by the controller
 * on real traffic: one watched from its first stage to its completion, the page reading itself
 * again with no reload; one rolled back by an engineer through the confirmation, with a reason
 * that the ledger keeps beside their subject and the request's trace id.
 */

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
const REASON = 'Underwriters report refusals they cannot explain; back to the live version.';
/** Generous: the controller, the traffic and Chromium share two busy cores. */
const LONG = 150_000;

/** Trace ids need a recording tracer provider; no span is kept. */
const DISCARD: SpanProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

describe('web console: rollouts', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let telemetry: Telemetry;
  let models: GermanCreditModels;
  let policiesDir: string;
  const tokens: Record<string, string> = {};
  const client = clientOf(() => app.url, tokens);
  const versions: number[] = [];
  const evaluations: string[] = [];

  /** An endpoint serving v1, and a staged rollout of v2 on it; no traffic yet. */
  async function stagedRollout(endpoint: string): Promise<string> {
    await createEndpoint(app, client.token('erin'), endpoint, 'credit-risk');
    await setTraffic(app, endpoint, { liveVersion: versions[0] ?? 1 });
    const started = await promote(client, {
      endpoint,
      model: 'credit-risk',
      version: versions[1] ?? 2,
      evaluationId: evaluations[1] ?? '',
      strategy: 'SHADOW_THEN_CANARY',
      plan: PLAN,
      rollbackCriteria: CRITERIA,
    });
    expect(started.status).toBe('RUNNING');
    return started.id;
  }

  beforeAll(async () => {
    telemetry = startTelemetry(loadConfig({ NODE_ENV: 'test' }).telemetry, {
      spanProcessors: [DISCARD],
      instrument: false,
    });
    models = buildGermanCreditModels();
    policiesDir = fastPolicies();
    [app, browser] = await Promise.all([
      startTestApp({ ...FAST_ROLLOUT_ENV, GATEHOUSE_POLICIES_DIR: policiesDir }),
      launchBrowser(),
    ]);
    for (const [who, roles] of Object.entries(PEOPLE)) tokens[who] = await app.token(who, ...roles);
    await registerModel(app, client.token('dana'), 'credit-risk', { riskTier: 'HIGH' });
    const dataset = await uploadDataset(client, defaultGermanCreditPath());
    for (const scoring of [models.fair, models.fairRetrained]) {
      const version = await registerVersion(app, client.token('dana'), 'credit-risk', scoring);
      versions.push(version);
      evaluations.push(await evaluate(client, 'credit-risk', version, dataset));
    }
  }, 240_000);

  afterAll(async () => {
    await browser.close();
    await app.close();
    await telemetry.shutdown();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('shows a rollout updating itself through its stages to completion, with no reload', async () => {
    const id = await stagedRollout('credit-watch');
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/rollouts`, 'audrey', 'auditor');
    const main = page.getByRole('main');

    // The list: the rollout under way first, reached by keyboard.
    const underWay = main.getByRole('table', { name: '1 under way' });
    await underWay.waitFor();
    expect(await underWay.locator('tbody tr').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await underWay.getByRole('link', { name: 'v2 to credit-watch' }).focus();
    await page.keyboard.press('Enter');
    await main.getByRole('heading', { name: 'Rollout of v2 to credit-watch' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/rollouts/${id}`);

    // No traffic yet: the shadow stage waits, and says what for.
    const status = main.locator('.rollout-status');
    await status.getByText('Running: stage shadow.').waitFor();
    const stages = main.getByRole('list', { name: 'Stages' });
    expect(await stages.locator('li').allTextContents()).toEqual([
      expect.stringContaining('In progress'),
      expect.stringContaining('Pending'),
      expect.stringContaining('Pending'),
      expect.stringContaining('Pending'),
    ]);
    await main.getByRole('heading', { name: 'Stage in progress: shadow' }).waitFor();
    await main.getByRole('table', { name: 'Criteria, judged now' }).waitFor();
    // An auditor changes nothing: no action is offered.
    expect(await main.getByRole('heading', { name: 'Actions' }).count()).toBe(0);
    expect(await main.getByRole('button', { name: /Roll back|Pause|Advance/ }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);

    // From here on the page must get to the end by itself: a reload would lose this mark.
    await page.evaluate("globalThis.watchedSince = 'before the traffic'");
    const traffic = new Traffic(client, 'credit-watch', models.data).start();
    try {
      // The charts appear with the first samples of both arms, drawn by uPlot.
      const requests = main.getByRole('img', { name: /^Requests per arm/ });
      await requests.waitFor({ timeout: LONG });
      await main.locator('.arm-chart canvas').first().waitFor();
      expect(await seriousViolations(page)).toEqual([]);
      await status.getByText('Completed.').waitFor({ timeout: LONG });
    } finally {
      const stats = await traffic.stop();
      expect(stats.failures).toEqual([]);
    }
    expect(await page.evaluate("globalThis.watchedSince ?? 'reloaded'")).toBe('before the traffic');
    const passed = await stages.locator('li').allTextContents();
    expect(passed).toHaveLength(4);
    for (const stage of passed) expect(stage).toMatch(/Passed[\s\S]*entered .*passed .* by /);
    await main.getByText('No stage is in progress: the rollout has finished.').waitFor();
    const history = main.getByRole('table', { name: /^Every ledger event of this rollout/ });
    expect(await history.textContent()).toContain('rollout.completed');
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  }, 300_000);

  it('rolls a rollout back for an engineer, through the confirmation, with their reason in the ledger', async () => {
    const id = await stagedRollout('credit-back');
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/rollouts`, 'erin', 'ml-engineer');
    await page.goto(`${app.url}/console/rollouts/${id}`);
    const main = page.getByRole('main');
    await main.getByRole('heading', { name: 'Rollout of v2 to credit-back' }).waitFor();
    const actions = main.getByRole('region', { name: 'Actions' });
    await actions.getByRole('button', { name: 'Pause…' }).waitFor();
    await actions.getByRole('button', { name: 'Advance…' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // By keyboard: open the confirmation, the reason field takes the focus.
    await actions.getByRole('button', { name: 'Roll back…' }).focus();
    await page.keyboard.press('Enter');
    const confirm = actions.getByRole('form', { name: 'Roll this rollout back?' });
    await confirm.waitFor();
    expect(await confirm.textContent()).toContain('All traffic goes back to version 1 at once.');
    const reason = confirm.getByLabel('Your reason (recorded in the ledger)');
    expect(
      await reason.evaluate((element) => element === element.ownerDocument.activeElement),
    ).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);

    // A reason that says nothing: the service refuses it, and the page shows its code and words.
    await page.keyboard.type('Bad.');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const refusal = confirm.getByRole('alert');
    await refusal.getByText('The rollback was refused').waitFor();
    expect(await refusal.textContent()).toContain('(BAD_USER_INPUT)');
    expect(await refusal.textContent()).toContain('reason');
    expect(await main.locator('.rollout-status').textContent()).toContain('Running');

    await reason.fill('');
    await reason.focus();
    await page.keyboard.type(REASON);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    const status = main.locator('.rollout-status');
    await status.getByText('Rolled back.').waitFor({ timeout: LONG });
    await main.getByText(`by erin (by hand): “${REASON}”`).waitFor();
    expect(await main.getByRole('region', { name: 'Actions' }).count()).toBe(0);
    const stages = main.getByRole('list', { name: 'Stages' });
    expect(await stages.locator('li').first().textContent()).toContain('Failed: rolled back here');
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();

    const events = await gql<{
      ledgerEvents: {
        events: { actor: { sub: string }; payload: Record<string, unknown>; traceId: string }[];
      };
    }>(
      client,
      `query($subject: String!) { ledgerEvents(subject: $subject, type: "rollout.rolled_back") {
        events { actor { sub } payload traceId } } }`,
      { subject: `rollout:${id}` },
      'audrey',
    );
    expect(events.ledgerEvents.events).toHaveLength(1);
    const [event] = events.ledgerEvents.events;
    expect(event?.actor.sub).toBe('erin');
    expect(event?.payload).toMatchObject({ reason: REASON, manual: true, by: 'erin' });
    expect(event?.traceId).toMatch(/^[0-9a-f]{32}$/);
  }, 180_000);
});
