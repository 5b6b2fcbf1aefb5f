import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities.js';

/**
 * The one TypeORM data source. The schema comes only from the migrations in `migrations/`;
 * `synchronize` is never on.
 */
export function createDataSource(url: string, options: { poolSize?: number } = {}): DataSource {
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
  });
}
