import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('has defaults for a development machine', () => {
    const sut = loadConfig({}, '/srv/app');
    expect(sut).toMatchObject({
      env: 'development',
      host: '127.0.0.1',
      port: 3000,
      databaseUrl: undefined,
      dataDir: '/srv/app/.data',
      policiesDir: '/srv/app/policies',
    });
    expect(sut.auth.devIssuer).toBe(true);
    expect(sut.auth.algorithms).not.toContain('none');
    expect(sut.rollouts.staleMetricsTicks).toBe(30);
  });

  it.each([
    ['GATEHOUSE_PORT', 'abc', 'an integer from 0 to 65535'],
    ['GATEHOUSE_PORT', '70000', 'an integer from 0 to 65535'],
    ['NODE_ENV', 'staging', 'one of development, production, test'],
    ['GATEHOUSE_DEV_ISSUER', 'yes', 'true or false'],
    ['GATEHOUSE_JWKS_URL', 'ftp://x', 'an http(s) URL'],
    ['GATEHOUSE_JWT_ALGORITHMS', 'RS256,none', 'a comma-separated list'],
    ['GATEHOUSE_JWT_ALGORITHMS', 'HS256', 'a comma-separated list'],
    ['GATEHOUSE_ROLLOUT_STALE_METRICS_TICKS', '0', 'an integer from 1 to 100000'],
  ])('refuses %s=%s naming the variable', (variable, value, expected) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(
      new RegExp(`^${variable}: expected ${expected.replace(/[()]/g, '\\$&')}`),
    );
  });

  it('never echoes a database URL back, since it may hold a password', () => {
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' })).toThrow(
      /^DATABASE_URL: expected a postgres/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'mysql://u:secret@h/db' })).not.toThrow(/secret/);
  });

  it('reads the NATS servers for streaming, off when unset, never echoing a URL back', () => {
    expect(loadConfig({}).streaming.natsServers).toBeUndefined();
    expect(
      loadConfig({ GATEHOUSE_NATS_URL: 'nats://a:4222, tls://b:4222' }).streaming.natsServers,
    ).toEqual(['nats://a:4222', 'tls://b:4222']);
    const attempt = () => loadConfig({ GATEHOUSE_NATS_URL: 'nats://a:4222,http://u:secret@b' });
    expect(attempt).toThrow(/^GATEHOUSE_NATS_URL: expected a nats:\/\/ or tls:\/\/ URL/);
    expect(attempt).not.toThrow(/secret/);
    expect(loadConfig({}).streaming.ackWaitMs).toBe(30_000);
    expect(loadConfig({ GATEHOUSE_STREAM_ACK_WAIT_MS: '2000' }).streaming.ackWaitMs).toBe(2000);
    expect(() => loadConfig({ GATEHOUSE_STREAM_ACK_WAIT_MS: '600000' })).toThrow(
      /^GATEHOUSE_STREAM_ACK_WAIT_MS: expected an integer from 1000 to 120000/,
    );
  });

  it('turns the dev issuer off in production unless enabled explicitly', () => {
    const external = {
      GATEHOUSE_JWKS_URL: 'https://idp/jwks',
      GATEHOUSE_JWT_ISSUER: 'https://idp',
    };
    expect(loadConfig({ NODE_ENV: 'production', ...external }).auth.devIssuer).toBe(false);
    expect(
      loadConfig({ NODE_ENV: 'production', GATEHOUSE_DEV_ISSUER: 'true' }).auth.devIssuer,
    ).toBe(true);
  });

  it('refuses production without any way to verify a token', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/^GATEHOUSE_JWKS_URL: expected/);
  });

  it('needs the issuer of an external key source', () => {
    expect(() => loadConfig({ GATEHOUSE_JWKS_URL: 'https://idp/jwks' })).toThrow(
      /^GATEHOUSE_JWT_ISSUER/,
    );
  });

  it('derives the console redirect from the public origin and needs what a provider sign-in needs', () => {
    const oidc = {
      GATEHOUSE_CONSOLE_OIDC_ISSUER: 'https://idp.example/realms/ml',
      GATEHOUSE_CONSOLE_OIDC_CLIENT_ID: 'gatehouse-console',
    };
    const sut = loadConfig({ ...oidc, GATEHOUSE_PUBLIC_URL: 'https://gatehouse.example/' });
    expect(sut.console).toEqual({
      publicUrl: 'https://gatehouse.example',
      sessionTtlSeconds: 28_800,
      oidc: {
        issuer: 'https://idp.example/realms/ml',
        clientId: 'gatehouse-console',
        clientSecret: undefined,
        redirectUrl: 'https://gatehouse.example/console/auth/callback',
      },
    });
    expect(() => loadConfig(oidc)).toThrow(/^GATEHOUSE_PUBLIC_URL: expected the origin/);
    expect(() => loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://gatehouse.example/console' })).toThrow(
      /^GATEHOUSE_PUBLIC_URL: expected an origin/,
    );
    expect(() =>
      loadConfig({
        GATEHOUSE_CONSOLE_OIDC_ISSUER: 'https://idp.example',
        GATEHOUSE_PUBLIC_URL: 'https://g.example',
      }),
    ).toThrow(/^GATEHOUSE_CONSOLE_OIDC_CLIENT_ID/);
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        GATEHOUSE_DEV_ISSUER: 'true',
        GATEHOUSE_PUBLIC_URL: 'https://g.example',
        ...oidc,
        GATEHOUSE_CONSOLE_OIDC_ISSUER: 'http://idp.example',
      }),
    ).toThrow(/^GATEHOUSE_CONSOLE_OIDC_ISSUER: expected an https URL in production/);
  });

  it("names the ledger's transparency-log origin after the public URL, unless told otherwise", () => {
    expect(loadConfig({}).ledger.origin).toBe('gatehouse.invalid/ledger');
    expect(loadConfig({ GATEHOUSE_PUBLIC_URL: 'https://gh.bank.example' }).ledger.origin).toBe(
      'gh.bank.example/v1/ledger/tlog',
    );
    expect(
      loadConfig({
        GATEHOUSE_PUBLIC_URL: 'https://gh.bank.example',
        GATEHOUSE_LEDGER_ORIGIN: 'audit.bank.example/models',
      }).ledger.origin,
    ).toBe('audit.bank.example/models');
    expect(() => loadConfig({ GATEHOUSE_LEDGER_ORIGIN: 'two words' })).toThrow(
      /^GATEHOUSE_LEDGER_ORIGIN: expected a log origin, which must hold no space/,
    );
  });
});
