import { Module } from '@nestjs/common';
import { ArmMetricsModule } from '../arm-metrics/arm-metrics.module.js';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { EvaluationModule } from '../evaluation/evaluation.module.js';
import { FeedbackModule } from '../feedback/feedback.module.js';
import { PredictionLogModule } from '../prediction-log/prediction-log.module.js';
import { PromotionsModule } from '../promotions/promotions.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { RolloutController } from './rollout-controller.service.js';
import { RolloutEngine } from './rollout-engine.service.js';
import { RolloutJudge } from './rollout-judge.service.js';
import { RolloutMeasurements } from './rollout-measurements.service.js';
import { RolloutsRepository } from './rollouts.repository.js';
import { PromotionRolloutResolver, RolloutsResolver } from './rollouts.resolver.js';
import { RolloutsService } from './rollouts.service.js';

/**
 * Rollouts of approved promotions: INITIAL go-lives, and the staged engine — shadow, canary
 * steps, blue-green, A/B — judged from every replica's arm metrics and driven by one replica
 * at a time.
 */
@Module({
  imports: [
    PromotionsModule,
    EndpointsModule,
    RegistryModule,
    EvaluationModule,
    ArmMetricsModule,
    PredictionLogModule,
    FeedbackModule,
  ],
  providers: [
    RolloutsRepository,
    RolloutMeasurements,
    RolloutJudge,
    RolloutEngine,
    RolloutController,
    RolloutsService,
    RolloutsResolver,
    PromotionRolloutResolver,
  ],
  exports: [RolloutsService, RolloutController],
})
export class RolloutsModule {}
