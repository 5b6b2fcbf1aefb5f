import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WRITER_THREAD_NAME } from '../../src/prediction-log/writer-host.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { freePort, runCli, startServe } from '../support/cli.js';

const POLICIES = new URL('../../policies/', import.meta.url).pathname;

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

describe('the gatehouse command', () => {
  let dataDir: string;
  let database: TestDatabase;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-cli-'));
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('exits 2 with one line naming a wrong setting', async () => {
    const result = await runCli(['serve'], {
      GATEHOUSE_PORT: 'eighty',
      GATEHOUSE_DATA_DIR: dataDir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'gatehouse: GATEHOUSE_PORT: expected an integer from 0 to 65535, got "eighty"\n',
    );
  });

  it('exits 2 naming the file and line of a broken policy', async () => {
    const policies = mkdtempSync(join(tmpdir(), 'gatehouse-policies-'));
    copyFileSync(join(POLICIES, 'roles.yaml'), join(policies, 'roles.yaml'));
    writeFileSync(
      join(policies, 'roles.yaml'),
      'version: 1\nroles:\n  x:\n    description: d\n    can:\n      read: [Nothing]\n',
    );
    const result = await runCli(['serve'], {
      GATEHOUSE_POLICIES_DIR: policies,
      GATEHOUSE_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^gatehouse: .*roles\.yaml:6: roles\.x\.can\.read\.0: /);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    rmSync(policies, { recursive: true });
  });

  it('prints only a token, usable against the service', async () => {
    const token = await runCli(['token', '--sub', 'bob', '--role', 'auditor', '--ttl', '5m'], {
      GATEHOUSE_DATA_DIR: dataDir,
    });
    expect(token.code).toBe(0);
    expect(token.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);

    const server = await startServe({
      GATEHOUSE_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      GATEHOUSE_PORT: String(await freePort()),
      GATEHOUSE_LOG_LEVEL: 'info',
    });
    try {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token.stdout.trim()}`,
        },
        body: JSON.stringify({ query: '{ me { sub roles } }' }),
      });
      expect(await res.json()).toEqual({ data: { me: { sub: 'bob', roles: ['auditor'] } } });

      // Started as `node bin/gatehouse.js serve`, it restarted itself in place (same pid) with
      // the service's Node.js flags.
      const argv = readFileSync(`/proc/${String(server.child.pid)}/cmdline`, 'utf8').split('\0');
      expect(argv).toEqual(
        expect.arrayContaining([
          '--max-semi-space-size=32',
          '--min-semi-space-size=32',
          '--no-memory-reducer',
          ...(Number(process.versions.node.split('.')[0]) < 24
            ? ['--experimental-async-context-frame']
            : []),
        ]),
      );

      // The prediction log's writer runs on a thread of its own, below the service's priority.
      // The thread names itself once its module has loaded, which may come after readiness.
      const pid = String(server.child.pid);
      const threadsOf = () =>
        readdirSync(`/proc/${pid}/task`).map((tid) => {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          // stat(5): after the name, state is the 3rd field and nice the 19th.
          const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
          return { tid, name, nice };
        });
      let threads = threadsOf();
      for (let tries = 0; tries < 300; tries++) {
        if (threads.some((t) => t.name === WRITER_THREAD_NAME && t.nice === 10)) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
        threads = threadsOf();
      }
      const writers = threads.filter((t) => t.name === WRITER_THREAD_NAME);
      expect(writers.map((t) => t.nice)).toEqual([10]);
      expect(threads.find((t) => t.tid === pid)?.nice).toBeLessThan(10);

      // One JSON line per answered request, but none for inference, probes or scrapes, and
      // never a header (src/telemetry/request-log.ts).
      const headers = { authorization: `Bearer ${token.stdout.trim()}` };
      await (await fetch(`${server.url}/v2/health/live`)).text();
      await (await fetch(`${server.url}/metrics`, { headers })).text();
      const infer = await fetch(`${server.url}/v2/models/nowhere/infer`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{"inputs":[]}',
      });
      expect(infer.status).toBeGreaterThanOrEqual(400);
      await infer.text();
      await (await fetch(`${server.url}/v1/no-such-path?secret=1`, { headers })).text();
      const requestLines = async (count: number) => {
        for (let i = 0; i < 50; i++) {
          const lines = server
            .output()
            .split('\n')
            .filter((l) => l.includes('"request completed"'))
            .map((l) => JSON.parse(l) as Record<string, unknown>);
          if (lines.length >= count) return lines;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`fewer than ${count} request lines:\n${server.output()}`);
      };
      const lines = await requestLines(2);
      expect(lines.map((l) => [l['req'], l['res']])).toEqual([
        [{ id: expect.any(String), method: 'POST', path: '/graphql' }, { statusCode: 200 }],
        [{ id: expect.any(String), method: 'GET', path: '/v1/no-such-path' }, { statusCode: 404 }],
      ]);
      for (const line of lines) {
        expect(line['reqId']).toBe((line['req'] as { id: string }).id);
        expect(line['responseTime']).toEqual(expect.any(Number));
        expect(line['level']).toBe('info');
      }
      expect(server.output()).not.toContain(token.stdout.trim());
      expect(server.output()).not.toContain('secret=1');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('logs inference requests too with GATEHOUSE_LOG_REQUESTS=all', async () => {
    const token = await runCli(['token', '--sub', 'ivan', '--role', 'inference-client'], {
      GATEHOUSE_DATA_DIR: dataDir,
    });
    // The operator's own Node.js flags, one negated, are kept as given; only the missing ones
    // are added.
    const server = await startServe(
      {
        GATEHOUSE_DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        GATEHOUSE_PORT: String(await freePort()),
        GATEHOUSE_LOG_LEVEL: 'info',
        GATEHOUSE_LOG_REQUESTS: 'all',
      },
      60_000,
      ['--memory-reducer', '--max-semi-space-size=16'],
    );
    try {
      const argv = readFileSync(`/proc/${String(server.child.pid)}/cmdline`, 'utf8').split('\0');
      expect(argv).toEqual(
        expect.arrayContaining([
          '--memory-reducer',
          '--max-semi-space-size=16',
          '--min-semi-space-size=32',
        ]),
      );
      expect(argv).not.toContain('--no-memory-reducer');
      expect(argv).not.toContain('--max-semi-space-size=32');

      const infer = await fetch(`${server.url}/v2/models/nowhere/infer?x=secret`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token.stdout.trim()}`,
        },
        body: '{"inputs":[]}',
      });
      expect(infer.status).toBe(400); // no inputs
      await infer.text();
      let line: Record<string, unknown> | undefined;
      for (let i = 0; i < 50 && line === undefined; i++) {
        line = server
          .output()
          .split('\n')
          .filter((l) => l.includes('"request completed"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>)[0];
        if (line === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(line).toMatchObject({
        level: 'info',
        reqId: expect.stringMatching(/^inf-/),
        req: { method: 'POST', path: '/v2/models/nowhere/infer' },
        res: { statusCode: 400 },
        responseTime: expect.any(Number),
      });
      expect(server.output()).not.toContain('secret');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('refuses to mint tokens when the dev issuer is off', async () => {
    const result = await runCli(['token', '--sub', 'bob'], {
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_DEV_ISSUER: 'false',
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('GATEHOUSE_DEV_ISSUER');
  });

  it('migrates an empty database and reports the schema', async () => {
    const result = await runCli(['migrate'], {
      GATEHOUSE_DATA_DIR: dataDir,
      DATABASE_URL: database.url,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^schema up to date: \d+ migrations/);
  });

  it('runs on the embedded default with DATABASE_URL unset, reuses its data, and shuts down cleanly on SIGTERM', async () => {
    const embeddedDir = join(dataDir, 'embedded');
    mkdirSync(embeddedDir);
    // mkdtemp makes a private folder; the embedded server (run as postgres when we are root)
    // must be able to pass through it.
    chmodSync(dataDir, 0o711);
    const pgPort = await freePort();
    const env = { GATEHOUSE_DATA_DIR: embeddedDir, GATEHOUSE_EMBEDDED_PG_PORT: String(pgPort) };
    for (const round of ['first start (initdb)', 'second start (reuse)']) {
      const server = await startServe({ ...env, GATEHOUSE_PORT: String(await freePort()) }, 90_000);
      const ready = await fetch(`${server.url}/v2/health/ready`);
      expect([round, ready.status]).toEqual([round, 200]);
      expect(await portAnswers(pgPort)).toBe(true);
      // A command beside the running service shares its embedded server and leaves it up.
      const verify = await runCli(['ledger', 'verify', '--json'], env);
      expect([round, verify.code, verify.stderr]).toEqual([round, 0, '']);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
      expect(await server.stop('SIGTERM')).toBe(0);
      // No process left behind: the embedded server is gone with the service.
      expect([round, await portAnswers(pgPort)]).toEqual([round, false]);
    }
  }, 180_000);
});
