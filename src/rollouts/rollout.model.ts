import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { StrategyEnum } from '../promotions/promotion.model.js';
import type { Strategy } from '../promotions/vocabulary.js';
import { ROLLOUT_STATUSES, type RolloutStatus } from './rollout.entity.js';
import { STAGE_KINDS, STAGE_STATUSES, type StageKind, type StageStatus } from './rollout-stages.js';

const enumOf = <T extends string>(values: readonly T[]) =>
  Object.fromEntries(values.map((v) => [v, v])) as { [K in T]: K };

export const RolloutStatusEnum = enumOf(ROLLOUT_STATUSES);
registerEnumType(RolloutStatusEnum, { name: 'RolloutStatus' });
export const StageKindEnum = enumOf(STAGE_KINDS);
registerEnumType(StageKindEnum, {
  name: 'RolloutStageKind',
  description: 'LIVE is the last stage of every rollout: the candidate becomes the live version.',
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
}
