import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { LedgerReader } from '../ledger/ledger-reader.service.js';
import { LedgerEventModel } from '../ledger/ledger.model.js';
import { PromotionRequestModel } from '../promotions/promotion.model.js';
import type { RolloutEntity } from './rollout.entity.js';
import { RolloutModel } from './rollout.model.js';
import { RolloutsService } from './rollouts.service.js';

@Resolver(() => RolloutModel)
export class RolloutsResolver {
  constructor(
    private readonly rollouts: RolloutsService,
    private readonly ledger: LedgerReader,
  ) {}

  @Mutation(() => RolloutModel, {
    description:
      'Starts the rollout of an approved promotion; the gates are evaluated again first (GATE_FAILED names the failing ones). INITIAL goes live at once.',
  })
  @Can('start', 'Rollout')
  async startRollout(
    @Args('promotionId', { type: () => ID }) promotionId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutModel> {
    return this.present(await this.rollouts.start(promotionId, principal));
  }

  @Query(() => RolloutModel, { nullable: true })
  @Can('read', 'Rollout')
  async rollout(@Args('id', { type: () => ID }) id: string): Promise<RolloutModel | null> {
    const row = await this.rollouts.get(id);
    return row ? this.present(row) : null;
  }

  @ResolveField(() => [LedgerEventModel], {
    description: 'The ledger events of this rollout (subject rollout:<id>), in order.',
  })
  @Can('read', 'Rollout')
  async history(@Parent() rollout: RolloutModel): Promise<LedgerEventModel[]> {
    const page = await this.ledger.page({
      afterSeq: 0,
      limit: 1000,
      subject: `rollout:${rollout.id}`,
    });
    return page.events;
  }

  private async present(row: RolloutEntity): Promise<RolloutModel> {
    return rolloutView(row, await this.rollouts.endpointName(row.endpointId));
  }
}

/** The rollout of a promotion request, beside the request's own fields. */
@Resolver(() => PromotionRequestModel)
export class PromotionRolloutResolver {
  constructor(private readonly rollouts: RolloutsService) {}

  @ResolveField(() => RolloutModel, { nullable: true })
  @Can('read', 'Rollout')
  async rollout(@Parent() request: PromotionRequestModel): Promise<RolloutModel | null> {
    const row = await this.rollouts.ofPromotion(request.id);
    return row ? rolloutView(row, request.endpoint) : null;
  }
}

function rolloutView(row: RolloutEntity, endpoint: string): RolloutModel {
  return {
    id: row.id,
    promotionId: row.promotionId,
    endpoint,
    strategy: row.strategy,
    candidateVersion: row.candidateVersion,
    previousVersion: row.previousVersion,
    status: row.status,
    currentStage: row.currentStage,
    stages: row.stages.map((s) => ({ ...s, settings: { ...s.settings } })),
    gateEvaluationId: row.gateEvaluationId,
    startedBy: row.startedBy,
    startedAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
  };
}
