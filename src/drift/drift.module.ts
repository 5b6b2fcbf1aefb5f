import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { EvaluationModule } from '../evaluation/evaluation.module.js';
import { PredictionLogModule } from '../prediction-log/prediction-log.module.js';
import { PromotionsModule } from '../promotions/promotions.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { DriftInputs } from './drift-inputs.service.js';
import { DriftMonitor } from './drift-monitor.service.js';
import { DriftRepository } from './drift.repository.js';
import { EndpointDriftResolver } from './endpoint-drift.resolver.js';

@Module({
  imports: [
    EndpointsModule,
    RegistryModule,
    EvaluationModule,
    PromotionsModule,
    PredictionLogModule,
  ],
  providers: [DriftRepository, DriftInputs, DriftMonitor, EndpointDriftResolver],
  exports: [DriftMonitor],
})
export class DriftModule {}
