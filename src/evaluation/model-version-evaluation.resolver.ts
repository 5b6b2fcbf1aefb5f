import { Args, ID, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Can } from '../auth/decorators.js';
import { ModelVersionModel } from '../registry/registry.model.js';
import { EvaluationModel } from './evaluation.model.js';
import { evaluationView } from './evaluation-view.js';
import { EvaluationsService } from './evaluations.service.js';

/** `ModelVersion.latestEvaluation`, resolved here so that the registry need not know evaluations. */
@Resolver(() => ModelVersionModel)
export class ModelVersionEvaluationResolver {
  constructor(private readonly evaluations: EvaluationsService) {}

  @ResolveField(() => EvaluationModel, {
    nullable: true,
    description:
      'The latest successful evaluation of this version over `dataset`; null when it has none there.',
  })
  @Can('read', 'Evaluation')
  async latestEvaluation(
    @Parent() version: ModelVersionModel,
    @Args('dataset', { type: () => ID, description: 'A dataset id.' }) dataset: string,
  ): Promise<EvaluationModel | null> {
    const row = await this.evaluations.latestOnDataset(version.id, dataset);
    return row ? evaluationView(row, { model: version.model, version: version.version }) : null;
  }
}
