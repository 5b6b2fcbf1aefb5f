import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Download, Page } from 'playwright-core';
import { thumbprintKid } from '../../src/ledger/jws-verify.js';
import { buildGermanCreditModels } from '../../src/model-builder/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  devSignIn,
  freshPage,
  graphqlAsSession,
  seriousViolations,
} from '../support/console-page.js';
import { registerModel, registerVersion } from '../support/registry.js';

/**
 * The console's Reports page (docs/console.md): an auditor exports a signed report, downloads
 * it, and verifies it in the browser against the JWKS they pinned; a report changed by one
 * byte, and the same report against a key they did not pin, are refused with the verifier's
 * reasons. A data scientist is offered no export, and the API refuses one anyway.
 */

const sha256 = (bytes: string | Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The file a press of the button saves, through Playwright's download event. */
async function downloadOf(page: Page, press: () => Promise<void>): Promise<Download> {
  const [download] = await Promise.all([page.waitForEvent('download'), press()]);
  return download;
}

async function bytesOf(download: Download): Promise<Buffer> {
  return readFileSync(await download.path());
}

/** A JWK set of a key the ledger never used: what an auditor pins by mistake, or by design. */
async function strangerJwks(): Promise<string> {
  const { publicKey } = generateKeyPairSync('ed25519');
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x;
  const kid = await thumbprintKid({ kty: 'OKP', crv: 'Ed25519', x });
  return JSON.stringify({
    keys: [{ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' }],
  });
}

describe('web console: reports', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let auditor: string;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    const scientist = await app.token('dana', 'data-scientist');
    auditor = await app.token('audrey', 'auditor');
    await registerModel(app, scientist, 'credit-risk', { riskTier: 'HIGH' });
    await registerVersion(app, scientist, 'credit-risk', buildGermanCreditModels().fair);
  }, 180_000);

  afterAll(async () => {
    await browser.close();
    await app.close();
  });

  it('exports, downloads and verifies a report in the browser; refuses a tampered one', async () => {
    const { context, page, faults } = await freshPage(browser, { downloads: true });
    await devSignIn(page, `${app.url}/console/reports`, 'audrey', 'auditor');
    const main = page.getByRole('main');
    await main.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await main.getByText('No report has been exported yet.').waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // A subject the service cannot read: its refusal, code and reason, in words.
    await main.getByLabel('Subject').fill('credit-risk');
    await main.getByRole('button', { name: 'Export' }).click();
    const refusal = main.getByRole('alert').filter({ hasText: 'The report was not exported' });
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain('(BAD_USER_INPUT)');
    expect(await refusal.textContent()).toContain('subject');

    // By keyboard: the subject, Tab to the format (JSON is chosen), Tab to Export, Enter.
    await main.getByLabel('Subject').fill('model:credit-risk');
    await main.getByLabel('Subject').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await main.getByText(/^Exported report /).waitFor();
    const exported = await app.gql<{
      ledgerEvents: { events: { payload: { reportId: string; sha256: string } }[] };
    }>(`{ ledgerEvents(type: "report.exported") { events { payload } } }`, {}, auditor);
    const events = exported.data!.ledgerEvents.events;
    expect(events).toHaveLength(1);
    const { reportId, sha256: recorded } = events[0]!.payload;
    expect(await main.locator('.receipt').textContent()).toContain(recorded);
    const listed = main.getByRole('table', { name: /^1 report, newest first/ });
    await listed.waitFor();
    expect(await listed.textContent()).toContain('model:credit-risk');

    // The JSON, saved by the browser, byte for byte what report.exported recorded.
    const receipt = main.locator('.receipt');
    const json = await downloadOf(page, () =>
      receipt.getByRole('button', { name: /^Download JSON/ }).click(),
    );
    expect(json.suggestedFilename()).toBe(`gatehouse-report-${reportId}.json`);
    const reportBytes = await bytesOf(json);
    expect(sha256(reportBytes)).toBe(recorded);
    await receipt.getByText(/ready to verify below/).waitFor();
    // The PDF by keyboard alone.
    await receipt.getByRole('button', { name: /^Download PDF/ }).focus();
    const pdf = await downloadOf(page, () => page.keyboard.press('Enter'));
    expect(pdf.suggestedFilename()).toBe(`gatehouse-report-${reportId}.pdf`);
    expect((await bytesOf(pdf)).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    // The auditor's pinned keys, fetched apart from the console and pasted in.
    const jwks = await (await fetch(`${app.url}/.well-known/jwks.json`)).text();
    await main.getByLabel('Pinned JWKS').fill(jwks);
    const kid = (JSON.parse(jwks) as { keys: { kid: string }[] }).keys[0]!.kid;
    await main.getByText(`Pins 1 key(s): ${kid}`).waitFor();
    // Nothing but the verifier's own file is fetched while the browser judges the report.
    const asked: string[] = [];
    page.on('request', (request) => asked.push(new URL(request.url()).pathname));
    await main.getByRole('button', { name: 'Verify' }).focus();
    await page.keyboard.press('Enter');
    const valid = main.getByText(`Valid: report ${reportId} (model:credit-risk)`);
    await valid.waitFor();
    expect(asked.every((path) => /^\/console\/assets\/report-verify-[\w-]+\.js$/.test(path))).toBe(
      true,
    );
    const verdict = main.locator('.receipt').filter({ hasText: /^Valid: report / });
    expect(await verdict.textContent()).toContain('the digest report.exported recorded');
    expect(await seriousViolations(page)).toEqual([]);

    // One byte of an event's payload changed: the report's signature no longer holds.
    const text = reportBytes.toString('utf8');
    const at = text.indexOf('"riskTier":"HIGH"');
    expect(at).toBeGreaterThan(0);
    const tampered = `${text.slice(0, at)}"riskTier":"HIGX"${text.slice(at + 17)}`;
    expect(tampered.length).toBe(text.length);
    await main.getByLabel('Report file').setInputFiles({
      name: 'tampered.json',
      mimeType: 'application/json',
      buffer: Buffer.from(tampered),
    });
    await main.getByText('To verify: tampered.json (chosen from your files)').waitFor();
    await main.getByRole('button', { name: 'Verify' }).click();
    await main.getByText(/^Invalid: \d+ check\(s\) failed/).waitFor();
    const failed = main.getByRole('list', { name: 'Failed checks' });
    expect(await failed.textContent()).toContain('signature: bad signature on the report');
    expect(await seriousViolations(page)).toEqual([]);

    // The genuine file against a key the ledger never signed with: not trusted.
    const stranger = await strangerJwks();
    await main.getByLabel('JWKS file').setInputFiles({
      name: 'jwks.json',
      mimeType: 'application/json',
      buffer: Buffer.from(stranger),
    });
    const strangerKid = (JSON.parse(stranger) as { keys: { kid: string }[] }).keys[0]!.kid;
    await main.getByText(`Pins 1 key(s): ${strangerKid}`).waitFor();
    await main.getByLabel('Report file').setInputFiles({
      name: json.suggestedFilename(),
      mimeType: 'application/json',
      buffer: reportBytes,
    });
    await main.getByRole('button', { name: 'Verify' }).click();
    await main.getByText(/^Invalid: \d+ check\(s\) failed/).waitFor();
    expect(await failed.textContent()).toContain(
      `signature: the report is signed with key ${kid}, which is not trusted`,
    );

    // The PDF is a rendering: not verified, and the page says why.
    await main.getByLabel('Report file').setInputFiles({
      name: pdf.suggestedFilename(),
      mimeType: 'application/pdf',
      buffer: await bytesOf(pdf),
    });
    await main.getByRole('button', { name: 'Verify' }).click();
    await main.getByText(/^Not verified: This is a PDF rendering of a report/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    // The browser logs the refused export's 400; nothing else went wrong.
    expect(faults.filter((fault) => !fault.includes('status of 400'))).toEqual([]);
    await context.close();
  });

  it('offers a data scientist no export, and the API refuses one anyway', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/reports`, 'dana', 'data-scientist');
    const main = page.getByRole('main');
    await main.getByText(/^Your roles \(data-scientist\) may not export audit reports/).waitFor();
    expect(await main.getByRole('button', { name: 'Export' }).count()).toBe(0);
    expect(await main.getByRole('table').count()).toBe(0);
    await main.getByRole('heading', { name: 'Verify a report in this browser' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    const answer = await graphqlAsSession(
      page,
      'mutation { exportAuditReport(subject: "model:credit-risk") { id } }',
    );
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(faults.filter((fault) => !fault.includes('status of 403'))).toEqual([]);
    await context.close();
  });
});
