import { Args, ID, Mutation, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { LedgerReader } from '../ledger/ledger-reader.service.js';
import { LedgerEventModel } from '../ledger/ledger.model.js';
import { PromotionRequestModel } from '../promotions/promotion.model.js';
import type { Verdict } from './criteria-judge.js';
import type { RolloutEntity } from './rollout.entity.js';
import type { ArmSummary } from './rollout-measurements.service.js';
import {
  RolloutActionArgs,
  RolloutArmModel,
  RolloutModel,
  RolloutPageModel,
  RolloutProgressModel,
  RolloutsArgs,
  RolloutTrafficModel,
  RolloutVerdictModel,
} from './rollout.model.js';
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

  @Mutation(() => RolloutModel, {
    description:
      'Passes the stage in progress now, without waiting for its minimums (ledgered as manual, with what was still awaited), or resumes a paused rollout. Refused (CONFLICT) while a rollback criterion is breached.',
  })
  @Can('advance', 'Rollout')
  async advanceRollout(
    @Args() { id, reason }: RolloutActionArgs,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutModel> {
    return this.present(await this.rollouts.advance(id, principal, reason));
  }

  @Mutation(() => RolloutModel, {
    description:
      'Holds the rollout in its stage; rollback criteria are still watched. advanceRollout resumes it.',
  })
  @Can('pause', 'Rollout')
  async pauseRollout(
    @Args() { id, reason }: RolloutActionArgs,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutModel> {
    return this.present(await this.rollouts.pause(id, principal, reason));
  }

  @Mutation(() => RolloutModel, {
    description:
      'All traffic back to the previous live version, at any moment: during the rollout, or after its go-live while the previous version is the standby.',
  })
  @Can('rollback', 'Rollout')
  async rollbackRollout(
    @Args('id', { type: () => ID }) id: string,
    @Args('reason') reason: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RolloutModel> {
    return this.present(await this.rollouts.rollback(id, reason, principal));
  }

  @ResolveField(() => RolloutProgressModel, {
    nullable: true,
    description: 'The stage in progress as judged now: arms, criteria, what it waits for.',
  })
  @Can('read', 'Rollout')
  async progress(@Parent() rollout: RolloutModel): Promise<RolloutProgressModel | null> {
    const row = await this.rollouts.get(rollout.id);
    const judged = row ? await this.rollouts.judgement(row) : null;
    if (!judged) return null;
    const d = judged.decision;
    const evidence = judged.evidence as {
      candidateRequests?: number;
      arms?: { candidate: ArmSummary; live: ArmSummary };
      rollbackCriteria?: Verdict[];
      successCriteria?: Verdict[];
    };
    return {
      stage: judged.stage.name,
      decision: d.action.toUpperCase(),
      waitingFor: d.action === 'hold' ? [...d.waitingFor] : [],
      candidateRequests: evidence.candidateRequests ?? 0,
      arms: evidence.arms ? [armOf(evidence.arms.live), armOf(evidence.arms.candidate)] : [],
      criteria: [...(evidence.rollbackCriteria ?? []), ...(evidence.successCriteria ?? [])].map(
        verdictOf,
      ),
    };
  }

  @ResolveField(() => RolloutTrafficModel, {
    description: 'The weights now: the endpoint’s mode, versions and shares.',
  })
  @Can('read', 'Rollout')
  async traffic(@Parent() rollout: RolloutModel): Promise<RolloutTrafficModel> {
    return this.rollouts.traffic(rollout.id);
  }

  @Query(() => RolloutModel, { nullable: true })
  @Can('read', 'Rollout')
  async rollout(@Args('id', { type: () => ID }) id: string): Promise<RolloutModel | null> {
    const row = await this.rollouts.get(id);
    return row ? this.present(row) : null;
  }

  @Query(() => RolloutPageModel, {
    name: 'rollouts',
    description:
      'Rollouts, newest first, optionally of one status or endpoint (a console lists RUNNING and PAUSED ones first by asking for them).',
    complexity: ({ args, childComplexity }) => Number(args['limit'] ?? 50) * childComplexity,
  })
  @Can('read', 'Rollout')
  async rolloutPage(@Args() args: RolloutsArgs): Promise<RolloutPageModel> {
    const page = await this.rollouts.list(args);
    const names = new Map<string, Promise<string>>();
    const nameOf = (endpointId: string): Promise<string> => {
      let name = names.get(endpointId);
      if (!name) {
        name = this.rollouts.endpointName(endpointId);
        names.set(endpointId, name);
      }
      return name;
    };
    return {
      items: await Promise.all(
        page.items.map(async (row) => rolloutView(row, await nameOf(row.endpointId))),
      ),
      nextCursor: page.nextCursor,
    };
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
    outcome: row.outcome ? { ...row.outcome } : null,
  };
}

function armOf(a: ArmSummary): RolloutArmModel {
  return { ...a, groups: { ...a.groups } };
}

function verdictOf(v: Verdict): RolloutVerdictModel {
  return {
    criterion: v.criterion,
    kind: v.kind,
    threshold: v.threshold,
    status: v.status,
    measured: v.measured,
    live: v.live,
    n: v.n,
    test: v.test?.test ?? null,
    pValue: v.test?.pValue ?? null,
    note: v.note,
  };
}
