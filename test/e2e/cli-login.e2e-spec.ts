import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { bearerToken, CredentialsError } from '../../src/cli/remote/credentials.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { BIN, cleanEnv, runCli } from '../support/cli.js';
import { freePort } from '../support/free-port.js';

const CLIENT_ID = 'gatehouse-cli';
const RESOURCE = 'urn:gatehouse';
const ME = '{ me { sub roles issuer } }';
/** A promotion request no one made. */
const ABSENT = '00000000-0000-4000-8000-000000000000';

/** `gatehouse ARGS` running, with what it has written to stderr so far. */
interface RunningCli {
  stderr(): string;
  /** Resolves with the first match of `pattern` in stderr. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
  interrupt(): void;
}

/** Every command started, to be stopped after the tests whatever they left running. */
const started = new Set<ChildProcess>();

function startCli(args: string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let stderr = '';
  const waiting: (() => void)[] = [];
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const check of waiting) check();
  });
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
  return {
    stderr: () => stderr,
    exited,
    interrupt: () => child.kill('SIGINT'),
    waitFor: (pattern) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(stderr);
          if (match) resolve(match);
        };
        waiting.push(check);
        check();
        void exited.then((code) => {
          reject(
            new Error(`gatehouse exited with ${String(code)} before ${String(pattern)}: ${stderr}`),
          );
        });
      }),
  };
}

/**
 * The instructions the command prints: where to go and the code. This provider gives a
 * verification URI with the code in it, so the command says to check the code there.
 */
const INSTRUCTIONS = /To sign in, open (\S+)\nand check that it shows the code (\S+)\./;

/** Enough of a browser for the provider's pages: follows nothing by itself, keeps cookies. */
class Browser {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /;\s*max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Submits the page's first form with its hidden fields and `fields`. */
  async submit(page: URL, html: string, fields: Record<string, string>): Promise<Response> {
    const action = /<form[^>]* action="([^"]+)"/.exec(html)?.[1];
    if (action === undefined) throw new Error(`no form on ${page.href}: ${html}`);
    const hidden = [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/?>/g)];
    return this.fetch(new URL(action, page), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(hidden.map((m): [string, string] => [m[1] ?? '', m[2] ?? ''])),
        ...fields,
      }).toString(),
    });
  }
}

/**
 * What the person does on another device: opens the verification page, with the code in it
 * or (`typed`) without and types the code, checks the code, and then confirms (signing in as
 * alice and consenting) or aborts. Resolves with the last page.
 */
async function actOnCode(
  uri: string,
  userCode: string,
  answer: 'confirm' | 'abort',
  typed = false,
): Promise<string> {
  const browser = new Browser();
  let url = new URL(uri);
  if (typed) url.search = '';
  let response = await browser.fetch(url);
  response = await browser.submit(url, await response.text(), typed ? { user_code: userCode } : {});
  const confirmation = await response.text();
  expect(confirmation).toContain(userCode);
  response = await browser.submit(url, confirmation, answer === 'abort' ? { abort: 'yes' } : {});
  for (let step = 0; step < 20; step++) {
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location') ?? '', url);
      response = await browser.fetch(url);
      continue;
    }
    const html = await response.text();
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (prompt === undefined) return html;
    response = await browser.submit(url, html, { login: 'alice', password: 'any' });
  }
  throw new Error('the provider never finished the sign-in');
}

/** An OpenID provider on 127.0.0.1, with the device flow or without. */
async function startProvider(options: {
  deviceFlow: boolean;
  accessTokenTtl: () => number;
  onGrant?: (grantType: string, body: Record<string, unknown>) => void;
}): Promise<{ issuer: string; server: Server }> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${String(port)}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider(issuer, {
    jwks: { keys: [{ ...(await exportJWK(privateKey)), use: 'sig', alg: 'RS256' }] },
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    cookies: { keys: ['test-only-cookie-key'] },
    ttl: {
      DeviceCode: 600,
      Grant: 600,
      Session: 600,
      Interaction: 600,
      IdToken: 600,
      RefreshToken: 600,
    },
    features: {
      deviceFlow: { enabled: options.deviceFlow },
      revocation: { enabled: true },
      // A resource server the provider issues JWT access tokens for: what Gatehouse verifies.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid offline_access',
          accessTokenFormat: 'jwt',
          accessTokenTTL: options.accessTokenTtl(),
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    extraTokenClaims: (_ctx: unknown, token: { kind: string }) =>
      token.kind === 'AccessToken' ? { roles: ['auditor'] } : undefined,
  });
  provider.on('grant.success', (ctx) => {
    options.onGrant?.(String(ctx.oidc.params?.['grant_type']), ctx.body ?? {});
  });
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { issuer, server };
}

interface StoredLoginJson {
  version: number;
  issuer: string;
  clientId: string;
  scope: string;
  resource?: string;
  accessToken: string;
  expiresAt?: string;
  refreshToken?: string;
}

describe('gatehouse login and logout: the device flow against an OpenID provider', () => {
  let app: TestApp;
  let idp: { issuer: string; server: Server };
  let plainIdp: { issuer: string; server: Server };
  let home: string;
  let accessTokenTtl = 600;
  const grants: { grantType: string; body: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    idp = await startProvider({
      deviceFlow: true,
      accessTokenTtl: () => accessTokenTtl,
      onGrant: (grantType, body) => grants.push({ grantType, body }),
    });
    plainIdp = await startProvider({ deviceFlow: false, accessTokenTtl: () => 600 });
    app = await startTestApp({
      GATEHOUSE_JWT_ISSUER: idp.issuer,
      GATEHOUSE_JWKS_URL: `${idp.issuer}/jwks`,
      GATEHOUSE_JWT_AUDIENCE: RESOURCE,
      GATEHOUSE_DEV_ISSUER: 'false',
    });
    home = mkdtempSync(join(tmpdir(), 'gatehouse-login-'));
  });
  afterAll(async () => {
    for (const child of started) child.kill('SIGKILL');
    await app.close();
    await new Promise((resolve) => idp.server.close(resolve));
    await new Promise((resolve) => plainIdp.server.close(resolve));
    rmSync(home, { recursive: true, force: true });
  });

  /** `gatehouse login` with the person confirming on the side; the command's result. */
  async function logIn(
    env: Record<string, string>,
    typed = false,
  ): Promise<{ code: number | null; stderr: string }> {
    const cli = startCli(
      ['login', '--issuer', idp.issuer, '--client-id', CLIENT_ID, '--resource', RESOURCE],
      env,
    );
    const [, uri = '', userCode = ''] = await cli.waitFor(INSTRUCTIONS);
    const page = await actOnCode(uri, userCode, 'confirm', typed);
    expect(page).toContain('Sign-in Success');
    return { code: await cli.exited, stderr: cli.stderr() };
  }

  it('signs in with the code it prints, keeps the login for its owner alone, and the service accepts its token', async () => {
    const config = join(home, 'xdg');
    const env = { XDG_CONFIG_HOME: config, HOME: home };
    const loggingIn = Date.now();
    const { code, stderr } = await logIn(env, true);
    const file = join(config, 'gatehouse', 'credentials.json');
    expect(stderr).toContain(`Signed in as alice at ${idp.issuer}; the login is kept in ${file}.`);
    expect(code).toBe(0);

    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(config, 'gatehouse')).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredLoginJson;
    expect(stored).toEqual({
      version: 1,
      issuer: idp.issuer,
      clientId: CLIENT_ID,
      scope: 'openid offline_access',
      resource: RESOURCE,
      accessToken: expect.any(String),
      expiresAt: expect.any(String),
      refreshToken: expect.any(String),
    });
    const expiresAt = Date.parse(stored.expiresAt ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(loggingIn + 600_000 - 1000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect(decodeJwt(stored.accessToken)).toMatchObject({
      iss: idp.issuer,
      aud: RESOURCE,
      sub: 'alice',
    });

    const token = await bearerToken({}, env);
    expect(token).toBe(stored.accessToken);
    const me = await app.gql<{ me: { sub: string; roles: string[]; issuer: string } }>(
      ME,
      {},
      token,
    );
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toEqual({ sub: 'alice', roles: ['auditor'], issuer: idp.issuer });

    // A client verb sends it: the service lets alice in and answers that there is no such request.
    const verb = await runCli(['promotion', 'status', ABSENT, '--url', app.url], env);
    expect(verb.stderr).toContain(`${ABSENT} does not exist`);
    expect(verb.code).toBe(2);
    const nobody = { XDG_CONFIG_HOME: join(home, 'nobody'), HOME: home };
    const refused = await runCli(['promotion', 'status', ABSENT, '--url', app.url], nobody);
    expect(refused.stderr).toContain('gatehouse: no token: run gatehouse login');
    expect(refused.code).toBe(7);

    // A token named for the run wins over the standing login.
    expect(await bearerToken({}, { ...env, GATEHOUSE_TOKEN: 'from-the-pipeline' })).toBe(
      'from-the-pipeline',
    );
  });

  it('refreshes an access token about to expire, once for commands running at the same time, and stores the new one', async () => {
    const file = join(home, 'refresh', 'credentials.json');
    const env = { GATEHOUSE_CREDENTIALS_FILE: file };
    accessTokenTtl = 20; // within the 30 s margin: due for a refresh at once
    try {
      expect((await logIn(env)).code).toBe(0);
    } finally {
      accessTokenTtl = 600;
    }
    const before = JSON.parse(readFileSync(file, 'utf8')) as StoredLoginJson;
    const refreshesBefore = grants.filter((g) => g.grantType === 'refresh_token').length;

    // Three commands at once, each its own process: one refresh, all let in.
    const verbs = await Promise.all(
      [1, 2, 3].map(() => runCli(['promotion', 'status', ABSENT, '--url', app.url], env)),
    );
    for (const verb of verbs) {
      expect(verb.stderr).toContain(`${ABSENT} does not exist`);
      expect(verb.code).toBe(2);
    }
    expect(grants.filter((g) => g.grantType === 'refresh_token').length - refreshesBefore).toBe(1);

    const after = JSON.parse(readFileSync(file, 'utf8')) as StoredLoginJson;
    const token = await bearerToken({}, env);
    expect(token).toBe(after.accessToken);
    expect(token).not.toBe(before.accessToken);
    // This provider rotates a public client's refresh token at each use.
    expect(after.refreshToken).toEqual(expect.any(String));
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(Date.parse(after.expiresAt ?? '')).toBeGreaterThan(Date.now() + 500_000);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(decodeJwt(token)).toMatchObject({ aud: RESOURCE });

    const me = await app.gql<{ me: { sub: string } }>(ME, {}, token);
    expect(me.data?.me.sub).toBe('alice');
  });

  it('logs out: deletes the login and revokes its refresh token, so a copy of the file cannot be refreshed', async () => {
    const file = join(home, 'logout', 'credentials.json');
    const env = { GATEHOUSE_CREDENTIALS_FILE: file };
    expect((await logIn(env)).code).toBe(0);
    const copy = readFileSync(file, 'utf8');

    const out = await runCli(['logout'], env);
    expect(out.stderr).toContain(`Signed out: deleted ${file}.`);
    expect(out.stderr).toContain('revoked the refresh token');
    expect(out.code).toBe(0);
    expect(() => statSync(file)).toThrow();
    await expect(bearerToken({}, env)).rejects.toThrow(/^no token: run gatehouse login/);

    const again = await runCli(['logout'], env);
    expect(again.stderr).toContain(`Not signed in (no login at ${file}).`);
    expect(again.code).toBe(0);

    // The copy, its access token expired: the revoked refresh token is refused.
    const stale = {
      ...(JSON.parse(copy) as StoredLoginJson),
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    };
    writeFileSync(file, JSON.stringify(stale), { mode: 0o600 });
    const refused = bearerToken({}, env);
    await expect(refused).rejects.toThrow(CredentialsError);
    await expect(refused).rejects.toThrow(
      /^the login has expired: run gatehouse login \(the provider refused to refresh it: invalid_grant\)$/,
    );
  });

  it('refuses a credentials file others can read, as ssh does a private key', async () => {
    const file = join(home, 'open', 'credentials.json');
    const env = { GATEHOUSE_CREDENTIALS_FILE: file };
    expect((await logIn(env)).code).toBe(0);
    const { chmodSync } = await import('node:fs');
    chmodSync(file, 0o644);
    await expect(bearerToken({}, env)).rejects.toThrow(
      `permissions 0644 on credentials file ${file} are too open`,
    );
  });

  it('stops with exit 1 and stores nothing when the person aborts at the provider', async () => {
    const file = join(home, 'denied', 'credentials.json');
    const cli = startCli(['login', '--issuer', idp.issuer, '--client-id', CLIENT_ID], {
      GATEHOUSE_CREDENTIALS_FILE: file,
    });
    const [, uri = '', userCode = ''] = await cli.waitFor(INSTRUCTIONS);
    await actOnCode(uri, userCode, 'abort');
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(
      'gatehouse: the sign-in was refused at the provider (access_denied); nothing was stored',
    );
    expect(() => statSync(file)).toThrow();
  });

  it('stops at once on Ctrl-C, storing nothing', async () => {
    const file = join(home, 'interrupted', 'credentials.json');
    const cli = startCli(['login', '--issuer', idp.issuer, '--client-id', CLIENT_ID], {
      GATEHOUSE_CREDENTIALS_FILE: file,
    });
    await cli.waitFor(/Ctrl-C to stop/);
    const sent = Date.now();
    cli.interrupt();
    expect(await cli.exited).toBe(130);
    expect(Date.now() - sent).toBeLessThan(2000);
    expect(cli.stderr()).toContain('gatehouse: login interrupted; nothing was stored');
    expect(() => statSync(file)).toThrow();
  });

  it('exits 2 naming the way out when the provider does not offer the device flow', async () => {
    const out = await runCli(['login', '--client-id', CLIENT_ID], {
      GATEHOUSE_OIDC_ISSUER: plainIdp.issuer,
      GATEHOUSE_CREDENTIALS_FILE: join(home, 'plain', 'credentials.json'),
    });
    expect(out.stderr).toBe(
      `gatehouse: the provider at ${plainIdp.issuer} does not offer the device flow (its discovery document has no device_authorization_endpoint): use GATEHOUSE_TOKEN or --token-file with a token from it instead\n`,
    );
    expect(out.code).toBe(2);
  });

  it('exits 2 naming the option when one is missing or wrong', async () => {
    const missing = await runCli(['login', '--issuer', idp.issuer], {});
    expect(missing.stderr).toBe(
      'gatehouse: --client-id: expected the command’s client id at the provider (or GATEHOUSE_OIDC_CLIENT_ID)\n',
    );
    expect(missing.code).toBe(2);
    const plainHttp = await runCli(
      ['login', '--issuer', 'http://idp.example.com', '--client-id', CLIENT_ID],
      {},
    );
    expect(plainHttp.stderr).toBe(
      'gatehouse: --issuer: expected an https URL (plain http only for a provider on this machine), got "http://idp.example.com"\n',
    );
    expect(plainHttp.code).toBe(2);
    const unknownClient = await runCli(['login', '--issuer', idp.issuer, '--client-id', 'nobody'], {
      GATEHOUSE_CREDENTIALS_FILE: join(home, 'unknown', 'credentials.json'),
    });
    expect(unknownClient.stderr).toMatch(
      /^gatehouse: the provider refused to start the login: invalid_client/,
    );
    expect(unknownClient.code).toBe(2);
  });
});
