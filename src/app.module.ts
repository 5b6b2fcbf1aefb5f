import { DynamicModule, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ArtifactsModule } from './artifacts/artifacts.module.js';
import { AuthModule } from './auth/auth.module.js';
import { AuthService } from './auth/auth.service.js';
import { BatchModule } from './batch/batch.module.js';
import { BlobsModule } from './blobs/blobs.module.js';
import { ConfigModule } from './config/config.module.js';
import { ConsoleAuthModule } from './console-auth/console-auth.module.js';
import type { Config } from './config/config.js';
import { DatabaseModule } from './database/database.module.js';
import { DatasetsModule } from './datasets/datasets.module.js';
import { DriftModule } from './drift/drift.module.js';
import { EvaluationModule } from './evaluation/evaluation.module.js';
import { FeedbackModule } from './feedback/feedback.module.js';
import { EdgeModule } from './edge/edge.module.js';
import { EndpointsModule } from './endpoints/endpoints.module.js';
import { ENTITIES } from './entities.js';
import { graphqlOptions } from './graphql/graphql-options.js';
import { HealthModule } from './health/health.module.js';
import { JobsModule } from './jobs/jobs.module.js';
import { InferenceModule } from './inference/inference.module.js';
import { RuntimeModule } from './runtime/runtime.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import type { Policies } from './policy/policies.js';
import { PolicyModule } from './policy/policy.module.js';
import { PredictionLogModule } from './prediction-log/prediction-log.module.js';
import { PromotionsModule } from './promotions/promotions.module.js';
import { RegistryModule } from './registry/registry.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { RolloutsModule } from './rollouts/rollouts.module.js';
import { StreamingModule } from './streaming/streaming.module.js';
import { WitnessingModule } from './witnessing/witnessing.module.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';

@Module({})
export class AppModule {
  static forRoot(config: Config, policies: Policies): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        TelemetryModule.forRoot(config),
        PolicyModule.forRoot(policies),
        DatabaseModule.forRoot(ENTITIES),
        LedgerModule,
        AuthModule,
        ConsoleAuthModule,
        GraphQLModule.forRootAsync<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          inject: [AuthService],
          useFactory: (auth: AuthService) => graphqlOptions(config, auth),
        }),
        HealthModule,
        BlobsModule,
        RuntimeModule,
        JobsModule,
        ArtifactsModule,
        DatasetsModule,
        RegistryModule,
        EndpointsModule,
        PredictionLogModule,
        InferenceModule,
        BatchModule,
        EvaluationModule,
        PromotionsModule,
        RolloutsModule,
        FeedbackModule,
        DriftModule,
        ReportsModule,
        StreamingModule,
        WitnessingModule,
        EdgeModule,
      ],
    };
  }
}
