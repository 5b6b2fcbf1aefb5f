import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { CONSOLE_HEADERS } from '../../src/console/console-files.js';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import {
  devSignIn,
  freshPage,
  graphqlAsSession,
  seriousViolations,
} from '../support/console-page.js';
import { testEvent } from '../support/test-event.js';

/**
 * The web console (docs/console.md) in a real Chromium against the real service: its headers,
 * a page that runs under its Content-Security-Policy without an error, and axe-core's audit.
 * `npm test` builds the console first.
 */

describe('web console', () => {
  let app: TestApp;
  let browser: TestBrowser;

  beforeAll(async () => {
    [app, browser] = await Promise.all([startTestApp(), launchBrowser()]);
    // More events than a page holds, then a checkpoint over them.
    const ledger = app.running.app.get(LedgerService);
    for (let i = 0; i < 30; i++) {
      await ledger.transaction((tx) => {
        tx.record(testEvent(`model:credit@${i}`, { sub: 'alice', roles: ['validator'] }, { i }));
      });
    }
    const checkpoint = await app.gql(
      'mutation { createCheckpoint { treeSize } }',
      {},
      await app.token('adam', 'admin'),
    );
    expect(checkpoint.errors).toBeUndefined();
  });

  afterAll(async () => {
    await browser.close();
    await app.close();
  });

  it('opens signed out under its Content-Security-Policy, with no fault and no serious axe finding', async () => {
    const { context, page, faults } = await freshPage(browser);
    const response = await page.goto(`${app.url}/console`);
    expect(response?.status()).toBe(200);
    const headers = response?.headers() ?? {};
    for (const [name, value] of Object.entries(CONSOLE_HEADERS)) expect(headers[name]).toBe(value);
    expect(headers['content-security-policy']).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; " +
        "object-src 'none'",
    );
    // Vite's output is files only: nothing the policy would have to allow inline.
    const html = await response?.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);

    const banner = page.getByRole('banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Gatehouse console');
    const main = page.getByRole('main');
    await main.waitFor();
    const signIn = main.getByRole('link', { name: 'Sign in', exact: true });
    await signIn.waitFor();
    expect(await signIn.getAttribute('href')).toBe(
      `/console/auth/login?${new URLSearchParams({ returnTo: '/console' }).toString()}`,
    );
    // The dev issuer is on in tests: its form is offered, marked as such.
    await main.getByRole('form', { name: /^Dev sign-in \(development issuer/ }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });

  it('says why a sign-in failed, in its own words only, and comes back to the page without it', async () => {
    const { context, page, faults } = await freshPage(browser);
    await page.goto(`${app.url}/console/ledger?signInFailed=expired`);
    const alert = page.getByRole('main').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^The sign-in took too long/);
    expect(
      await page.getByRole('link', { name: 'Sign in', exact: true }).getAttribute('href'),
    ).toBe(
      `/console/auth/login?${new URLSearchParams({ returnTo: '/console/ledger' }).toString()}`,
    );
    expect(await seriousViolations(page)).toEqual([]);

    await page.goto(
      `${app.url}/console/?${new URLSearchParams({ signInFailed: 'Call 555-0100 now' }).toString()}`,
    );
    await alert.waitFor();
    expect(await alert.textContent()).toBe('The sign-in could not be completed. Sign in again.');
    expect(faults).toEqual([]);
    await context.close();
  });

  it('shows the ledger to a signed-in auditor: verification, checkpoint, pages and a filter', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/ledger`, 'audrey', 'auditor');
    const banner = page.getByRole('banner');
    await banner.getByText('Signed in as').waitFor();
    expect(await banner.textContent()).toContain('audrey (auditor)');
    expect(await banner.getByRole('link', { name: 'Ledger' }).getAttribute('aria-current')).toBe(
      'page',
    );

    const main = page.getByRole('main');
    await main.getByText(/^Verified: \d+ events/).waitFor();
    expect(await main.getByText(/ events, signed /).textContent()).toMatch(/^3\d events/);

    const table = main.getByRole('table');
    await table.waitFor();
    expect(await table.locator('caption').textContent()).toBe('Events 1–25');
    expect(await table.locator('tbody tr').count()).toBe(25);
    await main.getByRole('button', { name: 'Next 25' }).click();
    await table.locator('caption', { hasText: 'Events 26–' }).waitFor();
    await main.getByRole('button', { name: 'Previous 25' }).click();
    await table.locator('caption', { hasText: 'Events 1–25' }).waitFor();

    await main.getByLabel('Event type').fill('test.appended');
    await main.getByRole('button', { name: 'Filter' }).click();
    await table.locator('caption', { hasText: 'of type “test.appended”' }).waitFor();
    const types = await table.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(new Set(types)).toEqual(new Set(['test.appended']));
    expect(await seriousViolations(page)).toEqual([]);

    await main.getByLabel('Event type').fill('no.such.type');
    await main.getByRole('button', { name: 'Filter' }).click();
    await main.getByText('No events of type “no.such.type”.').waitFor();

    // A session that ends under the page: the failure says so and offers the way back in.
    const db = new pg.Client({ connectionString: app.database.url });
    await db.connect();
    await db.query('DELETE FROM console_sessions');
    await db.end();
    await main.getByRole('button', { name: 'Filter' }).click();
    const ended = main.getByRole('alert').filter({ hasText: 'Your session has ended.' });
    await ended.waitFor();
    expect(await ended.getByRole('link', { name: 'Sign in again' }).getAttribute('href')).toBe(
      `/console/auth/login?${new URLSearchParams({ returnTo: '/console/ledger' }).toString()}`,
    );

    await banner.getByRole('button', { name: 'Sign out' }).click();
    await main.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
    expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain(
      '__Host-gatehouse_session',
    );
    expect(faults).toEqual([]);
    await context.close();
  });

  it('routes in place from an unknown page to the ledger, focus following', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/ledger`, 'audrey', 'auditor');
    await page.getByRole('banner').getByText('Signed in as').waitFor();
    await page.goto(`${app.url}/console/nowhere`);
    const main = page.getByRole('main');
    await main.getByRole('heading', { name: 'Page not found' }).waitFor();
    await main.getByRole('link', { name: 'Open Ledger' }).focus();
    await page.keyboard.press('Enter');
    await main.getByRole('heading', { name: 'Ledger', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/ledger');
    expect(await page.locator('main:focus').count()).toBe(1);
    expect(faults).toEqual([]);
    await context.close();
  });

  it('offers only the pages the roles may open; the service refuses the others anyway', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/`, 'dana', 'data-scientist');
    const nav = page.getByRole('navigation', { name: 'Console' });
    await nav.getByRole('link', { name: 'Inbox' }).waitFor();
    // A data scientist may not read the ledger: no entry, and the console's root is the Inbox.
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Inbox',
      'Endpoints',
      'Rollouts',
      'Reports',
    ]);
    const main = page.getByRole('main');
    await main.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();

    await page.goto(`${app.url}/console/ledger`);
    await main.getByRole('heading', { name: 'Not a page for your roles' }).waitFor();
    expect(await main.getByRole('alert').textContent()).toContain(
      'Your roles (data-scientist) may not open /ledger: it needs the permission to read Ledger.',
    );
    expect(await seriousViolations(page)).toEqual([]);
    const answer = await graphqlAsSession(page, '{ ledgerEvents { events { seq } } }');
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await main.getByRole('link', { name: 'Open Inbox' }).click();
    await main.getByRole('heading', { name: 'Inbox', level: 1 }).waitFor();
    expect(faults.filter((fault) => !fault.includes('status of 403'))).toEqual([]);
    await context.close();
  });

  it('answers client routes with the page, files by name, and anything else 404', async () => {
    const route = await fetch(`${app.url}/console/ledger`);
    expect(route.status).toBe(200);
    expect(route.headers.get('content-type')).toMatch(/^text\/html/);
    expect(route.headers.get('content-security-policy')).toBe(
      CONSOLE_HEADERS['content-security-policy'],
    );
    const html = await route.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${app.url}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect(asset.headers.get('x-content-type-options')).toBe('nosniff');

    const missing = await fetch(`${app.url}/console/assets/missing.js`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('referrer-policy')).toBe('no-referrer');
    const outside = await fetch(`${app.url}/console/..%2f..%2fpackage.json`);
    expect(outside.status).toBeGreaterThanOrEqual(400);
    expect(await outside.text()).not.toContain('"name": "gatehouse"');
  });
});
