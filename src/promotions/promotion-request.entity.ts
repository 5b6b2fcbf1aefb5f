import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { RiskTier } from '../registry/model.entity.js';
import type { RequestContent } from './request-digest.js';
import type { PromotionStatus, Strategy } from './vocabulary.js';

/**
 * A request to put a version on an endpoint. Its content — what approvers approve — never
 * changes (a trigger refuses it); only the status moves.
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

  @Column({ name: 'policy_sha256', type: 'char', length: 64 })
  policySha256!: string;

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
