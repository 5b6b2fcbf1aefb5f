import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { LedgerReader } from '../ledger/ledger-reader.service.js';
import { LedgerEventModel } from '../ledger/ledger.model.js';
import { ApprovalsService } from './approvals.service.js';
import { GatesService } from './gates.service.js';
import { gateEvaluationView } from './promotion-view.js';
import {
  ApprovePromotionArgs,
  GateEvaluationModel,
  PromotionRequestModel,
  PromotionRequestPageModel,
  PromotionRequestsArgs,
  RequestPromotionArgs,
} from './promotion.model.js';
import { PromotionsService } from './promotions.service.js';

@Resolver(() => PromotionRequestModel)
export class PromotionsResolver {
  constructor(
    private readonly promotions: PromotionsService,
    private readonly approvals: ApprovalsService,
    private readonly gates: GatesService,
    private readonly ledger: LedgerReader,
  ) {}

  @Query(() => PromotionRequestPageModel, {
    description: 'Promotion requests, oldest first, optionally of one status or endpoint.',
    complexity: ({ args, childComplexity }) => Number(args['limit'] ?? 50) * childComplexity,
  })
  @Can('read', 'PromotionRequest')
  promotionRequests(@Args() args: PromotionRequestsArgs): Promise<PromotionRequestPageModel> {
    return this.promotions.list(args);
  }

  @Query(() => PromotionRequestModel, { nullable: true })
  @Can('read', 'PromotionRequest')
  promotionRequest(
    @Args('id', { type: () => ID }) id: string,
  ): Promise<PromotionRequestModel | null> {
    return this.promotions.get(id);
  }

  @Mutation(() => PromotionRequestModel, {
    description:
      'Requests that a version serve on an endpoint, with its rollout plan and documented rollback criteria.',
  })
  @Can('create', 'PromotionRequest')
  requestPromotion(
    @Args() args: RequestPromotionArgs,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PromotionRequestModel> {
    return this.promotions.request(args, principal);
  }

  @Mutation(() => PromotionRequestModel, {
    description:
      'Approves a request in one required role, binding the request digest reviewed. Approving as the sign-off role needs a statement.',
  })
  @Can('approve', 'PromotionRequest')
  approvePromotion(
    @Args() args: ApprovePromotionArgs,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PromotionRequestModel> {
    return this.approvals.approve(args, principal);
  }

  @Mutation(() => PromotionRequestModel, { description: 'Rejects a request: it ends there.' })
  @Can('reject', 'PromotionRequest')
  rejectPromotion(
    @Args('id', { type: () => ID }) id: string,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PromotionRequestModel> {
    return this.promotions.reject(id, reason, principal);
  }

  @Mutation(() => PromotionRequestModel, { description: 'The requester withdraws a request.' })
  @Can('withdraw', 'PromotionRequest')
  withdrawPromotion(
    @Args('id', { type: () => ID }) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<PromotionRequestModel> {
    return this.promotions.withdraw(id, principal);
  }

  @Mutation(() => GateEvaluationModel, {
    description: 'Evaluates every gate of an open request now, with evidence; ledgered.',
  })
  @Can('evaluate', 'Gate')
  async evaluateGates(
    @Args('id', { type: () => ID }) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<GateEvaluationModel> {
    return gateEvaluationView(await this.gates.review(id, principal));
  }

  @ResolveField(() => [GateEvaluationModel], {
    description: 'Every gate evaluation, oldest first.',
  })
  @Can('read', 'Gate')
  async gateEvaluations(@Parent() request: PromotionRequestModel): Promise<GateEvaluationModel[]> {
    return (await this.gates.gateEvaluations(request.id)).map(gateEvaluationView);
  }

  @ResolveField(() => [LedgerEventModel], {
    description: 'The ledger events of this request (subject promotion:<id>), in order.',
  })
  @Can('read', 'PromotionRequest')
  async history(@Parent() request: PromotionRequestModel): Promise<LedgerEventModel[]> {
    const page = await this.ledger.page({
      afterSeq: 0,
      limit: 1000,
      subject: `promotion:${request.id}`,
    });
    return page.events;
  }
}
