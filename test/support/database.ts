import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDataSource } from '../../src/database/data-source.js';
import { ENTITIES } from '../../src/entities.js';
import { runMigrations } from '../../src/database/migrate.js';
import { withDatabase } from './postgres-admin.js';

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(
      `${name} is not set: run the tests through jest (test/support/global-setup.ts)`,
    );
  return value;
}

/** Same key in every worker: whoever takes it first builds the template, the others wait. */
const TEMPLATE_LOCK = 7_350_100;

/**
 * A fresh database for one test file, cloned from the run's template. The template is migrated
 * once per run, by the first file that gets here.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = env('GATEHOUSE_TEST_SERVER_URL');
  const runId = env('GATEHOUSE_TEST_RUN_ID');
  const template = `gh_tpl_${runId}`;
  const name = `gh_t_${runId}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK]);
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (exists.rowCount === 0) await buildTemplate(admin, serverUrl, template);
      // Cloning under the same lock: PostgreSQL copies a template for one session at a time.
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
    }
  } finally {
    await admin.end();
  }
  return {
    name,
    url: withDatabase(serverUrl, name),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client
        .query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        .finally(() => client.end());
    },
  };
}

async function buildTemplate(admin: pg.Client, serverUrl: string, template: string): Promise<void> {
  await admin.query(`CREATE DATABASE ${template}`);
  const dataSource = createDataSource(withDatabase(serverUrl, template), ENTITIES, { poolSize: 2 });
  await dataSource.initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}
