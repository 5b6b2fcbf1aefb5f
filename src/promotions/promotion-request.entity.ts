import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { RiskTier } from '../policy/risk-tiers.js';
import type { RequestContent } from './request-digest.js';
import type { PromotionStatus } from './vocabulary.js';
import type { Strategy } from '../policy/promotion-vocabulary.js';

/**
 * A request to put a version on an endpoint. Its content — what approvers approve — never
 * changes (a trigger refuses it); only the status moves, and the roles it needs when the
 * promotion policy changes.
 */
@Entity({ name: 'promotion_requests' })
export class PromotionRequestEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId!: string;

  @Column({ name: 'evaluation_id', type: 'uuid' })
  evaluationId!: string;

  @Column({ name: 'risk_tier', type: 'text' })
  riskTier!: RiskTier;

  @Column({ type: 'text' })
  strategy!: Strategy;

  @Column({ name: 'live_version', type: 'integer', nullable: true })
  liveVersion!: number | null;

  /** The canonical content whose SHA-256 is `requestSha256`. */
  @Column({ type: 'jsonb' })
  content!: RequestContent;

  @Column({ name: 'request_sha256', type: 'char', length: 64 })
  requestSha256!: string;

  /** SHA-256 of policies/promotion.yaml when the request was made (part of the content). */
  @Column({ name: 'policy_sha256', type: 'char', length: 64 })
  policySha256!: string;

  /**
   * The roles the request needs: those of the policy it is judged under, which is the one it
   * was requested under until a `promotion.repolicied` event moves it to the one in force.
   */
  @Column({ name: 'required_roles', type: 'text', array: true })
  requiredRoles!: string[];

  /** SHA-256 of the promotion policy `requiredRoles` and `status` were last decided under. */
  @Column({ name: 'judged_policy_sha256', type: 'char', length: 64 })
  judgedPolicySha256!: string;

  @Column({ type: 'text' })
  status!: PromotionStatus;

  @Column({ name: 'requested_by', type: 'text' })
  requestedBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt!: Date | null;

  @Column({ name: 'closed_by', type: 'text', nullable: true })
  closedBy!: string | null;

  @Column({ name: 'close_reason', type: 'text', nullable: true })
  closeReason!: string | null;
}
