import { Module } from '@nestjs/common';
import { ArmMetricsModule } from '../arm-metrics/arm-metrics.module.js';
import { ArtifactsModule } from '../artifacts/artifacts.module.js';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { PredictionLogModule } from '../prediction-log/prediction-log.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { CandidateExecutor } from './candidate-executor.service.js';
import { EndpointRouter } from './endpoint-router.service.js';
import { EndpointStateReader } from './endpoint-state-reader.service.js';
import { InferenceService } from './inference.service.js';
import { ModelExecutor } from './model-executor.service.js';
import { OipController } from './oip.controller.js';

@Module({
  imports: [
    PredictionLogModule,
    ArmMetricsModule,
    EndpointsModule,
    RegistryModule,
    ArtifactsModule,
  ],
  providers: [
    EndpointStateReader,
    EndpointRouter,
    ModelExecutor,
    CandidateExecutor,
    InferenceService,
  ],
  controllers: [OipController],
  exports: [EndpointRouter, InferenceService, EndpointStateReader],
})
export class InferenceModule {}
