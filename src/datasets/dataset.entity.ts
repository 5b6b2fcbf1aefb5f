import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

export interface DatasetColumn {
  readonly name: string;
  /** `number` when every non-empty value parses as a finite number, else `string`. */
  readonly type: 'number' | 'string';
}

const bigintAsNumber = { to: (v: number) => v, from: (v: string) => Number(v) };

@Entity({ name: 'datasets' })
export class DatasetEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  @Column({ type: 'char', length: 64 })
  sha256!: string;

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
