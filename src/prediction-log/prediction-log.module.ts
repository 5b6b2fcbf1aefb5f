import { Module } from '@nestjs/common';
import { PredictionLogRepository } from './prediction-log.repository.js';
import { PredictionLog } from './prediction-log.service.js';

@Module({
  providers: [PredictionLogRepository, PredictionLog],
  exports: [PredictionLog],
})
export class PredictionLogModule {}
