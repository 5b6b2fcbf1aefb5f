import { Module } from '@nestjs/common';
import { EvaluationRunner } from './evaluation-runner.service.js';
import { EvaluationsResolver } from './evaluations.resolver.js';
import { EvaluationsService } from './evaluations.service.js';

@Module({
  providers: [EvaluationRunner, EvaluationsService, EvaluationsResolver],
  exports: [EvaluationsService],
})
export class EvaluationModule {}
