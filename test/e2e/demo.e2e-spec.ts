import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReport } from '../../src/reports/report-verify.js';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { loadConfig } from '../../src/config/config.js';
import { startLongRunning, type ServingProcess } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * `gatehouse demo` through the built CLI. Against a fresh database of the test server (the
 * embedded PostgreSQL, the default, is what `npm run demo` uses; it is the same code after the
 * connection), into a data folder of its own.
 */
/** Waits for the process's output to match `pattern`, for as long as the test may run. */
async function outputMatching(process: ServingProcess, pattern: RegExp): Promise<RegExpExecArray> {
  for (;;) {
    const match = pattern.exec(process.output());
    if (match) return match;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('gatehouse demo', () => {
  let database: TestDatabase;
  let dataDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-demo-'));
  });

  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('tells the whole story, ends with a verified ledger and report, and can leave a request for the console', async () => {
    const demo = await startLongRunning(
      [
        'demo',
        '--data-dir',
        dataDir,
        '--database-url',
        database.url,
        '--keep-serving',
        '--port',
        '0',
      ],
      {},
      /console: (http:\/\/\S+)\/console\n[^]*sign it off\n/,
      170_000,
    );
    try {
      const out = demo.output();
      expect(demo.errorOutput()).not.toMatch(/Error/);
      expect(out).toMatch(/\[ 1\/11\] .*starting Gatehouse/);
      expect(out).toMatch(/version 2: .*sex 0\.686 \(FAILS four-fifths\)/);
      expect(out).toMatch(/FAIRNESS: sex: disparate impact 0\.686 below 0\.8/);
      expect(out).toMatch(/dana approving her own request: SEPARATION_OF_DUTIES/);
      expect(out).toMatch(/rolled back automatically in stage shadow: maxErrorRate breached/);
      expect(out).toMatch(/passed canary-50/);
      expect(out).toMatch(/COMPLETED: version 3 is live/);
      expect(out).toMatch(/intact: \d+ events/);
      expect(out).toMatch(/offline verification: intact/);
      expect(out).toMatch(/^Done in [\d.]+ s\.$/m);
      const report = /report: (\S+\.json)/.exec(out)?.[1] ?? '';
      expect(existsSync(report)).toBe(true);
      expect(existsSync(report.replace(/\.json$/, '.pdf'))).toBe(true);
      const verified = await verifyReport(readFileSync(report, 'utf8'));
      expect(verified.ok).toBe(true);

      // Left serving: the request waits for the compliance officer alone.
      const id = /promotion request (\S+) \(/.exec(out)?.[1] ?? '';
      const config = loadConfig({ NODE_ENV: 'development', GATEHOUSE_DATA_DIR: dataDir });
      const token = await issueDevToken(await loadOrCreateDevIssuerKey(dataDir), {
        sub: 'cora',
        roles: ['compliance-officer'],
        ttlSeconds: 600,
        audience: config.auth.audience,
        rolesClaim: config.auth.rolesClaim,
      });
      const response = await fetch(`${demo.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: 'query($id: ID!) { promotionRequest(id: $id) { status missingRoles } }',
          variables: { id },
        }),
      });
      expect(await response.json()).toEqual({
        data: { promotionRequest: { status: 'PENDING', missingRoles: ['compliance-officer'] } },
      });
      expect((await fetch(`${demo.url}/console/`)).status).toBe(200);

      // Signed off, the demo's ML engineer starts the rollout and its traffic takes it live.
      const request = await fetch(`${demo.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `query($id: ID!) { promotionRequest(id: $id) { requestDigest } }`,
          variables: { id },
        }),
      });
      const { requestDigest } = (
        (await request.json()) as { data: { promotionRequest: { requestDigest: string } } }
      ).data.promotionRequest;
      const approved = await fetch(`${demo.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `mutation($id: ID!, $digest: String!, $statement: String!) {
            approvePromotion(id: $id, role: "compliance-officer", requestDigest: $digest,
              statement: $statement) { status } }`,
          variables: {
            id,
            digest: requestDigest,
            statement:
              'I reviewed the evaluation, the gates and the rollback criteria; signed off.',
          },
        }),
      });
      expect(await approved.json()).toEqual({ data: { approvePromotion: { status: 'APPROVED' } } });
      const completed = await outputMatching(
        demo,
        /rollout (\S+) COMPLETED: version 1 is live\n.*\(subject rollout:\1\)\n/,
      );
      expect(demo.output()).toMatch(/signed off: erin started rollout \S+;[^]*passed canary-50/);
      expect(completed[1]).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      expect(await demo.stop('SIGINT')).toBe(0);
    }
  }, 300_000);
});
