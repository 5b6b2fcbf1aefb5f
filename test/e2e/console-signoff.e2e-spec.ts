import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { devSignIn, freshPage, seriousViolations } from '../support/console-page.js';
import { createEndpoint, registerModel, registerVersion } from '../support/registry.js';

/**
 * The console's sign-off (docs/console.md): a compliance officer finds a request in the inbox,
 * reviews it and approves it with a statement by keyboard alone, and the receipt names the
 * ledger event the service wrote; the requester is told why they may not approve their own.
 */

const STATEMENT =
  'I reviewed the fairness audit, the model card and the rollback criteria, and sign off.';

describe('web console: inbox and sign-off', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let promotionId: string;
  let auditor: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    const models = buildGermanCreditModels();
    const scientist = await app.token('dana', 'data-scientist');
    const validator = await app.token('vera', 'model-validator');
    auditor = await app.token('audrey', 'auditor');
    await registerModel(app, scientist, 'credit-risk', { riskTier: 'HIGH' });
    await registerVersion(app, scientist, 'credit-risk', models.fair);
    await createEndpoint(app, await app.token('erin', 'ml-engineer'), 'credit', 'credit-risk');
    const upload = await fetch(`${app.url}/v1/datasets?name=german-credit`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${validator}`, 'content-type': 'text/csv' },
      body: readFileSync(defaultGermanCreditPath()),
    });
    const dataset = ((await upload.json()) as { id: string }).id;
    const run = await app.gql<{ runEvaluation: { id: string } }>(
      `mutation($dataset: ID!) { runEvaluation(model: "credit-risk", version: 1, dataset: $dataset,
        labelColumn: "good_credit") { id } }`,
      { dataset },
      validator,
    );
    const evaluationId = run.data!.runEvaluation.id;
    for (let i = 0; i < 600; i++) {
      const e = await app.gql<{ evaluation: { status: string } }>(
        `query($id: ID!) { evaluation(id: $id) { status } }`,
        { id: evaluationId },
        validator,
      );
      if (e.data!.evaluation.status === 'SUCCEEDED') break;
      expect(e.data!.evaluation.status).not.toBe('FAILED');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const requested = await app.gql<{ requestPromotion: { id: string } }>(
      `mutation($evaluationId: ID!, $rollbackCriteria: RollbackCriteriaInput!) {
        requestPromotion(endpoint: "credit", model: "credit-risk", version: 1,
          evaluationId: $evaluationId, strategy: INITIAL, rollbackCriteria: $rollbackCriteria,
          justification: "First credit-risk model for the underwriting queue, audited fair.") { id } }`,
      {
        evaluationId,
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
    const gates = await app.gql(
      `mutation($id: ID!) { evaluateGates(id: $id) { id } }`,
      {
        id: promotionId,
      },
      validator,
    );
    expect(gates.errors).toBeUndefined();
  }, 180_000);

  afterAll(async () => {
    await browser.close();
    await app.close();
  });

  it('lets a compliance officer find the request, review it and sign off by keyboard', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/inbox`, 'cora', 'compliance-officer');
    const main = page.getByRole('main');
    const waiting = main.getByRole('table', { name: 'Requests you may approve' });
    await waiting.waitFor();
    expect(await waiting.locator('tbody tr').count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);

    await waiting.getByRole('link', { name: 'credit-risk v1' }).focus();
    await page.keyboard.press('Enter');
    await main.getByRole('heading', { name: /^Promotion request: credit-risk v1/ }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/requests/${promotionId}`);
    const gates = main.getByRole('table', { name: /^Every gate passed|^Some gates failed/ });
    await gates.waitFor();
    expect(await gates.locator('tbody tr').count()).toBe(8);
    await main.getByRole('table', { name: 'Headline performance' }).waitFor();
    await main.getByRole('table', { name: /^Fairness by sex/ }).waitFor();
    expect(await main.textContent()).toContain('Above one percent errors');
    expect(await seriousViolations(page)).toEqual([]);

    // Keyboard only: from the role, Tab to the statement, type, Tab to Approve, Enter.
    await main.getByLabel('Approve as').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(STATEMENT.slice(0, 10));
    await main.getByText('10 of at least 40 characters', { exact: false }).waitFor();
    await page.keyboard.type(STATEMENT.slice(10));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');

    const receipt = main.locator('.receipt');
    await receipt.getByText('Approved.').waitFor();
    const seq = Number(await receipt.locator('dt:text-is("Ledger seq") + dd').textContent());
    const hash = await receipt.locator('dt:text-is("Event hash") + dd').textContent();
    expect(seq).toBeGreaterThan(0);
    const events = await app.gql<{
      ledgerEvents: {
        events: {
          seq: number;
          hash: string;
          actor: { sub: string };
          payload: Record<string, unknown>;
        }[];
      };
    }>(
      `query($subject: String!) { ledgerEvents(subject: $subject, type: "promotion.approval.recorded") {
        events { seq hash actor { sub } payload } } }`,
      { subject: `promotion:${promotionId}` },
      auditor,
    );
    const event = events.data!.ledgerEvents.events.find((candidate) => candidate.seq === seq);
    expect(event).toMatchObject({
      hash,
      actor: { sub: 'cora' },
      payload: { role: 'compliance-officer', signOff: true, statement: STATEMENT },
    });
    await receipt.getByRole('link', { name: 'its inclusion proof' }).click();
    await main.getByRole('heading', { name: `Inclusion proof of event ${seq}` }).waitFor();
    expect(new URL(page.url()).search).toBe(`?seq=${seq}`);
    // Proved against the latest checkpoint, or told that none covers the event yet.
    await main.getByText(/^Verified in this browser|can be proved once/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });

  it('tells the requester why they may not approve their own request', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/inbox`, 'dana', 'data-scientist ml-engineer');
    const main = page.getByRole('main');
    const refused = main.getByRole('table', { name: /^Requests you may not approve/ });
    await refused.waitFor();
    expect(await refused.textContent()).toContain('You requested this promotion');
    expect(await refused.textContent()).toContain('SEPARATION_OF_DUTIES');
    expect(await seriousViolations(page)).toEqual([]);

    await refused.getByRole('link', { name: 'credit-risk v1' }).focus();
    await page.keyboard.press('Enter');
    const alert = main.getByRole('alert').filter({ hasText: 'You may not approve this request' });
    await alert.waitFor();
    expect(await alert.textContent()).toContain('SEPARATION_OF_DUTIES');
    expect(await main.getByLabel('Approve as').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });
});
