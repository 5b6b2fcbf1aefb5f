import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities.js';

/**
 * The one TypeORM data source. The schema comes only from the migrations in `migrations/`;
 * `synchronize` is never on.
 *
 * `readOnly`: every session starts with `default_transaction_read_only` on, so that any write,
 * whatever code attempts it, fails with "cannot execute … in a read-only transaction" instead of
 * happening; and TypeORM installs no extensions.
 */
export function createDataSource(
  url: string,
  options: { poolSize?: number; readOnly?: boolean } = {},
): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'schema_migrations',
    migrationsTransactionMode: 'each',
    entities: ENTITIES,
    poolSize: options.poolSize ?? 10,
    applicationName: 'gatehouse',
    ...(options.readOnly === true
      ? { extra: { options: '-c default_transaction_read_only=on' }, installExtensions: false }
      : {}),
  });
}
