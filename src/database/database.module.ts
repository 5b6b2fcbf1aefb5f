import { Global, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { createDataSource } from './data-source.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { runMigrations } from './migrate.js';

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

  static async open(config: Config): Promise<Database> {
    let embedded: EmbeddedDatabase | undefined;
    let url = config.databaseUrl;
    if (url === undefined) {
      embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort);
      Database.logger.log(
        `embedded PostgreSQL on 127.0.0.1:${config.embeddedPostgresPort}, data in ${config.dataDir}`,
      );
      url = embedded.url;
    }
    const dataSource = createDataSource(url);
    try {
      await dataSource.initialize();
      const database = new Database(dataSource, url, embedded);
      const applied = await runMigrations(dataSource);
      if (applied.length > 0) Database.logger.log(`migrations applied: ${applied.join(', ')}`);
      database.migrated = true;
      return database;
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy();
      await embedded?.stop();
      throw error;
    }
  }

  /** Ready: migrations ran and the server answers. */
  async isReady(): Promise<boolean> {
    if (!this.migrated || !this.dataSource.isInitialized) return false;
    try {
      await this.dataSource.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.embedded?.stop();
  }
}

@Global()
@Module({
  providers: [
    { provide: Database, inject: [CONFIG], useFactory: (config: Config) => Database.open(config) },
    { provide: DataSource, inject: [Database], useFactory: (db: Database) => db.dataSource },
  ],
  exports: [Database, DataSource],
})
export class DatabaseModule {}
