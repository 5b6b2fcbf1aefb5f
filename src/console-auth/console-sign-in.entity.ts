import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A sign-in waiting for the browser to come back from the provider. */
@Entity({ name: 'console_sign_ins' })
export class ConsoleSignInEntity {
  @PrimaryColumn({ name: 'state_sha256', type: 'char', length: 64 })
  stateSha256!: string;

  @Column({ name: 'code_verifier', type: 'text' })
  codeVerifier!: string;

  @Column({ type: 'text' })
  nonce!: string;

  @Column({ name: 'return_to', type: 'text' })
  returnTo!: string;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}
