import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

/** The entities a data source maps: every table's, listed in src/entities.ts. */
export type Entities = NonNullable<DataSourceOptions['entities']>;

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
  entities: Entities,
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
    entities,
    poolSize: options.poolSize ?? 10,
    applicationName: 'gatehouse',
    ...(options.readOnly === true
      ? { extra: { options: '-c default_transaction_read_only=on' }, installExtensions: false }
      : {}),
  });
}
