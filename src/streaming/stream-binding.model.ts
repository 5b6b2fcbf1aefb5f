import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('StreamBinding', {
  description:
    'Where an endpoint reads Open Inference Protocol requests from NATS JetStream, and where its answers go.',
})
export class StreamBindingModel {
  @Field({
    description: 'The subject requests are published on; may hold the wildcards * and a final >.',
  })
  inputSubject!: string;

  @Field({ description: 'The JetStream stream that keeps the requests.' })
  stream!: string;

  @Field({ description: 'The durable pull consumer that reads them.' })
  consumer!: string;

  @Field({ description: 'The subject answers are published to.' })
  outputSubject!: string;

  @Field({ description: 'The subject poison messages (requests that cannot be answered) go to.' })
  deadLetterSubject!: string;

  @Field(() => Int, {
    description: 'At most this many messages in flight, unacknowledged: the backpressure.',
  })
  maxAckPending!: number;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;
}

@InputType('StreamBindingInput')
export class StreamBindingInput {
  @Field({
    description:
      'The subject requests are published on: dot-separated tokens; * matches one token, a final > the rest.',
  })
  inputSubject!: string;

  @Field({
    description: 'The subject answers are published to; no wildcards, not matched by inputSubject.',
  })
  outputSubject!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'The JetStream stream. Default: GATEHOUSE_ and the endpoint name, uppercased, hyphens as underscores.',
  })
  stream?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The durable pull consumer. Default: gatehouse- and the endpoint name.',
  })
  consumer?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Where poison messages go. Default: the output subject and .dead.',
  })
  deadLetterSubject?: string | null;

  @Field(() => Int, {
    nullable: true,
    description: 'Messages in flight, unacknowledged, at most (1–65536). Default: 1024.',
  })
  maxAckPending?: number | null;
}
