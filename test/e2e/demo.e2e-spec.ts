import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReport } from '../../src/reports/report-verify.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { loadConfig } from '../../src/config/config.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { CANDIDATES_AT_NORMAL_PRIORITY } from '../support/app.js';
import { startLongRunning, type ServingProcess } from '../support/cli.js';
import { devSignIn, freshPage } from '../support/console-page.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * `gatehouse demo` through the built CLI. Against a fresh database of the test server (the
 * embedded PostgreSQL, the default, is what `npm run demo` uses; it is the same code after the
 * connection), into a data folder of its own.
 */
/** Waits for the process's output to match `pattern`, for as long as the test may run. */
async function outputMatching(process: ServingProcess, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(process.output());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const STATEMENT =
  'I reviewed the evaluation, the gates, the rollback criteria and the plan, and sign off.';

describe('gatehouse demo', () => {
  let database: TestDatabase;
  let dataDir: string;
  let browser: TestBrowser;

  beforeAll(async () => {
    browser = await launchBrowser();
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  });

  afterAll(async () => {
    await browser.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells the whole story, ends with a verified ledger and report, and can leave a request for the console', async () => {
    const demo = await startLongRunning(
      [
        'demo',
        '--data-dir',
        dataDir,
        '--database-url',
        database.url,
        '--keep-serving',
        '--port',
        '0',
      ],
      // Its rollouts' candidates must answer within the test's time on a busy machine.
      { ...CANDIDATES_AT_NORMAL_PRIORITY },
      /console: (http:\/\/\S+)\/console\n[^]*sign it off\n/,
      170_000,
    );
    try {
      const out = demo.output();
      expect(demo.errorOutput()).not.toMatch(/Error/);
      expect(out).toMatch(/\[ 1\/11\] .*starting Gatehouse/);
      expect(out).toMatch(/version 2: .*sex 0\.686 \(FAILS four-fifths\)/);
      expect(out).toMatch(/FAIRNESS: sex: disparate impact 0\.686 below 0\.8/);
      expect(out).toMatch(/dana approving her own request: SEPARATION_OF_DUTIES/);
      expect(out).toMatch(/rolled back automatically in stage shadow: maxErrorRate breached/);
      expect(out).toMatch(/passed canary-50/);
      expect(out).toMatch(/COMPLETED: version 3 is live/);
      expect(out).toMatch(/intact: \d+ events/);
      expect(out).toMatch(/offline verification: intact/);
      expect(out).toMatch(/^Done in [\d.]+ s\.$/m);
      const report = /report: (\S+\.json)/.exec(out)?.[1] ?? '';
      expect(existsSync(report)).toBe(true);
      expect(existsSync(report.replace(/\.json$/, '.pdf'))).toBe(true);
      const verified = await verifyReport(readFileSync(report, 'utf8'));
      expect(verified.ok).toBe(true);

      // Left serving: the request waits for the compliance officer alone.
      const id = /promotion request (\S+) \(/.exec(out)?.[1] ?? '';
      const config = loadConfig({ NODE_ENV: 'development', GATEHOUSE_DATA_DIR: dataDir });
      const token = await issueDevToken(await loadOrCreateDevIssuerKey(dataDir), {
        sub: 'cora',
        roles: ['compliance-officer'],
        ttlSeconds: 600,
        audience: config.auth.audience,
        rolesClaim: config.auth.rolesClaim,
      });
      const response = await fetch(`${demo.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'query($id: ID!) { promotionRequest(id: $id) { status missingRoles } }',
          variables: { id },
        }),
      });
      expect(await response.json()).toEqual({
        data: { promotionRequest: { status: 'PENDING', missingRoles: ['compliance-officer'] } },
      });
      expect((await fetch(`${demo.url}/console/`)).status).toBe(200);

      // What the README promises: in Chromium, a person signs the request off in the console,
      // watches the rollout the demo then starts, and verifies its report in the browser.
      const { context, page, faults } = await freshPage(browser, { downloads: true });
      await devSignIn(page, `${demo.url}/console/inbox`, 'cora', 'compliance-officer');
      const main = page.getByRole('main');
      const waiting = main.getByRole('table', { name: 'Requests you may approve' });
      await waiting.getByRole('link', { name: 'credit-risk v1' }).click();
      await main.getByRole('heading', { name: /^Promotion request: credit-risk v1/ }).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/console/requests/${id}`);
      await main.getByRole('table', { name: /^Every gate passed|^Some gates failed/ }).waitFor();
      await main.getByLabel(/^Statement/).fill(STATEMENT);
      await main.getByRole('button', { name: 'Approve' }).click();
      await main.locator('.receipt').getByText('Approved.').waitFor();

      const started = await outputMatching(demo, /erin started rollout (\S+);/);
      const rolloutId = started[1] ?? '';
      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Rollouts' })
        .click();
      await main.getByRole('link', { name: 'v1 to credit' }).first().click();
      expect(new URL(page.url()).pathname).toBe(`/console/rollouts/${rolloutId}`);
      await main.locator('.rollout-status').getByText('Completed.').waitFor({ timeout: 240_000 });
      await outputMatching(demo, /COMPLETED: version 1 is live\n/);

      await page
        .getByRole('navigation', { name: 'Console' })
        .getByRole('link', { name: 'Reports' })
        .click();
      await main.getByLabel('Subject').fill(`rollout:${rolloutId}`);
      await main.getByRole('button', { name: 'Export' }).click();
      await main.getByText(/^Exported report /).waitFor();
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        main
          .locator('.receipt')
          .getByRole('button', { name: /^Download JSON/ })
          .click(),
      ]);
      const reportFile = await download.path();
      await main
        .getByLabel('Pinned JWKS')
        .fill(await (await fetch(`${demo.url}/.well-known/jwks.json`)).text());
      await main.getByRole('button', { name: 'Verify' }).click();
      await main.getByText(new RegExp(`^Valid: report \\S+ \\(rollout:${rolloutId}\\)`)).waitFor();
      expect((await verifyReport(readFileSync(reportFile, 'utf8'))).ok).toBe(true);
      expect(faults).toEqual([]);
      await context.close();
    } finally {
      expect(await demo.stop('SIGINT')).toBe(0);
    }
  }, 300_000);
});
