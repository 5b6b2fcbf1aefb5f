import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriftMonitor } from '../../src/drift/drift-monitor.service.js';
import {
  buildGermanCreditModels,
  defaultGermanCreditPath,
  type GermanCreditModels,
} from '../../src/model-builder/index.js';
import { PredictionLog } from '../../src/prediction-log/prediction-log.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { devSignIn, freshPage, seriousViolations } from '../support/console-page.js';
import { createEndpoint, seedLiveEndpoint } from '../support/registry.js';

/**
 * The console's Endpoints page (docs/console.md) over real state: one endpoint serving v1 whose
 * traffic has drifted from its evaluation data (an open drift alert), one with nothing live.
 */
describe('web console: endpoints', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let models: GermanCreditModels;
  let policiesDir: string;

  /** 400 rows of the data set through the endpoint, every feature moved as a new population would. */
  async function serveShiftedRows(token: string): Promise<void> {
    for (let start = 0; start < 400; start += 25) {
      const rows = Array.from({ length: 25 }, (_, k) =>
        Array.from(models.data.X[start + k] ?? []).map((v) => v * 1.5 + 2),
      );
      const response = await fetch(`${app.url}/v2/models/credit/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          inputs: [
            {
              name: 'features',
              datatype: 'FP32',
              shape: [rows.length, rows[0]!.length],
              data: rows.flat(),
            },
          ],
        }),
      });
      expect(response.status).toBe(200);
    }
    await app.running.app.get(PredictionLog).flush();
  }

  beforeAll(async () => {
    models = buildGermanCreditModels();
    // The shipped evaluation policy, judging drift over 100 rows and checked only when asked.
    policiesDir = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
    const shipped = new URL('../../policies/', import.meta.url).pathname;
    for (const file of ['roles.yaml', 'promotion.yaml'])
      copyFileSync(join(shipped, file), join(policiesDir, file));
    const evaluation = readFileSync(join(shipped, 'evaluation.yaml'), 'utf8')
      .replace('minRows: 500', 'minRows: 100')
      .replace('intervalSeconds: 60', 'intervalSeconds: 0');
    expect(evaluation).toMatch(/minRows: 100\n[\s\S]*intervalSeconds: 0/);
    writeFileSync(join(policiesDir, 'evaluation.yaml'), evaluation);

    [app, browser] = await Promise.all([
      startTestApp({
        GATEHOUSE_POLICIES_DIR: policiesDir,
        // The drift alert is logged as a warning: expected here.
        GATEHOUSE_LOG_LEVEL: 'error',
      }),
      launchBrowser(),
    ]);
    await seedLiveEndpoint(app, {
      model: 'credit-risk',
      endpoint: 'credit',
      versions: [models.fair],
    });
    await createEndpoint(app, await app.token('erin', 'ml-engineer'), 'scoring', 'credit-risk');
    const validator = await app.token('vera', 'model-validator');
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
    for (let i = 0; ; i++) {
      const e = await app.gql<{ evaluation: { status: string } }>(
        `query($id: ID!) { evaluation(id: $id) { status } }`,
        { id: run.data!.runEvaluation.id },
        validator,
      );
      if (e.data!.evaluation.status === 'SUCCEEDED') break;
      if (e.data!.evaluation.status === 'FAILED' || i > 600) throw new Error('evaluation failed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await serveShiftedRows(await app.token('ivan', 'inference-client'));
    const check = await app.running.app.get(DriftMonitor).checkEndpoint('credit');
    expect(check).toMatchObject({ outcome: 'checked', change: 'open' });
  }, 180_000);

  afterAll(async () => {
    await browser.close();
    await app.close();
    rmSync(policiesDir, { recursive: true, force: true });
  });

  it('shows each endpoint: its live version, traffic and drift, the alert among them', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/endpoints`, 'audrey', 'auditor');
    await page.getByRole('heading', { name: 'Endpoints', level: 1 }).waitFor();

    const table = page.getByRole('table');
    await table.waitFor();
    await expect(table.locator('caption').textContent()).resolves.toBe('2 endpoints');
    const credit = page.getByRole('row', { name: /^credit / });
    const cells = credit.getByRole('cell');
    await expect(cells.nth(1).textContent()).resolves.toBe('v1');
    await expect(cells.nth(2).textContent()).resolves.toBe('NONE');
    await expect(cells.nth(3).textContent()).resolves.toBe('v1 answers all');
    await expect(cells.nth(4).textContent()).resolves.toBe('none');
    // The drift the monitor found, in words: the alert, the score's PSI over the rows it judged.
    const drift = (await cells.nth(5).textContent()) ?? '';
    expect(drift).toMatch(/^Alert since \d{4}-\d\d-\d\dT/);
    expect(drift).toMatch(/over 400 rows of v1; highest feature [\w.]+ \d+\.\d{3}/);

    const idle = page.getByRole('row', { name: /^scoring / }).getByRole('cell');
    await expect(idle.nth(1).textContent()).resolves.toBe('none');
    await expect(idle.nth(3).textContent()).resolves.toBe('no live version');
    await expect(idle.nth(5).textContent()).resolves.toBe('not checked yet');

    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });

  it('pages through more endpoints than one page holds', async () => {
    const engineer = await app.token('erin', 'ml-engineer');
    for (let i = 1; i <= 49; i++)
      await createEndpoint(app, engineer, `queue-${String(i).padStart(2, '0')}`, 'credit-risk');
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/endpoints`, 'audrey', 'auditor');
    const caption = page.getByRole('table').locator('caption');
    await caption.getByText('Endpoints 1 to 50').waitFor();
    await expect(page.getByRole('row').count()).resolves.toBe(51);
    await page.getByRole('button', { name: 'Next 50' }).click();
    await caption.getByText('Endpoints 51 to 51').waitFor();
    await expect(page.getByRole('button', { name: 'Next 50' }).isDisabled()).resolves.toBe(true);
    await page.getByRole('button', { name: 'Previous 50' }).click();
    await caption.getByText('Endpoints 1 to 50').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });
});
