import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { devSignIn, freshPage, seriousViolations } from '../support/console-page.js';
import { createEndpoint, registerModel, registerVersion, setTraffic } from '../support/registry.js';

/**
 * The Request page's figures (docs/console.md): the four-fifths chart of each protected
 * attribute drawn with uPlot under the console's CSP, with its text alternative, and the
 * candidate's headline figures beside the live version's on the same dataset
 * (`ModelVersion.latestEvaluation`).
 */

interface Performance {
  readonly name: string;
  readonly value: number | null;
}

describe('web console: the Request page figures', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let validator: string;
  let dataset: string;
  let promotionId: string;
  const performance = new Map<number, Performance[]>();

  async function evaluate(version: number, refs: unknown[]): Promise<string> {
    const run = await app.gql<{ runEvaluation: { id: string } }>(
      `mutation($version: Int!, $dataset: ID!, $refs: [ReferenceGroupInput!]) {
        runEvaluation(model: "credit-risk", version: $version, dataset: $dataset,
          labelColumn: "good_credit", referenceGroups: $refs) { id } }`,
      { version, dataset, refs },
      validator,
    );
    expect(run.errors).toBeUndefined();
    const id = run.data!.runEvaluation.id;
    for (;;) {
      const e = await app.gql<{ evaluation: { status: string; performance: Performance[] } }>(
        `query($id: ID!) { evaluation(id: $id) { status performance { name value } } }`,
        { id },
        validator,
      );
      const status = e.data!.evaluation.status;
      expect(status).not.toBe('FAILED');
      if (status === 'SUCCEEDED') {
        performance.set(version, e.data!.evaluation.performance);
        return id;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    const models = buildGermanCreditModels();
    const scientist = await app.token('dana', 'data-scientist');
    validator = await app.token('vera', 'model-validator');
    await registerModel(app, scientist, 'credit-risk', { riskTier: 'HIGH' });
    await registerVersion(app, scientist, 'credit-risk', models.fair);
    await registerVersion(app, scientist, 'credit-risk', models.fairRetrained);
    await createEndpoint(app, await app.token('erin', 'ml-engineer'), 'credit', 'credit-risk');
    await setTraffic(app, 'credit', { liveVersion: 1 });
    const upload = await fetch(`${app.url}/v1/datasets?name=german-credit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${validator}`, 'content-type': 'text/csv' },
      body: readFileSync(defaultGermanCreditPath()),
    });
    dataset = ((await upload.json()) as { id: string }).id;
    await evaluate(1, []);
    const candidate = await evaluate(2, [{ attribute: 'sex', group: 'male' }]);
    const requested = await app.gql<{ requestPromotion: { id: string } }>(
      `mutation($evaluationId: ID!, $plan: RolloutPlanInput, $rollbackCriteria: RollbackCriteriaInput!) {
        requestPromotion(endpoint: "credit", model: "credit-risk", version: 2,
          evaluationId: $evaluationId, strategy: SHADOW_THEN_CANARY, plan: $plan, rollbackCriteria: $rollbackCriteria,
          justification: "Retrained with lighter regularization; as fair, a little sharper.") { id } }`,
      {
        evaluationId: candidate,
        plan: {
          shadow: { sampleRate: 1, minRequests: 1000, minDurationSeconds: 86_400 },
          canary: { steps: [5, 25, 50], minRequestsPerStep: 500, bakeSeconds: 3600 },
        },
        rollbackCriteria: {
          maxErrorRate: { value: 0.01, window: { minRequests: 500, seconds: 600 } },
          minDisparateImpact: { value: 0.8, window: { minRequests: 500, seconds: 600 } },
          rationale:
            'Above one percent errors the underwriters cannot review every refusal in time.',
        },
      },
      scientist,
    );
    expect(requested.errors).toBeUndefined();
    promotionId = requested.data!.requestPromotion.id;
  }, 180_000);

  afterAll(async () => {
    await browser.close();
    await app.close();
  });

  it('answers a version’s latest evaluation on a dataset, null on another, and refuses a bad id', async () => {
    const q = `query($version: Int!, $dataset: ID!) { modelVersion(model: "credit-risk", version: $version) {
      latestEvaluation(dataset: $dataset) { version datasetId status performance { name value } } } }`;
    const found = await app.gql<{
      modelVersion: { latestEvaluation: { version: number; datasetId: string } | null };
    }>(q, { version: 1, dataset }, validator);
    expect(found.errors).toBeUndefined();
    expect(found.data!.modelVersion.latestEvaluation).toMatchObject({
      version: 1,
      datasetId: dataset,
      status: 'SUCCEEDED',
      performance: performance.get(1),
    });
    const elsewhere = await app.gql<{ modelVersion: { latestEvaluation: unknown } }>(
      q,
      { version: 1, dataset: '00000000-0000-4000-8000-000000000000' },
      validator,
    );
    expect(elsewhere.data!.modelVersion.latestEvaluation).toBeNull();
    const bad = await app.gql(q, { version: 1, dataset: 'german-credit' }, validator);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/^dataset: /);
  });

  it('draws the four-fifths chart per attribute under the CSP and compares candidate with live', async () => {
    const { context, page, faults } = await freshPage(browser);
    // Every CSP violation the document reports, whatever the console shows of it.
    await page.addInitScript({
      content: `globalThis.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (event) => {
          globalThis.cspViolations.push(event.violatedDirective + ' ' + event.blockedURI);
        });`,
    });
    await devSignIn(page, `${app.url}/console/requests/${promotionId}`, 'audrey', 'auditor');
    const main = page.getByRole('main');
    await main.getByRole('heading', { name: /^Promotion request: credit-risk v2/ }).waitFor();

    const charts = main.locator('figure.chart');
    await charts.first().waitFor();
    expect(await charts.count()).toBe(2);
    for (const attribute of ['sex', 'age_group']) {
      const chart = charts.filter({ hasText: `Four-fifths rule by ${attribute}` });
      await chart.locator('canvas').waitFor();
      const alternative = await chart.getByRole('img').getAttribute('aria-label');
      expect(alternative).toMatch(new RegExp(`^Selection rate by ${attribute} relative to `));
      expect(alternative).toMatch(/\d\.\d\d, (at or above|below) 0\.8/);
      // The table stays beside the chart.
      await main.getByRole('table', { name: new RegExp(`^Fairness by ${attribute}`) }).waitFor();
    }
    expect(
      await charts
        .filter({ hasText: 'Four-fifths rule by sex' })
        .getByRole('img')
        .getAttribute('aria-label'),
    ).toMatch(/^Selection rate by sex relative to male, the reference group: female /);

    const comparison = main.getByRole('table', {
      name: /^Candidate v2 against live v1 on the same dataset/,
    });
    await comparison.waitFor();
    const accuracy = comparison.locator('tbody tr', { hasText: /^accuracy/ });
    const cells = await accuracy.locator('td').allTextContents();
    const candidate = performance.get(2)!.find((f) => f.name === 'accuracy')!.value!;
    const live = performance.get(1)!.find((f) => f.name === 'accuracy')!.value!;
    expect(cells.slice(0, 3)).toEqual(['accuracy', candidate.toFixed(3), live.toFixed(3)]);
    expect(cells[3]).toMatch(/^([+−]\d\.\d{3}|0\.000)$/);
    expect(await comparison.locator('tbody tr').count()).toBe(performance.get(2)!.length);

    expect(await seriousViolations(page)).toEqual([]);
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { cspViolations: string[] }).cspViolations,
      ),
    ).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });
});
