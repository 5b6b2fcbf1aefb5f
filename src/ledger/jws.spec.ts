import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { CompactSign, base64url, compactVerify, exportJWK, generateKeyPair, type JWK } from 'jose';
import { kidOf, thumbprintKid, verifyAttached, verifyDetached } from './jws-verify.js';
import { signAttached, signDetached } from './jws.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');
const payload = Buffer.from('{"actor":{"sub":"alice"},"seq":1,"v":1}', 'utf8');

function decodePart(part: string | undefined): string {
  return Buffer.from(base64url.decode(part ?? '')).toString('utf8');
}

/** Flips one character of a base64url string in a way that keeps it base64url. */
function tamper(part: string, at: number): string {
  const c = part[at] === 'A' ? 'B' : 'A';
  return part.slice(0, at) + c + part.slice(at + 1);
}

describe('detached JWS (RFC 7515 Appendix F)', () => {
  it('has an empty payload part and the exact protected header', async () => {
    const jws = await signDetached(payload, privateKey, 'kid-1');
    const parts = jws.split('.');
    expect(parts).toHaveLength(3);
    expect(parts[1]).toBe('');
    expect(decodePart(parts[0])).toBe('{"alg":"EdDSA","kid":"kid-1"}');
    expect(base64url.decode(parts[2]!)).toHaveLength(64);
  });

  it('round-trips with KeyObjects, CryptoKeys and a public JWK', async () => {
    const jws = await signDetached(payload, privateKey, 'kid-1');
    expect(await verifyDetached(jws, payload, publicKey)).toBe(true);
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    expect(await verifyDetached(jws, payload, jwk)).toBe(true);
    const webKeys = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const webJws = await signDetached(payload, webKeys.privateKey, 'kid-2');
    expect(await verifyDetached(webJws, payload, webKeys.publicKey)).toBe(true);
  });

  it('is the ordinary compact JWS once the payload is re-inserted', async () => {
    const jws = await signDetached(payload, privateKey, 'kid-1');
    const [header, , signature] = jws.split('.');
    const attached = `${header!}.${base64url.encode(payload)}.${signature!}`;
    expect(await verifyAttachedBytes(attached)).toBe(payload.toString('utf8'));
  });

  it('fails for a tampered payload, header or signature, or another key', async () => {
    const jws = await signDetached(payload, privateKey, 'kid-1');
    const [header, , signature] = jws.split('.') as [string, string, string];
    const changed = Buffer.from(payload);
    changed[10] = (changed[10] ?? 0) ^ 1;
    expect(await verifyDetached(jws, changed, publicKey)).toBe(false);
    expect(await verifyDetached(jws, payload.subarray(1), publicKey)).toBe(false);
    const otherHeader = base64url.encode('{"alg":"EdDSA","kid":"kid-2"}');
    expect(await verifyDetached(`${otherHeader}..${signature}`, payload, publicKey)).toBe(false);
    expect(await verifyDetached(`${header}..${tamper(signature, 5)}`, payload, publicKey)).toBe(
      false,
    );
    expect(await verifyDetached(jws, payload, other.publicKey)).toBe(false);
  });

  it('refuses malformed input and other headers without throwing', async () => {
    const jws = await signDetached(payload, privateKey, 'kid-1');
    const [header, , signature] = jws.split('.') as [string, string, string];
    const attached = `${header}.${base64url.encode(payload)}.${signature}`;
    const b64false = base64url.encode('{"alg":"EdDSA","kid":"kid-1","b64":false,"crit":["b64"]}');
    const none = base64url.encode('{"alg":"none","kid":"kid-1"}');
    for (const bad of [
      '',
      '..',
      'abc',
      `${header}..`,
      `${header}..${signature}.x`,
      attached,
      `${b64false}..${signature}`,
      `${none}..`,
      `%%%..${signature}`,
      `${base64url.encode('[1,2]')}..${signature}`,
    ]) {
      expect(await verifyDetached(bad, payload, publicKey)).toBe(false);
    }
  });

  it('reads the kid back', async () => {
    const jws = await signDetached(payload, privateKey, 'NzbLsXh8uDCcd');
    expect(kidOf(jws)).toBe('NzbLsXh8uDCcd');
    expect(kidOf('not a jws')).toBeUndefined();
    expect(kidOf(`${base64url.encode('{"alg":"EdDSA"}')}..x`)).toBeUndefined();
  });

  it('needs a kid', async () => {
    await expect(signDetached(payload, privateKey, '')).rejects.toThrow(TypeError);
  });
});

describe('attached JWS over JCS (checkpoints)', () => {
  const checkpoint = {
    v: 1,
    treeSize: 42,
    rootHash: 'ab'.repeat(32),
    ts: '2026-11-29T01:02:03.456Z',
  };

  it('signs the canonical form and returns the object', async () => {
    const jws = await signAttached(checkpoint, privateKey, 'kid-1');
    const [header, body] = jws.split('.');
    expect(decodePart(header)).toBe('{"alg":"EdDSA","kid":"kid-1"}');
    expect(decodePart(body)).toBe(
      `{"rootHash":"${'ab'.repeat(32)}","treeSize":42,"ts":"2026-11-29T01:02:03.456Z","v":1}`,
    );
    expect(await verifyAttached(jws, publicKey)).toEqual(checkpoint);
    expect(kidOf(jws)).toBe('kid-1');
  });

  it('returns undefined for a wrong key, a tampered part or a non-canonical payload', async () => {
    const jws = await signAttached(checkpoint, privateKey, 'kid-1');
    const [header, body, signature] = jws.split('.') as [string, string, string];
    expect(await verifyAttached(jws, other.publicKey)).toBeUndefined();
    const forged = base64url.encode(JSON.stringify({ ...checkpoint, treeSize: 43 }));
    expect(await verifyAttached(`${header}.${forged}.${signature}`, publicKey)).toBeUndefined();
    expect(await verifyAttached(`${header}.${body}.${tamper(signature, 3)}`, publicKey)).toBe(
      undefined,
    );
    // Validly signed, but not JCS: refused, so one checkpoint has one signed form.
    const loose = await new CompactSign(Buffer.from('{"v":1, "treeSize":42}'))
      .setProtectedHeader({ alg: 'EdDSA', kid: 'kid-1' })
      .sign(privateKey);
    expect(await verifyAttached(loose, publicKey)).toBeUndefined();
    expect(await verifyAttached('garbage', publicKey)).toBeUndefined();
  });

  it('cannot be confused with a detached JWS', async () => {
    const detached = await signDetached(payload, privateKey, 'kid-1');
    expect(await verifyAttached(detached, publicKey)).toBeUndefined();
  });
});

describe('RFC 7638 thumbprints', () => {
  it('matches the RFC 7638 §3.1 example', async () => {
    // The RSA key and thumbprint of RFC 7638 §3.1.
    const jwk: JWK = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb' +
        'WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQ' +
        'MicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2Nc' +
        'Rwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(await thumbprintKid(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('depends only on crv, kty and x for Ed25519', async () => {
    const jwk = await exportJWK(publicKey);
    const kid = await thumbprintKid(jwk);
    expect(kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await thumbprintKid({ ...jwk, kid: 'x', use: 'sig', alg: 'EdDSA' })).toBe(kid);
    const privateJwk = await exportJWK(privateKey);
    expect(await thumbprintKid(privateJwk)).toBe(kid);
    expect(await thumbprintKid(await exportJWK(other.publicKey))).not.toBe(kid);
  });
});

/** Plain jose verification, as an outside verifier would do it. */
async function verifyAttachedBytes(jws: string): Promise<string> {
  const { payload: bytes } = await compactVerify(jws, publicKey);
  return Buffer.from(bytes).toString('utf8');
}
