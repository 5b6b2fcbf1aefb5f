import { afterEach, describe, expect, it } from '@jest/globals';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_HEADERS, isClientRoute } from './console-files.js';
import { consolePlugin } from './console.plugin.js';

describe('consolePlugin', () => {
  let server: FastifyInstance | undefined;
  const dirs: string[] = [];

  afterEach(async () => {
    await server?.close();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function serve(build: Record<string, string> | undefined): Promise<FastifyInstance> {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-console-'));
    dirs.push(dir);
    for (const [path, text] of Object.entries(build ?? {})) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    server = Fastify();
    await server.register(consolePlugin, { prefix: '/console', dir });
    return server;
  }

  it('says the console is not built, with its headers, when there is no build', async () => {
    const app = await serve(undefined);
    for (const url of ['/console', '/console/', '/console/ledger']) {
      const response = await app.inject({ url });
      expect(response.statusCode).toBe(404);
      expect(response.json<{ error: { message: string } }>().error.message).toContain(
        'npm run build',
      );
      expect(response.headers['content-security-policy']).toBe(
        CONSOLE_HEADERS['content-security-policy'],
      );
    }
  });

  it('serves files, index.html for client routes, and 404 for the rest', async () => {
    const app = await serve({ 'index.html': '<p>console</p>', 'assets/app-1.js': 'ok' });
    for (const url of ['/console', '/console/', '/console/ledger', '/console/ledger/7?x=1']) {
      const response = await app.inject({ url });
      expect([url, response.statusCode, response.body]).toEqual([url, 200, '<p>console</p>']);
      expect(response.headers['cache-control']).toBe('no-cache');
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
    const asset = await app.inject({ url: '/console/assets/app-1.js' });
    expect(asset.body).toBe('ok');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['referrer-policy']).toBe('no-referrer');
    expect((await app.inject({ url: '/console/assets/app-2.js' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/console/auth/session' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/console/ledger' })).statusCode).toBe(404);
  });
});

describe('isClientRoute', () => {
  it('is a path with no file extension outside the sign-in routes', () => {
    expect(isClientRoute('')).toBe(true);
    expect(isClientRoute('ledger')).toBe(true);
    expect(isClientRoute('ledger/12')).toBe(true);
    expect(isClientRoute('assets/app.js')).toBe(false);
    expect(isClientRoute('favicon.ico')).toBe(false);
    expect(isClientRoute('auth')).toBe(false);
    expect(isClientRoute('auth/session')).toBe(false);
  });
});
