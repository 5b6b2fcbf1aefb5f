import { Module } from '@nestjs/common';
import { ArmMetricsModule } from '../arm-metrics/arm-metrics.module.js';
import { PredictionLogModule } from '../prediction-log/prediction-log.module.js';
import { EndpointRouter } from './endpoint-router.service.js';
import { EndpointStateRepository } from './endpoint-state.repository.js';
import { InferenceService } from './inference.service.js';
import { ModelExecutor } from './model-executor.js';
import { OipController } from './oip.controller.js';

@Module({
  imports: [PredictionLogModule, ArmMetricsModule],
  providers: [EndpointStateRepository, EndpointRouter, ModelExecutor, InferenceService],
  controllers: [OipController],
  exports: [EndpointRouter, InferenceService],
})
export class InferenceModule {}
