import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { detachedSigner, signDetached } from './jws.js';
import { verifyDetached } from './jws-verify.js';

describe('detachedSigner', () => {
  it('gives byte for byte the JWS that jose makes, and jose verifies it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const sut = detachedSigner(privateKey, 'kid-1');
    for (const payload of ['{"a":1}', '{"note":"ünïcödé €","v":1}', '']) {
      const fast = sut(payload);
      expect(fast).toBe(await signDetached(Buffer.from(payload, 'utf8'), privateKey, 'kid-1'));
      expect(await verifyDetached(fast, Buffer.from(payload, 'utf8'), publicKey)).toBe(true);
    }
  });
});
