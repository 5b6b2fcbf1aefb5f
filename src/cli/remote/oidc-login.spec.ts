import { describe, expect, it } from '@jest/globals';
import type { TokenEndpointResponse } from 'openid-client';
import { issuerFault, storedLoginOf, tokenParameters, type LoginRequest } from './oidc-login.js';

const REQUEST: LoginRequest = {
  issuer: 'https://idp.example.com',
  clientId: 'gatehouse-cli',
  scope: 'openid offline_access',
  resource: 'https://gatehouse.example.com',
};
const NOW = new Date('2026-12-01T10:00:00.000Z');

/** An unsigned JWT with the given claims: only its expiry is read. */
function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2ln`;
}

function response(fields: Partial<TokenEndpointResponse>): TokenEndpointResponse {
  return { access_token: 'at', token_type: 'bearer', ...fields };
}

describe('issuerFault', () => {
  it.each([
    'https://idp.example.com',
    'https://idp.example.com/realms/acme',
    'http://127.0.0.1:8080',
    'http://localhost:8080/realms/dev',
    'http://[::1]:9000',
  ])('accepts %s', (issuer) => {
    expect(issuerFault(issuer)).toBeUndefined();
  });
  it.each(['http://idp.example.com', 'http://10.0.0.5', 'ftp://idp.example.com'])(
    'refuses %s: tokens would travel in the clear',
    (issuer) => {
      expect(issuerFault(issuer)).toBe(
        'an https URL (plain http only for a provider on this machine)',
      );
    },
  );
  it('refuses what is no URL', () => {
    expect(issuerFault('idp.example.com')).toBe('the provider’s issuer URL');
  });
});

describe('tokenParameters', () => {
  it('sends the resource and the audience when given, nothing otherwise', () => {
    expect(tokenParameters({ ...REQUEST, audience: 'gatehouse' })).toEqual({
      resource: 'https://gatehouse.example.com',
      audience: 'gatehouse',
    });
    expect(tokenParameters({ ...REQUEST, resource: undefined })).toEqual({});
  });
});

describe('storedLoginOf', () => {
  it('keeps the request, the tokens and the expiry from expires_in', () => {
    expect(storedLoginOf(REQUEST, response({ expires_in: 300, refresh_token: 'rt' }), NOW)).toEqual(
      {
        ...REQUEST,
        audience: undefined,
        accessToken: 'at',
        expiresAt: '2026-12-01T10:05:00.000Z',
        refreshToken: 'rt',
      },
    );
  });

  it('takes the expiry from the access token’s exp when the response gives none, and none from an opaque token', () => {
    const exp = Date.parse('2026-12-01T11:00:00.000Z') / 1000;
    expect(storedLoginOf(REQUEST, response({ access_token: jwt({ exp }) }), NOW).expiresAt).toBe(
      '2026-12-01T11:00:00.000Z',
    );
    expect(storedLoginOf(REQUEST, response({}), NOW).expiresAt).toBeUndefined();
  });

  it('keeps the old refresh token when a refresh gives no new one', () => {
    const previous = storedLoginOf(REQUEST, response({ refresh_token: 'rt-1' }), NOW);
    expect(storedLoginOf(REQUEST, response({}), NOW, previous).refreshToken).toBe('rt-1');
    expect(
      storedLoginOf(REQUEST, response({ refresh_token: 'rt-2' }), NOW, previous).refreshToken,
    ).toBe('rt-2');
  });

  it('refuses a token that is not a bearer token', () => {
    expect(() => storedLoginOf(REQUEST, response({ token_type: 'dpop' }), NOW)).toThrow(
      'the provider issued a dpop token; gatehouse sends bearer tokens',
    );
  });
});
