/**
 * bench/console, `npm run bench:console`. The console as a first visit downloads it: the
 * build (`npm run build:bench` builds it first) is read from web/dist/, index.html is parsed
 * for what it loads at once (its module script and modulepreload links; stylesheets apart),
 * and each file is gzipped with node:zlib at level 9. Goal: the initial JavaScript within
 * INITIAL_JS_BUDGET_BYTES gzipped. Exits non-zero when over the budget.
 */
import { fileURLToPath } from 'node:url';
import { machine } from '../support/bench-db.js';
import { INITIAL_JS_BUDGET_BYTES, initialLoad, type LoadedFile } from './initial-load.js';

const DIST = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

function rows(kind: string, files: readonly LoadedFile[]): string[] {
  return files.map(
    (file) =>
      `| ${kind} | ${file.href} | ${file.bytes.toLocaleString('en')} | ${file.gzipBytes.toLocaleString('en')} |`,
  );
}

function main(): void {
  const load = initialLoad(DIST);
  console.log(`bench/console on ${machine()}, ${new Date().toISOString()}`);
  console.log(`\nwhat ${DIST}index.html loads at once (gzip level 9):`);
  console.log('| kind | file | bytes | gzipped |');
  console.log('| ---- | ---- | ----: | ------: |');
  for (const line of [
    ...rows('script', load.scripts),
    ...rows('stylesheet', load.stylesheets),
    ...rows('document', [load.html]),
  ])
    console.log(line);
  const within = load.scriptGzipBytes <= INITIAL_JS_BUDGET_BYTES;
  console.log(
    `\ninitial JavaScript: ${load.scriptGzipBytes.toLocaleString('en')} bytes gzipped in ${load.scripts.length} file(s) ` +
      `(goal ≤ ${INITIAL_JS_BUDGET_BYTES.toLocaleString('en')}): ${within ? 'met' : 'NOT MET'}`,
  );
  console.log(`stylesheets: ${load.stylesheetGzipBytes.toLocaleString('en')} bytes gzipped`);
  if (!within) process.exitCode = 1;
}

main();
