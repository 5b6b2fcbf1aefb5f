import { ArgsType, Field, Int, ObjectType } from '@nestjs/graphql';
import { GraphQLJSONObject } from 'graphql-scalars';

@ObjectType('LedgerActor')
export class LedgerActorModel {
  @Field({ description: 'A user subject, or `system:<part>` for the service itself.' })
  sub!: string;

  @Field(() => [String], { nullable: true })
  roles?: string[];
}

@ObjectType('LedgerEvent', {
  description: 'One event of the hash-chained, signed ledger.',
})
export class LedgerEventModel {
  @Field(() => Int)
  seq!: number;

  @Field()
  id!: string;

  @Field({ description: 'UTC, RFC 3339 with milliseconds.' })
  ts!: string;

  @Field()
  type!: string;

  @Field(() => LedgerActorModel)
  actor!: LedgerActorModel;

  @Field()
  subject!: string;

  @Field(() => GraphQLJSONObject)
  payload!: Record<string, unknown>;

  @Field(() => String, {
    nullable: true,
    description: 'The OpenTelemetry trace that caused the event.',
  })
  traceId!: string | null;

  @Field({ description: 'Hash of the previous event (64 zeros for seq 1).' })
  prev!: string;

  @Field({
    description: 'Lowercase hex SHA-256 of 0x00 ‖ canonical: the chain and Merkle leaf hash.',
  })
  hash!: string;

  @Field({ description: 'Detached-payload JWS (EdDSA) over the canonical form.' })
  jws!: string;

  @Field({ description: 'The RFC 8785 canonical JSON that was hashed and signed.' })
  canonical!: string;
}

@ObjectType('LedgerEventPage')
export class LedgerEventPageModel {
  @Field(() => [LedgerEventModel])
  events!: LedgerEventModel[];

  @Field(() => Int, {
    nullable: true,
    description: 'Pass as afterSeq for the next page; null at the end.',
  })
  nextAfterSeq!: number | null;
}

@ArgsType()
export class LedgerEventsArgs {
  @Field(() => Int, { defaultValue: 0 })
  afterSeq!: number;

  @Field(() => Int, { defaultValue: 100, description: 'At most 1000.' })
  limit!: number;

  // GraphQL passes an explicit null for a nullable argument: no filter, like an absent one.
  @Field(() => String, { nullable: true })
  subject?: string | null;

  @Field(() => String, { nullable: true })
  type?: string | null;

  @Field(() => String, { nullable: true, description: 'Events whose actor.sub is exactly this.' })
  actor?: string | null;

  @Field(() => Date, { nullable: true, description: 'Events at or after this instant (ts).' })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: 'Events before this instant (ts).' })
  to?: Date | null;
}

@ObjectType('LedgerCheckpoint', {
  description: 'A signed statement of the Merkle root at a tree size.',
})
export class LedgerCheckpointModel {
  @Field(() => Int)
  v!: number;

  @Field(() => Int)
  treeSize!: number;

  @Field()
  rootHash!: string;

  @Field()
  ts!: string;

  @Field({
    description: 'Compact JWS (EdDSA) over the RFC 8785 form of {v, treeSize, rootHash, ts}.',
  })
  jws!: string;
}

@ObjectType('LedgerVerifyFailure')
export class LedgerVerifyFailureModel {
  @Field(() => Int)
  seq!: number;

  @Field({
    description:
      'hash mismatch, broken link, bad signature, unknown key, gap, checkpoint root mismatch, invalid event or truncated (events missing from the end)',
  })
  reason!: string;

  @Field()
  detail!: string;
}

@ObjectType('LedgerVerifyReport')
export class LedgerVerifyReportModel {
  @Field()
  ok!: boolean;

  @Field(() => Int)
  fromSeq!: number;

  @Field(() => Int)
  toSeq!: number;

  @Field(() => Int)
  eventsChecked!: number;

  @Field(() => Int)
  signaturesChecked!: number;

  @Field(() => Int)
  checkpointsChecked!: number;

  @Field(() => LedgerVerifyFailureModel, { nullable: true })
  failure?: LedgerVerifyFailureModel;

  @Field(() => Int)
  durationMs!: number;
}

@ObjectType('InclusionProof', { description: 'RFC 9162 §2.1.3 audit path of one event.' })
export class InclusionProofModel {
  @Field(() => Int)
  seq!: number;

  @Field(() => Int)
  treeSize!: number;

  @Field()
  leafHash!: string;

  @Field()
  rootHash!: string;

  @Field(() => [String])
  proof!: string[];
}

@ObjectType('ConsistencyProof', {
  description: 'RFC 9162 §2.1.4 proof that one tree extends another.',
})
export class ConsistencyProofModel {
  @Field(() => Int)
  first!: number;

  @Field(() => Int)
  second!: number;

  @Field()
  firstRootHash!: string;

  @Field()
  secondRootHash!: string;

  @Field(() => [String])
  proof!: string[];
}

@ObjectType('SigningKeyRotation')
export class SigningKeyRotationModel {
  @Field()
  kid!: string;

  @Field()
  previousKid!: string;

  @Field(() => Int, { description: 'The seq of the ledger.key.rotated event.' })
  eventSeq!: number;
}
