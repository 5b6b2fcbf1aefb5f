import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import {
  NOTE_COSIGNATURE_V1,
  ed25519VerifierKey,
  formatVkey,
  parseNote,
  parseVkey,
  rawEd25519PublicKey,
} from '../../src/ledger/signed-note.js';
import type { ReportFile } from '../../src/reports/report-document.js';
import { verifyReport } from '../../src/reports/report-verify.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { freePort, runCli, startLongRunning, type ServingProcess } from '../support/cli.js';
import { registerModel } from '../support/registry.js';
import { testEvent } from '../support/test-event.js';

const ORIGIN = 'gatehouse.report-witness.test/v1/ledger/tlog';
const WITNESS = 'witness.test/reports';

/** Waits for a state, however long the machine takes to reach it, within the test's timeout. */
async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('audit reports proved against a witnessed checkpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-report-witness-'));
  const { privateKey: ledgerKey } = generateKeyPairSync('ed25519');
  const ledgerKeyFile = join(dir, 'ledger-key.pem');
  const logVkey = formatVkey(ed25519VerifierKey(ORIGIN, rawEd25519PublicKey(ledgerKey)));
  const witnessesFile = join(dir, 'witnesses.yaml');
  // A witness key the ledger never submitted to: trusted by mistake, it vouches for nothing.
  const otherVkey = formatVkey(
    ed25519VerifierKey(
      'witness.test/other',
      rawEd25519PublicKey(generateKeyPairSync('ed25519').privateKey),
      NOTE_COSIGNATURE_V1,
    ),
  );
  let witness: ServingProcess;
  let witnessVkey: string;
  let app: TestApp;
  /** The tree size of the checkpoint witnessed before the truncation. */
  let witnessedSize: number;
  /** A period holding the events of that tree (up to its own checkpoint event, excluded). */
  let witnessedPeriod: string;

  async function checkpoint(): Promise<number> {
    const made = await app.gql<{ createCheckpoint: { treeSize: number } }>(
      'mutation { createCheckpoint { treeSize } }',
      {},
      await app.token('adam', 'admin'),
    );
    expect(made.errors).toBeUndefined();
    return made.data!.createCheckpoint.treeSize;
  }

  async function witnessed(size: number): Promise<void> {
    await until(`checkpoint ${size} cosigned`, async () => {
      const r = await app.gql<{ ledgerCheckpoint: { treeSize: number; witnessed: boolean } }>(
        'query($s: Int) { ledgerCheckpoint(treeSize: $s) { treeSize witnessed } }',
        { s: size },
        await app.token('audrey', 'auditor'),
      );
      return r.data?.ledgerCheckpoint.witnessed === true ? true : undefined;
    });
  }

  async function exportReport(subject: string): Promise<{ file: string; text: string }> {
    const token = await app.token('audrey', 'auditor');
    const r = await app.gql<{ exportAuditReport: { id: string } }>(
      'mutation($s: String!) { exportAuditReport(subject: $s, format: JSON) { id } }',
      { s: subject },
      token,
    );
    expect(r.errors).toBeUndefined();
    const id = r.data!.exportAuditReport.id;
    const response = await fetch(`${app.url}/v1/reports/${id}.json`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const file = join(dir, `${id}.json`);
    writeFileSync(file, text);
    return { file, text };
  }

  const treeSizeOf = (text: string) =>
    (JSON.parse(text) as ReportFile).report.checkpoint.checkpoint.treeSize;

  async function head(): Promise<number> {
    return superuser(async (c) => {
      const r = await c.query<{ head: string }>('SELECT max(seq) AS head FROM ledger_events');
      return Number(r.rows[0]!.head);
    });
  }

  /** The time the ledger sealed an event at: a period ending there holds only earlier seqs. */
  async function tsOf(seq: number): Promise<string> {
    return superuser(async (c) => {
      const r = await c.query<{ canonical: string }>(
        'SELECT canonical FROM ledger_events WHERE seq = $1',
        [seq],
      );
      return (JSON.parse(r.rows[0]!.canonical) as { ts: string }).ts;
    });
  }

  async function superuser<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    writeFileSync(ledgerKeyFile, ledgerKey.export({ format: 'pem', type: 'pkcs8' }));
    const config = join(dir, 'witness.yaml');
    const stateDir = join(dir, 'witness-state');
    writeFileSync(
      config,
      `name: ${WITNESS}\nlogs:\n  - origin: ${ORIGIN}\n    vkeys:\n      - ${logVkey}\n`,
    );
    const printed = await runCli(
      ['witness', 'key', '--config', config, '--state-dir', stateDir],
      {},
    );
    expect(printed.stderr).toBe('');
    witnessVkey = printed.stdout.trim();
    witness = await startLongRunning(
      [
        'witness',
        'serve',
        '--config',
        config,
        '--state-dir',
        stateDir,
        '--port',
        String(await freePort()),
      ],
      {},
      /listening on (http:\/\/\S+)/,
    );
    writeFileSync(witnessesFile, `witnesses:\n  - vkey: ${witnessVkey}\n    url: ${witness.url}\n`);
    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_LEDGER_ORIGIN: ORIGIN,
      GATEHOUSE_SIGNING_KEY_FILE: ledgerKeyFile,
      GATEHOUSE_WITNESSES: witnessesFile,
      GATEHOUSE_WITNESS_QUORUM: '1',
      GATEHOUSE_WITNESS_RETRY_MAX_SECONDS: '1',
    });
  }, 120_000);

  afterAll(async () => {
    await app.close();
    await witness.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies offline with the witness key, and fails with another key as the trusted witness', async () => {
    await registerModel(app, await app.token('dana', 'data-scientist'), 'witnessed-model');
    witnessedSize = await checkpoint();
    await witnessed(witnessedSize);
    witnessedPeriod = `period:2000-01-01T00:00:00Z/${await tsOf(witnessedSize + 1)}`;
    const { file, text } = await exportReport(witnessedPeriod);
    expect(treeSizeOf(text)).toBe(witnessedSize);
    const note = parseNote((JSON.parse(text) as ReportFile).report.checkpointNote!);
    expect(note.signatures.map((s) => s.name)).toEqual([ORIGIN, WITNESS]);

    const sut = await verifyReport(text, {
      witnesses: { keys: [parseVkey(witnessVkey)], quorum: 1 },
    });
    expect(sut.failures).toEqual([]);
    expect(sut.witnessed).toMatchObject({
      origin: ORIGIN,
      treeSize: witnessedSize,
      checked: true,
      by: [{ witness: WITNESS, timestamp: expect.any(Number) }],
    });

    // The built CLI: the witnesses file the service reads, or the key alone.
    for (const trust of [
      ['--witnesses', witnessesFile],
      ['--witness-key', witnessVkey, '--witness-quorum', '1'],
    ]) {
      const r = await runCli(['verify-report', file, ...trust], {});
      expect([r.code, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(
        new RegExp(
          `\\n  witnessed by witness\\.test/reports at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ: checkpoint ${witnessedSize}, 1 of 1 trusted witnesses, 1 needed\\n`,
        ),
      );
    }
    const other = await runCli(['verify-report', file, '--witness-key', otherVkey], {});
    expect(other.code).toBe(1);
    expect(other.stdout).toContain(
      '  witnesses: the checkpoint the report is proved against is cosigned by 0 of the 1 trusted witnesses; 1 needed: a history the witnesses did not see, e.g. a truncated or forked ledger\n',
    );
    const json = await runCli(['verify-report', file, '--json'], {});
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      witnessed: { checked: false, by: [{ witness: WITNESS }] },
    });
    // Bad witness input is bad input (2), not a failed report.
    for (const bad of [
      ['--witness-key', 'not-a-vkey'],
      ['--witness-key', logVkey],
      ['--witness-key', witnessVkey, '--witness-quorum', '2'],
      ['--witness-quorum', '1'],
      ['--witnesses', join(dir, 'missing.yaml')],
    ]) {
      const r = await runCli(['verify-report', file, ...bad], {});
      expect([r.code, r.stdout]).toEqual([2, '']);
      expect(r.stderr).toMatch(/^gatehouse: /);
    }
  }, 120_000);

  it('after a truncation behind the witnessed checkpoint, proves older events against the earlier witnessed checkpoint and leaves newer ones unwitnessed', async () => {
    await registerModel(app, await app.token('dana', 'data-scientist'), 'lost-model');
    const lostSize = await checkpoint();
    await witnessed(lostSize);
    // The database superuser truncates the ledger to just after the witnessed checkpoint's
    // event, with every trace (Merkle nodes, checkpoints) that would show it: a ledger that
    // agrees with itself and takes new events. The witness's cosignatures are left in place.
    const keep = witnessedSize + 1;
    await superuser(async (c) => {
      await c.query('SET session_replication_role = replica');
      await c.query('DELETE FROM ledger_events WHERE seq > $1', [keep]);
      await c.query('DELETE FROM ledger_merkle_nodes WHERE (idx + 1) << level > $1', [keep]);
      await c.query('DELETE FROM ledger_checkpoints WHERE tree_size > $1 OR event_seq > $1', [
        keep,
      ]);
    });
    // A new history, grown to exactly the size the witness cosigned in the old one.
    await registerModel(app, await app.token('dana', 'data-scientist'), 'rewritten-model');
    const ledger = app.running.app.get(LedgerService);
    for (let i = (await head()) + 1; i <= lostSize; i++)
      await ledger.transaction((tx) => {
        tx.record(testEvent('model:rewritten-model', { sub: 'mallory', roles: ['admin'] }, { i }));
      });
    expect(await checkpoint()).toBe(lostSize);
    // The service does not take the stored cosignature of that size for the new tree's: the
    // checkpoint is not witnessed, and the served note carries no cosignature.
    const auditor = await app.token('audrey', 'auditor');
    const regrown = await app.gql<{
      ledgerCheckpoint: { witnessed: boolean; cosignatures: unknown[] };
    }>(
      'query($s: Int) { ledgerCheckpoint(treeSize: $s) { witnessed cosignatures { witness } } }',
      { s: lostSize },
      auditor,
    );
    expect(regrown.data?.ledgerCheckpoint).toEqual({ witnessed: false, cosignatures: [] });
    const served = await fetch(`${app.url}/v1/ledger/tlog/checkpoint`, {
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(parseNote(await served.text()).signatures.map((s) => s.name)).toEqual([ORIGIN]);
    const rewrittenPeriod = `period:${await tsOf(keep + 1)}/${await tsOf(lostSize + 1)}`;

    // Its events are in no witnessed tree: the export carries no cosignature (the stored one
    // of that size is of the old root), and the witness key refuses the report.
    const rewritten = await exportReport(rewrittenPeriod);
    expect(treeSizeOf(rewritten.text)).toBe(lostSize);
    const note = parseNote((JSON.parse(rewritten.text) as ReportFile).report.checkpointNote!);
    expect(note.signatures.map((s) => s.name)).toEqual([ORIGIN]);
    const refused = await verifyReport(rewritten.text, {
      witnesses: { keys: [parseVkey(witnessVkey)], quorum: 1 },
    });
    expect(refused.failures).toEqual([
      {
        check: 'witnesses',
        detail:
          'the checkpoint the report is proved against is cosigned by 0 of the 1 trusted witnesses; 1 needed: a history the witnesses did not see, e.g. a truncated or forked ledger',
      },
    ]);
    // Without the witness key it is self-consistent: the ledger key signed all of it.
    expect((await verifyReport(rewritten.text)).ok).toBe(true);
    const cli = await runCli(['verify-report', rewritten.file, '--witnesses', witnessesFile], {});
    expect(cli.code).toBe(1);
    expect(cli.stdout).toContain(
      `\n  not witnessed: checkpoint ${lostSize} is cosigned by none of the 1 trusted witnesses\n`,
    );

    // Events from before the truncation point are still in the witnessed tree: proved against
    // it, they verify with the witness key.
    const older = await exportReport(witnessedPeriod);
    expect(treeSizeOf(older.text)).toBe(witnessedSize);
    const kept = await verifyReport(older.text, {
      witnesses: { keys: [parseVkey(witnessVkey)], quorum: 1 },
    });
    expect(kept.failures).toEqual([]);
    expect(kept.witnessed?.by.map((b) => b.witness)).toEqual([WITNESS]);
  }, 120_000);
});
