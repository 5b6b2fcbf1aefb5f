import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
} from 'playwright-core';
import { chromiumPath } from './chromium-path.js';

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

/**
 * Chromium, headless, driven through playwright-core. A launch is tried three times: on a busy
 * machine Chromium now and then dies in its first moments (its zygote's pipe broken), which says
 * nothing of the console under test.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const executablePath = await chromiumPath();
  const launch = (): Promise<Browser> =>
    chromium.launch({
      executablePath,
      args: ARGS,
      headless: true,
      // navigator.language follows LANG: C.UTF-8 gives `en-US@posix`, which Intl refuses.
      env: { ...process.env, LANG: 'en_US.UTF-8' },
    });
  const browser = await launch().catch(launch).catch(launch);
  return {
    context: ({ downloads = false, ...options } = {}) =>
      browser.newContext({ ...options, acceptDownloads: downloads }),
    close: () => browser.close(),
  };
}
