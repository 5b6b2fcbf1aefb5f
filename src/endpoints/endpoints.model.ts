import { ArgsType, Field, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { PageArgs } from '../common/pagination.js';
import {
  TRAFFIC_MODES,
  type EndpointEntity,
  type PredictionLogPolicy,
  type TrafficMode,
} from './endpoint.entity.js';

export const TrafficModeEnum = Object.fromEntries(TRAFFIC_MODES.map((m) => [m, m])) as {
  [K in TrafficMode]: K;
};
registerEnumType(TrafficModeEnum, {
  name: 'TrafficMode',
  description:
    'How a candidate version takes traffic: NONE, SHADOW (mirrored, never answers), or a weighted split by routing key.',
});

export const PredictionLogPolicyEnum = {
  BEST_EFFORT: 'best-effort',
  REQUIRED: 'required',
} as const satisfies Record<string, PredictionLogPolicy>;
registerEnumType(PredictionLogPolicyEnum, {
  name: 'PredictionLogPolicy',
  description:
    'What an endpoint does when the prediction log can take no more (the database away and the spool full): BEST_EFFORT answers and counts the prediction dropped; REQUIRED refuses the request (503) rather than serve a prediction that is not logged. REQUIRED for every endpoint of a HIGH-tier model.',
});

@ObjectType('Endpoint', {
  description:
    'Serves one model’s versions. Its traffic changes only through promotions and rollouts.',
})
export class EndpointModel {
  @Field()
  id!: string;

  @Field()
  name!: string;

  @Field({ description: 'The model name.' })
  model!: string;

  @Field(() => Int, { nullable: true, description: 'The version that answers requests.' })
  liveVersion!: number | null;

  @Field(() => Int, { nullable: true, description: 'The version a rollout is trying out.' })
  candidateVersion!: number | null;

  @Field(() => Int, {
    nullable: true,
    description: 'The previous live version after a go-live, kept loaded for an instant rollback.',
  })
  standbyVersion!: number | null;

  @Field(() => TrafficModeEnum)
  mode!: TrafficMode;

  @Field(() => Int, { description: 'Candidate share of traffic, in basis points (0–10000).' })
  candidateWeight!: number;

  @Field(() => Int, { description: 'SHADOW: share of requests mirrored, in basis points.' })
  shadowSample!: number;

  @Field(() => Int, { description: 'Bumped on every traffic or log policy change.' })
  revision!: number;

  @Field(() => PredictionLogPolicyEnum)
  predictionLogPolicy!: PredictionLogPolicy;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field()
  updatedAt!: Date;
}

@ObjectType('EndpointPage')
export class EndpointPageModel {
  @Field(() => [EndpointModel])
  items!: EndpointModel[];

  @Field(() => String, { nullable: true })
  nextCursor!: string | null;
}

@ArgsType()
export class EndpointsArgs extends PageArgs {
  @Field(() => String, { nullable: true, description: 'Only endpoints of this model.' })
  model?: string | null;
}

/** An endpoint as the API shows it, given its model's name (kept in the registry). */
export function endpointModelOf(row: EndpointEntity, model: string): EndpointModel {
  return {
    id: row.id,
    name: row.name,
    model,
    liveVersion: row.liveVersion,
    candidateVersion: row.candidateVersion,
    standbyVersion: row.standbyVersion,
    mode: row.mode,
    candidateWeight: row.candidateWeight,
    shadowSample: row.shadowSample,
    revision: row.revision,
    predictionLogPolicy: row.predictionLogPolicy,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
