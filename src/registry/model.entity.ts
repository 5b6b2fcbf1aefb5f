import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { RiskTier } from '../policy/risk-tiers.js';

/** The model card (Mitchell et al., "Model Cards for Model Reporting"), as registered. */
export interface ModelCard {
  readonly intendedUse: string;
  readonly outOfScopeUses: string[];
  readonly limitations: string;
  readonly trainingData: string;
  readonly ethicalConsiderations: string;
}

@Entity({ name: 'models' })
export class ModelEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ name: 'risk_tier', type: 'text' })
  riskTier!: RiskTier;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ name: 'protected_attributes', type: 'jsonb' })
  protectedAttributes!: string[];

  @Column({ name: 'model_card', type: 'jsonb' })
  modelCard!: ModelCard;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
