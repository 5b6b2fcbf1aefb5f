import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import type { Locator } from 'playwright-core';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { leafHash } from '../../src/ledger/merkle.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { devSignIn, freshPage, seriousViolations } from '../support/console-page.js';
import { testEvent } from '../support/test-event.js';

/**
 * The console's Ledger page (docs/console.md): filters by subject, actor and time narrow the
 * list; an event's inclusion proof is shown and checked in the browser; the filtered events
 * download as JSON lines that verify as the service's export does.
 */

interface Row {
  readonly seq: number;
  readonly ts: string;
  readonly subject: string;
  readonly actor: { readonly sub: string };
}

/** The seqs the events table shows, once its caption says the filter is applied. */
async function shownSeqs(table: Locator): Promise<number[]> {
  return (await table.locator('tbody tr td:nth-child(1)').allTextContents()).map(Number);
}

describe('web console: the Ledger page', () => {
  let app: TestApp;
  let browser: TestBrowser;
  let events: Row[];
  let treeSize: number;

  beforeAll(async () => {
    // Checkpoints on demand only: the one made below stays the latest.
    [app, browser] = await Promise.all([
      startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' }),
      launchBrowser(),
    ]);
    const ledger = app.running.app.get(LedgerService);
    // Rounds a millisecond apart, so a window of time has edges between events.
    for (let round = 0; round < 3; round++) {
      const start = Date.now();
      while (Date.now() <= start + 1) await new Promise((resolve) => setImmediate(resolve));
      for (const [i, sub] of ['alice', 'bob', 'carol'].entries()) {
        await ledger.transaction((tx) => {
          tx.record(testEvent(`model:credit@${i}`, { sub, roles: ['validator'] }, { round }));
        });
      }
    }
    const admin = await app.token('adam', 'admin');
    const checkpoint = await app.gql<{ createCheckpoint: { treeSize: number } }>(
      'mutation { createCheckpoint { treeSize } }',
      {},
      admin,
    );
    expect(checkpoint.errors).toBeUndefined();
    treeSize = checkpoint.data!.createCheckpoint.treeSize;
    const read = await app.gql<{ ledgerEvents: { events: Row[] } }>(
      '{ ledgerEvents(limit: 100) { events { seq ts subject actor { sub } } } }',
      {},
      await app.token('audrey', 'auditor'),
    );
    expect(read.errors).toBeUndefined();
    events = read.data!.ledgerEvents.events;
    expect(events.length).toBeLessThan(25);
  });

  afterAll(async () => {
    await browser.close();
    await app.close();
  });

  it('narrows the events by subject, actor and time, and refuses a bad window by name', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/ledger`, 'audrey', 'auditor');
    const main = page.getByRole('main');
    const table = main.getByRole('table');
    await table.locator('caption', { hasText: /^Events 1–\d+$/ }).waitFor();
    // Signing in is ledgered too: the events written above, then the sign-in's.
    expect((await shownSeqs(table)).slice(0, events.length)).toEqual(events.map((e) => e.seq));

    const form = main.getByRole('search', { name: 'Filter events' });
    await form.getByLabel('Subject').fill('model:credit@1');
    await form.getByRole('button', { name: 'Filter' }).click();
    await table.locator('caption', { hasText: 'about “model:credit@1”' }).waitFor();
    expect(await shownSeqs(table)).toEqual(
      events.filter((e) => e.subject === 'model:credit@1').map((e) => e.seq),
    );

    await form.getByLabel('Subject').fill('');
    await form.getByLabel('Actor').fill('carol');
    await form.getByRole('button', { name: 'Filter' }).click();
    await table.locator('caption', { hasText: /^Events [\d–]+ by “carol”$/ }).waitFor();
    const byCarol = events.filter((e) => e.actor.sub === 'carol').map((e) => e.seq);
    expect(byCarol).toHaveLength(3);
    expect(await shownSeqs(table)).toEqual(byCarol);

    const instants = [...new Set(events.map((e) => e.ts))].sort();
    const from = instants[1]!;
    const to = instants[instants.length - 1]!;
    await form.getByLabel('Actor').fill('');
    await form.getByLabel('From (UTC)').fill(from);
    await form.getByLabel(/^To \(UTC/).fill(to);
    await form.getByRole('button', { name: 'Filter' }).click();
    await table.locator('caption', { hasText: `from ${from}, before ${to}` }).waitFor();
    const inWindow = events.filter((e) => e.ts >= from && e.ts < to).map((e) => e.seq);
    expect(inWindow.length).toBeGreaterThan(0);
    expect(inWindow.length).toBeLessThan(events.length);
    expect(await shownSeqs(table)).toEqual(inWindow);
    expect(await seriousViolations(page)).toEqual([]);

    await form.getByLabel('From (UTC)').fill('last tuesday');
    await form.getByRole('button', { name: 'Filter' }).click();
    const refusal = form.getByRole('alert');
    await refusal.getByText(/^From “last tuesday” is not a date/).waitFor();
    expect(await form.getByLabel('From (UTC)').getAttribute('aria-invalid')).toBe('true');
    await form.getByLabel('From (UTC)').fill(to);
    await form.getByLabel(/^To \(UTC/).fill(from);
    await form.getByRole('button', { name: 'Filter' }).click();
    await refusal.getByText(/^From must be before To/).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });

  it('shows an event’s inclusion proof, checked in the browser against the latest checkpoint', async () => {
    const { context, page, faults } = await freshPage(browser);
    await devSignIn(page, `${app.url}/console/ledger`, 'audrey', 'auditor');
    const main = page.getByRole('main');
    const table = main.getByRole('table');
    const chosen = events[4]!;
    await table.getByRole('link', { name: String(chosen.seq), exact: true }).click();
    const proof = main.getByRole('region', { name: `Inclusion proof of event ${chosen.seq}` });
    await proof.getByText(/^Verified in this browser/).waitFor();
    expect(new URL(page.url()).search).toBe(`?seq=${chosen.seq}`);
    expect(await page.locator('#proof-title:focus').count()).toBe(1);
    expect(await proof.textContent()).toContain(`checkpoint of ${treeSize} events`);
    expect(await proof.locator('ol li').count()).toBeGreaterThan(0);
    expect(await seriousViolations(page)).toEqual([]);

    // A link straight to one event's proof, as the Request page's receipt gives.
    await page.goto(`${app.url}/console/ledger?seq=${events[0]!.seq}`);
    await main
      .getByRole('region', { name: `Inclusion proof of event ${events[0]!.seq}` })
      .getByText(/^Verified in this browser/)
      .waitFor();
    await main.getByRole('link', { name: 'Close the proof' }).click();
    await main.getByRole('heading', { name: /^Inclusion proof/ }).waitFor({ state: 'detached' });
    expect(new URL(page.url()).search).toBe('');

    // The checkpoint's own event comes after the tree it signs.
    await page.goto(`${app.url}/console/ledger?seq=${treeSize + 1}`);
    await main
      .getByText(`event ${treeSize + 1} can be proved once a checkpoint covers it`, {
        exact: false,
      })
      .waitFor();
    await page.goto(`${app.url}/console/ledger?seq=9999`);
    await main.getByRole('alert').getByText('The ledger has no event 9999.').waitFor();
    expect(faults).toEqual([]);
    await context.close();
  });

  it('downloads the events matching the filter as JSON lines that verify', async () => {
    const { context, page, faults } = await freshPage(browser, { downloads: true });
    await devSignIn(page, `${app.url}/console/ledger`, 'audrey', 'auditor');
    const main = page.getByRole('main');
    const form = main.getByRole('search', { name: 'Filter events' });
    await form.getByLabel('Actor').fill('bob');
    await form.getByRole('button', { name: 'Filter' }).click();
    await main.getByRole('table').locator('caption', { hasText: 'by “bob”' }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      main.getByRole('button', { name: /^Download the matching events/ }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('ledger-events-actor-bob.jsonl');
    const text = readFileSync(await download.path(), 'utf8');
    const lines = text.trimEnd().split('\n');
    const bobs = events.filter((e) => e.actor.sub === 'bob');
    expect(lines).toHaveLength(bobs.length);
    for (const [i, line] of lines.entries()) {
      const parsed = JSON.parse(line) as { event: Row; hash: string; jws: string };
      expect(parsed.event.seq).toBe(bobs[i]!.seq);
      expect(parsed.event.actor.sub).toBe('bob');
      // The canonical text is in the line byte for byte: its leaf hash is the event hash.
      const canonical = /^\{"event":(.*),"hash":"[0-9a-f]{64}","jws":"[^"]+"\}$/.exec(line)?.[1];
      expect(leafHash(Buffer.from(canonical ?? '')).toString('hex')).toBe(parsed.hash);
    }
    await main
      .getByText(`Downloaded ${bobs.length} events as ledger-events-actor-bob.jsonl`, {
        exact: false,
      })
      .waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    expect(faults).toEqual([]);
    await context.close();
  });
});
