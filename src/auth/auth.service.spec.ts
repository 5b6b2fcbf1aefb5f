import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { SignJWT } from 'jose';
import { fileURLToPath } from 'node:url';
import { loadPolicies } from '../policy/policies.js';
import { permissionsOf } from '../policy/roles-policy.js';
import { AuthService } from './auth.service.js';
import type { TokenVerifier, VerifiedIdentity } from './token-verifier.js';

const POLICIES = loadPolicies(fileURLToPath(new URL('../../policies', import.meta.url)));

/** A token whose signature nobody checks here: the verifier below stands in for jose's. */
function token(sub: string, expSeconds: number): Promise<string> {
  return new SignJWT({ roles: ['inference-client'] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setExpirationTime(expSeconds)
    .sign(new Uint8Array(32));
}

function service(): { auth: AuthService; verified: string[] } {
  const verified: string[] = [];
  const verifier = {
    verify: (t: string): Promise<VerifiedIdentity> => {
      verified.push(t);
      return Promise.resolve({
        sub: `sub-of-${String(verified.length)}`,
        roles: ['inference-client'],
        issuer: 'test',
      });
    },
  } as unknown as TokenVerifier;
  return {
    auth: new AuthService(verifier, (roles) => permissionsOf(POLICIES.roles.value, roles)),
    verified,
  };
}

describe('AuthService token cache', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('answers a token verified a moment ago without verifying it again', async () => {
    const { auth, verified } = service();
    const now = Date.now();
    const header = `Bearer ${await token('a', Math.floor(now / 1000) + 3600)}`;
    expect(auth.remembered(header)).toBeUndefined();
    const principal = await auth.authenticate(header);
    expect(principal.ability.can('infer', 'Inference')).toBe(true);
    expect(auth.remembered(header)).toBe(principal);
    expect(auth.remembered(header)).toBe(principal);
    expect(auth.remembered(`bearer  ${header.slice(7)}`)).toBe(principal);
    expect(await auth.authenticate(header)).toBe(principal);
    expect(verified).toHaveLength(1);
  });

  it('forgets it after 30 seconds, or at its expiry if sooner, even for the last header seen', async () => {
    const { auth, verified } = service();
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now').mockReturnValue(now);
    const long = `Bearer ${await token('long', Math.floor(now / 1000) + 3600)}`;
    const short = `Bearer ${await token('short', Math.floor(now / 1000) + 10)}`;
    const first = await auth.authenticate(long);
    await auth.authenticate(short);
    expect(auth.remembered(long)).toBe(first);
    expect(auth.remembered(short)).toBeDefined();

    clock.mockReturnValue(now + 10_000);
    expect(auth.remembered(short)).toBeUndefined();
    expect(auth.remembered(long)).toBe(first);

    clock.mockReturnValue(now + 30_000);
    expect(auth.remembered(long)).toBeUndefined();
    const again = await auth.authenticate(long);
    expect(again).not.toBe(first);
    expect(auth.remembered(long)).toBe(again);
    expect(verified).toHaveLength(3);
  });

  it('remembers nothing for a header that is not a bearer token', () => {
    const { auth } = service();
    expect(auth.remembered('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(auth.remembered(undefined)).toBeUndefined();
  });
});
