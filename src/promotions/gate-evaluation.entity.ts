import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { GateResult } from './gates.js';

export const GATE_PURPOSES = ['REVIEW', 'ROLLOUT_START'] as const;
export type GatePurpose = (typeof GATE_PURPOSES)[number];

/** The gates of a request at one moment, with their evidence. Never changes. */
@Entity({ name: 'gate_evaluations' })
export class GateEvaluationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'promotion_id', type: 'uuid' })
  promotionId!: string;

  @Column({ type: 'boolean' })
  passed!: boolean;

  @Column({ type: 'text' })
  purpose!: GatePurpose;

  /** The RFC 8785 text whose SHA-256 is `evidenceSha256`. */
  @Column({ type: 'jsonb' })
  gates!: GateResult[];

  @Column({ name: 'evidence_sha256', type: 'char', length: 64 })
  evidenceSha256!: string;

  @Column({ name: 'policy_sha256', type: 'char', length: 64 })
  policySha256!: string;

  @Column({ name: 'request_sha256', type: 'char', length: 64 })
  requestSha256!: string;

  @Column({ name: 'evaluated_by', type: 'text' })
  evaluatedBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
