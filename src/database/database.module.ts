import {
  Global,
  Injectable,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { createDataSource, type Entities } from './data-source.js';
import {
  embeddedClusterExists,
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from './embedded-postgres.js';
import { pendingMigrations, runMigrations } from './migrate.js';
import type { DatabaseSupervisorState } from './supervisor-state.js';

/** The database as the service holds it: the data source and, on the default, its server. */
@Injectable()
export class Database implements OnApplicationShutdown {
  private static readonly logger = new Logger('Database');
  private migrated = false;

  private constructor(
    readonly dataSource: DataSource,
    /** For parts that need connections of their own (LISTEN, the job queue). Secret. */
    readonly url: string,
    private readonly embedded: EmbeddedDatabase | undefined,
  ) {}

  /**
   * `readOnly` (commands that only read, such as `gatehouse ledger verify`): every session is
   * read-only, nothing is migrated (a schema behind the code is an error naming
   * `gatehouse migrate`), and no embedded cluster is created where there is none.
   */
  static async open(
    config: Config,
    entities: Entities,
    options: { readOnly?: boolean } = {},
  ): Promise<Database> {
    const readOnly = options.readOnly === true;
    let embedded: EmbeddedDatabase | undefined;
    let url = config.databaseUrl;
    if (url === undefined) {
      if (readOnly && !embeddedClusterExists(config.dataDir)) {
        throw new Error(
          `there is no database to read: no embedded PostgreSQL in ${config.dataDir} and DATABASE_URL is unset`,
        );
      }
      embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, {
        events: Database.logger,
      });
      Database.logger.log(
        `embedded PostgreSQL on 127.0.0.1:${config.embeddedPostgresPort}, data in ${config.dataDir}`,
      );
      url = embedded.url;
    }
    const dataSource = createDataSource(url, entities, { readOnly });
    try {
      await dataSource.initialize();
      const database = new Database(dataSource, url, embedded);
      if (readOnly) {
        await assertReadOnly(dataSource);
        const pending = await pendingMigrations(dataSource);
        if (pending.length > 0) {
          throw new Error(
            `the database schema is behind this version (${pending.length} migrations pending): run gatehouse migrate`,
          );
        }
      } else {
        const applied = await runMigrations(dataSource);
        if (applied.length > 0) Database.logger.log(`migrations applied: ${applied.join(', ')}`);
      }
      database.migrated = true;
      return database;
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
      throw error;
    }
  }

  /**
   * Migrations ran and the data source is open. Whether the server answers now is the
   * readiness probe's question (src/health), asked over a connection of its own.
   */
  get opened(): boolean {
    return this.migrated && this.dataSource.isInitialized;
  }

  /**
   * The embedded server's supervisor, for readiness: null when the service does not run its
   * own server (DATABASE_URL is set, or a command shares the service's).
   */
  supervisorState(): DatabaseSupervisorState | null {
    return this.embedded?.state() ?? null;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

/**
 * A connection string may carry its own `options`, which pg lets win over ours: a session that
 * is not read-only after all is refused rather than used.
 */
async function assertReadOnly(dataSource: DataSource): Promise<void> {
  const [row] = await dataSource.query<{ read_only: string }[]>(
    "SELECT current_setting('default_transaction_read_only') AS read_only",
  );
  if (row?.read_only !== 'on') {
    throw new Error(
      'the database session is not read-only (does DATABASE_URL set options=…?); refusing to go on',
    );
  }
}

/** `Database` and its `DataSource` as providers, the database opened by `open`. */
function databaseModule(
  module: DynamicModule['module'],
  open: (config: Config) => Promise<Database>,
): DynamicModule {
  return {
    module,
    providers: [
      { provide: Database, inject: [CONFIG], useFactory: open },
      { provide: DataSource, inject: [Database], useFactory: (db: Database) => db.dataSource },
    ],
    exports: [Database, DataSource],
  };
}

/** The database of the service: migrated at start-up. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(entities: Entities): DynamicModule {
    return databaseModule(DatabaseModule, (config) => Database.open(config, entities));
  }
}

/** The database for commands that only read: read-only sessions, no migrations. */
@Global()
@Module({})
export class ReadOnlyDatabaseModule {
  static forRoot(entities: Entities): DynamicModule {
    return databaseModule(ReadOnlyDatabaseModule, (config) =>
      Database.open(config, entities, { readOnly: true }),
    );
  }
}
