/**
 * scripts/docs-screenshots, `npm run docs:screenshots`: a PNG of every console page for
 * docs/console.md. `gatehouse demo --keep-serving` tells its story against a fresh database on
 * DATABASE_URL's server (default: the local PostgreSQL) and stays up with one request waiting
 * for the compliance officer; Chromium signs in with the dev sign-in as the person each page is
 * for (PAGES below), takes the sign-in page, every page the navigation offers and the pages
 * reached from them, at one fixed viewport, into docs/console/, and rewrites the list of
 * pictures in docs/console.md. Pictures of pages the console no longer has are removed.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { benchDatabase } from '../bench/support/bench-db.js';
import { launchBrowser, type TestBrowser } from '../test/support/browser.js';

const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));
const OUT = fileURLToPath(new URL('../../docs/console/', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/console.md', import.meta.url));
const VIEWPORT = { width: 1280, height: 800 };
const BEGIN = '<!-- screenshots: written by npm run docs:screenshots -->';
const END = '<!-- end of screenshots -->';

interface Person {
  readonly subject: string;
  readonly roles: readonly string[];
}

const COMPLIANCE_OFFICER: Person = { subject: 'cora', roles: ['compliance-officer'] };
const ML_ENGINEER: Person = { subject: 'erin', roles: ['ml-engineer'] };
const AUDITOR: Person = { subject: 'audrey', roles: ['auditor'] };

interface PageShot {
  /** The console route, under /console. */
  readonly route: string;
  /** Who looks at it: the person whose work the page is for, whose roles may open it. */
  readonly as: Person;
  /** A page reached from this one, by the first link `link` finds in the page's main. */
  readonly leadsTo?: {
    readonly name: string;
    readonly label: string;
    readonly link: string;
    /** Waits for what the picture should show, beyond the page having loaded. */
    readonly ready?: (page: Page) => Promise<void>;
    /** What the person does there once it is taken. */
    readonly then?: (page: Page) => Promise<void>;
  };
}

const STATEMENT =
  'I reviewed the model card, the fairness audit, the gates and the rollback criteria, and sign off.';

/**
 * The compliance officer signs the waiting request off, as the README's tour does: the demo
 * then starts its rollout, and the Rollouts pictures show it under way.
 */
async function signOff(page: Page): Promise<void> {
  const main = page.locator('main');
  await main.getByLabel(/^Statement/).fill(STATEMENT);
  await main.getByRole('button', { name: /^Approve as/ }).click();
  await main.locator('.receipt').getByText('Approved.').waitFor();
}

/** A rollout under way has drawn its charts; a finished one has none to wait for. */
async function chartsOrFinished(page: Page): Promise<void> {
  const main = page.locator('main');
  const finished = main.getByText('No stage is in progress: the rollout has finished.');
  await Promise.race([
    main.locator('.arm-chart canvas').nth(2).waitFor({ timeout: 120_000 }),
    finished.waitFor({ timeout: 120_000 }),
  ]);
  // A few of the page's two-second readings, so that the charts draw lines rather than points.
  if ((await finished.count()) === 0) await page.waitForTimeout(6_000);
}

/**
 * Every page's route and who it is taken as, in one place. A page the navigation offers and
 * this list does not name is taken all the same, as the auditor (who may read everything).
 * The order is the navigation's.
 */
const PAGES: readonly PageShot[] = [
  {
    route: '/inbox',
    as: COMPLIANCE_OFFICER,
    leadsTo: {
      name: 'request',
      label: 'Promotion request',
      link: 'a[href^="/console/requests/"]',
      then: signOff,
    },
  },
  {
    route: '/rollouts',
    as: ML_ENGINEER,
    leadsTo: {
      name: 'rollout',
      label: 'Rollout',
      link: 'a[href^="/console/rollouts/"]',
      ready: chartsOrFinished,
    },
  },
  { route: '/endpoints', as: ML_ENGINEER },
  { route: '/ledger', as: AUDITOR },
  { route: '/reports', as: COMPLIANCE_OFFICER },
];

interface Shot {
  readonly file: string;
  readonly label: string;
  readonly path: string;
  readonly as: Person | null;
}

/**
 * A page is ready once its main has a heading, nothing in it is still loading and every chart
 * (a figure's picture, role img) has drawn.
 */
async function settled(page: Page): Promise<void> {
  const main = page.locator('main');
  await main.locator('h1').first().waitFor();
  const loading = [
    main.locator('[aria-busy="true"]'),
    main.locator('[role="status"]', { hasText: /^(Loading|Checking)/ }),
    main.locator('figure [role="img"]:not(:has(canvas, svg, img))'),
  ];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const counts = await Promise.all(loading.map((locator) => locator.count()));
    if (counts.every((count) => count === 0)) break;
    if (Date.now() > deadline) throw new Error(`${page.url()} is still loading after a minute`);
    await page.waitForTimeout(100);
  }
  await page.evaluate('document.fonts.ready.then(() => true)');
}

async function shoot(page: Page, name: string): Promise<string> {
  const file = `${name}.png`;
  await page.screenshot({ path: join(OUT, file), fullPage: true, animations: 'disabled' });
  return file;
}

function slug(route: string): string {
  return (
    route
      .replace(/^\//, '')
      .replace(/[^a-z0-9]+/gi, '-')
      .toLowerCase() || 'home'
  );
}

async function contextFor(browser: TestBrowser, url: string, as: Person | null) {
  const context = await browser.context({
    viewport: VIEWPORT,
    deviceScaleFactor: 1,
    colorScheme: 'light',
    reducedMotion: 'reduce',
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  if (as) {
    const response = await context.request.post(`${url}/console/auth/dev-login`, {
      headers: { origin: url },
      data: { subject: as.subject, roles: as.roles },
    });
    if (!response.ok()) throw new Error(`dev sign-in as ${as.subject}: ${response.status()}`);
  }
  return context;
}

async function takeAll(browser: TestBrowser, url: string): Promise<Shot[]> {
  const shots: Shot[] = [];
  const contexts = new Map<Person | null, BrowserContext>();
  const pageAs = async (as: Person | null): Promise<Page> => {
    let context = contexts.get(as);
    if (!context) {
      context = await contextFor(browser, url, as);
      contexts.set(as, context);
    }
    return context.newPage();
  };

  const signedOut = await pageAs(null);
  await signedOut.goto(`${url}/console/`);
  await signedOut.getByRole('form', { name: /^Dev sign-in/ }).waitFor();
  await settled(signedOut);
  shots.push({ file: await shoot(signedOut, 'sign-in'), label: 'Sign-in', path: '/', as: null });

  // The navigation's entries as the console shows them today: it offers each person the pages
  // their roles may open, so the entries of everyone here, the auditor's (all) first.
  const entries: { path: string; label: string }[] = [];
  for (const person of new Set([AUDITOR, ...PAGES.map((shot) => shot.as)])) {
    const home = await pageAs(person);
    await home.goto(`${url}/console/`);
    const nav = home.getByRole('navigation', { name: 'Console' }).getByRole('link');
    await nav.first().waitFor();
    for (const link of await nav.all()) {
      const path = (await link.getAttribute('href')) ?? '';
      const label = ((await link.textContent()) ?? '').trim();
      if (!entries.some((entry) => entry.path === path)) entries.push({ path, label });
    }
    await home.close();
  }
  for (const entry of entries) {
    const route = entry.path.replace(/^\/console/, '');
    const known = PAGES.find((candidate) => candidate.route === route);
    const as = known?.as ?? AUDITOR;
    const page = await pageAs(as);
    await page.goto(`${url}${entry.path}`);
    await settled(page);
    shots.push({ file: await shoot(page, slug(route)), label: entry.label, path: route, as });
    if (known?.leadsTo) {
      const link = page.locator('main').locator(known.leadsTo.link).first();
      const path = (await link.getAttribute('href')) ?? '';
      await link.click();
      await page.waitForURL(`${url}${path}`);
      await settled(page);
      await known.leadsTo.ready?.(page);
      shots.push({
        file: await shoot(page, known.leadsTo.name),
        label: known.leadsTo.label,
        path: path.replace(/^\/console/, '').replace(/[0-9a-f-]{36}$/, '<id>'),
        as,
      });
      await known.leadsTo.then?.(page);
    }
  }
  for (const context of contexts.values()) await context.close();
  return shots;
}

/** Rewrites the pictures' list in docs/console.md, between its two markers. */
function writeDoc(shots: readonly Shot[]): void {
  const doc = readFileSync(DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`${DOC} lacks the markers ${BEGIN} … ${END}`);
  const list = shots.map((shot) => {
    const who = shot.as ? `, as ${shot.as.subject} (${shot.as.roles.join(', ')})` : '';
    return `**${shot.label}** (\`/console${shot.path === '/' ? '' : shot.path}\`${who}):\n\n![${shot.label}](console/${shot.file})`;
  });
  writeFileSync(
    DOC,
    `${doc.slice(0, begin + BEGIN.length)}\n\n${list.join('\n\n')}\n\n${doc.slice(end)}`,
  );
}

interface Demo {
  readonly url: string;
  stop(): Promise<void>;
}

/** `gatehouse demo --keep-serving`, resolved once its story is told and its console is up. */
function startDemo(databaseUrl: string, dataDir: string): Promise<Demo> {
  const args = ['demo', '--data-dir', dataDir, '--database-url', databaseUrl, '--keep-serving'];
  const child = spawn(process.execPath, [BIN, ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      const url = /console: (http:\/\/\S+)\/console\n[^]*sign it off\n/.exec(output)?.[1];
      if (url) {
        child.stdout.removeAllListeners('data');
        child.stdout.resume();
        resolve({
          url,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then(() => {
      reject(new Error(`gatehouse demo ended before serving:\n${output}`));
    });
  });
}

/**
 * The demo on a fresh database and data folder. Its rollouts judge live latency, which a machine
 * busy with other work can breach: then the story fails, and it is told again from the start.
 */
async function demoServing(): Promise<{ demo: Demo; cleanUp: () => Promise<void> }> {
  for (let attempt = 1; ; attempt++) {
    const database = await benchDatabase('screenshots', 1);
    await database.dataSource.destroy();
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-screenshots-'));
    const cleanUp = async (): Promise<void> => {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    };
    try {
      console.log(`telling the demo story (a few minutes; attempt ${attempt})…`);
      return { demo: await startDemo(database.url, dataDir), cleanUp };
    } catch (error) {
      await cleanUp();
      if (attempt === 3) throw error;
      console.log(String(error).split('\n').slice(-6).join('\n'));
    }
  }
}

async function main(): Promise<void> {
  const { demo, cleanUp } = await demoServing();
  let browser: TestBrowser | undefined;
  try {
    browser = await launchBrowser();
    mkdirSync(OUT, { recursive: true });
    const shots = await takeAll(browser, demo.url);
    const written = new Set(shots.map((shot) => shot.file));
    for (const file of readdirSync(OUT)) {
      if (file.endsWith('.png') && !written.has(file)) rmSync(join(OUT, file));
    }
    writeDoc(shots);
    for (const shot of shots) console.log(`docs/console/${shot.file}: ${shot.label}`);
  } finally {
    await browser?.close();
    await demo.stop();
    await cleanUp();
  }
}

await main();
