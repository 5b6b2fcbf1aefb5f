import { Inject, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { UnauthenticatedError } from '../auth/auth.errors.js';
import { AuthService } from '../auth/auth.service.js';
import type { Principal } from '../auth/principal.js';
import type { SessionPrincipals } from '../auth/session-principals.js';
import type { VerifiedIdentity } from '../auth/token-verifier.js';
import { BadInputError, DomainError } from '../common/errors.js';
import { textFault } from '../common/text-rules.js';
import { CONFIG } from '../config/config.module.js';
import { DEV_ISSUER, type Config } from '../config/config.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import { ConsoleAuthRepository } from './console-auth.repository.js';
import { CSRF_HEADER, SESSION_COOKIE, SIGN_IN_COOKIE } from './console-cookies.js';
import { ConsoleOidc } from './console-oidc.js';
import type { ConsoleSessionEntity } from './console-session.entity.js';
import { consoleReturnPath, isSameOrigin } from './same-origin.js';
import { SignInFailedError } from './sign-in-failure.js';

/** What the console is told of its session. */
export interface ConsoleSessionView {
  readonly subject: string;
  readonly roles: string[];
  readonly csrfToken: string;
  readonly expiresAt: string;
}

export interface NewSession {
  readonly id: string;
  readonly view: ConsoleSessionView;
  readonly maxAgeSeconds: number;
}

/** How long the browser may spend at the provider signing in. */
export const SIGN_IN_TTL_SECONDS = 600;

/** A cookie-authenticated request without its session's CSRF token. */
export class CsrfError extends DomainError {
  constructor() {
    super(
      'FORBIDDEN',
      `a request authenticated by the console session cookie must carry its session's token in the ${CSRF_HEADER} header`,
    );
  }
}

/**
 * Console sessions: made at sign-in (through the provider, or the dev issuer's sign-in in
 * development), found by the SHA-256 of the cookie's id, ended at sign-out or expiry. A
 * session's principal is built as a bearer token's is, from its subject and roles.
 */
@Injectable()
export class ConsoleAuthService implements SessionPrincipals {
  private readonly oidc: ConsoleOidc | undefined;

  constructor(
    private readonly repository: ConsoleAuthRepository,
    private readonly auth: AuthService,
    private readonly ledger: LedgerService,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {
    const oidc = config.console.oidc;
    this.oidc = oidc === undefined ? undefined : new ConsoleOidc(oidc, config.auth);
  }

  carriesSession(request: FastifyRequest): boolean {
    return request.cookies[SESSION_COOKIE] !== undefined;
  }

  async authenticate(request: FastifyRequest): Promise<Principal> {
    const session = await this.liveSession(request);
    if (!sameToken(request.headers[CSRF_HEADER], session.csrfToken)) throw new CsrfError();
    return this.auth.principalOf({
      sub: session.subject,
      roles: session.roles,
      issuer: session.issuer,
    });
  }

  async session(request: FastifyRequest): Promise<ConsoleSessionView> {
    return viewOf(await this.liveSession(request));
  }

  /** Where to send the browser to sign in, and the `state` its cookie must hold on return. */
  async beginSignIn(returnTo: string | undefined): Promise<{ url: string; state: string }> {
    const oidc = this.requireOidc();
    const path = consoleReturnPath(returnTo);
    if (path === undefined)
      throw new BadInputError('returnTo', 'must be a path of the console (starting /console)');
    const { url, pending } = await oidc.begin();
    await this.repository.createSignIn({
      stateSha256: sha256(pending.state),
      codeVerifier: pending.codeVerifier,
      nonce: pending.nonce,
      returnTo: path,
      expiresAt: new Date(Date.now() + SIGN_IN_TTL_SECONDS * 1000),
    });
    return { url: url.href, state: pending.state };
  }

  /** The provider's redirect back: a session for the identity its ID token names. */
  async completeSignIn(
    request: FastifyRequest,
    state: string | undefined,
  ): Promise<{ session: NewSession; returnTo: string }> {
    const oidc = this.requireOidc();
    const bound = request.cookies[SIGN_IN_COOKIE];
    if (state === undefined || bound === undefined || !sameToken(bound, state))
      throw new SignInFailedError('not-begun', 'the sign-in was not begun by this browser');
    const signIn = await this.repository.takeSignIn(sha256(state), new Date());
    if (signIn === undefined)
      throw new SignInFailedError(
        'expired',
        'the sign-in is unknown, used or expired; sign in again',
      );
    const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
    let identity: VerifiedIdentity;
    try {
      identity = await oidc.complete(query, {
        state,
        codeVerifier: signIn.codeVerifier,
        nonce: signIn.nonce,
      });
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw new SignInFailedError('refused', error.why);
      throw error;
    }
    return { session: await this.createSession(identity), returnTo: signIn.returnTo };
  }

  /**
   * Development only: a session as anyone, with any roles roles.yaml defines, as the dev
   * issuer's tokens are. There is nothing to do without the dev issuer.
   */
  async devSignIn(request: FastifyRequest, body: unknown): Promise<NewSession> {
    if (!this.config.auth.devIssuer)
      throw new DomainError(
        'NOT_FOUND',
        'dev sign-in is off: the dev issuer is off on this server',
      );
    if (!isSameOrigin(request.headers.origin, this.config.console.publicUrl, request.headers.host))
      throw new DomainError('FORBIDDEN', 'dev sign-in must come from the console (Origin)');
    const { subject, roles } = devSignInBody(body, Object.keys(this.policies.roles.value.roles));
    return this.createSession({ sub: subject, roles, issuer: DEV_ISSUER });
  }

  /** Ends the session the request carries, if it carries its CSRF token; nothing to end is fine. */
  async signOut(request: FastifyRequest): Promise<void> {
    const id = request.cookies[SESSION_COOKIE];
    if (id === undefined) return;
    const session = await this.repository.liveSession(sha256(id), new Date());
    if (session === undefined) return;
    if (!sameToken(request.headers[CSRF_HEADER], session.csrfToken)) throw new CsrfError();
    await this.ledger.transaction(async (tx) => {
      if (!(await this.repository.deleteSession(tx.manager, session.idSha256))) return;
      const ref = sessionRef(session.idSha256);
      tx.record({
        type: 'console.signed_out',
        subject: `console-session:${ref}`,
        actor: { sub: session.subject, roles: session.roles },
        payload: { session: ref },
      });
    });
  }

  private async createSession(identity: VerifiedIdentity): Promise<NewSession> {
    const principal = this.auth.principalOf(identity);
    const id = randomBytes(32).toString('base64url');
    const now = new Date();
    const ttl = this.config.console.sessionTtlSeconds;
    const row = {
      idSha256: sha256(id),
      subject: principal.sub,
      roles: [...principal.roles],
      issuer: principal.issuer,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
    };
    const ref = sessionRef(row.idSha256);
    await this.ledger.transaction(async (tx) => {
      await this.repository.createSession(tx.manager, row);
      tx.record({
        type: 'console.signed_in',
        subject: `console-session:${ref}`,
        actor: { sub: row.subject, roles: row.roles },
        payload: {
          session: ref,
          issuer: row.issuer,
          roles: row.roles,
          expiresAt: row.expiresAt.toISOString(),
        },
      });
    });
    return { id, view: viewOf(row), maxAgeSeconds: ttl };
  }

  private async liveSession(request: FastifyRequest): Promise<ConsoleSessionEntity> {
    const id = request.cookies[SESSION_COOKIE];
    if (id === undefined) throw new UnauthenticatedError('no console session');
    const session = await this.repository.liveSession(sha256(id), new Date());
    if (session === undefined)
      throw new UnauthenticatedError('the console session is unknown or has ended');
    return session;
  }

  private requireOidc(): ConsoleOidc {
    if (this.oidc === undefined)
      throw new DomainError(
        'NOT_FOUND',
        'sign-in through a provider is not configured on this server',
      );
    return this.oidc;
  }
}

function viewOf(session: {
  subject: string;
  roles: string[];
  csrfToken: string;
  expiresAt: Date;
}): ConsoleSessionView {
  return {
    subject: session.subject,
    roles: session.roles,
    csrfToken: session.csrfToken,
    expiresAt: session.expiresAt.toISOString(),
  };
}

function devSignInBody(
  body: unknown,
  knownRoles: readonly string[],
): { subject: string; roles: string[] } {
  const { subject, roles } = (typeof body === 'object' && body !== null ? body : {}) as {
    subject?: unknown;
    roles?: unknown;
  };
  if (typeof subject !== 'string' || subject === '' || subject.length > 200)
    throw new BadInputError('subject', 'must be a string of 1 to 200 characters');
  const fault = textFault(subject);
  if (fault) throw new BadInputError('subject', fault);
  if (!Array.isArray(roles) || roles.length === 0)
    throw new BadInputError('roles', 'must be a non-empty list of roles');
  for (const role of roles as unknown[]) {
    if (typeof role !== 'string' || !knownRoles.includes(role))
      throw new BadInputError('roles', `must each be one of ${knownRoles.join(', ')}`);
  }
  return { subject, roles: [...new Set(roles as string[])] };
}

/** How the ledger names a session: enough to tell sessions apart, nothing a browser presents. */
function sessionRef(idSha256: string): string {
  return idSha256.slice(0, 16);
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Compared in constant time, so the comparison leaks nothing of the expected token. */
function sameToken(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  return timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );
}
