import { Module } from '@nestjs/common';
import { ArtifactsModule } from '../artifacts/artifacts.module.js';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { EvaluationRunner } from './evaluation-runner.service.js';
import { EvaluationsRepository } from './evaluations.repository.js';
import { EvaluationsResolver } from './evaluations.resolver.js';
import { EvaluationsService } from './evaluations.service.js';
import { ModelVersionEvaluationResolver } from './model-version-evaluation.resolver.js';

/** Evaluations: the only module that reads or writes `evaluations`. */
@Module({
  imports: [RegistryModule, DatasetsModule, ArtifactsModule],
  providers: [
    EvaluationsRepository,
    EvaluationRunner,
    EvaluationsService,
    EvaluationsResolver,
    ModelVersionEvaluationResolver,
  ],
  exports: [EvaluationsService],
})
export class EvaluationModule {}
