import { DynamicModule, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import type { MercuriusDriverConfig } from '@nestjs/mercurius';
import { AuthModule } from './auth/auth.module.js';
import { ConfigModule } from './config/config.module.js';
import type { Config } from './config/config.js';
import { DatabaseModule } from './database/database.module.js';
import { graphqlOptions } from './graphql/graphql-options.js';
import { HealthModule } from './health/health.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import type { Policies } from './policy/policies.js';
import { PolicyModule } from './policy/policy.module.js';

@Module({})
export class AppModule {
  static forRoot(config: Config, policies: Policies): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        PolicyModule.forRoot(policies),
        DatabaseModule,
        LedgerModule,
        AuthModule,
        GraphQLModule.forRoot<MercuriusDriverConfig>(graphqlOptions(config)),
        HealthModule,
      ],
    };
  }
}
