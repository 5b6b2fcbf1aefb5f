import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export const EVALUATION_STATUSES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED'] as const;
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number];

/**
 * Milliseconds each phase of a run took, as the service measured it. Reading and inference
 * alternate chunk by chunk: each is the sum of its own spans, not a slice of the wall clock.
 * Not evidence, so never part of the result or its digest.
 */
export interface EvaluationTimings {
  /** Waiting for the dataset's chunks (read, digest, parse) and collecting labels and groups. */
  readonly readMs: number;
  readonly inferenceMs: number;
  /** The figures on their worker thread, the thread's start included, the bootstrap not. */
  readonly metricsMs: number;
  readonly bootstrapMs: number;
  /** The result's canonical form, its digest, and its write (the commit not included). */
  readonly storeMs: number;
  /** From the job's start to the result stored: the phases and what lies between them. */
  readonly totalMs: number;
}

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

/** Finished evaluations are immutable (a trigger refuses UPDATE and DELETE). */
@Entity({ name: 'evaluations' })
export class EvaluationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'model_version_id', type: 'uuid' })
  modelVersionId!: string;

  @Column({ name: 'dataset_id', type: 'uuid' })
  datasetId!: string;

  @Column({ name: 'label_column', type: 'text' })
  labelColumn!: string;

  @Column({ name: 'protected_attributes', type: 'jsonb' })
  protectedAttributes!: string[];

  @Column({ name: 'reference_groups', type: 'jsonb' })
  referenceGroups!: Record<string, string>;

  @Column({ type: 'jsonb', nullable: true })
  bootstrap!: { resamples: number; seed: number } | null;

  @Column({ name: 'policy_sha256', type: 'char', length: 64 })
  policySha256!: string;

  @Column({ type: 'text' })
  status!: EvaluationStatus;

  @Column({ name: 'rows_total', type: 'bigint', transformer: bigintAsNumber })
  rowsTotal!: number;

  @Column({ name: 'rows_done', type: 'bigint', transformer: bigintAsNumber })
  rowsDone!: number;

  @Column({ type: 'jsonb', nullable: true })
  result!: Record<string, unknown> | null;

  @Column({ name: 'result_sha256', type: 'char', length: 64, nullable: true })
  resultSha256!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  timings!: EvaluationTimings | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
