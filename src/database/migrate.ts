import { MigrationExecutor, type DataSource } from 'typeorm';

/** Arbitrary but fixed: every replica takes this lock before migrating. */
const MIGRATION_LOCK_KEY = 7_350_001;

/**
 * Runs pending migrations under a session-level advisory lock, so replicas starting together
 * migrate once and the others wait, then find nothing left to do. The lock and the migrations
 * share one connection, so this works with a pool of one.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    const applied = await executor.executePendingMigrations();
    return applied.map((m) => m.name);
  } finally {
    await runner
      .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
      .catch(() => undefined);
    await runner.release();
  }
}

/** The names of the migrations not applied yet, read without creating or changing anything. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const pending = await new MigrationExecutor(dataSource).getPendingMigrations();
  return pending.map((m) => m.name);
}
