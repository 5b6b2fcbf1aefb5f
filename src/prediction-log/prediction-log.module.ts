import { Module } from '@nestjs/common';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { PredictionLogRepository } from './prediction-log.repository.js';
import { PredictionLog } from './prediction-log.service.js';

@Module({
  imports: [EndpointsModule],
  providers: [PredictionLogRepository, PredictionLog],
  exports: [PredictionLog],
})
export class PredictionLogModule {}
