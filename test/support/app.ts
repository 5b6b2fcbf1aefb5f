import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp, type RunningApp } from '../../src/app.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface GraphQLResponse<T = Record<string, unknown>> {
  readonly status: number;
  readonly data: T | null | undefined;
  readonly errors:
    | { message: string; path?: string[]; extensions?: { code?: string; [k: string]: unknown } }[]
    | undefined;
}

/** A running service as a test talks to it: its address and its GraphQL endpoint. */
export interface ServiceClient {
  readonly url: string;
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<T>>;
}

/** GraphQL over HTTP to the service at `url`, as any client sends it. */
export function serviceClient(url: string): ServiceClient {
  return {
    url,
    async gql(query, variables, token) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as {
        data?: unknown;
        errors?: GraphQLResponse['errors'];
      };
      return { status: response.status, data: body.data as never, errors: body.errors };
    },
  };
}

export interface TestApp extends ServiceClient {
  readonly config: Config;
  readonly database: TestDatabase;
  readonly running: RunningApp;
  /** A dev-issuer token for a subject and roles. */
  token(sub: string, ...roles: string[]): Promise<string>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** The URL the service connects with, given its database's (e.g. through a proxy). */
  readonly databaseUrl?: (url: string) => string;
}

/**
 * Candidate threads at the service's own priority. By design a candidate runs only on CPU time
 * nothing else wants (SCHED_IDLE, nice 19), and the test files running side by side leave
 * none: a test that needs a candidate's answers within its timeout would depend on how busy
 * the machine is. The tests of that priority ask for it (model-worker-pool.spec.ts).
 */
export const CANDIDATES_AT_NORMAL_PRIORITY: Readonly<Record<string, string>> = {
  GATEHOUSE_CANDIDATE_NICENESS: '0',
  GATEHOUSE_CANDIDATE_IDLE_PRIORITY: 'false',
};

/**
 * The real service on a random port, against a database of its own and a temporary data
 * folder. `env` overrides the environment the configuration is read from.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: TestAppOptions = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    GATEHOUSE_PORT: '0',
    GATEHOUSE_DATA_DIR: dataDir,
    DATABASE_URL: options.databaseUrl?.(database.url) ?? database.url,
    ...CANDIDATES_AT_NORMAL_PRIORITY,
    ...env,
  });
  const running = await startApp(config);
  const key = config.auth.devIssuer ? await loadOrCreateDevIssuerKey(dataDir) : undefined;
  return {
    ...serviceClient(running.url),
    config,
    database,
    running,
    async token(sub, ...roles) {
      if (!key) throw new Error('the dev issuer is off in this test app');
      return issueDevToken(key, {
        sub,
        roles,
        ttlSeconds: 600,
        audience: config.auth.audience,
        rolesClaim: config.auth.rolesClaim,
      });
    },
    async close() {
      await running.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
