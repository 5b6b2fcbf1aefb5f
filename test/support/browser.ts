import { existsSync } from 'node:fs';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
} from 'playwright-core';

const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** The flags of every test browser: headless, no sandbox (containers), nothing phoning home. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** The system's Chromium when there is one, else the build @sparticuz/chromium unpacks. */
async function chromiumPath(): Promise<string> {
  if (existsSync(SYSTEM_CHROMIUM)) return SYSTEM_CHROMIUM;
  const sparticuz = (await import('@sparticuz/chromium')).default;
  return sparticuz.executablePath();
}

/** Playwright's context options, downloads aside: a test that expects one says so. */
export interface TestContextOptions extends Omit<BrowserContextOptions, 'acceptDownloads'> {
  /** Accept downloads (Playwright's `download` event, saved to a temporary file). */
  readonly downloads?: boolean;
}

export interface TestBrowser {
  /** A fresh context: its own profile, no downloads unless asked for. */
  context(options?: TestContextOptions): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** Chromium, headless, driven through playwright-core. */
export async function launchBrowser(): Promise<TestBrowser> {
  const browser: Browser = await chromium.launch({
    executablePath: await chromiumPath(),
    args: ARGS,
    headless: true,
    // navigator.language follows LANG: C.UTF-8 gives `en-US@posix`, which Intl refuses.
    env: { ...process.env, LANG: 'en_US.UTF-8' },
  });
  return {
    context: ({ downloads = false, ...options } = {}) =>
      browser.newContext({ ...options, acceptDownloads: downloads }),
    close: () => browser.close(),
  };
}
