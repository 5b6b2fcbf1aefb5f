import pg from 'pg';
import { createDataSource } from '../../src/database/data-source.js';
import { runMigrations } from '../../src/database/migrate.js';
import type { DataSource } from 'typeorm';

/** A fresh, migrated database on DATABASE_URL's server (default: the local PostgreSQL). */
export async function benchDatabase(
  name: string,
  poolSize: number,
): Promise<{ dataSource: DataSource; url: string; drop(): Promise<void> }> {
  const server = process.env['DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const database = `gh_bench_${name}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${database}`;
  const dataSource = createDataSource(url.toString(), { poolSize });
  await dataSource.initialize();
  await runMigrations(dataSource);
  return {
    dataSource,
    url: url.toString(),
    async drop() {
      if (dataSource.isInitialized) await dataSource.destroy();
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function machine(): string {
  return `${String(navigator.hardwareConcurrency)} cores, Node ${process.version}`;
}
