import { Logger } from '@nestjs/common';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';

const logger = new Logger('Database');

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
    // An idle pooled connection that dies (the server restarted, the network cut) is dropped by
    // the pool and replaced on the next checkout; TypeORM's own report of it is silent unless
    // its query logging is on.
    poolErrorHandler: (error: unknown) => {
      logger.warn(
        `an idle database connection was lost: ${error instanceof Error ? error.message : String(error)}`,
      );
    },
    ...(options.readOnly === true
      ? { extra: { options: '-c default_transaction_read_only=on' }, installExtensions: false }
      : {}),
  });
}
