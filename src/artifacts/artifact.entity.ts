import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** One tensor of a model's signature as ONNX Runtime reads it; `-1`/a name for free dims. */
export interface TensorSpec {
  readonly name: string;
  /** ONNX element type in KServe v2 spelling: FP32, FP64, INT32, INT64, BOOL, … */
  readonly datatype: string;
  /** Fixed sizes, or -1 for a dimension the model leaves free (batch, say). */
  readonly shape: number[];
}

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
