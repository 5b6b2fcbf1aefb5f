import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigModule } from '../config/config.module.js';
import { loadConfig, type Config } from '../config/config.js';
import { DatabaseModule } from '../database/database.module.js';
import { LedgerModule } from '../ledger/ledger.module.js';
import { loadPolicies } from '../policy/policies.js';
import { PolicyModule } from '../policy/policy.module.js';

@Module({})
class CliModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        PolicyModule.forRoot(loadPolicies(config.policiesDir)),
        DatabaseModule,
        LedgerModule,
      ],
    };
  }
}

/**
 * The service's modules without the HTTP server, for commands that act on the database
 * (`ledger verify`, `keys rotate`…). Closed, embedded PostgreSQL included, when `work` ends.
 */
export async function withAppContext<T>(
  work: (app: INestApplicationContext, config: Config) => Promise<T>,
): Promise<T> {
  const config = loadConfig(process.env);
  const app = await NestFactory.createApplicationContext(
    CliModule.forRoot({ ...config, ledger: { ...config.ledger, checkpointIntervalSeconds: 0 } }),
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
