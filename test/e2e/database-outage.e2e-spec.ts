import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { checkOut } from '../../src/database/checked-out-client.js';
import { EndpointRouter } from '../../src/inference/endpoint-router.service.js';
import { NotificationListener } from '../../src/inference/notification-listener.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { registerModel } from '../support/registry.js';

/**
 * An error nobody listened for ('error' of a pg client) surfaces here: recorded, so that the
 * last test names it, rather than ending the test process.
 */
const uncaught: unknown[] = [];
const record = (error: unknown): void => {
  uncaught.push(error);
};
beforeAll(() => {
  process.on('uncaughtException', record);
});
afterAll(() => {
  process.off('uncaughtException', record);
});

/**
 * The service through a PostgreSQL outage it alone sees: its DATABASE_URL goes through a TCP
 * proxy that can pause (connections open, nothing answers), kill (every connection cut, new
 * ones refused) and resume. Readiness must answer in every state, nothing may crash, and once
 * the database is back the service works again without a restart.
 */
describe('a PostgreSQL outage', () => {
  let proxy: FaultProxy;
  let app: TestApp;
  let scientist: string;
  let auditor: string;

  beforeAll(async () => {
    const server = new URL(process.env['GATEHOUSE_TEST_SERVER_URL'] ?? '');
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
    app = await startTestApp({}, { databaseUrl: (url) => proxy.route(url) });
    scientist = await app.token('dana', 'data-scientist');
    auditor = await app.token('bob', 'auditor');
  });
  afterAll(async () => {
    proxy.resume();
    await app.close();
    await proxy.close();
  });

  /** Readiness, failing the test if no answer comes at all (the bound asserted is loose). */
  async function ready(): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${app.url}/v2/health/ready`, {
      signal: AbortSignal.timeout(5000),
    });
    return { status: response.status, body: await response.json() };
  }

  /** Polls readiness until it is 200: the database came back and the service saw it. */
  async function readyAgain(): Promise<void> {
    for (let attempt = 0; attempt < 200; attempt++) {
      if ((await ready()).status === 200) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('readiness never answered 200 after the database came back');
  }

  async function writesWithItsEvent(name: string): Promise<void> {
    await registerModel(app, scientist, name);
    for (let attempt = 0; attempt < 200; attempt++) {
      const r = await app.gql<{ ledgerEvents: { events: { type: string }[] } }>(
        `query($subject: String) { ledgerEvents(afterSeq: 0, limit: 10, subject: $subject) { events { type } } }`,
        { subject: `model:${name}` },
        auditor,
      );
      expect(r.errors).toBeUndefined();
      if (r.data?.ledgerEvents.events.some((e) => e.type === 'model.registered')) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no model.registered event for ${name}`);
  }

  it('is ready with the database answering', async () => {
    expect(await ready()).toEqual({ status: 200, body: { ready: true } });
    await writesWithItsEvent('before-outage');
  });

  it('answers 503 while the database is paused, and is ready again once it resumes', async () => {
    proxy.pause();
    const paused = await ready();
    expect(paused.status).toBe(503);
    expect(paused.body).toEqual({ ready: false, reason: expect.stringMatching(/PostgreSQL/) });
    // A probe that arrives while the previous one still waits gets its answer too.
    expect((await Promise.all([ready(), ready()])).map((r) => r.status)).toEqual([503, 503]);
    expect((await fetch(`${app.url}/v2/health/live`)).status).toBe(200);
    proxy.resume();
    await readyAgain();
    await writesWithItsEvent('after-pause');
  });

  it('keeps running while the database is killed, and works again once it is back', async () => {
    const router = app.running.app.get(EndpointRouter);
    const listens = router.listenerConnections();
    // Straight to the server, not through the proxy: which connections came back after the cut.
    const observer = new pg.Client({ connectionString: process.env['GATEHOUSE_TEST_SERVER_URL'] });
    await observer.connect();
    const [cutAt] = (await observer.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows;
    proxy.kill();
    expect(proxy.killed).toBeGreaterThan(0);
    const killed = await ready();
    expect(killed.status).toBe(503);
    expect(killed.body).toEqual({ ready: false, reason: expect.stringMatching(/PostgreSQL/) });
    // A write while the database is gone fails with an answer instead of taking the process down.
    await expect(registerModel(app, scientist, 'during-outage')).rejects.toThrow(/registerModel/);
    proxy.resume();
    await readyAgain();
    await writesWithItsEvent('after-kill');
    // The LISTEN connection was cut too: it reconnects by itself (and reloads the endpoints).
    for (let attempt = 0; router.listenerConnections() <= listens; attempt++) {
      if (attempt === 300) throw new Error('the LISTEN connection never came back');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The job queue (pg-boss: its pool and its LISTEN) reconnects by itself as well.
    try {
      for (let attempt = 0; ; attempt++) {
        const { rows } = await observer.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND application_name = 'gatehouse-jobs' AND backend_start > $2`,
          [app.database.name, cutAt?.at],
        );
        if ((rows[0]?.n ?? 0) > 0) break;
        if (attempt === 300) throw new Error('the job queue never reconnected');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await observer.end();
    }
  });
});

describe('a connection checked out when the database dies', () => {
  let proxy: FaultProxy;
  let pool: pg.Pool;

  beforeAll(async () => {
    const server = new URL(process.env['GATEHOUSE_TEST_SERVER_URL'] ?? '');
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
    pool = new pg.Pool({ connectionString: proxy.route(server.toString()), max: 1 });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool.end();
    await proxy.close();
  });

  it('is reported to its owner, discarded on release and replaced by a working one', async () => {
    const reported: Error[] = [];
    let heard = (): void => undefined;
    const lost = new Promise<void>((resolve) => {
      heard = resolve;
    });
    const connection = await checkOut(pool, (error) => {
      reported.push(error);
      heard();
    });
    await connection.client.query('SELECT 1');
    // Between two statements, with nothing listening, this is where pg's 'error' would end the
    // process (pg-pool listens only while a connection is idle).
    proxy.kill();
    await lost;
    expect(reported[0]?.message).toMatch(/terminated/i);
    await expect(connection.client.query('SELECT 1')).rejects.toThrow();
    connection.release();
    proxy.resume();
    const again = await checkOut(pool, () => undefined);
    try {
      expect((await again.client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([
        { one: 1 },
      ]);
    } finally {
      again.release();
    }
  });
});

describe('the LISTEN connection, when the database stops answering', () => {
  let proxy: FaultProxy;
  let server: URL;

  beforeAll(async () => {
    server = new URL(process.env['GATEHOUSE_TEST_SERVER_URL'] ?? '');
    proxy = await startFaultProxy({ host: server.hostname, port: Number(server.port || 5432) });
  });
  afterAll(async () => {
    proxy.resume();
    await proxy.close();
  });

  it('notices through its heartbeat, reconnects once it answers, and hears NOTIFY again', async () => {
    const channel = `gatehouse_outage_${process.pid}_${Date.now()}`;
    const logged: string[] = [];
    let lostHeard = (): void => undefined;
    const lost = new Promise<void>((resolve) => {
      lostHeard = resolve;
    });
    const payloads: string[] = [];
    const listener = new NotificationListener({
      connectionString: proxy.route(server.toString()),
      channel,
      applicationName: 'gatehouse-outage-test',
      onNotification: (payload) => payloads.push(payload),
      onConnect: () => Promise.resolve(),
      log: (message) => {
        logged.push(message);
        lostHeard();
      },
      minBackoffMs: 50,
      maxBackoffMs: 200,
      heartbeatMs: 100,
      heartbeatTimeoutMs: 500,
    });
    const notifier = new pg.Client({ connectionString: server.toString() });
    await notifier.connect();
    try {
      expect(await listener.start()).toBe(true);
      // Paused, not cut: nothing tells the connection it is dead but its heartbeat.
      proxy.pause();
      await lost;
      expect(logged[0]).toMatch(/connection lost: .*heartbeat/);
      proxy.resume();
      for (let attempt = 0; listener.connectionCount < 2; attempt++) {
        if (attempt === 300) throw new Error('the LISTEN connection never came back');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await notifier.query('SELECT pg_notify($1, $2)', [channel, 'after-outage']);
      for (let attempt = 0; !payloads.includes('after-outage'); attempt++) {
        if (attempt === 300) throw new Error('no notification after the reconnect');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await listener.close();
      await notifier.end();
    }
  });
});

describe('through all of the above', () => {
  it('nothing went uncaught', () => {
    expect(uncaught).toEqual([]);
  });
});
