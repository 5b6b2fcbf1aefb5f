/**
 * Ed25519 JWS for the ledger: detached-payload signatures over each event's
 * canonical form, and attached signatures over checkpoints. Verification lives in
 * jws-verify.ts, which needs nothing but WebCrypto and so runs in a browser too.
 *
 * Detached means RFC 7515 Appendix F: the ordinary compact serialization, signed over
 * BASE64URL(header) "." BASE64URL(payload) as usual, with the payload part then left empty
 * (`header..signature`). It is not RFC 7797 (`b64: false`): any JOSE library verifies it once
 * the base64url payload is put back.
 */
import { CompactSign } from 'jose';
import type { CryptoKey, KeyObject } from 'jose';
import { sign as nodeSign, type KeyObject as NodeKeyObject } from 'node:crypto';
import { canonicalBytes } from './canonical-json.js';
import { ALG } from './jws-verify.js';

export type SigningKeyInput = CryptoKey | KeyObject;

/** Signs `payload`; returns `header..signature` with header exactly {"alg":"EdDSA","kid":…}. */
export async function signDetached(
  payload: Uint8Array,
  privateKey: SigningKeyInput,
  kid: string,
): Promise<string> {
  const [header, , signature] = (await signCompact(payload, privateKey, kid)).split('.');
  return `${header ?? ''}..${signature ?? ''}`;
}

/** An attached compact JWS whose payload is the RFC 8785 canonical form of `obj`. */
export async function signAttached(
  obj: unknown,
  privateKey: SigningKeyInput,
  kid: string,
): Promise<string> {
  return signCompact(canonicalBytes(obj), privateKey, kid);
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
