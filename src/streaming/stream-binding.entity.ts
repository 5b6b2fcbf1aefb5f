import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * An endpoint's NATS JetStream input (one at most: the endpoint is the key). The fields are
 * those of `StreamBindingValues` (stream-binding-rules.ts), checked there before any row is
 * written; the table's own checks repeat the ones no row may break.
 */
@Entity({ name: 'stream_bindings' })
export class StreamBindingEntity {
  @PrimaryColumn({ name: 'endpoint_id', type: 'uuid' })
  endpointId!: string;

  @Column({ name: 'input_subject', type: 'text' })
  inputSubject!: string;

  @Column({ name: 'stream_name', type: 'text' })
  stream!: string;

  @Column({ name: 'consumer_name', type: 'text' })
  consumer!: string;

  @Column({ name: 'output_subject', type: 'text' })
  outputSubject!: string;

  @Column({ name: 'dead_letter_subject', type: 'text' })
  deadLetterSubject!: string;

  @Column({ name: 'max_ack_pending', type: 'integer' })
  maxAckPending!: number;

  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
