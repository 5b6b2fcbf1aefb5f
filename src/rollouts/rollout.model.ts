import { ArgsType, Field, Float, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { PageArgs } from '../common/pagination.js';
import { StrategyEnum } from '../promotions/promotion.model.js';
import type { Strategy } from '../policy/promotion-vocabulary.js';
import { ROLLOUT_STATUSES, type RolloutStatus } from './rollout.entity.js';
import { STAGE_KINDS, STAGE_STATUSES, type StageKind, type StageStatus } from './rollout-stages.js';

const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const RolloutStatusEnum = enumOf(ROLLOUT_STATUSES);
registerEnumType(RolloutStatusEnum, { name: 'RolloutStatus' });
export const StageKindEnum = enumOf(STAGE_KINDS);
registerEnumType(StageKindEnum, {
  name: 'RolloutStageKind',
  description:
    'LIVE is the last stage of every rollout but an A/B test: the candidate becomes the live version.',
});
export const StageStatusEnum = enumOf(STAGE_STATUSES);
registerEnumType(StageStatusEnum, { name: 'RolloutStageStatus' });

@ObjectType('RolloutStage')
export class RolloutStageModel {
  @Field()
  name!: string;

  @Field(() => StageKindEnum)
  kind!: StageKind;

  @Field(() => GraphQLJSONObject)
  settings!: Record<string, unknown>;

  @Field(() => StageStatusEnum)
  status!: StageStatus;

  @Field(() => String, { nullable: true })
  enteredAt!: string | null;

  @Field(() => String, { nullable: true })
  passedAt!: string | null;
}

@ObjectType('Rollout', { description: 'A promotion being carried out, stage by stage.' })
export class RolloutModel {
  @Field(() => ID)
  id!: string;

  @Field(() => ID)
  promotionId!: string;

  @Field()
  endpoint!: string;

  @Field(() => StrategyEnum)
  strategy!: Strategy;

  @Field(() => Int)
  candidateVersion!: number;

  @Field(() => Int, { nullable: true, description: 'The live version when it started.' })
  previousVersion!: number | null;

  @Field(() => RolloutStatusEnum)
  status!: RolloutStatus;

  @Field(() => Int, { description: 'Index into stages of the stage in progress (or the last).' })
  currentStage!: number;

  @Field(() => [RolloutStageModel])
  stages!: RolloutStageModel[];

  @Field(() => ID, { description: 'The gate evaluation that let it start.' })
  gateEvaluationId!: string;

  @Field()
  startedBy!: string;

  @Field()
  startedAt!: Date;

  @Field()
  updatedAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'How it ended: the A/B result, or who or what rolled it back and why.',
  })
  outcome!: Record<string, unknown> | null;
}

@ObjectType('RolloutArm', {
  description:
    'What one arm did over the stage in progress, summed over every replica (docs/rollouts.md).',
})
export class RolloutArmModel {
  @Field({ description: 'live, candidate or shadow.' })
  arm!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => Int)
  requests!: number;

  @Field(() => Int)
  errors!: number;

  @Field(() => Float, { nullable: true })
  errorRate!: number | null;

  @Field(() => Float, { nullable: true, description: 'Upper bound of the latency bucket.' })
  p50Ms!: number | null;

  @Field(() => Float, { nullable: true, description: 'Upper bound of the latency bucket.' })
  p99Ms!: number | null;

  @Field(() => Int, { description: 'Rows scored (a request may carry several).' })
  rows!: number;

  @Field(() => Float, { nullable: true, description: 'Share of rows at or above the threshold.' })
  selectionRate!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Shadow only: share of rows whose decision equals live’s.',
  })
  agreement!: number | null;

  @Field(() => Int)
  compared!: number;

  @Field(() => Int, { description: 'Mirrored requests dropped because the shadow queue was full.' })
  shadowDropped!: number;

  @Field(() => GraphQLJSONObject, {
    description: 'Per protected attribute, per group: [rows, selected].',
  })
  groups!: Record<string, unknown>;
}

@ObjectType('RolloutVerdict', { description: 'One criterion judged over its window.' })
export class RolloutVerdictModel {
  @Field()
  criterion!: string;

  @Field({ description: 'rollback or success.' })
  kind!: string;

  @Field(() => Float)
  threshold!: number;

  @Field({ description: 'PASS, BREACH, NOT_MET, NOT_ENOUGH_DATA or NOT_APPLICABLE.' })
  status!: string;

  @Field(() => Float, { nullable: true })
  measured!: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'The same figure for live, where it has one.',
  })
  live!: number | null;

  @Field(() => Int)
  n!: number;

  @Field(() => String, { nullable: true })
  test!: string | null;

  @Field(() => Float, { nullable: true })
  pValue!: number | null;

  @Field()
  note!: string;
}

@ObjectType('RolloutProgress', {
  description: 'The stage in progress as the controller judges it now.',
})
export class RolloutProgressModel {
  @Field()
  stage!: string;

  @Field({ description: 'HOLD, PASS or ROLLBACK: what the next controller tick will do.' })
  decision!: string;

  @Field(() => [String])
  waitingFor!: string[];

  @Field(() => Int, { description: 'Candidate requests since the stage was entered.' })
  candidateRequests!: number;

  @Field(() => [RolloutArmModel])
  arms!: RolloutArmModel[];

  @Field(() => [RolloutVerdictModel])
  criteria!: RolloutVerdictModel[];
}

@ObjectType('RolloutTraffic', {
  description: 'The endpoint’s traffic state now (basis points: 10000 is all of it).',
})
export class RolloutTrafficModel {
  @Field({ description: 'NONE, SHADOW, CANARY, BLUE_GREEN or AB_TEST.' })
  mode!: string;

  @Field(() => Int, { nullable: true })
  liveVersion!: number | null;

  @Field(() => Int, { nullable: true })
  candidateVersion!: number | null;

  @Field(() => Int, { description: 'Share of requests the candidate answers.' })
  candidateWeight!: number;

  @Field(() => Int, { description: 'SHADOW: share of requests mirrored to the candidate.' })
  shadowSample!: number;
}

@ObjectType('RolloutPage')
export class RolloutPageModel {
  @Field(() => [RolloutModel])
  items!: RolloutModel[];

  @Field(() => String, { nullable: true })
  nextCursor!: string | null;
}

@ArgsType()
export class RolloutsArgs extends PageArgs {
  @Field(() => RolloutStatusEnum, { nullable: true })
  status?: RolloutStatus | null;

  @Field(() => String, { nullable: true, description: 'Only rollouts on this endpoint.' })
  endpoint?: string | null;
}

@ArgsType()
export class RolloutActionArgs {
  @Field(() => ID)
  id!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Why, in words (as for rollbackRollout: at least the policy’s minReasonLength, three different words); recorded in the ledger event.',
  })
  reason?: string | null;
}
