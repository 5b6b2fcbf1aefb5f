import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const TASKS = ['BINARY_CLASSIFICATION', 'REGRESSION'] as const;
export type Task = (typeof TASKS)[number];

/** Immutable once registered (a trigger refuses UPDATE and DELETE). */
@Entity({ name: 'model_versions' })
export class ModelVersionEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'model_id', type: 'uuid' })
  modelId!: string;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'artifact_sha256', type: 'char', length: 64 })
  artifactSha256!: string;

  @Column({ type: 'text' })
  task!: Task;

  /** Dataset column names, in the order of the input tensor's last dimension. */
  @Column({ name: 'feature_columns', type: 'jsonb' })
  featureColumns!: string[];

  @Column({ name: 'input_name', type: 'text' })
  inputName!: string;

  @Column({ name: 'score_output', type: 'text' })
  scoreOutput!: string;

  @Column({ name: 'score_index', type: 'integer' })
  scoreIndex!: number;

  @Column({ type: 'double precision', nullable: true })
  threshold!: number | null;

  @Column({ name: 'parent_version', type: 'integer', nullable: true })
  parentVersion!: number | null;

  @Column({ name: 'training_metrics', type: 'jsonb' })
  trainingMetrics!: Record<string, unknown>;

  @Column({ type: 'text' })
  description!: string;

  /** Where the version came from (`mlflow.run_id`, `git.commit`): short keys to text. */
  @Column({ type: 'jsonb' })
  metadata!: Record<string, string>;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
