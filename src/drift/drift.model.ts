import { Field, Float, ID, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('FeatureDrift')
export class FeatureDriftModel {
  @Field()
  feature!: string;

  @Field(() => Float, { description: 'Population stability index against the baseline.' })
  psi!: number;
}

@ObjectType('EndpointDrift', {
  description:
    "The last drift check of the endpoint's live version: PSI of its served scores and inputs over a sliding window against the baseline of its evaluation.",
})
export class EndpointDriftModel {
  @Field(() => Int)
  version!: number;

  @Field(() => Boolean, {
    description: 'A drift episode is open: a PSI exceeded the threshold (drift.alert written).',
  })
  alerting!: boolean;

  @Field(() => Date, { nullable: true, description: 'When the open episode began.' })
  since!: Date | null;

  @Field(() => Date)
  checkedAt!: Date;

  @Field(() => Date)
  windowStart!: Date;

  @Field(() => Date)
  windowEnd!: Date;

  @Field(() => Int, { description: 'Rows of served traffic in the window.' })
  rows!: number;

  @Field(() => Float)
  threshold!: number;

  @Field(() => Float, { nullable: true })
  scorePsi!: number | null;

  @Field(() => [FeatureDriftModel])
  features!: FeatureDriftModel[];

  @Field(() => ID, { description: 'The evaluation whose baseline the traffic is compared with.' })
  evaluationId!: string;
}
