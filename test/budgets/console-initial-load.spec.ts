import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  INITIAL_JS_BUDGET_BYTES,
  initialLoad,
  initialReferences,
} from '../../bench/console/initial-load.js';

/**
 * The console's initial JavaScript, gzipped, stays within its budget (docs/benchmarks.md,
 * `npm run bench:console`). A size, so a test: it reads the build `npm test` makes first.
 */

const DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

describe("the console's initial load", () => {
  it('keeps the JavaScript index.html loads at once within the budget, gzipped', () => {
    expect(existsSync(`${DIST}index.html`)).toBe(true);
    const load = initialLoad(DIST);
    expect(load.scripts.length).toBeGreaterThan(0);
    expect(load.scripts.every((file) => file.gzipBytes > 0 && file.gzipBytes < file.bytes)).toBe(
      true,
    );
    expect(load.scriptGzipBytes).toBeLessThanOrEqual(INITIAL_JS_BUDGET_BYTES);
  });

  it('counts every script and modulepreload link, and stylesheets apart', () => {
    const html = `<!doctype html><html><head>
      <script type="module" crossorigin src="/console/assets/index-a1.js"></script>
      <link rel="modulepreload" crossorigin href="/console/assets/react-b2.js">
      <link rel='modulepreload' href='/console/assets/uplot-c3.js' />
      <link rel="stylesheet" crossorigin href="/console/assets/index-d4.css">
      <link rel="icon" href="/console/favicon.svg">
      <script src="/console/legacy.js"></script>
      <script>inline()</script>
      </head><body><div id="root"></div></body></html>`;
    expect(initialReferences(html)).toEqual({
      scripts: [
        '/console/assets/index-a1.js',
        '/console/legacy.js',
        '/console/assets/react-b2.js',
        '/console/assets/uplot-c3.js',
      ],
      stylesheets: ['/console/assets/index-d4.css'],
    });
  });
});
