import { Inject, Injectable } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { buildAbility } from './ability.js';
import { UnauthenticatedError } from './auth.errors.js';
import type { Principal } from './principal.js';
import { ROLE_GRANTS, type RoleGrants } from './role-grants.js';
import { TokenVerifier, type VerifiedIdentity } from './token-verifier.js';

/**
 * A verified token is remembered for a short while (never past its `exp`), keyed by the whole
 * token: a client sending the same bearer token thousands of times a second (inference) pays
 * for one signature check, not thousands. A changed token is a different key.
 */
const CACHE_TTL_MS = 30_000;
const CACHE_MAX_ENTRIES = 10_000;

interface Remembered {
  readonly principal: Principal;
  readonly until: number;
}

@Injectable()
export class AuthService {
  private readonly verified = new Map<string, Remembered>();
  /** The header last answered from the cache, and its entry. */
  private last: { readonly authorization: string; readonly entry: Remembered } | undefined;

  constructor(
    private readonly verifier: TokenVerifier,
    @Inject(ROLE_GRANTS) private readonly grants: RoleGrants,
  ) {}

  /**
   * The principal of a token verified a moment ago, without waiting: the inference path
   * asks this first and only falls back to `authenticate` on a miss.
   */
  remembered(authorization: string | undefined): Principal | undefined {
    if (authorization === undefined) return undefined;
    const now = Date.now();
    // Most requests carry the header the one before carried: compared whole, it skips the
    // header's parse and a hash of the whole token.
    const last = this.last;
    if (last !== undefined && authorization === last.authorization && last.entry.until > now)
      return last.entry.principal;
    const token = bearerToken(authorization);
    const cached = token === undefined ? undefined : this.verified.get(token);
    if (cached === undefined || cached.until <= now) return undefined;
    this.last = { authorization, entry: cached };
    return cached.principal;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined || authorization === '')
      throw new UnauthenticatedError('no bearer token');
    const token = bearerToken(authorization);
    if (!token) throw new UnauthenticatedError('authorization header is not "Bearer <token>"');
    const now = Date.now();
    const cached = this.verified.get(token);
    if (cached && cached.until > now) return cached.principal;
    const principal = this.principalOf(await this.verifier.verify(token));
    this.remember(token, principal, now);
    return principal;
  }

  /** The principal of an identity verified elsewhere (a console session): what its roles grant. */
  principalOf(identity: VerifiedIdentity): Principal {
    if (identity.sub === '') throw new UnauthenticatedError('token has no subject');
    const permissions = this.grants(identity.roles);
    return { ...identity, permissions, ability: buildAbility(permissions) };
  }

  private remember(token: string, principal: Principal, now: number): void {
    // verify() required and checked `exp`.
    const exp = decodeJwt(token).exp ?? 0;
    const until = Math.min(exp * 1000, now + CACHE_TTL_MS);
    if (until <= now) return;
    this.verified.delete(token);
    if (this.verified.size >= CACHE_MAX_ENTRIES) {
      for (const [key, entry] of this.verified) {
        if (entry.until <= now || this.verified.size >= CACHE_MAX_ENTRIES)
          this.verified.delete(key);
        else break;
      }
    }
    this.verified.set(token, { principal, until });
  }
}

function bearerToken(authorization: string): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
}
