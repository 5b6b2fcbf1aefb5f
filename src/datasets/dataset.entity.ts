import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export interface DatasetColumn {
  readonly name: string;
  /**
   * CSV: `number` when the column has values and every non-empty one parses as a finite
   * number, else `string`. Parquet: `number` for a numeric Parquet type with at least one value.
   */
  readonly type: 'number' | 'string';
}

/** The file uploaded: `text/csv`, or `application/vnd.apache.parquet`. */
export type DatasetFormat = 'csv' | 'parquet';

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

@Entity({ name: 'datasets' })
export class DatasetEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'char', length: 64 })
  sha256!: string;

  @Column({ type: 'text' })
  format!: DatasetFormat;

  /** The Arrow IPC file of its columns; null for CSV datasets uploaded before there was one. */
  @Column({ name: 'columnar_sha256', type: 'char', length: 64, nullable: true })
  columnarSha256!: string | null;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  size!: number;

  @Column({ type: 'bigint', transformer: bigintAsNumber })
  rows!: number;

  @Column({ type: 'jsonb' })
  columns!: DatasetColumn[];

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
