import { loadConfig } from '../../config/config.js';
import { Database } from '../../database/database.module.js';
import { ENTITIES } from '../../entities.js';

/** Applies pending migrations (the service also does this at start-up) and reports them. */
export async function migrate(): Promise<void> {
  const config = loadConfig(process.env);
  const database = await Database.open(config, ENTITIES);
  try {
    const rows = await database.dataSource.query<{ name: string }[]>(
      'SELECT name FROM schema_migrations ORDER BY id',
    );
    process.stdout.write(
      `schema up to date: ${rows.length} migrations (last: ${rows.at(-1)?.name ?? 'none'})\n`,
    );
  } finally {
    await database.onApplicationShutdown();
  }
}
