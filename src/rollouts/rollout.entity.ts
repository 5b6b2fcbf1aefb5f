import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { Strategy } from '../policy/promotion-vocabulary.js';
import type { AbResult } from './ab-test.js';
import type { RolloutStage } from './rollout-stages.js';

/** How a finished rollout ended, beside its status. */
export interface RolloutOutcome {
  readonly rolledBack?: boolean;
  readonly reason?: string;
  readonly manual?: boolean;
  readonly by?: string;
  readonly abTest?: AbResult;
}

export const ROLLOUT_STATUSES = [
  'RUNNING',
  'PAUSED',
  'COMPLETED',
  'ROLLED_BACK',
  'FAILED',
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

/**
 * A promotion being carried out. Its state lives here, not in a process: the stages with
 * their progress, the stage in progress, and a lease (owner, expiry) so that one replica at a
 * time drives a staged rollout and another can take over after a crash.
 */
@Entity({ name: 'rollouts' })
export class RolloutEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'promotion_id', type: 'uuid' })
  promotionId!: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ type: 'text' })
  strategy!: Strategy;

  @Column({ name: 'candidate_version', type: 'integer' })
  candidateVersion!: number;

  @Column({ name: 'previous_version', type: 'integer', nullable: true })
  previousVersion!: number | null;

  @Column({ type: 'text' })
  status!: RolloutStatus;

  @Column({ name: 'current_stage', type: 'integer' })
  currentStage!: number;

  @Column({ type: 'jsonb' })
  stages!: RolloutStage[];

  @Column({ name: 'gate_evaluation_id', type: 'uuid' })
  gateEvaluationId!: string;

  @Column({ name: 'lease_owner', type: 'text', nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt!: Date | null;

  /** Observed time of the stage in progress (stage-clock.ts): what its minimum duration counts. */
  @Column({ name: 'stage_observed_ms', type: 'double precision', default: 0 })
  stageObservedMs!: number;

  /** The driver's last tick that advanced the stage's clock, and whose it was. */
  @Column({ name: 'stage_clock_at', type: 'timestamptz', nullable: true })
  stageClockAt!: Date | null;

  @Column({ name: 'stage_clock_by', type: 'text', nullable: true })
  stageClockBy!: string | null;

  /** The A/B test's result, or what rolled it back. */
  @Column({ type: 'jsonb', nullable: true })
  outcome!: RolloutOutcome | null;

  @Column({ name: 'started_by', type: 'text' })
  startedBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}

/** A copy of a rollout with some members changed (the entity is plain data). */
export function rolloutWith(
  rollout: RolloutEntity,
  patch: Partial<Omit<RolloutEntity, 'id'>>,
): RolloutEntity {
  return Object.assign(new RolloutEntity(), rollout, patch);
}
