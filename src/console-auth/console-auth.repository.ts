import { Injectable } from '@nestjs/common';
import { DataSource, LessThanOrEqual, type EntityManager } from 'typeorm';
import { ConsoleSessionEntity } from './console-session.entity.js';
import { ConsoleSignInEntity } from './console-sign-in.entity.js';

@Injectable()
export class ConsoleAuthRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Stores a new session, and drops the sessions that have ended meanwhile. */
  async createSession(tx: EntityManager, session: ConsoleSessionEntity): Promise<void> {
    const sessions = tx.getRepository(ConsoleSessionEntity);
    await sessions.delete({ expiresAt: LessThanOrEqual(new Date()) });
    await sessions.insert(session);
  }

  /** The session whose id hashes to `idSha256`, while it lasts. */
  async liveSession(idSha256: string, now: Date): Promise<ConsoleSessionEntity | undefined> {
    const row = await this.dataSource.getRepository(ConsoleSessionEntity).findOneBy({ idSha256 });
    return row !== null && row.expiresAt > now ? row : undefined;
  }

  /** Whether there was such a session to delete (two sign-outs at once end it once). */
  async deleteSession(tx: EntityManager, idSha256: string): Promise<boolean> {
    const result = await tx.getRepository(ConsoleSessionEntity).delete({ idSha256 });
    return (result.affected ?? 0) > 0;
  }

  async createSignIn(signIn: ConsoleSignInEntity): Promise<void> {
    const signIns = this.dataSource.getRepository(ConsoleSignInEntity);
    await signIns.delete({ expiresAt: LessThanOrEqual(new Date()) });
    await signIns.insert(signIn);
  }

  /** Removes the sign-in and returns it, if it has not expired: a `state` is good once. */
  async takeSignIn(stateSha256: string, now: Date): Promise<ConsoleSignInEntity | undefined> {
    // A bare DELETE … RETURNING comes back from TypeORM as [rows, count]; a SELECT does not.
    const [row] = await this.dataSource.query<
      { code_verifier: string; nonce: string; return_to: string; expires_at: Date }[]
    >(
      `WITH taken AS (
         DELETE FROM console_sign_ins WHERE state_sha256 = $1
         RETURNING code_verifier, nonce, return_to, expires_at
       )
       SELECT * FROM taken`,
      [stateSha256],
    );
    if (row === undefined || row.expires_at <= now) return undefined;
    return {
      stateSha256,
      codeVerifier: row.code_verifier,
      nonce: row.nonce,
      returnTo: row.return_to,
      expiresAt: row.expires_at,
    };
  }
}
