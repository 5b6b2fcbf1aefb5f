import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One person's approval in one role, bound to the request digest they saw. Never changes. */
@Entity({ name: 'promotion_approvals' })
export class PromotionApprovalEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'promotion_id', type: 'uuid' })
  promotionId!: string;

  @Column({ type: 'text' })
  role!: string;

  @Column({ type: 'text' })
  approver!: string;

  /** The roles the approver's token carried. */
  @Column({ name: 'approver_roles', type: 'jsonb' })
  approverRoles!: string[];

  @Column({ name: 'request_sha256', type: 'char', length: 64 })
  requestSha256!: string;

  @Column({ type: 'text', nullable: true })
  statement!: string | null;

  @Column({ name: 'sign_off', type: 'boolean' })
  signOff!: boolean;

  @Column({ name: 'policy_sha256', type: 'char', length: 64 })
  policySha256!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
