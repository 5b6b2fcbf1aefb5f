/**
 * Verification of the ledger's Ed25519 JWS (see jws.ts for their shape). Environment-neutral:
 * jose over WebCrypto, no node: module and no Buffer, so the console verifies a report in the
 * browser with the very code the `gatehouse verify-report` command runs.
 */
import { base64url, calculateJwkThumbprint, compactVerify, errors } from 'jose';
import type { CryptoKey, JWK, KeyObject } from 'jose';
import { canonicalize } from './canonical-json.js';

export type VerificationKeyInput = CryptoKey | KeyObject | JWK;

/** A ledger public key as published in the JWKS. */
export interface PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** The one algorithm the ledger signs with: EdDSA over Ed25519 (RFC 8037). */
export const ALG = 'EdDSA';

const UTF8 = new TextDecoder('utf-8');

/** True only if `jws` is a ledger detached JWS over exactly `payload` by `publicKey`. */
export async function verifyDetached(
  jws: string,
  payload: Uint8Array,
  publicKey: VerificationKeyInput,
): Promise<boolean> {
  const parts = jws.split('.');
  if (parts.length !== 3 || parts[1] !== '') return false;
  const [header, , signature] = parts as [string, string, string];
  const result = await verifyCompact(
    `${header}.${base64url.encode(payload)}.${signature}`,
    publicKey,
  );
  return result !== undefined;
}

/** The kid of a JWS's protected header, or undefined when it has none or is malformed. */
export function kidOf(jws: string): string | undefined {
  const header = ledgerHeader(jws.split('.')[0] ?? '');
  return header?.kid;
}

/** RFC 7638 SHA-256 JWK thumbprint, base64url: the ledger's kid for a public key. */
export async function thumbprintKid(publicJwk: JWK): Promise<string> {
  return calculateJwkThumbprint(publicJwk, 'sha256');
}

/**
 * The signed object of an attached JWS, or undefined if the signature, header or payload is
 * not right. The payload must be canonical JSON: one object, one signed byte string.
 */
export async function verifyAttached(
  jws: string,
  publicKey: VerificationKeyInput,
): Promise<unknown> {
  const payload = await verifyCompact(jws, publicKey);
  if (payload === undefined) return undefined;
  const text = UTF8.decode(payload);
  try {
    const value: unknown = JSON.parse(text);
    return canonicalize(value) === text ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The verified payload, or undefined. The header is checked before any crypto: exactly alg
 * EdDSA and a kid, so no `crit`, `b64` or other algorithm can change what was signed. A bad
 * signature or malformed JWS is an answer (undefined), not an error; a key jose cannot use
 * (a programming error) still throws.
 */
async function verifyCompact(
  jws: string,
  publicKey: VerificationKeyInput,
): Promise<Uint8Array | undefined> {
  if (ledgerHeader(jws.split('.')[0] ?? '') === undefined) return undefined;
  try {
    const { payload } = await compactVerify(jws, publicKey, { algorithms: [ALG] });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) return undefined;
    throw error;
  }
}

/** The protected header if it is exactly {"alg":"EdDSA","kid":<non-empty string>}. */
function ledgerHeader(encoded: string): { alg: string; kid: string } | undefined {
  let header: unknown;
  try {
    header = JSON.parse(UTF8.decode(base64url.decode(encoded)));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  const keys = Object.keys(header);
  const { alg, kid } = header as { alg?: unknown; kid?: unknown };
  if (keys.length !== 2 || alg !== ALG || typeof kid !== 'string' || kid === '') return undefined;
  return { alg, kid };
}
