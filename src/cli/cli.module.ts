import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig, type Config } from '../config/config.js';
import { DatabaseModule, ReadOnlyDatabaseModule } from '../database/database.module.js';
import { ENTITIES } from '../entities.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { WitnessAuditModule } from '../witnessing/witness-audit.service.js';

/**
 * `read-write`: the database migrated and the whole ledger, for commands that append
 * (`ledger checkpoint`, `keys rotate`). `read-only`: read-only database sessions and the
 * verifier alone, for commands that only read (`ledger verify`): nothing in it can write, and
 * a write attempted anyway fails.
 *
 * Neither loads the policies: `policy.loaded` records a policy the service runs, and a command
 * runs none (an operator's policies folder may differ from the service's).
 */
export type CliAccess = 'read-write' | 'read-only';

@Module({})
class CliModule {
  static forRoot(config: Config, access: CliAccess): DynamicModule {
    return {
      module: CliModule,
      imports:
        access === 'read-only'
          ? [
              ConfigModule.forRoot(config),
              ReadOnlyDatabaseModule.forRoot(ENTITIES),
              WitnessAuditModule,
            ]
          : [ConfigModule.forRoot(config), DatabaseModule.forRoot(ENTITIES), LedgerModule],
    };
  }
}

/**
 * The service's modules without the HTTP server, for commands that act on the database
 * (`ledger verify`, `keys rotate`…). Closed, embedded PostgreSQL included, when `work` ends.
 */
export async function withAppContext<T>(
  access: CliAccess,
  work: (app: INestApplicationContext, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig(process.env);
  const app = await NestFactory.createApplicationContext(
    CliModule.forRoot(
      { ...config, ledger: { ...config.ledger, checkpointIntervalSeconds: 0 } },
      access,
    ),
    {
      logger: ['error'],
      abortOnError: false,
    },
  );
  try {
    return await work(app, config);
  } finally {
    await app.close();
  }
}
