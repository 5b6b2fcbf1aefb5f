import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import {
  NOTE_COSIGNATURE_V1,
  ed25519VerifierKey,
  formatNote,
  formatVkey,
  parseNote,
  parseVkey,
  rawEd25519PublicKey,
  signNoteText,
  verifyNote,
  type NoteVerifierKey,
} from '../../src/ledger/signed-note.js';
import { checkpointText, parseCheckpointText } from '../../src/ledger/tlog-checkpoint.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  freePort,
  metricValue,
  runCli,
  startLongRunning,
  type ServingProcess,
} from '../support/cli.js';
import { withDatabase } from '../support/postgres-admin.js';
import { testEvent } from '../support/test-event.js';

const ORIGIN = 'gatehouse.witness.test/v1/ledger/tlog';

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

interface Witness {
  readonly name: string;
  readonly config: string;
  readonly stateDir: string;
  vkey: string;
  /** Fixed, so that a restarted witness is where the ledger's configuration says. */
  port?: number;
  process?: ServingProcess;
}

interface CheckpointView {
  treeSize: number;
  witnessed: boolean;
  cosignatures: { witness: string; vkey: string; timestamp: string; signature: string }[];
}

describe('witnesses: gatehouse witness serve, and the ledger submitting to it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-witness-'));
  const { privateKey: ledgerKey } = generateKeyPairSync('ed25519');
  const ledgerKeyFile = join(dir, 'ledger-key.pem');
  const logVkey = formatVkey(ed25519VerifierKey(ORIGIN, rawEd25519PublicKey(ledgerKey)));
  const witnesses: Witness[] = ['w1', 'w2'].map((n) => ({
    name: `witness.test/${n}`,
    config: join(dir, `${n}.yaml`),
    stateDir: join(dir, `${n}-state`),
    vkey: '',
  }));
  const [w1, w2] = witnesses as [Witness, Witness];
  let app: TestApp;
  let fork: TestApp | undefined;
  let forkDatabase: string | undefined;
  const notes: string[] = [];

  async function startWitness(w: Witness): Promise<ServingProcess> {
    w.port ??= await freePort();
    const serving = await startLongRunning(
      [
        'witness',
        'serve',
        '--config',
        w.config,
        '--state-dir',
        w.stateDir,
        '--port',
        String(w.port),
      ],
      {},
      /listening on (http:\/\/\S+)/,
    );
    w.process = serving;
    return serving;
  }

  async function append(target: TestApp, count: number, tag: string): Promise<void> {
    const ledger = target.running.app.get(LedgerService);
    for (let i = 0; i < count; i++)
      await ledger.transaction((tx) => {
        tx.record(
          testEvent('model:credit@1', { sub: 'alice', roles: ['data-scientist'] }, { tag, i }),
        );
      });
  }

  async function checkpoint(target: TestApp): Promise<number> {
    const made = await target.gql<{ createCheckpoint: { treeSize: number } }>(
      'mutation { createCheckpoint { treeSize } }',
      {},
      await target.token('adam', 'admin'),
    );
    expect(made.errors).toBeUndefined();
    return made.data!.createCheckpoint.treeSize;
  }

  async function view(target: TestApp, treeSize?: number): Promise<CheckpointView> {
    const r = await target.gql<{ ledgerCheckpoint: CheckpointView }>(
      'query($s: Int) { ledgerCheckpoint(treeSize: $s) { treeSize witnessed cosignatures { witness vkey timestamp signature } } }',
      { s: treeSize ?? null },
      await target.token('audrey', 'auditor'),
    );
    expect(r.errors).toBeUndefined();
    return r.data!.ledgerCheckpoint;
  }

  async function witnessNow(target: TestApp): Promise<CheckpointView> {
    const r = await target.gql<{ witnessCheckpoint: CheckpointView }>(
      'mutation { witnessCheckpoint { treeSize witnessed cosignatures { witness vkey timestamp signature } } }',
      {},
      await target.token('adam', 'admin'),
    );
    expect(r.errors).toBeUndefined();
    return r.data!.witnessCheckpoint;
  }

  async function servedNote(target: TestApp): Promise<string> {
    const r = await fetch(`${target.url}/v1/ledger/tlog/checkpoint`, {
      headers: { authorization: `Bearer ${await target.token('audrey', 'auditor')}` },
    });
    expect(r.status).toBe(200);
    return r.text();
  }

  function keys(): NoteVerifierKey[] {
    return [parseVkey(logVkey), ...witnesses.map((w) => parseVkey(w.vkey))];
  }

  function post(w: Witness, body: string | Buffer): Promise<Response> {
    return fetch(`${w.process!.url}/add-checkpoint`, { method: 'POST', body });
  }

  function evidence(w: Witness): string[] {
    const folder = join(w.stateDir, 'evidence', createHash('sha256').update(ORIGIN).digest('hex'));
    try {
      return readdirSync(folder).map((f) => readFileSync(join(folder, f), 'utf8'));
    } catch {
      return [];
    }
  }

  beforeAll(async () => {
    writeFileSync(ledgerKeyFile, ledgerKey.export({ format: 'pem', type: 'pkcs8' }));
    for (const w of witnesses)
      writeFileSync(
        w.config,
        `name: ${w.name}\nlogs:\n  - origin: ${ORIGIN}\n    vkeys:\n      - ${logVkey}\n`,
      );
    for (const w of witnesses) {
      const printed = await runCli(
        ['witness', 'key', '--config', w.config, '--state-dir', w.stateDir],
        {},
      );
      expect(printed.stderr).toBe('');
      w.vkey = printed.stdout.trim();
    }
    await Promise.all(witnesses.map(startWitness));
    const witnessesFile = join(dir, 'witnesses.yaml');
    writeFileSync(
      witnessesFile,
      `witnesses:\n${witnesses.map((w) => `  - vkey: ${w.vkey}\n    url: ${w.process!.url}\n`).join('')}`,
    );
    const env = {
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_LEDGER_ORIGIN: ORIGIN,
      GATEHOUSE_SIGNING_KEY_FILE: ledgerKeyFile,
      GATEHOUSE_WITNESSES: witnessesFile,
      GATEHOUSE_WITNESS_QUORUM: '2',
      GATEHOUSE_WITNESS_RETRY_MAX_SECONDS: '1',
      GATEHOUSE_WITNESS_ALERT_SECONDS: '1',
    };
    app = await startTestApp(env);
  }, 120_000);

  afterAll(async () => {
    await fork?.close();
    await app.close();
    if (forkDatabase !== undefined) {
      const client = new pg.Client({ connectionString: process.env['GATEHOUSE_TEST_SERVER_URL'] });
      await client.connect();
      await client
        .query(`DROP DATABASE IF EXISTS ${forkDatabase} WITH (FORCE)`)
        .finally(() => client.end());
    }
    for (const w of witnesses) await w.process?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the witness’s cosignature vkey, the same on every call and at start', async () => {
    for (const w of witnesses) {
      const key = parseVkey(w.vkey);
      expect([key.name, key.type]).toEqual([w.name, NOTE_COSIGNATURE_V1]);
      const again = await runCli(
        ['witness', 'key', '--config', w.config, '--state-dir', w.stateDir],
        {},
      );
      expect(again.stdout.trim()).toBe(w.vkey);
      expect(w.process!.output()).toContain(`vkey ${w.vkey}`);
    }
  });

  it('exits 2 with one line naming what is wrong in its configuration', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `name: ${w1.name}\nlogs:\n  - origin: ${ORIGIN}\n    vkeys: [${w1.vkey}]\n`);
    const r = await runCli(
      ['witness', 'serve', '--config', bad, '--state-dir', join(dir, 'bad-state')],
      {},
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^gatehouse: .*bad\.yaml: logs\[0\]\.vkeys\[0\]: the key is named witness\.test\/w1, not /,
    );
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('gets each checkpoint cosigned by both witnesses, and serves the note with their cosignatures', async () => {
    for (const count of [5, 7]) {
      await append(app, count, 'a');
      const size = await checkpoint(app);
      // The first on its own, after the checkpoint; the second on demand, answered once both
      // witnesses have.
      const witnessed =
        count === 5
          ? await until(`checkpoint ${size} witnessed`, async () => {
              const v = await view(app);
              return v.treeSize === size && v.witnessed ? v : undefined;
            })
          : await witnessNow(app);
      expect(witnessed).toMatchObject({ treeSize: size, witnessed: true });
      expect(witnessed.cosignatures.map((c) => c.witness).sort()).toEqual([w1.name, w2.name]);
      const note = await servedNote(app);
      notes.push(note);
      const parsed = parseNote(note);
      expect(parseCheckpointText(parsed.text).treeSize).toBe(size);
      const verified = verifyNote(parsed, keys());
      expect(verified.map((v) => v.key.name).sort()).toEqual([ORIGIN, w1.name, w2.name].sort());
      for (const c of witnessed.cosignatures) {
        const stated = verified.find((v) => v.key.name === c.witness)?.timestamp;
        expect(new Date(c.timestamp).getTime()).toBe((stated ?? 0) * 1000);
      }
      // The monitoring retrieval: the witness's latest cosigned checkpoint of the log.
      const hash = createHash('sha256').update(ORIGIN).digest('hex');
      const monitored = await fetch(`${w1.process!.url}/${hash}/checkpoint`);
      expect(monitored.status).toBe(200);
      const theirs = parseNote(await monitored.text());
      expect(theirs.text).toBe(parsed.text);
      expect(verifyNote(theirs, [parseVkey(logVkey)])).toHaveLength(1);
      expect(verifyNote(theirs, [parseVkey(w1.vkey)])).toHaveLength(1);
    }
    expect(await metricValue(app.url, 'gatehouse_ledger_cosignatures')).toBe(2);
    expect(await metricValue(app.url, 'gatehouse_ledger_unwitnessed')).toBe(0);
  });

  it('retries a witness that was down; the witness restarted keeps its state and refuses a rollback with 409', async () => {
    const before = (await view(app)).treeSize;
    await w2.process!.stop();
    await append(app, 3, 'b');
    const size = await checkpoint(app);
    await until('w1 to cosign while w2 is down', async () => {
      const v = await view(app);
      return v.treeSize === size && v.cosignatures.length === 1 ? v : undefined;
    });
    expect((await view(app)).witnessed).toBe(false);
    await until('the unwitnessed metric to count', async () =>
      (await metricValue(app.url, 'gatehouse_ledger_unwitnessed')) > 0 ? true : undefined,
    );
    // The service stays ready: a witness down costs evidence, not service.
    expect((await fetch(`${app.url}/v2/health/ready`)).status).toBe(200);

    await startWitness(w2);
    expect(w2.process!.output()).toContain(`cosigned size ${before}`);
    await until('w2 to cosign after its restart', async () => {
      const v = await view(app);
      return v.treeSize === size && v.witnessed ? v : undefined;
    });

    const first = notes[0]!;
    const firstSize = parseCheckpointText(parseNote(first).text).treeSize;
    const rollback = await post(w2, `old 0\n\n${first}`);
    expect(rollback.status).toBe(409);
    expect(rollback.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await rollback.text()).toBe(`${size}\n`);
    expect(
      evidence(w2).some((e) => e.includes(`\n${firstSize}\n`) && e.startsWith('refused')),
    ).toBe(true);
  });

  it('refuses a fork — a copy of the ledger appended differently — with 422, keeping the evidence', async () => {
    const cosigned = (await view(app)).treeSize;
    const restoredAt = cosigned;
    // The fork: the database as it stands, copied, then each copy appended to differently.
    forkDatabase = `${app.database.name}_fork`;
    const server = process.env['GATEHOUSE_TEST_SERVER_URL']!;
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    await client.query(`CREATE DATABASE ${forkDatabase}`).finally(() => client.end());
    const dump = execFileSync('pg_dump', ['--format=custom', '--no-owner', app.database.url], {
      maxBuffer: 1 << 28,
    });
    execFileSync('pg_restore', ['--no-owner', '--dbname', withDatabase(server, forkDatabase)], {
      input: dump,
    });
    await append(app, 4, 'a-after');
    const ahead = await checkpoint(app);
    await until('the original to be witnessed further', async () => {
      const v = await view(app);
      return v.treeSize === ahead && v.witnessed ? v : undefined;
    });

    const forkWitnesses = join(dir, 'fork-witnesses.yaml');
    writeFileSync(forkWitnesses, `witnesses:\n  - vkey: ${w1.vkey}\n    url: ${w1.process!.url}\n`);
    fork = await startTestApp(
      {
        GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
        GATEHOUSE_LEDGER_ORIGIN: ORIGIN,
        GATEHOUSE_SIGNING_KEY_FILE: ledgerKeyFile,
        GATEHOUSE_WITNESSES: forkWitnesses,
        GATEHOUSE_WITNESS_RETRY_MAX_SECONDS: '1',
      },
      { databaseUrl: () => withDatabase(server, forkDatabase!) },
    );
    expect((await view(fork, restoredAt)).treeSize).toBe(restoredAt);
    await append(fork, 9, 'fork');
    const forked = await checkpoint(fork);
    expect(forked).toBeGreaterThan(ahead);
    const proof = await fork.gql<{ consistencyProof: { proof: string[] } }>(
      'query($a: Int!, $b: Int!) { consistencyProof(first: $a, second: $b) { proof } }',
      { a: ahead, b: forked },
      await fork.token('audrey', 'auditor'),
    );
    expect(proof.errors).toBeUndefined();
    const forkNote = await servedNote(fork);
    // The fork's own Gatehouse submits it: it learns the witness's size from a 409, proves
    // from there with its own tree, and is refused.
    await until('the forked checkpoint refused and kept by the witness', () =>
      Promise.resolve(evidence(w1).some((e) => e.includes(forkNote)) ? true : undefined),
    );
    expect(await view(fork)).toMatchObject({
      treeSize: forked,
      witnessed: false,
      cosignatures: [],
    });
    const body = `old ${ahead}\n${proof
      .data!.consistencyProof.proof.map((h) => `${Buffer.from(h, 'hex').toString('base64')}\n`)
      .join('')}\n${forkNote}`;
    const refused = await post(w1, body);
    expect(refused.status).toBe(422);
    expect(await refused.text()).toMatch(/does not verify/);
    expect(evidence(w1)).toContainEqual(expect.stringContaining(body));
    expect(w1.process!.output()).toMatch(
      new RegExp(`refused ${ORIGIN.replace(/\./g, '\\.')} size ${forked} from old size ${ahead}`),
    );
    // The witness still stands by the original.
    const hash = createHash('sha256').update(ORIGIN).digest('hex');
    const monitored = parseNote(
      await (await fetch(`${w1.process!.url}/${hash}/checkpoint`)).text(),
    );
    expect(parseCheckpointText(monitored.text).treeSize).toBe(ahead);
  }, 120_000);

  describe('hostile requests', () => {
    const text = (size: number, root = Buffer.alloc(32, 1).toString('hex'), origin = ORIGIN) =>
      checkpointText({ origin, treeSize: size, rootHash: root });

    it('refuses a tampered note (403) and one signed by a key it does not trust (403)', async () => {
      const note = notes[1]!;
      const size = parseCheckpointText(parseNote(note).text).treeSize;
      const tampered = note.replace(`\n${size}\n`, `\n${size + 1}\n`);
      const r = await post(w1, `old 0\n\n${tampered}`);
      expect(r.status).toBe(403);
      expect(await r.text()).toMatch(/does not verify/);
      const { privateKey: stranger } = generateKeyPairSync('ed25519');
      const t = text(3);
      const unsigned = formatNote({ text: t, signatures: [signNoteText(t, ORIGIN, stranger)] });
      const s = await post(w1, `old 0\n\n${unsigned}`);
      expect(s.status).toBe(403);
      expect(await s.text()).toMatch(/no signature of a known key/);
    });

    it('answers 404 for a log it does not witness, and for a monitoring request of one', async () => {
      const other = 'other.example/log';
      const { privateKey } = generateKeyPairSync('ed25519');
      const t = text(3, undefined, other);
      const note = formatNote({ text: t, signatures: [signNoteText(t, other, privateKey)] });
      expect((await post(w1, `old 0\n\n${note}`)).status).toBe(404);
      const hash = createHash('sha256').update(other).digest('hex');
      expect((await fetch(`${w1.process!.url}/${hash}/checkpoint`)).status).toBe(404);
    });

    it('answers 400 to malformed bodies, 413 to a huge one, 405 to another method', async () => {
      const note = notes[1]!;
      const hash = `${Buffer.alloc(32).toString('base64')}\n`;
      for (const [body, reason] of [
        ['', /blank line/],
        ['hello\n\n', /"old <size>"/],
        [`old 00\n\n${note}`, /"old <size>"/],
        [`old 9007199254740993\n\n${note}`, /beyond the sizes/],
        [`old 1\n${hash.repeat(64)}\n${note}`, /at most 63/],
        [`old 1\nnot-base64\n\n${note}`, /proof line 1/],
        [`old 0\n\n${note.replace(/\n\n.*$/s, '\n')}`, /the checkpoint/],
        [
          `old 0\n\n${ORIGIN}\n18446744073709551616\n${Buffer.alloc(32).toString('base64')}\n\n— x AAAAAAAA\n`,
          /tree size/,
        ],
      ] as const) {
        const r = await post(w1, body);
        expect([r.status, await r.text()]).toEqual([400, expect.stringMatching(reason)]);
      }
      const invalidUtf8 = Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff, 0xfe])]);
      expect((await post(w1, invalidUtf8)).status).toBe(400);
      // Old size beyond the checkpoint's, with a valid note: 400.
      const size = parseCheckpointText(parseNote(note).text).treeSize;
      expect((await post(w1, `old ${size + 1}\n\n${note}`)).status).toBe(400);
      expect((await post(w1, 'x'.repeat(200_000))).status).toBe(413);
      const get = await fetch(`${w1.process!.url}/add-checkpoint`);
      expect(get.status).toBe(405);
      // Still serving after all that.
      expect((await post(w1, `old 0\n\n${note}`)).status).toBe(409);
    });
  });

  describe('gatehouse ledger verify --witnesses', () => {
    const verify = (database: string, file: string, ...more: string[]) =>
      runCli(['ledger', 'verify', '--witnesses', file, ...more], {
        DATABASE_URL: database,
        GATEHOUSE_LEDGER_ORIGIN: ORIGIN,
      });
    const bothFile = join(dir, 'verify-witnesses.yaml');
    const w1File = join(dir, 'verify-w1.yaml');

    beforeAll(() => {
      writeFileSync(
        bothFile,
        `witnesses:\n${witnesses.map((w) => `  - vkey: ${w.vkey}\n    url: ${w.process!.url}\n`).join('')}`,
      );
      writeFileSync(w1File, `witnesses:\n  - vkey: ${w1.vkey}\n    url: ${w1.process!.url}\n`);
    });

    it('finds the ledger intact and names the checkpoint both witnesses cosigned', async () => {
      const latest = (await view(app)).treeSize;
      const r = await verify(app.database.url, bothFile);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^ledger intact: /);
      expect(r.stdout).toMatch(
        new RegExp(
          `witnessed: tree size ${latest}, cosigned by witness\\.test/w1 at \\S+, witness\\.test/w2 at \\S+ \\(quorum 2\\)`,
        ),
      );
      expect(r.stdout).toContain(`witness witness.test/w1: last cosigned tree size ${latest}`);
      expect(r.code).toBe(0);
    });

    it('refuses the fork: its events give another root at the size the witness cosigned', async () => {
      const cosigned = (await view(app)).treeSize;
      const r = await verify(
        withDatabase(process.env['GATEHOUSE_TEST_SERVER_URL']!, forkDatabase!),
        w1File,
        '--json',
      );
      const out = JSON.parse(r.stdout) as {
        ok: boolean;
        failure: { seq: number; reason: string; detail: string };
        witnesses: { claims: { witness: string; treeSize: number; source: string }[] };
      };
      expect(out.ok).toBe(false);
      expect(out.failure).toMatchObject({ seq: cosigned, reason: 'forked' });
      expect(out.failure.detail).toMatch(
        new RegExp(
          `^witness\\.test/w1 cosigned tree size ${cosigned} at .* with root [0-9a-f]{64}, but the ledger's first ${cosigned} events give root [0-9a-f]{64}`,
        ),
      );
      expect(r.code).toBe(1);
    });

    it('refuses the original truncated behind its witnessed checkpoint, even with every trace deleted; the cosignatures it keeps alone cannot show it', async () => {
      const cosigned = (await view(app)).treeSize;
      const keep = cosigned - 3;
      // A superuser removing the newest events and everything that remembers them.
      const client = new pg.Client({ connectionString: app.database.url });
      await client.connect();
      try {
        await client.query('SET session_replication_role = replica');
        await client.query('DELETE FROM ledger_events WHERE seq > $1', [keep]);
        await client.query(
          'DELETE FROM ledger_checkpoints WHERE tree_size > $1 OR event_seq > $1',
          [keep],
        );
        await client.query('DELETE FROM ledger_cosignatures WHERE tree_size > $1', [keep]);
        await client.query(
          'DELETE FROM ledger_merkle_nodes WHERE (idx + 1) * (2 ^ level)::bigint > $1',
          [keep],
        );
      } finally {
        await client.end();
      }
      const plain = await runCli(['ledger', 'verify'], { DATABASE_URL: app.database.url });
      expect(plain.stdout).toMatch(/^ledger intact: /);
      const offline = await verify(app.database.url, bothFile, '--offline');
      expect(offline.stdout).toMatch(/^ledger intact: /);
      const r = await verify(app.database.url, bothFile);
      expect(r.stdout).toMatch(
        new RegExp(
          `^ledger NOT intact: seq ${keep + 1}: truncated \\(witness\\.test/w\\d cosigned tree size ${cosigned} at \\S+, but the ledger holds ${keep} events: 3 witnessed events are missing\\)`,
        ),
      );
      expect(r.code).toBe(1);
    });
  });
});
