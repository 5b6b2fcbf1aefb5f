import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import pg from 'pg';
import Provider from 'oidc-provider';
import { startTestApp, type TestApp } from '../support/app.js';
import { launchBrowser } from '../support/browser.js';
import { freshPage, seriousViolations } from '../support/console-page.js';
import { freePort } from '../support/free-port.js';

const ME = '{ me { sub roles issuer } }';
const SESSION = '__Host-gatehouse_session';
const SESSION_COOKIE = new RegExp(
  `^${SESSION}=([A-Za-z0-9_-]{43}); Max-Age=28800; Path=/; HttpOnly; Secure; SameSite=Strict$`,
);

/** A JWT (an ID or access token) anywhere in a text: header and payload are JSON in base64url. */
const JWT = /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*/;

/** Enough of a browser: follows nothing by itself, keeps cookies by name. */
class Browser {
  readonly cookies = new Map<string, string>();

  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0)
      headers.set(
        'cookie',
        [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
      );
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
}

/**
 * Signs `login` in through the provider, answering its login (and consent) pages as a user
 * would, and returns the console's answer to the provider's redirect back.
 */
async function signIn(app: TestApp, browser: Browser, returnTo: string): Promise<Response> {
  let response = await browser.fetch(
    `${app.url}/console/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
  );
  expect(response.status).toBe(302);
  let url = new URL(response.headers.get('location') ?? '');
  for (let step = 0; step < 20; step++) {
    if (url.pathname === '/console/auth/callback') return browser.fetch(url);
    response = await browser.fetch(url);
    if (response.status >= 300 && response.status < 400) {
      url = new URL(response.headers.get('location') ?? '', url);
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]* action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="([^"]+)"/.exec(html)?.[1];
    if (action === undefined || prompt === undefined) throw new Error(`unexpected page: ${html}`);
    response = await browser.fetch(new URL(action, url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt, login: 'alice', password: 'any' }).toString(),
    });
    url = new URL(response.headers.get('location') ?? '', url);
  }
  throw new Error('the sign-in never came back to the console');
}

async function gql(
  app: TestApp,
  browser: Browser,
  headers: Record<string, string>,
): Promise<{
  data?: { me?: { sub: string; roles: string[]; issuer: string } };
  errors?: { message: string; extensions?: { code?: string } }[];
}> {
  const response = await browser.fetch(`${app.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: ME }),
  });
  return (await response.json()) as never;
}

async function session(
  app: TestApp,
  browser: Browser,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await browser.fetch(`${app.url}/console/auth/session`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Straight from the app's database: what the service stored, not what it says. */
async function query<T extends Record<string, unknown>>(app: TestApp, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: app.database.url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('console sign-in through an OpenID provider', () => {
  let app: TestApp;
  let idp: Server;
  let issuer: string;
  /** Every token the provider handed out at its token endpoint (to the service). */
  const issuedTokens: string[] = [];

  beforeAll(async () => {
    const [appPort, idpPort] = [await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${String(idpPort)}`;
    const appUrl = `http://127.0.0.1:${String(appPort)}`;
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const provider = new Provider(issuer, {
      jwks: { keys: [{ ...(await exportJWK(privateKey)), use: 'sig', alg: 'RS256' }] },
      ttl: { Interaction: 600, Session: 600, Grant: 600, AccessToken: 600, IdToken: 600 },
      clients: [
        {
          client_id: 'gatehouse-console',
          client_secret: 'console-secret',
          redirect_uris: [`${appUrl}/console/auth/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      cookies: { keys: ['test-only-cookie-key'] },
      pkce: { required: () => true },
      // Keycloak's shape: roles nested under realm_access, in the ID token.
      claims: { openid: ['sub', 'realm_access'] },
      conformIdTokenClaims: false,
      findAccount: (_ctx: unknown, id: string) => ({
        accountId: id,
        claims: () => ({ sub: id, realm_access: { roles: ['model-validator', 'auditor'] } }),
      }),
    });
    provider.on('grant.success', (ctx) => {
      for (const name of ['access_token', 'id_token', 'refresh_token']) {
        const token = ctx.body?.[name];
        if (typeof token === 'string') issuedTokens.push(token);
      }
    });
    idp = createServer(provider.callback());
    await new Promise<void>((resolve) => idp.listen(idpPort, '127.0.0.1', resolve));
    app = await startTestApp({
      GATEHOUSE_PORT: String(appPort),
      GATEHOUSE_PUBLIC_URL: appUrl,
      GATEHOUSE_CONSOLE_OIDC_ISSUER: issuer,
      GATEHOUSE_CONSOLE_OIDC_CLIENT_ID: 'gatehouse-console',
      GATEHOUSE_CONSOLE_OIDC_CLIENT_SECRET: 'console-secret',
      GATEHOUSE_ROLES_CLAIM: 'realm_access.roles',
      GATEHOUSE_DEV_ISSUER: 'false',
    });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((resolve) => idp.close(resolve));
  });

  it('signs in with code and PKCE, keeps the tokens server-side and gives the browser a strict cookie', async () => {
    const browser = new Browser();
    const callback = await signIn(app, browser, '/console/promotions?tab=open');
    expect(callback.status).toBe(302);
    expect(callback.headers.get('location')).toBe('/console/promotions?tab=open');
    const cookie = callback.headers.getSetCookie().find((line) => line.startsWith(`${SESSION}=`));
    expect(cookie).toMatch(SESSION_COOKIE);
    expect(browser.cookies.has('__Host-gatehouse_sign_in')).toBe(false);

    const live = await session(app, browser);
    expect(live.status).toBe(200);
    expect(live.body).toEqual({
      subject: 'alice',
      roles: ['model-validator', 'auditor'],
      csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresAt: expect.any(String),
    });
    const expiresIn = Date.parse(String(live.body['expiresAt'])) - Date.now();
    expect(expiresIn).toBeGreaterThan(8 * 3600_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(8 * 3600_000);

    const csrf = String(live.body['csrfToken']);
    const me = await gql(app, browser, { 'x-csrf-token': csrf });
    expect(me.errors).toBeUndefined();
    expect(me.data?.me).toEqual({
      sub: 'alice',
      roles: ['model-validator', 'auditor'],
      issuer,
    });

    for (const headers of [{}, { 'x-csrf-token': 'not-the-token' }] as Record<string, string>[]) {
      const refused = await gql(app, browser, headers);
      expect(refused.data?.me).toBeUndefined();
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(refused.errors?.[0]?.message).toContain('x-csrf-token');
    }

    // The session row holds a hash of the id, never the id, and no provider token.
    const rows = await query<Record<string, unknown>>(app, 'SELECT * FROM console_sessions');
    expect(rows).toHaveLength(1);
    const id = SESSION_COOKIE.exec(cookie ?? '')?.[1] ?? '';
    expect(JSON.stringify(rows)).not.toContain(id);
    expect(Object.keys(rows[0] ?? {}).sort()).toEqual([
      'created_at',
      'csrf_token',
      'expires_at',
      'id_sha256',
      'issuer',
      'roles',
      'subject',
    ]);

    const unsafe = await browser.fetch(`${app.url}/console/auth/logout`, { method: 'POST' });
    expect(unsafe.status).toBe(403);
    const out = await browser.fetch(`${app.url}/console/auth/logout`, {
      method: 'POST',
      headers: { 'x-csrf-token': csrf },
    });
    expect(out.status).toBe(204);
    expect(out.headers.getSetCookie()).toContainEqual(
      `${SESSION}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Strict`,
    );
    expect(browser.cookies.has(SESSION)).toBe(false);
    expect((await session(app, browser)).status).toBe(401);

    const ledgered = await query<{ type: string; subject: string; canonical: string }>(
      app,
      `SELECT type, subject, canonical FROM ledger_events WHERE type LIKE 'console.%' ORDER BY seq`,
    );
    expect(ledgered.map((e) => e.type)).toEqual(['console.signed_in', 'console.signed_out']);
    const [signedIn, signedOut] = ledgered.map(
      (e) => JSON.parse(e.canonical) as { actor: unknown; payload: Record<string, unknown> },
    );
    expect(signedIn).toMatchObject({
      actor: { sub: 'alice', roles: ['model-validator', 'auditor'] },
      payload: { issuer, roles: ['model-validator', 'auditor'], expiresAt: live.body['expiresAt'] },
    });
    expect(signedOut?.payload).toEqual({ session: signedIn?.payload['session'] });
    expect(ledgered[0]?.subject).toBe(`console-session:${String(signedIn?.payload['session'])}`);
  });

  it('refuses an ended, expired, tampered or unknown session cookie', async () => {
    const browser = new Browser();
    await signIn(app, browser, '/console/');
    const id = browser.cookies.get(SESSION) ?? '';
    const csrf = String((await session(app, browser)).body['csrfToken']);

    for (const forged of [`${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`, 'unknown']) {
      const other = new Browser();
      other.cookies.set(SESSION, forged);
      const refused = await session(app, other);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({
        error: {
          code: 'UNAUTHENTICATED',
          message: expect.stringContaining('console session'),
        },
      });
      const me = await gql(app, other, { 'x-csrf-token': csrf });
      expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }

    await query(app, `UPDATE console_sessions SET expires_at = now() - interval '1 second'`);
    expect((await session(app, browser)).status).toBe(401);
    const me = await gql(app, browser, { 'x-csrf-token': csrf });
    expect(me.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses to return anywhere but the console, and a callback another browser began', async () => {
    const browser = new Browser();
    for (const returnTo of [
      'https://evil.example/console/',
      '//evil.example/',
      '/v1/ledger/events',
    ]) {
      const response = await browser.fetch(
        `${app.url}/console/auth/login?returnTo=${encodeURIComponent(returnTo)}`,
      );
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'BAD_USER_INPUT',
      );
    }

    // The victim's browser never began this sign-in: its callback is refused.
    const attacker = new Browser();
    const login = await attacker.fetch(`${app.url}/console/auth/login`);
    const state = new URL(login.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const victim = new Browser();
    const response = await victim.fetch(
      `${app.url}/console/auth/callback?code=x&state=${encodeURIComponent(state)}`,
    );
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/console/?signInFailed=not-begun');
    expect(victim.cookies.has(SESSION)).toBe(false);
  });

  it('sends a browser whose sign-in failed back to the console with the reason', async () => {
    const begin = async (browser: Browser): Promise<string> => {
      const login = await browser.fetch(`${app.url}/console/auth/login`);
      return new URL(login.headers.get('location') ?? '').searchParams.get('state') ?? '';
    };
    const callback = (browser: Browser, query: Record<string, string>) =>
      browser.fetch(`${app.url}/console/auth/callback?${new URLSearchParams(query).toString()}`);

    // The person declined at the provider, which says so in its redirect back.
    const declined = new Browser();
    const state = await begin(declined);
    let response = await callback(declined, { error: 'access_denied', state });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/console/?signInFailed=refused');
    expect(declined.cookies.has(SESSION)).toBe(false);

    // A code the provider never issued.
    const forged = new Browser();
    response = await callback(forged, { code: 'not-a-code', state: await begin(forged) });
    expect(response.headers.get('location')).toBe('/console/?signInFailed=refused');

    // Begun too long ago: the sign-in's ten minutes are over.
    const slow = new Browser();
    const slowState = await begin(slow);
    await query(app, `UPDATE console_sign_ins SET expires_at = now() - interval '1 second'`);
    response = await callback(slow, { code: 'x', state: slowState });
    expect(response.headers.get('location')).toBe('/console/?signInFailed=expired');
    expect(slow.cookies.has(SESSION)).toBe(false);
  });

  it('signs in and out in Chromium through the provider, the tokens never reaching the browser', async () => {
    const chromium = await launchBrowser();
    const tokensBefore = issuedTokens.length;
    try {
      const { context, page, faults } = await freshPage(chromium);
      // The provider's pages ask the internet for a web font: answered here, so that the test
      // neither reaches out nor logs a failure that is not the console's.
      await context.route('https://fonts.googleapis.com/**', (route) =>
        route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
      );
      // Everything the browser sends and is sent, to and from the console and the provider.
      const seen: string[] = [];
      const bodies: Promise<unknown>[] = [];
      context.on('request', (request) => {
        seen.push(`${request.url()} ${JSON.stringify(request.headers())}`);
      });
      context.on('response', (response) => {
        const redirect = response.status() >= 300 && response.status() < 400;
        seen.push(`${response.url()} ${JSON.stringify(response.headers())}`);
        if (!redirect) {
          bodies.push(
            response.text().then(
              (text) => seen.push(text),
              () => undefined,
            ),
          );
        }
      });

      // 127.0.0.1 is a secure context to Chromium, so it keeps the __Host-, Secure cookie
      // the service sets over plain http.
      await page.goto(`${app.url}/console`);
      const main = page.getByRole('main');
      await main.getByRole('link', { name: 'Sign in', exact: true }).click();

      // The provider's own pages (oidc-provider's development interactions): login, consent.
      await page.waitForURL((url) => url.origin === issuer);
      await page.getByPlaceholder('Enter any login').fill('alice');
      await page.getByPlaceholder('and password').fill('any');
      await page.getByRole('button', { name: 'Sign-in' }).click();
      await page.getByRole('button', { name: 'Continue' }).click();

      await page.waitForURL(`${app.url}/console`);
      const banner = page.getByRole('banner');
      await banner.getByText('Signed in as').waitFor();
      expect(await banner.textContent()).toContain('alice (model-validator, auditor)');
      await main.getByText(/^Verified: \d+ events/).waitFor();
      expect(await seriousViolations(page)).toEqual([]);

      // No token where the page's script could read it.
      expect(await page.evaluate('document.cookie')).toBe('');
      expect(await page.evaluate('localStorage.length + sessionStorage.length')).toBe(0);
      const session = (await context.cookies(app.url)).find((cookie) => cookie.name === SESSION);
      expect(session).toMatchObject({
        httpOnly: true,
        secure: true,
        sameSite: 'Strict',
        path: '/',
      });
      expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain(
        '__Host-gatehouse_sign_in',
      );

      await banner.getByRole('button', { name: 'Sign out' }).click();
      await main.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
      expect((await context.cookies(app.url)).map((cookie) => cookie.name)).not.toContain(SESSION);

      // The provider issued tokens, to the service: none was ever sent to the browser.
      await Promise.all(bodies);
      const tokens = issuedTokens.slice(tokensBefore);
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBeGreaterThan(10);
      expect(seen.filter((text) => tokens.some((token) => text.includes(token)))).toEqual([]);
      expect(seen.filter((text) => JWT.test(text) || /access_token|id_token=/.test(text))).toEqual(
        [],
      );
      expect(faults).toEqual([]);
      await context.close();
    } finally {
      await chromium.close();
    }
  });

  it('has no dev sign-in while the dev issuer is off', async () => {
    const response = await fetch(`${app.url}/console/auth/dev-login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: app.url },
      body: JSON.stringify({ subject: 'mallory', roles: ['admin'] }),
    });
    expect(response.status).toBe(404);
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe('console dev sign-in', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  const devLogin = (browser: Browser, body: unknown, origin: string | undefined) =>
    browser.fetch(`${app.url}/console/auth/dev-login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(origin === undefined ? {} : { origin }),
      },
      body: JSON.stringify(body),
    });

  it('signs in as any subject with known roles, from the console origin only', async () => {
    const browser = new Browser();
    const response = await devLogin(
      browser,
      { subject: 'dana', roles: ['compliance-officer'] },
      app.url,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as { subject: string; roles: string[]; csrfToken: string };
    expect(body).toMatchObject({ subject: 'dana', roles: ['compliance-officer'] });
    expect(response.headers.getSetCookie().find((l) => l.startsWith(SESSION))).toMatch(
      SESSION_COOKIE,
    );
    const me = await gql(app, browser, { 'x-csrf-token': body.csrfToken });
    expect(me.data?.me).toEqual({
      sub: 'dana',
      roles: ['compliance-officer'],
      issuer: 'gatehouse-dev',
    });

    for (const origin of [undefined, 'https://evil.example', 'null']) {
      const refused = await devLogin(new Browser(), { subject: 'eve', roles: ['admin'] }, origin);
      expect(refused.status).toBe(403);
    }
    const unknownRole = await devLogin(new Browser(), { subject: 'eve', roles: ['root'] }, app.url);
    expect(unknownRole.status).toBe(400);
  });

  it('keeps bearer-token callers as they were, and has no provider sign-in without a provider', async () => {
    const bearer = await app.token('bob', 'auditor');
    const res = await app.gql<{ me: { sub: string } }>(ME, {}, bearer);
    expect(res.data?.me.sub).toBe('bob');
    // With a bearer token, a session cookie beside it is not looked at (nor its CSRF rule).
    const browser = new Browser();
    browser.cookies.set(SESSION, 'whatever');
    const both = await gql(app, browser, { authorization: `Bearer ${bearer}` });
    expect(both.errors).toBeUndefined();
    expect(both.data?.me?.sub).toBe('bob');
    const login = await fetch(`${app.url}/console/auth/login`, { redirect: 'manual' });
    expect(login.status).toBe(404);
  });
});
