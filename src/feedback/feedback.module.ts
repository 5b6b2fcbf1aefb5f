import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { PredictionLogModule } from '../prediction-log/prediction-log.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { FeedbackController } from './feedback.controller.js';
import { FeedbackRepository } from './feedback.repository.js';
import { FeedbackService } from './feedback.service.js';

/** Ground-truth labels: the only module that writes `feedback`. */
@Module({
  imports: [PredictionLogModule, EndpointsModule, RegistryModule],
  providers: [FeedbackRepository, FeedbackService],
  controllers: [FeedbackController],
  exports: [FeedbackService],
})
export class FeedbackModule {}
