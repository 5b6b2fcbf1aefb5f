import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const BATCH_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

const bigintAsNumber = {
  to: (v: number | null) => v,
  from: (v: string | null) => (v === null ? null : Number(v)),
};

@Entity({ name: 'batch_jobs' })
export class BatchJobEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text', nullable: true })
  endpoint!: string | null;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId!: string;

  @Column({ name: 'dataset_id', type: 'uuid' })
  datasetId!: string;

  @Column({ type: 'text' })
  status!: BatchStatus;

  @Column({ name: 'rows_total', type: 'bigint', transformer: bigintAsNumber })
  rowsTotal!: number;

  @Column({ name: 'rows_done', type: 'bigint', transformer: bigintAsNumber })
  rowsDone!: number;

  @Column({ name: 'output_sha256', type: 'char', length: 64, nullable: true })
  outputSha256!: string | null;

  @Column({ name: 'output_size', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  outputSize!: number | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'cancel_requested', type: 'boolean' })
  cancelRequested!: boolean;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
