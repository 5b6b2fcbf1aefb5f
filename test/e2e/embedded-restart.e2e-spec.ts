import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { embeddedDatabaseUrl } from '../../src/database/embedded-postgres.js';
import { buildGermanCreditModels, defaultGermanCreditPath } from '../../src/model-builder/index.js';
import { freePort, metricValue, runCli, startServe, type ServingProcess } from '../support/cli.js';
import { clientOf, liveCreditEndpoint, peopleTokens, Traffic } from '../support/rollout-story.js';

/**
 * The embedded PostgreSQL killed outright (SIGKILL of its postmaster, as a fault trial or the
 * OOM killer does) comes back by itself, and so does the service, with nothing done by hand.
 * The real `gatehouse serve` with DATABASE_URL unset, on a cluster in a folder of its own and
 * a port of its own: the shared server of the other tests is never touched.
 */

// Generous: on a busy machine, crash recovery and the pools' reconnection may take a while.
const RECOVERY_DEADLINE_MS = 120_000;

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

interface GraphqlResult<T> {
  readonly data?: T;
  readonly errors?: readonly { message: string }[];
}

describe('the embedded PostgreSQL, killed', () => {
  let dataDir: string;
  let embeddedDir: string;
  let pgPort: number;
  let server: ServingProcess | undefined;
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-embedded-restart-'));
    // mkdtemp makes a private folder; the embedded server (run as postgres when we are root)
    // must be able to pass through it.
    chmodSync(dataDir, 0o711);
    embeddedDir = join(dataDir, 'embedded');
    mkdirSync(embeddedDir);
    pgPort = await freePort();
    env = { GATEHOUSE_DATA_DIR: embeddedDir, GATEHOUSE_EMBEDDED_PG_PORT: String(pgPort) };
  });
  afterAll(async () => {
    if (server !== undefined && server.child.exitCode === null) await server.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is restarted, and writes with their ledger events succeed again', async () => {
    server = await startServe(
      { ...env, GATEHOUSE_PORT: String(await freePort()), GATEHOUSE_LOG_LEVEL: 'info' },
      90_000,
    );
    const running = server;
    const token = async (role: string): Promise<string> => {
      const result = await runCli(['token', '--sub', `${role}-1`, '--role', role], env);
      expect(result.code).toBe(0);
      return result.stdout.trim();
    };
    const scientist = await token('data-scientist');
    const auditor = await token('auditor');
    const gql = async <T>(
      bearer: string,
      query: string,
      variables: Record<string, unknown> = {},
    ): Promise<GraphqlResult<T>> => {
      const res = await fetch(`${running.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GraphqlResult<T>;
    };
    const register = (name: string) =>
      gql<{ registerModel: { id: string } }>(
        scientist,
        `mutation($name: String!) { registerModel(input: { name: $name, riskTier: LOW, owner: "o", protectedAttributes: [], modelCard: { intendedUse: "u", outOfScopeUses: [], limitations: "l", trainingData: "t", ethicalConsiderations: "e" } }) { id } }`,
        { name },
      );

    expect((await register('before-the-kill')).errors).toBeUndefined();

    const clusterDir = join(embeddedDir, 'postgres');
    const postmasterPid = Number(
      readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    expect(postmasterPid).toBeGreaterThan(1);
    process.kill(postmasterPid, 'SIGKILL');

    // A fresh name each try: a try refused while the server was down wrote nothing.
    let registered: string | undefined;
    const deadline = Date.now() + RECOVERY_DEADLINE_MS;
    for (let attempt = 1; registered === undefined && Date.now() < deadline; attempt++) {
      const name = `after-the-kill-${attempt}`;
      const result = await register(name).catch(() => undefined);
      if (result?.data?.registerModel.id !== undefined) registered = name;
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    if (registered === undefined)
      throw new Error(
        `no write succeeded within ${RECOVERY_DEADLINE_MS} ms of the kill; the service said:\n${running.output().slice(-6000)}`,
      );

    const events = await gql<{ ledgerEvents: { events: { type: string }[] } }>(
      auditor,
      'query($subject: String!) { ledgerEvents(subject: $subject) { events { type } } }',
      { subject: `model:${registered}` },
    );
    expect(events.data?.ledgerEvents.events.map((e) => e.type)).toEqual(['model.registered']);
    const verified = await gql<{ verifyLedger: { ok: boolean; eventsChecked: number } }>(
      auditor,
      '{ verifyLedger { ok eventsChecked } }',
    );
    expect(verified.errors).toBeUndefined();
    expect(verified.data?.verifyLedger.ok).toBe(true);

    // The service was never restarted: the same process, now ready again.
    expect(running.child.exitCode).toBeNull();
    expect((await fetch(`${running.url}/v2/health/ready`)).status).toBe(200);
    const newPid = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(newPid).not.toBe(postmasterPid);
    expect(running.output()).toContain(
      `embedded PostgreSQL (pid ${postmasterPid}) died: signal SIGKILL`,
    );
    expect(running.output()).toMatch(/embedded PostgreSQL restarted \(pid \d+, restart 1\)/);

    // Shutdown stops the server cleanly and does not restart it.
    expect(await running.stop('SIGTERM')).toBe(0);
    expect(await portAnswers(pgPort)).toBe(false);
    expect(running.output()).not.toMatch(/restart 2\)/);
  }, 240_000);

  it('logs every prediction it answered while the server was paused, then dead, once it is back', async () => {
    server = await startServe(
      {
        ...env,
        GATEHOUSE_PORT: String(await freePort()),
        GATEHOUSE_LOG_LEVEL: 'info',
        // A batch the paused server does not take goes to the spool within a second.
        GATEHOUSE_PREDICTION_LOG_WRITE_TIMEOUT_MS: '1000',
      },
      90_000,
    );
    const running = server;
    try {
      const client = clientOf(() => running.url, await peopleTokens(embeddedDir));
      const models = buildGermanCreditModels();
      const live = await liveCreditEndpoint(
        client,
        'credit',
        models.fair,
        defaultGermanCreditPath(),
      );
      expect(live.status).toBe('COMPLETED');

      // Traffic on an endpoint that requires the log, through the server's death and restart.
      const traffic = new Traffic(client, 'credit', models.data, { concurrency: 2 }).start();
      await traffic.answered(50);
      const clusterDir = join(embeddedDir, 'postgres');
      const postmasterPid = Number(
        readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0],
      );
      // Paused: the postmaster and every backend stopped, their connections open and silent.
      const cluster = [
        postmasterPid,
        ...execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmasterPid)])
          .toString()
          .split('\n')
          .map(Number)
          .filter((pid) => pid > 0),
      ];
      for (const pid of cluster) process.kill(pid, 'SIGSTOP');
      try {
        await traffic.answered(100);
        const paused = await fetch(`${running.url}/v2/health/ready`);
        expect(paused.status).toBe(503);
      } finally {
        for (const pid of cluster) process.kill(pid, 'SIGCONT');
      }
      process.kill(postmasterPid, 'SIGKILL');
      await traffic.answered(100);
      for (
        let attempt = 0;
        (await fetch(`${running.url}/v2/health/ready`)).status !== 200;
        attempt++
      ) {
        if (attempt === RECOVERY_DEADLINE_MS / 200) throw new Error('never ready again');
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await traffic.answered(50);
      const stats = await traffic.stop();
      // The predictions answered while the database was away were spooled; they are written
      // once the writer has the database again. Waited for as a condition (nothing spooled or
      // queued), with the recovery's own bound: on a busy machine the write-out takes longer.
      for (let attempt = 0; ; attempt++) {
        const spooled = await metricValue(running.url, 'gatehouse_prediction_log_spooled');
        const backlog = await metricValue(running.url, 'gatehouse_prediction_log_backlog');
        if (spooled === 0 && backlog === 0) break;
        if (attempt === RECOVERY_DEADLINE_MS / 200)
          throw new Error(`the log never caught up: ${spooled} spooled, ${backlog} queued`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // Answered with 200 means logged (or the request would have been refused).
      const db = new pg.Client({ connectionString: embeddedDatabaseUrl(pgPort) });
      await db.connect();
      try {
        for (let attempt = 0; ; attempt++) {
          const { rows } = await db.query<{ n: number }>(
            `SELECT count(DISTINCT request_id)::int AS n FROM predictions WHERE request_id = ANY($1)`,
            [stats.answeredIds],
          );
          if (rows[0]?.n === stats.answeredIds.length) break;
          if (attempt === 600)
            throw new Error(`${rows[0]?.n ?? 0} of ${stats.answeredIds.length} answers logged`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      } finally {
        await db.end();
      }
      expect(await running.stop('SIGTERM')).toBe(0);
    } finally {
      // A failure above must not leave the server running on a folder about to be deleted.
      if (running.child.exitCode === null) await running.stop('SIGKILL');
    }
  }, 240_000);

  it('starts on a cluster whose postmaster.pid names a process that is no server of it', async () => {
    // A pid reused after the machine or container restarted: PostgreSQL alone would take the
    // process for a running server and refuse to start. It must be a process of the server's
    // user (postgres when we are root): another user's, PostgreSQL itself knows to be stale.
    const serverUser =
      process.getuid?.() === 0
        ? {
            uid: Number(execFileSync('id', ['-u', 'postgres']).toString()),
            gid: Number(execFileSync('id', ['-g', 'postgres']).toString()),
          }
        : {};
    const stranger = spawn('sleep', ['600'], { stdio: 'ignore', ...serverUser });
    try {
      writeFileSync(join(embeddedDir, 'postgres', 'postmaster.pid'), `${stranger.pid ?? 0}\n`);
      server = await startServe(
        { ...env, GATEHOUSE_PORT: String(await freePort()), GATEHOUSE_LOG_LEVEL: 'info' },
        90_000,
      );
      expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
      expect(server.output()).toContain('removed a stale postmaster.pid');
      expect(stranger.exitCode).toBeNull();
      expect(await server.stop('SIGTERM')).toBe(0);
    } finally {
      stranger.kill('SIGKILL');
    }
  }, 120_000);
});
