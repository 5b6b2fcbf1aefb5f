import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { ACCESS_KEY } from '../../src/auth/decorators.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('GraphQL and HTTP hygiene', () => {
  let app: TestApp;
  let token: string;

  beforeAll(async () => {
    app = await startTestApp({
      GATEHOUSE_GRAPHQL_MAX_DEPTH: '4',
      GATEHOUSE_GRAPHQL_MAX_COST: '40',
      GATEHOUSE_BODY_LIMIT_BYTES: '4096',
    });
    token = await app.token('bob', 'auditor');
  });
  afterAll(async () => {
    await app.close();
  });

  it('reports liveness and readiness', async () => {
    expect(await (await fetch(`${app.url}/v2/health/live`)).json()).toEqual({ live: true });
    const ready = await fetch(`${app.url}/v2/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true });
  });

  it('refuses a query deeper than the limit', async () => {
    // models → items → versions → inputs → name: five fields deep, against a limit of four.
    const deep = '{ models { items { versions { inputs { name } } } } }';
    const res = await app.gql(deep, {}, token);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/depth/i);
  });

  it('refuses a query costlier than the limit', async () => {
    const aliases = Array.from({ length: 15 }, (_, i) => `m${i}: me { sub roles }`).join(' ');
    const res = await app.gql(`{ ${aliases} }`, {}, token);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/query cost \d+ exceeds the limit of 40/);
  });

  it('refuses a body larger than the limit with 413', async () => {
    const res = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `{ me { sub } } # ${'x'.repeat(8000)}` }),
    });
    expect(res.status).toBe(413);
  });

  it('gives syntax errors a code and no stack', async () => {
    const res = await app.gql('{ me { ', {}, token);
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.errors)).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('has an access rule on every resolver and controller handler', () => {
    const modules = [...app.running.app.get(ModulesContainer).values()];
    const scanner = new MetadataScanner();
    const missing: string[] = [];
    const checked: string[] = [];
    const handlers = modules.flatMap((m) => [...m.controllers.values(), ...m.providers.values()]);
    for (const wrapper of handlers) {
      const instance = wrapper.instance as object | undefined;
      if (!instance || typeof instance !== 'object') continue;
      const prototype = Object.getPrototypeOf(instance) as object;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[name] as object;
        const isRoute = Reflect.getMetadata('method', method) !== undefined;
        const isResolver = Reflect.getMetadata('graphql:resolver_type', method) !== undefined;
        if (!isRoute && !isResolver) continue;
        checked.push(`${instance.constructor.name}.${name}`);
        const access =
          Reflect.getMetadata(ACCESS_KEY, method) ??
          Reflect.getMetadata(ACCESS_KEY, instance.constructor);
        if (access === undefined) missing.push(`${instance.constructor.name}.${name}`);
      }
    }
    expect(checked).toEqual(
      expect.arrayContaining(['HealthController.live', 'MeResolver.me', 'PolicyResolver.policies']),
    );
    expect(missing).toEqual([]);
  });
});
