import {
  ArgsType,
  Field,
  Float,
  InputType,
  Int,
  ObjectType,
  registerEnumType,
} from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';
import { TensorSpecModel } from '../artifacts/artifact.model.js';
import { PageArgs } from '../common/pagination.js';
import { RISK_TIERS, type RiskTier } from '../policy/risk-tiers.js';
import { TASKS, type Task } from './model-version.entity.js';

export const RiskTierEnum = Object.fromEntries(RISK_TIERS.map((t) => [t, t])) as {
  [K in RiskTier]: K;
};
registerEnumType(RiskTierEnum, {
  name: 'RiskTier',
  description: 'How much harm a wrong decision can do; HIGH needs the strictest promotion.',
});

export const TaskEnum = Object.fromEntries(TASKS.map((t) => [t, t])) as { [K in Task]: K };
registerEnumType(TaskEnum, { name: 'Task' });

@ObjectType('ModelCard', { description: 'Model card (Mitchell et al. 2019), as registered.' })
export class ModelCardModel {
  @Field({ description: 'What the model is for, and for whom.' })
  intendedUse!: string;

  @Field(() => [String], { description: 'Uses the model must not be put to.' })
  outOfScopeUses!: string[];

  @Field()
  limitations!: string;

  @Field({ description: 'What data it was trained on, where it came from, its period.' })
  trainingData!: string;

  @Field()
  ethicalConsiderations!: string;
}

@InputType('ModelCardInput')
export class ModelCardInput {
  @Field()
  intendedUse!: string;

  @Field(() => [String])
  outOfScopeUses!: string[];

  @Field()
  limitations!: string;

  @Field()
  trainingData!: string;

  @Field()
  ethicalConsiderations!: string;
}

@ObjectType('ModelVersion', { description: 'An immutable, numbered version of a model.' })
export class ModelVersionModel {
  @Field()
  id!: string;

  @Field({ description: 'The model name.' })
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field({ description: 'SHA-256 of the ONNX artifact that serves: what was audited runs.' })
  artifactSha256!: string;

  @Field(() => TaskEnum)
  task!: Task;

  @Field(() => [String], {
    description: 'Dataset columns, in the order of the input tensor’s last dimension.',
  })
  featureColumns!: string[];

  @Field()
  inputName!: string;

  @Field()
  scoreOutput!: string;

  @Field(() => Int)
  scoreIndex!: number;

  @Field(() => Float, { nullable: true, description: 'Scores at or above it are positive.' })
  threshold!: number | null;

  @Field(() => Int, { nullable: true, description: 'The version this one was derived from.' })
  parentVersion!: number | null;

  @Field(() => GraphQLJSONObject)
  trainingMetrics!: Record<string, unknown>;

  @Field()
  description!: string;

  @Field(() => GraphQLJSONObject, {
    description:
      'Where the version came from, as given at registration: keys such as `mlflow.run_id` or `git.commit`, each with a string. Empty when none was given.',
  })
  metadata!: Record<string, string>;

  @Field(() => [TensorSpecModel])
  inputs!: TensorSpecModel[];

  @Field(() => [TensorSpecModel])
  outputs!: TensorSpecModel[];

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType('Model')
export class ModelModel {
  @Field()
  id!: string;

  @Field()
  name!: string;

  @Field(() => RiskTierEnum)
  riskTier!: RiskTier;

  @Field()
  owner!: string;

  @Field(() => [String], { description: 'Dataset columns fairness is audited over.' })
  protectedAttributes!: string[];

  @Field(() => ModelCardModel)
  modelCard!: ModelCardModel;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;
}

@ObjectType('ModelPage')
export class ModelPageModel {
  @Field(() => [ModelModel])
  items!: ModelModel[];

  @Field(() => String, { nullable: true })
  nextCursor!: string | null;
}

@ArgsType()
export class ModelsArgs extends PageArgs {
  @Field(() => RiskTierEnum, { nullable: true })
  riskTier?: RiskTier | null;

  @Field(() => String, { nullable: true })
  owner?: string | null;

  @Field(() => String, { nullable: true, description: 'Names containing this text.' })
  nameContains?: string | null;
}

@InputType('RegisterModelInput')
export class RegisterModelInput {
  @Field({ description: 'A slug: lowercase letters, digits and single hyphens.' })
  name!: string;

  @Field(() => RiskTierEnum)
  riskTier!: RiskTier;

  @Field({ description: 'The accountable team or person.' })
  owner!: string;

  @Field(() => [String])
  protectedAttributes!: string[];

  @Field(() => ModelCardInput)
  modelCard!: ModelCardInput;
}

@InputType('RegisterModelVersionInput')
export class RegisterModelVersionInput {
  @Field({ description: 'The model name.' })
  model!: string;

  @Field({ description: 'SHA-256 of an artifact uploaded with PUT /v1/artifacts.' })
  artifactSha256!: string;

  @Field(() => TaskEnum)
  task!: Task;

  @Field(() => [String])
  featureColumns!: string[];

  @Field(() => String, { nullable: true, description: 'Default: the model’s only input.' })
  inputName?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Default: an output named `score`, else the only output.',
  })
  scoreOutput?: string | null;

  @Field(() => Int, { nullable: true, description: 'Default 0.' })
  scoreIndex?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Binary classification: default 0.5. Not allowed for regression.',
  })
  threshold?: number | null;

  @Field(() => Int, { nullable: true })
  parentVersion?: number | null;

  @Field(() => GraphQLJSONObject, { nullable: true })
  trainingMetrics?: Record<string, unknown> | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Where the version came from: at most 32 keys (a lowercase letter, then lowercase letters, digits, `.`, `_` or `-`; up to 64 characters), each with a string of at most 2048 characters.',
  })
  metadata?: Record<string, unknown> | null;
}
