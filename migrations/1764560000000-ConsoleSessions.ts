import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Web console sign-in. A session is found by the SHA-256 of the id its cookie carries, so the
 * table alone lets no one act as a signed-in user; it keeps no provider token. A sign-in under
 * way keeps its PKCE verifier and nonce here, found by the SHA-256 of its `state`, for the few
 * minutes the browser spends at the provider.
 */
export class ConsoleSessions1764560000000 implements MigrationInterface {
  name = 'ConsoleSessions1764560000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE console_sessions (
        id_sha256  char(64) PRIMARY KEY,
        subject    text NOT NULL,
        roles      text[] NOT NULL,
        issuer     text NOT NULL,
        csrf_token text NOT NULL,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX console_sessions_expires_at ON console_sessions (expires_at)`);
    await q.query(`
      CREATE TABLE console_sign_ins (
        state_sha256  char(64) PRIMARY KEY,
        code_verifier text NOT NULL,
        nonce         text NOT NULL,
        return_to     text NOT NULL,
        expires_at    timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE console_sign_ins`);
    await q.query(`DROP TABLE console_sessions`);
  }
}
