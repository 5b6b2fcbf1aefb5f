import { Column, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'console_sessions' })
export class ConsoleSessionEntity {
  /** SHA-256 (hex) of the session id; the id itself is only ever in the browser's cookie. */
  @PrimaryColumn({ name: 'id_sha256', type: 'char', length: 64 })
  idSha256!: string;

  @Column({ type: 'text' })
  subject!: string;

  @Column({ type: 'text', array: true })
  roles!: string[];

  @Column({ type: 'text' })
  issuer!: string;

  @Column({ name: 'csrf_token', type: 'text' })
  csrfToken!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
