import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const TRAFFIC_MODES = ['NONE', 'SHADOW', 'CANARY', 'BLUE_GREEN', 'AB_TEST'] as const;
export type TrafficMode = (typeof TRAFFIC_MODES)[number];

/**
 * What the endpoint does when the prediction log can take no more (the database away and the
 * spool full): `best-effort` answers and counts the prediction dropped; `required` refuses the
 * request (503) rather than serve a prediction that is not logged.
 */
export const PREDICTION_LOG_POLICIES = ['best-effort', 'required'] as const;
export type PredictionLogPolicy = (typeof PREDICTION_LOG_POLICIES)[number];

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/**
 * An endpoint serves one model's versions. Its traffic state (live version, candidate, mode,
 * weight) changes only through the deployment service, which the promotion and rollout flows
 * drive; `revision` is bumped on each change so replicas can tell a stale routing cache.
 */
@Entity({ name: 'endpoints' })
export class EndpointEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'model_id', type: 'uuid' })
  modelId!: string;

  @Column({ name: 'live_version', type: 'integer', nullable: true })
  liveVersion!: number | null;

  @Column({ name: 'candidate_version', type: 'integer', nullable: true })
  candidateVersion!: number | null;

  /** The previous live version after a go-live, kept loaded for an instant rollback. */
  @Column({ name: 'standby_version', type: 'integer', nullable: true })
  standbyVersion!: number | null;

  @Column({ type: 'text' })
  mode!: TrafficMode;

  /** Basis points (0..10000) of traffic answered by the candidate. */
  @Column({ name: 'candidate_weight', type: 'integer' })
  candidateWeight!: number;

  /** SHADOW: basis points of live requests mirrored to the candidate. */
  @Column({ name: 'shadow_sample', type: 'integer' })
  shadowSample!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  revision!: number;

  @Column({ name: 'prediction_log_policy', type: 'text' })
  predictionLogPolicy!: PredictionLogPolicy;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
