import { closeSync, openSync, writeSync } from 'node:fs';
import pg from 'pg';
import { createDataSource } from '../../src/database/data-source.js';
import { runMigrations } from '../../src/database/migrate.js';
import { ENTITIES } from '../../src/entities.js';
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
  const dataSource = createDataSource(url.toString(), ENTITIES, { poolSize });
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

/**
 * The machine, with what its figures depend on most: a system call's cost. Every request costs
 * a server a few (its read, its write, the wake-up of an event loop); on a virtual machine
 * whose kernel isolates page tables (PTI) they cost several times what they do on bare
 * hardware, and vary between such machines enough to move the same build's peak by a third.
 */
export function machine(): string {
  const fd = openSync('/dev/null', 'w');
  const byte = Buffer.alloc(1);
  const calls = 50_000;
  const start = performance.now();
  for (let i = 0; i < calls; i++) writeSync(fd, byte);
  const syscallUs = ((performance.now() - start) * 1000) / calls;
  closeSync(fd);
  return `${String(navigator.hardwareConcurrency)} cores, Node ${process.version}, a write(2) to /dev/null ${syscallUs.toFixed(2)} µs`;
}
