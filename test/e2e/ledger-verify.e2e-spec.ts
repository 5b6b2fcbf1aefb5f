import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadConfig } from '../../src/config/config.js';
import { Database } from '../../src/database/database.module.js';
import { ENTITIES } from '../../src/entities.js';
import { queueEvents, queuedEventOf } from '../../src/ledger/ledger-queue.js';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { MODEL_CARD } from '../support/registry.js';
import { testEvent } from '../support/test-event.js';

const POLICIES = new URL('../../policies/', import.meta.url).pathname;

async function appendMany(app: TestApp, n: number): Promise<void> {
  const ledger = app.running.app.get(LedgerService);
  for (let i = 0; i < n; i++) {
    await ledger.transaction((tx) => {
      tx.record(testEvent('model:credit@1', { sub: 'alice', roles: ['data-scientist'] }, { i }));
    });
  }
}

/** A connection as the database superuser, which can turn the ledger's triggers off. */
async function superuser<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Every table of every schema (row count and a digest of its rows) and every sequence's last
 * value: anything written, even a rolled-back insert that drew an id, shows here.
 */
async function databaseState(url: string): Promise<Record<string, string>> {
  return superuser(url, async (client) => {
    const state: Record<string, string> = {};
    const tables = await client.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')
       ORDER BY 1, 2`,
    );
    for (const { schema, name } of tables.rows) {
      const table = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
      const { rows } = await client.query<{ n: string; digest: string }>(
        `SELECT count(*) AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS digest
         FROM ${table} x`,
      );
      state[`${schema}.${name}`] = `${rows[0]?.n ?? '?'} rows, ${rows[0]?.digest ?? '?'}`;
    }
    const sequences = await client.query<{ name: string; last: string | null }>(
      `SELECT schemaname || '.' || sequencename AS name, last_value::text AS last FROM pg_sequences`,
    );
    for (const { name, last } of sequences.rows) state[`sequence ${name}`] = last ?? 'unused';
    return state;
  });
}

async function eventCount(url: string): Promise<number> {
  return superuser(url, async (c) =>
    Number(
      (await c.query<{ n: string }>('SELECT count(*) AS n FROM ledger_events')).rows[0]?.n ?? -1,
    ),
  );
}

describe('ledger verification is read-only', () => {
  let app: TestApp;
  let env: Record<string, string>;
  let otherPolicies: string;

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    await appendMany(app, 5);
    const admin = await app.token('adam', 'admin');
    const made = await app.gql('mutation { createCheckpoint { treeSize } }', {}, admin);
    expect(made.errors).toBeUndefined();
    await appendMany(app, 2);
    // The service stops, so that nothing but the command under test can change the database.
    await app.running.close();
    env = { DATABASE_URL: app.database.url, GATEHOUSE_DATA_DIR: app.config.dataDir };
    // A policies folder the service never ran: one file differs from the service's.
    otherPolicies = mkdtempSync(join(tmpdir(), 'gatehouse-other-policies-'));
    cpSync(POLICIES, otherPolicies, { recursive: true });
    appendFileSync(join(otherPolicies, 'roles.yaml'), '\n# an auditor’s copy\n');
  });
  afterAll(async () => {
    await app.database.drop();
    rmSync(app.config.dataDir, { recursive: true, force: true });
    rmSync(otherPolicies, { recursive: true, force: true });
  });

  it('`ledger verify` leaves the event count and every table as they were', async () => {
    const events = await eventCount(app.database.url);
    const before = await databaseState(app.database.url);
    for (const args of [
      ['ledger', 'verify'],
      ['ledger', 'verify', '--json'],
      ['ledger', 'verify', '--from', '2', '--to', '4'],
    ]) {
      const result = await runCli(args, env);
      expect([args.join(' '), result.code, result.stderr]).toEqual([args.join(' '), 0, '']);
    }
    expect(await eventCount(app.database.url)).toBe(events);
    expect(await databaseState(app.database.url)).toEqual(before);
  });

  it('pointed at a policies folder the service does not run, records nothing either', async () => {
    const events = await eventCount(app.database.url);
    const before = await databaseState(app.database.url);
    const result = await runCli(['ledger', 'verify', '--json'], {
      ...env,
      GATEHOUSE_POLICIES_DIR: otherPolicies,
    });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, toSeq: events });
    expect(await eventCount(app.database.url)).toBe(events);
    expect(await databaseState(app.database.url)).toEqual(before);
  });

  it('reads through read-only sessions: a write attempted anyway fails', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATABASE_URL: app.database.url,
      GATEHOUSE_DATA_DIR: app.config.dataDir,
    });
    const database = await Database.open(config, ENTITIES, { readOnly: true });
    try {
      const event = queuedEventOf(testEvent('x', { sub: 'mallory' }, {}), null);
      await expect(
        database.dataSource.transaction((manager) => queueEvents(manager, [event])),
      ).rejects.toThrow(/read-only transaction/);
      await expect(
        database.dataSource.query("DELETE FROM policy_documents WHERE name = 'roles.yaml'"),
      ).rejects.toThrow(/read-only transaction/);
    } finally {
      await database.onApplicationShutdown();
    }
    // A connection string's own options would win over the read-only one: refused.
    const url = new URL(app.database.url);
    url.searchParams.set('options', '-c default_transaction_read_only=off');
    await expect(
      Database.open({ ...config, databaseUrl: url.toString() }, ENTITIES, { readOnly: true }),
    ).rejects.toThrow(/not read-only/);
  });

  it('commands that write still do, and record no policy', async () => {
    const events = await eventCount(app.database.url);
    const result = await runCli(['ledger', 'checkpoint'], {
      ...env,
      GATEHOUSE_POLICIES_DIR: otherPolicies,
    });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(JSON.parse(result.stdout)).toMatchObject({
      checkpoint: { treeSize: events },
      created: true,
    });
    const types = await superuser(
      app.database.url,
      async (c) =>
        (await c.query<{ type: string }>('SELECT type FROM ledger_events WHERE seq > $1', [events]))
          .rows,
    );
    expect(types).toEqual([{ type: 'ledger.checkpoint' }]);
    const verified = await runCli(['ledger', 'verify', '--json'], env);
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, toSeq: events + 1 });
  });
});

interface VerifyReport {
  ok: boolean;
  toSeq: number;
  failure: { seq: number; reason: string; detail: string } | null;
}

describe('a truncated ledger', () => {
  let app: TestApp;
  let auditor: string;
  let admin: string;
  let scientist: string;
  let checkpointTreeSize: number;
  let head: number;

  const verify = async (range = ''): Promise<VerifyReport> => {
    const res = await app.gql<{ verifyLedger: VerifyReport }>(
      `{ verifyLedger${range} { ok toSeq failure { seq reason detail } } }`,
      {},
      auditor,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.verifyLedger;
  };

  /**
   * Deletes the events after `keep` (and with `leaves`, their Merkle leaves) as the superuser
   * with the triggers off; returns the undo.
   */
  const truncateAfter = async (
    keep: number,
    options: { leaves?: boolean } = {},
  ): Promise<() => Promise<void>> => {
    await superuser(app.database.url, async (c) => {
      await c.query('SET session_replication_role = replica');
      await c.query(
        `CREATE TABLE truncated_events AS SELECT * FROM ledger_events WHERE seq > ${String(keep)}`,
      );
      await c.query(
        `CREATE TABLE truncated_leaves AS SELECT * FROM ledger_merkle_nodes WHERE level = 0 AND idx >= ${String(options.leaves === true ? keep : Number.MAX_SAFE_INTEGER)}`,
      );
      await c.query('DELETE FROM ledger_events WHERE seq IN (SELECT seq FROM truncated_events)');
      await c.query(
        'DELETE FROM ledger_merkle_nodes WHERE level = 0 AND idx IN (SELECT idx FROM truncated_leaves)',
      );
    });
    return () =>
      superuser(app.database.url, async (c) => {
        await c.query('SET session_replication_role = replica');
        await c.query('INSERT INTO ledger_events SELECT * FROM truncated_events');
        await c.query('INSERT INTO ledger_merkle_nodes SELECT * FROM truncated_leaves');
        await c.query('DROP TABLE truncated_events, truncated_leaves');
      });
  };

  const registerModel = (name: string) =>
    app.gql<{ registerModel: { id: string } }>(
      `mutation($input: RegisterModelInput!) { registerModel(input: $input) { id } }`,
      {
        input: {
          name,
          riskTier: 'HIGH',
          owner: 'credit-risk-team',
          protectedAttributes: ['sex'],
          modelCard: MODEL_CARD,
        },
      },
      scientist,
    );

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    auditor = await app.token('audrey', 'auditor');
    admin = await app.token('adam', 'admin');
    scientist = await app.token('dana', 'data-scientist');
    await appendMany(app, 12);
    const made = await app.gql<{ createCheckpoint: { treeSize: number } }>(
      'mutation { createCheckpoint { treeSize } }',
      {},
      admin,
    );
    expect(made.errors).toBeUndefined();
    checkpointTreeSize = made.data!.createCheckpoint.treeSize;
    await appendMany(app, 6);
    head = (await verify()).toSeq;
    expect(head).toBe(checkpointTreeSize + 1 + 6);
  });
  afterAll(async () => {
    await app.close();
  });

  it('is named by verify, GraphQL and CLI, when a checkpoint and the Merkle tree cover the lost events', async () => {
    const keep = checkpointTreeSize - 3;
    const undo = await truncateAfter(keep);
    try {
      const report = await verify();
      expect(report).toMatchObject({
        ok: false,
        toSeq: keep,
        failure: { seq: keep + 1, reason: 'truncated' },
      });
      const detail = report.failure!.detail;
      expect(detail).toContain(`${head - keep} events are missing after seq ${keep}`);
      expect(detail).toContain(`checkpoint of tree size ${checkpointTreeSize}`);
      expect(detail).toContain(`Merkle tree covers ${head} leaves`);
      // Whatever the range asked for: a truncated ledger is not intact.
      expect(await verify('(fromSeq: 1, toSeq: 3)')).toMatchObject({
        ok: false,
        failure: { seq: keep + 1, reason: 'truncated' },
      });

      const env = { DATABASE_URL: app.database.url, GATEHOUSE_DATA_DIR: app.config.dataDir };
      const text = await runCli(['ledger', 'verify'], env);
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(
        new RegExp(
          `^ledger NOT intact: seq ${keep + 1}: truncated \\(${head - keep} events are missing`,
        ),
      );
      const json = await runCli(['ledger', 'verify', '--json'], env);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toMatchObject({
        ok: false,
        failure: { seq: keep + 1, reason: 'truncated', detail },
      });
    } finally {
      await undo();
    }
    expect(await verify()).toMatchObject({ ok: true, toSeq: head, failure: null });
  });

  it('is named when only the Merkle tree covers the lost events', async () => {
    const keep = head - 2; // after the checkpoint's own event
    const undo = await truncateAfter(keep);
    try {
      const report = await verify();
      expect(report.failure).toMatchObject({ seq: keep + 1, reason: 'truncated' });
      expect(report.failure!.detail).toContain('2 events are missing');
      expect(report.failure!.detail).toContain(`Merkle tree covers ${head} leaves`);
      expect(report.failure!.detail).not.toContain('checkpoint');
    } finally {
      await undo();
    }
    expect(await verify()).toMatchObject({ ok: true, toSeq: head });
  });

  it('is named through the higher Merkle nodes when the leaves went with the events', async () => {
    // Even, so that the first lost leaf starts a pair whose level-1 node stays.
    const keep = head % 2 === 0 ? head - 2 : head - 3;
    const undo = await truncateAfter(keep, { leaves: true });
    try {
      const report = await verify();
      expect(report.failure).toMatchObject({ seq: keep + 1, reason: 'truncated' });
      expect(report.failure!.detail).toMatch(
        new RegExp(
          `^\\d+ events are missing after seq ${keep}: the stored Merkle tree covers \\d+ leaves$`,
        ),
      );
    } finally {
      await undo();
    }
    expect(await verify()).toMatchObject({ ok: true, toSeq: head });
  });

  it('refuses the next append with CONFLICT naming the truncation, and writes nothing', async () => {
    const keep = checkpointTreeSize - 3;
    const undo = await truncateAfter(keep);
    try {
      const before = await databaseState(app.database.url);
      // A mutation whose change commits with its event: refused, and its change not made.
      const registered = await registerModel('truncation-probe');
      expect(registered.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(registered.errors?.[0]?.message).toMatch(
        /^the ledger is truncated: \d+ events are missing after seq \d+.*; restore it from backup$/,
      );
      // A mutation the sequencer appends itself.
      const checkpoint = await app.gql('mutation { createCheckpoint { treeSize } }', {}, admin);
      expect(checkpoint.errors?.[0]?.extensions?.code).toBe('CONFLICT');
      expect(checkpoint.errors?.[0]?.message).toMatch(/^the ledger is truncated: /);
      const rotation = await app.gql('mutation { rotateSigningKey { kid } }', {}, admin);
      expect(rotation.errors?.[0]?.extensions?.code).toBe('CONFLICT');

      const model = await app.gql<{ model: unknown }>(
        '{ model(name: "truncation-probe") { id } }',
        {},
        scientist,
      );
      expect(model.data?.model).toBeNull();
      const after = await databaseState(app.database.url);
      // Nothing was written but the ids that the refused inserts drew.
      const changed = Object.keys(after).filter((k) => after[k] !== before[k]);
      expect(changed.filter((k) => !k.startsWith('sequence ') && !k.startsWith('pgboss.'))).toEqual(
        [],
      );
      expect(await eventCount(app.database.url)).toBe(keep);
    } finally {
      await undo();
    }
    // Restored, the ledger takes appends again, without a restart.
    const registered = await registerModel('after-restore');
    expect(registered.errors).toBeUndefined();
    expect(await verify()).toMatchObject({ ok: true, toSeq: head + 1, failure: null });
  });
});
