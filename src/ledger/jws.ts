/**
 * Ed25519 JWS for the ledger: detached-payload signatures over each event's
 * canonical form, and attached signatures over checkpoints.
 *
 * Detached means RFC 7515 Appendix F: the ordinary compact serialization, signed over
 * BASE64URL(header) "." BASE64URL(payload) as usual, with the payload part then left empty
 * (`header..signature`). It is not RFC 7797 (`b64: false`): any JOSE library verifies it once
 * the base64url payload is put back.
 */
import { CompactSign, base64url, calculateJwkThumbprint, compactVerify, errors } from 'jose';
import type { CryptoKey, JWK, KeyObject } from 'jose';
import { sign as nodeSign, type KeyObject as NodeKeyObject } from 'node:crypto';
import { canonicalBytes, canonicalize } from './canonical-json.js';

export type SigningKeyInput = CryptoKey | KeyObject;
export type VerificationKeyInput = CryptoKey | KeyObject | JWK;

/** The one algorithm the ledger signs with: EdDSA over Ed25519 (RFC 8037). */
const ALG = 'EdDSA';

/** Signs `payload`; returns `header..signature` with header exactly {"alg":"EdDSA","kid":…}. */
export async function signDetached(
  payload: Uint8Array,
  privateKey: SigningKeyInput,
  kid: string,
): Promise<string> {
  const [header, , signature] = (await signCompact(payload, privateKey, kid)).split('.');
  return `${header ?? ''}..${signature ?? ''}`;
}

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

/** An attached compact JWS whose payload is the RFC 8785 canonical form of `obj`. */
export async function signAttached(
  obj: unknown,
  privateKey: SigningKeyInput,
  kid: string,
): Promise<string> {
  return signCompact(canonicalBytes(obj), privateKey, kid);
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
  const text = Buffer.from(payload).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    return canonicalize(value) === text ? value : undefined;
  } catch {
    return undefined;
  }
}

async function signCompact(
  payload: Uint8Array,
  privateKey: SigningKeyInput,
  kid: string,
): Promise<string> {
  if (kid === '') throw new TypeError('a ledger JWS needs a kid');
  // Members in this order give exactly {"alg":"EdDSA","kid":…} as the protected header.
  return new CompactSign(payload).setProtectedHeader({ alg: ALG, kid }).sign(privateKey);
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
    header = JSON.parse(Buffer.from(base64url.decode(encoded)).toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
  const keys = Object.keys(header);
  const { alg, kid } = header as { alg?: unknown; kid?: unknown };
  if (keys.length !== 2 || alg !== ALG || typeof kid !== 'string' || kid === '') return undefined;
  return { alg, kid };
}

/**
 * The same detached JWS as `signDetached`, made synchronously with node:crypto for the
 * sequencer's hot path (Ed25519 is deterministic, so the output is byte-identical; a test
 * holds the two together). The protected header is encoded once per key.
 */
export function detachedSigner(
  privateKey: NodeKeyObject,
  kid: string,
): (payload: string) => string {
  const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid })).toString('base64url');
  return (payload) => {
    const input = `${header}.${Buffer.from(payload, 'utf8').toString('base64url')}`;
    return `${header}..${nodeSign(null, Buffer.from(input, 'ascii'), privateKey).toString('base64url')}`;
  };
}
