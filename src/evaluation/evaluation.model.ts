import { ArgsType, Field, Float, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@InputType('ReferenceGroupInput')
export class ReferenceGroupInput {
  @Field()
  attribute!: string;

  @Field({ description: 'The group every other group of the attribute is compared with.' })
  group!: string;
}

@InputType('BootstrapInput')
export class BootstrapInput {
  @Field(() => Int, { nullable: true, description: 'Default from policies/evaluation.yaml.' })
  resamples?: number | null;

  @Field(() => Int, { description: 'Recorded with the result: the same seed, the same intervals.' })
  seed!: number;
}

@ArgsType()
export class RunEvaluationArgs {
  @Field({ description: 'The model name.' })
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => ID, { description: 'A dataset id from PUT /v1/datasets.' })
  dataset!: string;

  @Field({ description: 'The column holding the true outcome (0/1 for classification).' })
  labelColumn!: string;

  @Field(() => [String], {
    nullable: true,
    description: 'Columns to audit fairness over; default: the model’s protected attributes.',
  })
  protectedAttributes?: string[] | null;

  @Field(() => [ReferenceGroupInput], { nullable: true })
  referenceGroups?: ReferenceGroupInput[] | null;

  @Field(() => BootstrapInput, { nullable: true })
  bootstrap?: BootstrapInput | null;
}

@ObjectType('Interval', { description: 'A bootstrap percentile confidence interval.' })
export class IntervalModel {
  @Field(() => Float, { nullable: true })
  lower!: number | null;

  @Field(() => Float, { nullable: true })
  upper!: number | null;
}

@ObjectType('Figure', { description: 'A headline figure with its confidence interval.' })
export class FigureModel {
  @Field()
  name!: string;

  @Field(() => Float, { nullable: true, description: 'Null where the figure is undefined.' })
  value!: number | null;

  @Field(() => IntervalModel, { nullable: true, description: 'Null without a bootstrap.' })
  interval!: IntervalModel | null;
}

@ObjectType('GroupFigures')
export class GroupFiguresModel {
  @Field()
  group!: string;

  @Field(() => Int)
  count!: number;

  @Field({ description: 'Fewer rows than the policy minimum: flagged, left out of headlines.' })
  belowMinimumSize!: boolean;

  @Field(() => Float)
  baseRate!: number;

  @Field(() => Float)
  selectionRate!: number;

  @Field(() => Float, { nullable: true })
  truePositiveRate!: number | null;

  @Field(() => Float, { nullable: true })
  falsePositiveRate!: number | null;
}

@ObjectType('AttributeFairness')
export class AttributeFairnessModel {
  @Field()
  attribute!: string;

  @Field(() => [FigureModel], {
    description:
      'demographicParityDifference, disparateImpact, equalizedOddsDifference, equalOpportunityDifference.',
  })
  figures!: FigureModel[];

  @Field(() => Boolean, {
    nullable: true,
    description: 'Disparate impact at or above the policy threshold (the four-fifths rule).',
  })
  passesFourFifths!: boolean | null;

  @Field(() => String, { nullable: true })
  referenceGroup!: string | null;

  @Field(() => [GroupFiguresModel])
  groups!: GroupFiguresModel[];
}

@ObjectType('EvaluationTimings', {
  description:
    'Milliseconds each phase of the run took, as the service measured it (not evidence: not in result or its digest). Reading and inference alternate chunk by chunk; each is the sum of its own spans.',
})
export class EvaluationTimingsModel {
  @Field(() => Float, {
    description:
      'Waiting for the dataset (read, digest checked, parsed) and collecting labels and groups.',
  })
  readMs!: number;

  @Field(() => Float, { description: 'ONNX Runtime scoring the chunks.' })
  inferenceMs!: number;

  @Field(() => Float, {
    description: 'Every figure but the intervals, on a worker thread (its start included).',
  })
  metricsMs!: number;

  @Field(() => Float, { description: 'The bootstrap resamples; 0 without a bootstrap.' })
  bootstrapMs!: number;

  @Field(() => Float, {
    description: 'The result’s canonical form and digest, and its write (the commit not included).',
  })
  storeMs!: number;

  @Field(() => Float, {
    description:
      'From the job’s start to the result stored: the phases and the lookups between them.',
  })
  totalMs!: number;
}

@ObjectType('Evaluation', {
  description:
    'A registered version run by Gatehouse over a labelled dataset: performance and fairness.',
})
export class EvaluationModel {
  @Field(() => ID)
  id!: string;

  @Field()
  model!: string;

  @Field(() => Int)
  version!: number;

  @Field(() => ID)
  datasetId!: string;

  @Field()
  labelColumn!: string;

  @Field(() => [String])
  protectedAttributes!: string[];

  @Field({ description: 'QUEUED, RUNNING, SUCCEEDED or FAILED.' })
  status!: string;

  @Field(() => Float)
  rowsTotal!: number;

  @Field(() => Float)
  rowsDone!: number;

  @Field(() => Float, { description: 'From 0 to 1.' })
  progress!: number;

  @Field(() => [FigureModel], { description: 'Performance figures; empty until it succeeds.' })
  performance!: FigureModel[];

  @Field(() => [AttributeFairnessModel])
  fairness!: AttributeFairnessModel[];

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Every figure, notes, intervals and the drift baseline (docs/metrics.md).',
  })
  result!: Record<string, unknown> | null;

  @Field(() => String, {
    nullable: true,
    description: 'SHA-256 of the RFC 8785 form of result, as recorded in the ledger.',
  })
  resultSha256!: string | null;

  @Field({ description: 'SHA-256 of policies/evaluation.yaml as applied.' })
  policySha256!: string;

  @Field(() => EvaluationTimingsModel, {
    nullable: true,
    description:
      'How long each phase took: null until it succeeds, when it fails, and for evaluations that finished before timings were kept.',
  })
  timings!: EvaluationTimingsModel | null;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  finishedAt!: Date | null;
}
