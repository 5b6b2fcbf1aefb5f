import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { TensorSpec } from '../runtime/tensor-spec.js';

@Entity({ name: 'artifacts' })
export class ArtifactEntity {
  @PrimaryColumn({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  size!: number;

  @Column({ type: 'text' })
  format!: string;

  @Column({ type: 'jsonb' })
  inputs!: TensorSpec[];

  @Column({ type: 'jsonb' })
  outputs!: TensorSpec[];

  @Column({ type: 'jsonb' })
  opsets!: Record<string, number>;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
