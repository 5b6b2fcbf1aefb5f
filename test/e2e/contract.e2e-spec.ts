import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GraphQLSchemaHost } from '@nestjs/graphql';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { startTestApp, type TestApp } from '../support/app.js';

/**
 * The public contract, printed from the running service and compared with the committed copy:
 * the GraphQL schema (`schema.graphql`) and the REST routes (`test/contract/rest-routes.txt`).
 * A change to either is deliberate: rerun with GATEHOUSE_WRITE_CONTRACT=1 and commit the diff.
 * (Real-time inference, `POST /v2/models/{name}/infer`, is answered ahead of Fastify and is held
 * to its protocol by the inference tests.)
 */
const ROOT = join(import.meta.dirname, '..', '..');
const SCHEMA_FILE = join(ROOT, 'schema.graphql');
const ROUTES_FILE = join(ROOT, 'test', 'contract', 'rest-routes.txt');

describe('the public contract', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await app.close();
  });

  function compare(file: string, printed: string): void {
    if (process.env['GATEHOUSE_WRITE_CONTRACT'] === '1') writeFileSync(file, printed);
    expect(printed).toBe(readFileSync(file, 'utf8'));
  }

  it('serves the committed GraphQL schema', () => {
    const { schema } = app.running.app.get(GraphQLSchemaHost);
    compare(SCHEMA_FILE, `${printSchema(lexicographicSortSchema(schema))}\n`);
  });

  it('serves the committed REST routes', () => {
    const tree = app.running.app
      .getHttpAdapter()
      .getInstance()
      .printRoutes({ commonPrefix: true, includeMeta: false });
    compare(ROUTES_FILE, `${routeList(tree).join('\n')}\n`);
  });
});

/**
 * Fastify prints its routes as a tree, in the order they were added; the contract is the sorted
 * list of method and full path, whatever the order the modules register them in. The tree is
 * printed with its shared prefixes as nodes of their own (without methods): printed without,
 * a wildcard under a prefix that has no route of its own loses that prefix.
 */
function routeList(tree: string): string[] {
  const prefixes: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/u.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4; // '│' is one code unit
    prefixes.length = depth;
    const path = `${prefixes.join('')}${match[2] ?? ''}`;
    prefixes.push(match[2] ?? '');
    if (match[3] === undefined) continue;
    for (const method of match[3].split(', ')) routes.push(`${method} ${path}`);
  }
  return routes.sort();
}
