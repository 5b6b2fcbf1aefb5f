import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  errors as joseErrors,
  jwtVerify,
  type JWK,
  type JWTVerifyGetKey,
  type KeyObject,
} from 'jose';
import { textFault } from '../common/text-rules.js';
import { DEV_ISSUER, type AuthConfig } from '../config/config.js';
import { UnauthenticatedError } from './auth.errors.js';
import type { DevIssuerKey } from './dev-issuer.js';
import { readRolesClaim } from './roles-claim.js';

export interface VerifiedIdentity {
  readonly sub: string;
  readonly roles: string[];
  readonly issuer: string;
}

type KeySource = JWTVerifyGetKey | KeyObject;

/**
 * Verifies bearer JWTs: signature against the issuer's keys, `iss`, `aud`, `exp`, `nbf`, and
 * an algorithm allow-list that never contains `none` or HMAC. Each trusted issuer has its own
 * key source, chosen by the token's (unverified) `iss`; an unknown issuer is refused before any
 * key is looked at.
 */
export class TokenVerifier {
  private constructor(
    private readonly auth: AuthConfig,
    private readonly issuers: ReadonlyMap<string, KeySource>,
  ) {}

  static create(auth: AuthConfig, devKey: DevIssuerKey | undefined): TokenVerifier {
    const issuers = new Map<string, KeySource>();
    if (auth.issuer !== undefined) {
      if (auth.jwksUrl !== undefined) {
        // jose caches the set and refetches on an unknown kid, at most once per cooldown.
        issuers.set(
          auth.issuer,
          createRemoteJWKSet(new URL(auth.jwksUrl), { cacheMaxAge: 10 * 60_000 }),
        );
      } else if (auth.publicKeyFile !== undefined) {
        issuers.set(auth.issuer, loadPublicKeyFile(auth.publicKeyFile));
      }
    }
    if (auth.devIssuer && devKey)
      issuers.set(DEV_ISSUER, createLocalJWKSet({ keys: [devKey.publicJwk] }));
    return new TokenVerifier(auth, issuers);
  }

  async verify(token: string): Promise<VerifiedIdentity> {
    let issuer: string | undefined;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new UnauthenticatedError('malformed token');
    }
    const key = issuer === undefined ? undefined : this.issuers.get(issuer);
    if (issuer === undefined || key === undefined)
      throw new UnauthenticatedError('untrusted issuer');
    try {
      const options = {
        issuer,
        audience: this.auth.audience,
        algorithms: [...this.auth.algorithms],
        clockTolerance: this.auth.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      };
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, key, options);
      return identityOfClaims(payload, this.auth.rolesClaim, issuer);
    } catch (error) {
      if (error instanceof UnauthenticatedError) throw error;
      throw new UnauthenticatedError(reasonOf(error));
    }
  }
}

/**
 * The identity in a verified token's claims, the roles read at `rolesClaim`. The subject and
 * roles go into ledger events, approvals and exports: a token whose claims break the text rule
 * is refused, however well signed (an issuer is trusted for who someone is, not for what its
 * strings may hold).
 */
export function identityOfClaims(
  claims: Readonly<Record<string, unknown>>,
  rolesClaim: string,
  issuer: string,
): VerifiedIdentity {
  const sub = typeof claims['sub'] === 'string' ? claims['sub'] : '';
  const roles = readRolesClaim(claims, rolesClaim);
  const subFault = textFault(sub);
  if (subFault) throw new UnauthenticatedError(`claim sub ${subFault}`);
  for (const role of roles) {
    const fault = textFault(role);
    if (fault) throw new UnauthenticatedError(`a role in the roles claim ${fault}`);
  }
  return { sub, roles, issuer };
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return `claim ${error.claim} is not valid`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key';
  if (error instanceof joseErrors.JOSEError) return 'invalid token';
  return 'token could not be verified';
}

/** A PEM public key (SPKI) or a JWK / JWK set in JSON. */
function loadPublicKeyFile(path: string): KeySource {
  const text = readFileSync(path, 'utf8');
  if (text.includes('-----BEGIN')) return createPublicKey(text);
  const parsed = JSON.parse(text) as JWK | { keys: JWK[] };
  return createLocalJWKSet('keys' in parsed ? parsed : { keys: [parsed] });
}
