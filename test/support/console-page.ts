import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserContext, ConsoleMessage, Page } from 'playwright-core';
import type { TestBrowser, TestContextOptions } from './browser.js';

/** What the console specs check on every page: axe-core's audit and the page's faults. */

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface AxeViolation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly nodes: readonly { readonly target: readonly string[] }[];
}

/** The serious and critical violations axe-core finds on the page as it stands. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } })
      .axe;
    return (await axe.run()).violations;
  });
  return (violations as AxeViolation[])
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
    );
}

/**
 * What the page reports that a working console never does: errors on its console (CSP
 * violations among them) and uncaught exceptions. The browser also logs every answer with an
 * error status, and the sign-in routes answer 401 (signed out) and 400 (the console asking
 * whether dev sign-in exists) by design: those are left out.
 */
function collectFaults(page: Page): string[] {
  const faults: string[] = [];
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    const expectedStatus =
      message.text().startsWith('Failed to load resource') &&
      new URL(message.location().url).pathname.startsWith('/console/auth/');
    if (!expectedStatus) faults.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => faults.push(`pageerror: ${error.message}`));
  return faults;
}

/** A page in a context of its own, its faults collected from the start. */
export async function freshPage(
  browser: TestBrowser,
  options?: TestContextOptions,
): Promise<{ context: BrowserContext; page: Page; faults: string[] }> {
  const context = await browser.context(options);
  const page = await context.newPage();
  return { context, page, faults: collectFaults(page) };
}

/**
 * Sends `query` to the API from inside the page, as the console does: the session cookie and
 * its CSRF token, no bearer token. What the service answers a signed-in person whatever the
 * console offers them.
 */
export function graphqlAsSession(
  page: Page,
  query: string,
): Promise<{ data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] }> {
  return page.evaluate(async (text) => {
    const session = (await (await fetch('/console/auth/session')).json()) as {
      csrfToken: string;
    };
    const response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
      body: JSON.stringify({ query: text }),
    });
    return (await response.json()) as {
      data?: unknown;
      errors?: { message: string; extensions?: { code?: string } }[];
    };
  }, query);
}

/**
 * Opens `url` signed out and signs in through the console's Dev sign-in form (the dev issuer is
 * on in tests) as `subject` with `roles` (separated by spaces or commas), back on the same page.
 */
export async function devSignIn(
  page: Page,
  url: string,
  subject: string,
  roles: string,
): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel(/^Roles/).fill(roles);
  await page.getByRole('button', { name: 'Dev sign-in' }).click();
  await page.getByRole('banner').getByText('Signed in as').waitFor();
}
