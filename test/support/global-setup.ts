import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type EmbeddedModule = typeof import('../../src/database/embedded-postgres.js');
type FreePortModule = typeof import('./free-port.js');
type ChromiumPathModule = typeof import('./chromium-path.js');

/**
 * Once per test run: a PostgreSQL server (DATABASE_URL, or an embedded one when it is unset,
 * as on a fresh clone) and a run id. The migrated template database is made by the first test
 * file that needs one (test/support/database.ts), because Jest runs this file outside its ESM
 * module system, where the service's modules cannot be loaded.
 */
export default async function globalSetup(): Promise<void> {
  if (!process.env['DATABASE_URL']) {
    // Jest compiles this file to CommonJS; these modules have no relative imports, so they load
    // here by their extensionless paths.
    const specifier: string = '../../src/database/embedded-postgres';
    const { startEmbeddedPostgres } = (await import(specifier)) as EmbeddedModule;
    const portSpecifier: string = './free-port';
    const { freePort } = (await import(portSpecifier)) as FreePortModule;
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-pg-'));
    const embedded = await startEmbeddedPostgres(dir, await freePort());
    process.env['DATABASE_URL'] = embedded.url;
    (globalThis as { gatehouseTestPostgres?: { stop(): Promise<void> } }).gatehouseTestPostgres =
      embedded;
  }
  // Chromium is unpacked once, before the workers start: two test files unpacking it into the
  // same /tmp/chromium at once would leave a corrupt binary for both.
  const chromiumSpecifier: string = './chromium-path';
  const { chromiumPath } = (await import(chromiumSpecifier)) as ChromiumPathModule;
  await chromiumPath();
  process.env['GATEHOUSE_TEST_SERVER_URL'] = process.env['DATABASE_URL'];
  process.env['GATEHOUSE_TEST_RUN_ID'] =
    `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}
