import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, SignJWT, UnsecuredJWT, exportJWK } from 'jose';
import { startTestApp, type TestApp } from '../support/app.js';

const ME = '{ me { sub roles issuer abilities { action subject } } }';

describe('authentication and authorization (GraphQL)', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_JWT_CLOCK_TOLERANCE_SECONDS: '0' });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers me with the subject and roles of a dev-issuer token', async () => {
    const token = await app.token('bob', 'auditor');
    const res = await app.gql<{ me: { sub: string; roles: string[]; abilities: unknown[] } }>(
      ME,
      {},
      token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.me.sub).toBe('bob');
    expect(res.data?.me.roles).toEqual(['auditor']);
    expect(res.data?.me.abilities).toContainEqual({ action: 'read', subject: 'all' });
  });

  it('refuses a request without a token with UNAUTHENTICATED', async () => {
    const res = await app.gql(ME);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0]?.message).toContain('no bearer token');
  });

  it('refuses expired, forged, wrong-issuer, wrong-audience and alg:none tokens', async () => {
    const key = await generateKeyPair('EdDSA');
    const issuedBy = (iss: string, aud: string, exp: string | number) =>
      new SignJWT({ roles: ['auditor'] })
        .setProtectedHeader({ alg: 'EdDSA' })
        .setSubject('mallory')
        .setIssuer(iss)
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime(exp)
        .sign(key.privateKey);
    const good = await app.token('bob', 'auditor');
    const [h, p] = good.split('.');
    const cases: [string, string][] = [
      ['forged signature', `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`],
      [
        'signed by an unknown key, claiming the dev issuer',
        await issuedBy('gatehouse-dev', 'gatehouse', '10m'),
      ],
      ['untrusted issuer', await issuedBy('https://evil.example', 'gatehouse', '10m')],
      [
        'alg none',
        new UnsecuredJWT({ roles: ['admin'] })
          .setSubject('eve')
          .setIssuer('gatehouse-dev')
          .setAudience('gatehouse')
          .setExpirationTime('10m')
          .encode(),
      ],
      ['not a JWT', 'hello'],
    ];
    for (const [why, token] of cases) {
      const res = await app.gql(ME, {}, token);
      expect([why, res.errors?.[0]?.extensions?.code]).toEqual([why, 'UNAUTHENTICATED']);
    }
  });

  it('refuses an expired token and one for another audience', async () => {
    const { issueDevToken, loadOrCreateDevIssuerKey } =
      await import('../../src/auth/dev-issuer.js');
    const key = await loadOrCreateDevIssuerKey(app.config.dataDir);
    const expired = await issueDevToken(key, {
      sub: 'bob',
      roles: ['auditor'],
      ttlSeconds: 1,
      audience: 'gatehouse',
      rolesClaim: 'roles',
    });
    const otherAudience = await issueDevToken(key, {
      sub: 'bob',
      roles: ['auditor'],
      ttlSeconds: 60,
      audience: 'someone-else',
      rolesClaim: 'roles',
    });
    await new Promise((r) => setTimeout(r, 1100 + app.config.auth.clockToleranceSeconds * 1000));
    const a = await app.gql(ME, {}, expired);
    expect(a.errors?.[0]?.message).toContain('token expired');
    const b = await app.gql(ME, {}, otherAudience);
    expect(b.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(b.errors?.[0]?.message).toContain('aud');
  }, 20_000);

  it('gives FORBIDDEN to a valid token without the permission', async () => {
    const token = await app.token('ivy', 'inference-client');
    const res = await app.gql('{ policies { name sha256 } }', {}, token);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lists the loaded policy files with their SHA-256 digests', async () => {
    const token = await app.token('bob', 'auditor');
    const res = await app.gql<{ policies: { name: string; sha256: string }[] }>(
      '{ policies { name sha256 firstLoadedAt } }',
      {},
      token,
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.policies.map((p) => p.name).sort()).toEqual([
      'evaluation.yaml',
      'promotion.yaml',
      'roles.yaml',
    ]);
    expect(res.data?.policies[0]?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives roles a token carries under a nested claim when so configured', async () => {
    const nested = await startTestApp({ GATEHOUSE_ROLES_CLAIM: 'realm_access.roles' });
    try {
      const token = await nested.token('kim', 'admin', 'auditor');
      const res = await nested.gql<{ me: { roles: string[] } }>(ME, {}, token);
      expect(res.data?.me.roles).toEqual(['admin', 'auditor']);
      const claims = JSON.parse(
        Buffer.from(token.split('.')[1] ?? '', 'base64url').toString(),
      ) as Record<string, unknown>;
      expect(claims['realm_access']).toEqual({ roles: ['admin', 'auditor'] });
    } finally {
      await nested.close();
    }
  });

  it('verifies tokens of an external issuer from a JWKS URL', async () => {
    const { createServer } = await import('node:http');
    const key = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(key.publicKey)), kid: 'k1', alg: 'ES256' };
    const jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const address = jwks.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const external = await startTestApp({
      GATEHOUSE_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`,
      GATEHOUSE_JWT_ISSUER: 'https://idp.example/realms/bank',
      GATEHOUSE_DEV_ISSUER: 'false',
    });
    try {
      const token = await new SignJWT({ roles: ['model-validator'] })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('val')
        .setIssuer('https://idp.example/realms/bank')
        .setAudience('gatehouse')
        .setExpirationTime('5m')
        .sign(key.privateKey);
      const res = await external.gql<{ me: { sub: string; roles: string[] } }>(ME, {}, token);
      expect(res.errors).toBeUndefined();
      expect(res.data?.me).toMatchObject({ sub: 'val', roles: ['model-validator'] });
      // The dev issuer is off here: its tokens are not trusted.
      const dev = await app.token('bob', 'auditor');
      expect((await external.gql(ME, {}, dev)).errors?.[0]?.extensions?.code).toBe(
        'UNAUTHENTICATED',
      );
    } finally {
      await external.close();
      jwks.close();
    }
  });
});
