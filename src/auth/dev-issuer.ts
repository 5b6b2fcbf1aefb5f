import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  calculateJwkThumbprint,
  type JWK,
} from 'jose';
import { DEV_ISSUER } from '../config/config.js';

/**
 * The local development issuer: an Ed25519 key kept under the data folder, so that
 * `gatehouse token` and the service agree without any identity provider. It exists for the
 * embedded default only; production refuses it unless GATEHOUSE_DEV_ISSUER=true.
 */
export interface DevIssuerKey {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
}

const ALG = 'EdDSA';

export function devIssuerKeyPath(dataDir: string): string {
  return join(dataDir, 'dev-issuer', 'private.jwk.json');
}

export async function loadOrCreateDevIssuerKey(dataDir: string): Promise<DevIssuerKey> {
  const path = devIssuerKeyPath(dataDir);
  if (existsSync(path)) return fromPrivateJwk(JSON.parse(readFileSync(path, 'utf8')) as JWK);
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  privateJwk.kid = await calculateJwkThumbprint(privateJwk);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    // 'wx': if another process created it meanwhile, theirs wins and we read it back.
    writeFileSync(path, JSON.stringify(privateJwk), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return fromPrivateJwk(JSON.parse(readFileSync(path, 'utf8')) as JWK);
  }
  return fromPrivateJwk(privateJwk);
}

function fromPrivateJwk(privateJwk: JWK): DevIssuerKey {
  const publicJwk: JWK = { ...privateJwk };
  delete publicJwk.d;
  return { privateJwk, publicJwk };
}

export interface DevTokenRequest {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly ttlSeconds: number;
  readonly audience: string;
  /** The claim path roles go under, so dev tokens look like the configured provider's. */
  readonly rolesClaim: string;
}

export async function issueDevToken(key: DevIssuerKey, request: DevTokenRequest): Promise<string> {
  const signingKey = await importJWK(key.privateJwk, ALG);
  const claims = nestClaim(request.rolesClaim, [...request.roles]);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid: key.privateJwk.kid, typ: 'JWT' })
    .setIssuer(DEV_ISSUER)
    .setAudience(request.audience)
    .setSubject(request.sub)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime(`${request.ttlSeconds}s`)
    .sign(signingKey);
}

/** `realm_access.roles` → `{ realm_access: { roles } }` */
function nestClaim(path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let out: unknown = value;
  for (let i = parts.length - 1; i >= 0; i--) out = { [parts[i] ?? '']: out };
  return out as Record<string, unknown>;
}
