import {
  ArgsType,
  Field,
  Float,
  ID,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { PageArgs } from '../common/pagination.js';
import { RiskTierEnum } from '../registry/registry.model.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import { GATE_PURPOSES, type GatePurpose } from './gate-evaluation.entity.js';
import { GATES, type Gate } from './gates.js';
import { PROMOTION_STATUSES, type PromotionStatus } from './vocabulary.js';
import {
  AB_OUTCOMES,
  STRATEGIES,
  type AbOutcome,
  type Strategy,
} from '../policy/promotion-vocabulary.js';

const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const StrategyEnum = enumOf(STRATEGIES);
registerEnumType(StrategyEnum, {
  name: 'PromotionStrategy',
  description:
    'INITIAL: the first version of an endpoint (gates and approvals, then live). The others replace a live version in stages.',
});

export const PromotionStatusEnum = enumOf(PROMOTION_STATUSES);
registerEnumType(PromotionStatusEnum, {
  name: 'PromotionStatus',
  description:
    'PENDING until every required role approved, APPROVED until its rollout starts, then ROLLING_OUT and COMPLETED or ROLLED_BACK; REJECTED and WITHDRAWN end a request early.',
});

export const AbOutcomeEnum = enumOf(AB_OUTCOMES);
registerEnumType(AbOutcomeEnum, {
  name: 'AbTestOutcome',
  description: 'What an A/B test compares between the two versions.',
});

export const GateEnum = enumOf(GATES);
registerEnumType(GateEnum, { name: 'Gate' });

export const GatePurposeEnum = enumOf(GATE_PURPOSES);
registerEnumType(GatePurposeEnum, { name: 'GatePurpose' });

// Plans and criteria are read back exactly as they were requested, so one class serves as the
// input and as the output type of each.

@InputType('CriteriaWindowInput')
@ObjectType('CriteriaWindow', {
  description: 'A criterion is judged over at least this many requests and this long.',
})
export class CriteriaWindowModel {
  @Field(() => Int)
  minRequests!: number;

  @Field(() => Int)
  seconds!: number;
}

@InputType('ThresholdInput')
@ObjectType('Threshold')
export class ThresholdModel {
  @Field(() => Float)
  value!: number;

  @Field(() => CriteriaWindowModel)
  window!: CriteriaWindowModel;
}

@InputType('SuccessCriteriaInput')
@ObjectType('SuccessCriteria', {
  description: 'Machine-checkable thresholds, each over its window; any subset may be given.',
})
export class CriteriaModel {
  @Field(() => ThresholdModel, {
    nullable: true,
    description: 'Share of requests the candidate fails.',
  })
  maxErrorRate?: ThresholdModel | null;

  @Field(() => ThresholdModel, { nullable: true, description: 'Milliseconds.' })
  maxP99LatencyMs?: ThresholdModel | null;

  @Field(() => ThresholdModel, {
    nullable: true,
    description: 'Share of mirrored requests on which candidate and live decide alike.',
  })
  minAgreementWithLive?: ThresholdModel | null;

  @Field(() => ThresholdModel, {
    nullable: true,
    description: 'PSI of the score against the evaluation baseline.',
  })
  maxPsiDrift?: ThresholdModel | null;

  @Field(() => ThresholdModel, { nullable: true, description: 'On labelled feedback.' })
  minAccuracy?: ThresholdModel | null;

  @Field(() => ThresholdModel, { nullable: true, description: 'ROC-AUC on labelled feedback.' })
  minAuc?: ThresholdModel | null;

  @Field(() => ThresholdModel, {
    nullable: true,
    description: 'On labelled or attributed traffic, per protected attribute.',
  })
  minDisparateImpact?: ThresholdModel | null;
}

@InputType('RollbackCriteriaInput')
@ObjectType('RollbackCriteria', {
  description: 'Any breach rolls back; documented with the written rationale for the thresholds.',
})
export class RollbackCriteriaModel extends CriteriaModel {
  @Field({ description: 'Why these thresholds: required, written out.' })
  rationale!: string;
}

@InputType('ShadowPlanInput')
@ObjectType('ShadowPlan')
export class ShadowPlanModel {
  @Field(() => Float, { description: 'Share of live requests mirrored, (0, 1].' })
  sampleRate!: number;

  @Field(() => Int)
  minRequests!: number;

  @Field(() => Int)
  minDurationSeconds!: number;
}

@InputType('CanaryPlanInput')
@ObjectType('CanaryPlan')
export class CanaryPlanModel {
  @Field(() => [Int], { description: 'Percent of traffic at each step, e.g. [5, 25, 50].' })
  steps!: readonly number[];

  @Field(() => Int)
  minRequestsPerStep!: number;

  @Field(() => Int, { description: 'How long each step is held.' })
  bakeSeconds!: number;
}

@InputType('AbTestPlanInput')
@ObjectType('AbTestPlan')
export class AbTestPlanModel {
  @Field(() => Int, { description: 'Percent of traffic the candidate answers.' })
  splitPercent!: number;

  @Field(() => AbOutcomeEnum)
  outcome!: AbOutcome;

  @Field(() => Int)
  minSamples!: number;

  @Field(() => Float)
  significanceLevel!: number;
}

@InputType('RolloutPlanInput')
@ObjectType('RolloutPlan', { description: 'The stage settings the strategy uses, and no others.' })
export class RolloutPlanModel {
  @Field(() => ShadowPlanModel, { nullable: true })
  shadow?: ShadowPlanModel | null;

  @Field(() => CanaryPlanModel, { nullable: true })
  canary?: CanaryPlanModel | null;

  @Field(() => AbTestPlanModel, { nullable: true })
  abTest?: AbTestPlanModel | null;
}

@ArgsType()
export class RequestPromotionArgs {
  @Field({ description: 'The endpoint name.' })
  endpoint!: string;

  @Field({ description: 'The model the endpoint serves.' })
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => ID, { description: 'A successful, fresh evaluation of this version.' })
  evaluationId!: string;

  @Field(() => StrategyEnum)
  strategy!: Strategy;

  @Field(() => RolloutPlanModel, { nullable: true, description: 'Not used by INITIAL.' })
  plan?: RolloutPlanModel | null;

  @Field(() => RollbackCriteriaModel)
  rollbackCriteria!: RollbackCriteriaModel;

  @Field(() => CriteriaModel, {
    nullable: true,
    description: 'What a stage must show to pass; not used by INITIAL.',
  })
  successCriteria?: CriteriaModel | null;

  @Field({ description: 'Why this version should serve.' })
  justification!: string;
}

@ObjectType('PromotionApproval')
export class PromotionApprovalModel {
  @Field()
  role!: string;

  @Field()
  approver!: string;

  @Field(() => [String], { description: 'The roles the approver’s token carried.' })
  approverRoles!: string[];

  @Field({ description: 'The request digest this approval is for.' })
  requestDigest!: string;

  @Field(() => String, { nullable: true })
  statement!: string | null;

  @Field({ description: 'Whether this approval is the sign-off.' })
  signOff!: boolean;

  @Field()
  policySha256!: string;

  @Field()
  approvedAt!: Date;
}

@ObjectType('GateResult')
export class GateResultModel {
  @Field(() => GateEnum)
  gate!: Gate;

  @Field()
  passed!: boolean;

  @Field({ description: 'One line: what passed, or what failed and why.' })
  summary!: string;

  @Field(() => GraphQLJSONObject)
  evidence!: Record<string, unknown>;
}

@ObjectType('GateEvaluation', {
  description: 'The gates of a request at one moment; the evidence digest is ledgered.',
})
export class GateEvaluationModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  promotionId!: string;

  @Field()
  passed!: boolean;

  @Field(() => GatePurposeEnum)
  purpose!: GatePurpose;

  @Field(() => [GateResultModel])
  gates!: GateResultModel[];

  @Field(() => [GateEnum])
  failedGates!: Gate[];

  @Field({ description: 'SHA-256 of the RFC 8785 form of `gates`.' })
  evidenceSha256!: string;

  @Field({ description: 'SHA-256 of policies/promotion.yaml as applied.' })
  policySha256!: string;

  @Field()
  requestDigest!: string;

  @Field()
  evaluatedBy!: string;

  @Field()
  evaluatedAt!: Date;
}

@ObjectType('PromotionRequest')
export class PromotionRequestModel {
  @Field(() => ID)
  id!: string;

  @Field()
  endpoint!: string;

  @Field()
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => RiskTierEnum)
  riskTier!: RiskTier;

  @Field()
  artifactSha256!: string;

  @Field(() => Int, {
    nullable: true,
    description: 'The version live on the endpoint when the request was made.',
  })
  liveVersion!: number | null;

  @Field(() => ID)
  evaluationId!: string;

  @Field()
  evaluationResultSha256!: string;

  @Field(() => StrategyEnum)
  strategy!: Strategy;

  @Field(() => RolloutPlanModel)
  plan!: RolloutPlanModel;

  @Field(() => RollbackCriteriaModel)
  rollbackCriteria!: RollbackCriteriaModel;

  @Field(() => CriteriaModel, { nullable: true })
  successCriteria!: CriteriaModel | null;

  @Field()
  justification!: string;

  @Field({
    description:
      'SHA-256 of the RFC 8785 form of `content`: what an approval binds. Pass it to approvePromotion.',
  })
  requestDigest!: string;

  @Field(() => GraphQLJSONObject, { description: 'Everything the digest covers.' })
  content!: Record<string, unknown>;

  @Field({ description: 'SHA-256 of policies/promotion.yaml when the request was made.' })
  policySha256!: string;

  @Field({
    description:
      'SHA-256 of the policies/promotion.yaml the request is judged under: the one it was requested under, or the one in force at its last promotion.repolicied event.',
  })
  judgedUnderPolicySha256!: string;

  @Field(() => PromotionStatusEnum)
  status!: PromotionStatus;

  @Field(() => [String], {
    description: 'The roles that must each approve, under the policy the request is judged under.',
  })
  requiredRoles!: string[];

  @Field(() => [String], { description: 'Required roles no approval fills yet.' })
  missingRoles!: string[];

  @Field(() => [PromotionApprovalModel])
  approvals!: PromotionApprovalModel[];

  @Field()
  requestedBy!: string;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  closedAt!: Date | null;

  @Field(() => String, { nullable: true })
  closedBy!: string | null;

  @Field(() => String, { nullable: true, description: 'Why it was rejected or withdrawn.' })
  closeReason!: string | null;
}

@ObjectType('PromotionRequestPage')
export class PromotionRequestPageModel {
  @Field(() => [PromotionRequestModel])
  items!: PromotionRequestModel[];

  @Field(() => String, { nullable: true })
  nextCursor!: string | null;
}

@ArgsType()
export class PromotionRequestsArgs extends PageArgs {
  @Field(() => PromotionStatusEnum, { nullable: true })
  status?: PromotionStatus | null;

  @Field(() => String, { nullable: true, description: 'Only requests for this endpoint.' })
  endpoint?: string | null;
}

@ArgsType()
export class ApprovePromotionArgs {
  @Field(() => ID)
  id!: string;

  @Field({ description: 'The required role approved in; the token must carry it.' })
  role!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Required for the sign-off (the compliance officer’s approval).',
  })
  statement?: string | null;

  @Field({ description: 'The requestDigest the approver reviewed.' })
  requestDigest!: string;
}
