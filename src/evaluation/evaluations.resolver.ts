import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { EvaluationModel, RunEvaluationArgs } from './evaluation.model.js';
import { evaluationView } from './evaluation-view.js';
import { EvaluationsService } from './evaluations.service.js';

@Resolver(() => EvaluationModel)
export class EvaluationsResolver {
  constructor(private readonly evaluations: EvaluationsService) {}

  @Mutation(() => EvaluationModel, {
    description:
      'Runs a registered version over a labelled dataset as a job; poll evaluation(id) for progress and figures.',
  })
  @Can('create', 'Evaluation')
  async runEvaluation(
    @Args() args: RunEvaluationArgs,
    @CurrentPrincipal() principal: Principal,
  ): Promise<EvaluationModel> {
    const row = await this.evaluations.request(args, principal);
    return evaluationView(row, { model: args.model, version: args.version });
  }

  @Query(() => EvaluationModel, { nullable: true })
  @Can('read', 'Evaluation')
  async evaluation(@Args('id', { type: () => ID }) id: string): Promise<EvaluationModel | null> {
    const row = await this.evaluations.get(id);
    return row ? evaluationView(row, await this.evaluations.versionOf(row.modelVersionId)) : null;
  }
}
