import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { canonicalize } from '../../src/ledger/canonical-json.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js';
import { verifyAttached, verifyDetached } from '../../src/ledger/jws-verify.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { testEvent } from '../support/test-event.js';

interface Page {
  ledgerEvents: {
    events: {
      seq: number;
      type: string;
      hash: string;
      prev: string;
      canonical: string;
      jws: string;
    }[];
    nextAfterSeq: number | null;
  };
}

async function appendMany(app: TestApp, n: number, subject = 'model:credit@1'): Promise<void> {
  const ledger = app.running.app.get(LedgerService);
  for (let i = 0; i < n; i++) {
    await ledger.transaction((tx) => {
      tx.record(
        testEvent(subject, { sub: 'alice', roles: ['data-scientist'] }, { i, note: 'ünïcödé €' }),
      );
    });
  }
}

async function superuser<T>(app: TestApp, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: app.database.url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

describe('the audit ledger', () => {
  let app: TestApp;
  let auditor: string;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    auditor = await app.token('audrey', 'auditor');
    admin = await app.token('adam', 'admin');
  });
  afterAll(async () => {
    await app.close();
  });

  it('records policy.loaded at start-up as seq 1, chained from 64 zeros', async () => {
    const res = await app.gql<Page>(
      '{ ledgerEvents(afterSeq: 0, limit: 5) { events { seq type hash prev canonical jws } nextAfterSeq } }',
      {},
      auditor,
    );
    expect(res.errors).toBeUndefined();
    const first = res.data!.ledgerEvents.events[0]!;
    expect(first).toMatchObject({ seq: 1, type: 'policy.loaded', prev: '0'.repeat(64) });
    expect(first.hash).toBe(leafHash(Buffer.from(first.canonical)).toString('hex'));
    expect(canonicalize(JSON.parse(first.canonical))).toBe(first.canonical);
  });

  it('pages events and filters by subject and type', async () => {
    await appendMany(app, 12);
    await appendMany(app, 3, 'promotion:abc');
    const q =
      'query($after: Int!, $subject: String) { ledgerEvents(afterSeq: $after, limit: 5, subject: $subject) { events { seq } nextAfterSeq } }';
    const first = await app.gql<Page>(q, { after: 0 }, auditor);
    expect(first.data!.ledgerEvents.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.data!.ledgerEvents.nextAfterSeq).toBe(5);
    const promo = await app.gql<Page>(q, { after: 0, subject: 'promotion:abc' }, auditor);
    expect(promo.data!.ledgerEvents.events).toHaveLength(3);
    expect(promo.data!.ledgerEvents.nextAfterSeq).toBeNull();
    // An explicit null filter is no filter, as leaving it out is.
    const unfiltered = await app.gql<Page>(
      'query($type: String, $subject: String) { ledgerEvents(limit: 5, type: $type, subject: $subject) { events { seq } } }',
      { type: null, subject: null },
      auditor,
    );
    expect(unfiltered.data!.ledgerEvents.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    const bad = await app.gql(q.replace('limit: 5', 'limit: 5000'), { after: 0 }, auditor);
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('lets only the ledger roles read it', async () => {
    const scientist = await app.token('dana', 'data-scientist');
    const res = await app.gql('{ ledgerEvents { events { seq } } }', {}, scientist);
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const rest = await fetch(`${app.url}/v1/ledger/events`, {
      headers: { authorization: `Bearer ${scientist}` },
    });
    expect(rest.status).toBe(403);
  });

  it('exports NDJSON that verifies with the JWKS alone, and serves a signed checkpoint', async () => {
    const made = await app.gql<{
      createCheckpoint: { treeSize: number; rootHash: string; jws: string };
    }>('mutation { createCheckpoint { treeSize rootHash jws } }', {}, admin);
    expect(made.errors).toBeUndefined();
    const { treeSize, rootHash } = made.data!.createCheckpoint;

    const ndjson = await (
      await fetch(`${app.url}/v1/ledger/events?afterSeq=0`, {
        headers: { authorization: `Bearer ${auditor}` },
      })
    ).text();
    const lines = ndjson
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: Record<string, unknown>; hash: string; jws: string });
    expect(lines.length).toBe(treeSize + 1); // the checkpoint's own event follows the tree it covers
    const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    const key = createPublicKey({ key: jwks.keys[0] as never, format: 'jwk' });
    let prev = '0'.repeat(64);
    for (const line of lines) {
      const canonical = canonicalize(line.event);
      expect(line.hash).toBe(leafHash(Buffer.from(canonical)).toString('hex'));
      expect(line.event['prev']).toBe(prev);
      expect(await verifyDetached(line.jws, Buffer.from(canonical), key)).toBe(true);
      prev = line.hash;
    }
    const checkpoint = (await (
      await fetch(`${app.url}/v1/ledger/checkpoint`, {
        headers: { authorization: `Bearer ${auditor}` },
      })
    ).json()) as {
      checkpoint: { treeSize: number; rootHash: string };
      jws: string;
    };
    expect(checkpoint.checkpoint).toMatchObject({ v: 1, treeSize, rootHash });
    expect(await verifyAttached(checkpoint.jws, key)).toMatchObject({ treeSize, rootHash });

    // Inclusion of every event in the checkpointed tree, checked against the signed root.
    for (const seq of [1, 2, treeSize]) {
      const res = await app.gql<{
        inclusionProof: { leafHash: string; proof: string[]; rootHash: string };
      }>(
        'query($seq: Int!, $size: Int) { inclusionProof(seq: $seq, treeSize: $size) { leafHash proof rootHash } }',
        { seq, size: treeSize },
        auditor,
      );
      const p = res.data!.inclusionProof;
      expect(p.leafHash).toBe(lines[seq - 1]!.hash);
      expect(p.rootHash).toBe(rootHash);
      expect(
        verifyInclusion(
          Buffer.from(p.leafHash, 'hex'),
          seq - 1,
          treeSize,
          p.proof.map((h) => Buffer.from(h, 'hex')),
          Buffer.from(rootHash, 'hex'),
        ),
      ).toBe(true);
    }
    await appendMany(app, 5);
    const later = await app.gql<{ createCheckpoint: { treeSize: number; rootHash: string } }>(
      'mutation { createCheckpoint { treeSize rootHash } }',
      {},
      admin,
    );
    const c = await app.gql<{
      consistencyProof: { proof: string[]; firstRootHash: string; secondRootHash: string };
    }>(
      'query($a: Int!, $b: Int!) { consistencyProof(first: $a, second: $b) { proof firstRootHash secondRootHash } }',
      { a: treeSize, b: later.data!.createCheckpoint.treeSize },
      auditor,
    );
    const cp = c.data!.consistencyProof;
    expect(cp.firstRootHash).toBe(rootHash);
    expect(cp.secondRootHash).toBe(later.data!.createCheckpoint.rootHash);
    expect(
      verifyConsistency(
        treeSize,
        later.data!.createCheckpoint.treeSize,
        Buffer.from(rootHash, 'hex'),
        Buffer.from(cp.secondRootHash, 'hex'),
        cp.proof.map((h) => Buffer.from(h, 'hex')),
      ),
    ).toBe(true);
  });

  it('refuses UPDATE, DELETE and TRUNCATE on every ledger table', async () => {
    await superuser(app, async (client) => {
      for (const sql of [
        "UPDATE ledger_events SET subject = 'x' WHERE seq = 1",
        'DELETE FROM ledger_events WHERE seq = 1',
        'TRUNCATE ledger_events',
        'UPDATE ledger_keys SET first_seq = 99',
        'DELETE FROM ledger_merkle_nodes',
        'TRUNCATE ledger_checkpoints',
      ]) {
        await expect(client.query(sql)).rejects.toThrow(/append-only/);
      }
    });
  });

  it('rotates the signing key with an event signed by the old key; later events use the new key', async () => {
    const before = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    const res = await app.gql<{
      rotateSigningKey: { kid: string; previousKid: string; eventSeq: number };
    }>('mutation { rotateSigningKey { kid previousKid eventSeq } }', {}, admin);
    expect(res.errors).toBeUndefined();
    const { kid, previousKid, eventSeq } = res.data!.rotateSigningKey;
    expect(previousKid).toBe(before.keys.at(-1)!.kid);
    await appendMany(app, 2);
    const page = await app.gql<Page>(
      'query($a: Int!) { ledgerEvents(afterSeq: $a, limit: 3) { events { seq type jws } } }',
      { a: eventSeq - 1 },
      auditor,
    );
    const [rotation, next] = page.data!.ledgerEvents.events;
    const kidOf = (jws: string) =>
      (JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid;
    expect(rotation!.type).toBe('ledger.key.rotated');
    expect(kidOf(rotation!.jws)).toBe(previousKid);
    expect(kidOf(next!.jws)).toBe(kid);
    const after = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: { kid: string }[];
    };
    expect(after.keys.map((k) => k.kid)).toEqual([...before.keys.map((k) => k.kid), kid]);
    expect(
      (await app.gql('mutation { rotateSigningKey { kid } }', {}, auditor)).errors?.[0]?.extensions
        ?.code,
    ).toBe('FORBIDDEN');
  });

  it('keeps one gapless, verifying chain under 3 processes × 16 concurrent writers', async () => {
    const script = fileURLToPath(new URL('../support/append-worker.mjs', import.meta.url));
    const headBefore = (
      await app.gql<{ verifyLedger: { toSeq: number } }>('{ verifyLedger { toSeq } }', {}, auditor)
    ).data!.verifyLedger.toSeq;
    const runs = ['a', 'b', 'c'].map(
      (tag) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(
            process.execPath,
            [script, app.database.url, app.config.ledger.signingKeysDir, '16', '8', tag],
            { stdio: 'inherit' },
          );
          child.on('close', resolve);
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    const report = await app.gql<{
      verifyLedger: {
        ok: boolean;
        toSeq: number;
        eventsChecked: number;
        signaturesChecked: number;
        failure: unknown;
      };
    }>(
      '{ verifyLedger { ok toSeq eventsChecked signaturesChecked failure { seq reason } } }',
      {},
      auditor,
    );
    expect(report.data!.verifyLedger).toMatchObject({
      ok: true,
      toSeq: headBefore + 3 * 16 * 8,
      failure: null,
    });
    expect(report.data!.verifyLedger.signaturesChecked).toBe(
      report.data!.verifyLedger.eventsChecked,
    );
  }, 120_000);

  it('is reported intact by the CLI, which exits 0', async () => {
    const env = { DATABASE_URL: app.database.url, GATEHOUSE_DATA_DIR: app.config.dataDir };
    const ok = await runCli(['ledger', 'verify', '--json'], env);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, fromSeq: 1 });
  });

  describe('tampering by a superuser with the triggers off is named by verify', () => {
    // Each case tampers, checks what verify reports, and puts the rows back.
    async function tampered(
      sql: string[],
      undo: string[],
    ): Promise<{ seq: number; reason: string }> {
      return superuser(app, async (c) => {
        await c.query('SET session_replication_role = replica');
        for (const s of sql) await c.query(s);
        try {
          const res = await app.gql<{
            verifyLedger: { ok: boolean; failure: { seq: number; reason: string } };
          }>('{ verifyLedger { ok failure { seq reason detail } } }', {}, auditor);
          expect(res.data!.verifyLedger.ok).toBe(false);
          return res.data!.verifyLedger.failure;
        } finally {
          for (const s of undo) await c.query(s);
          const intact = await app.gql<{ verifyLedger: { ok: boolean } }>(
            '{ verifyLedger { ok } }',
            {},
            auditor,
          );
          expect(intact.data!.verifyLedger.ok).toBe(true);
        }
      });
    }

    it('a changed payload: hash mismatch', async () => {
      const failure = await tampered(
        [
          'UPDATE ledger_events SET canonical = replace(canonical, \'"note":"\', \'"note":"X\') WHERE seq = 5',
        ],
        [
          'UPDATE ledger_events SET canonical = replace(canonical, \'"note":"X\', \'"note":"\') WHERE seq = 5',
        ],
      );
      expect(failure).toMatchObject({ seq: 5, reason: 'hash mismatch' });
    });

    it('a changed actor with its hash recomputed: broken link or bad signature, never silence', async () => {
      const failure = await tampered(
        [
          'CREATE TEMP TABLE keep AS SELECT * FROM ledger_events WHERE seq = 6',
          'UPDATE ledger_events SET canonical = replace(canonical, \'"sub":"alice"\', \'"sub":"mallory"\') WHERE seq = 6',
          "UPDATE ledger_events SET hash = encode(sha256('\\x00'::bytea || convert_to(canonical, 'UTF8')), 'hex') WHERE seq = 6",
        ],
        [
          'UPDATE ledger_events e SET canonical = k.canonical, hash = k.hash FROM keep k WHERE e.seq = k.seq',
        ],
      );
      expect(failure.seq).toBe(6);
      expect(['broken link', 'bad signature']).toContain(failure.reason);
    });

    it('a deleted row: gap', async () => {
      const failure = await tampered(
        [
          'CREATE TEMP TABLE keep AS SELECT * FROM ledger_events WHERE seq = 7',
          'DELETE FROM ledger_events WHERE seq = 7',
        ],
        ['INSERT INTO ledger_events SELECT * FROM keep'],
      );
      expect(failure).toMatchObject({ seq: 7, reason: 'gap' });
    });

    it('swapped rows: broken link at the first of them', async () => {
      const swap = [
        'CREATE TEMP TABLE keep AS SELECT * FROM ledger_events WHERE seq IN (8, 9)',
        'UPDATE ledger_events e SET canonical = k.canonical, hash = k.hash, jws = k.jws, id = gen_random_uuid() FROM keep k WHERE e.seq = 8 AND k.seq = 9',
        'UPDATE ledger_events e SET canonical = k.canonical, hash = k.hash, jws = k.jws FROM keep k WHERE e.seq = 9 AND k.seq = 8',
      ];
      const failure = await tampered(swap, [
        'UPDATE ledger_events e SET canonical = k.canonical, hash = k.hash, jws = k.jws, id = k.id FROM keep k WHERE e.seq = k.seq',
      ]);
      expect(failure.seq).toBe(8);
      expect(failure.reason).toBe('broken link');
    });

    it('an event re-signed with an unknown key: unknown key', async () => {
      const { generateKeyPairSync } = await import('node:crypto');
      const { signDetached } = await import('../../src/ledger/jws.js');
      const { privateKey } = generateKeyPairSync('ed25519');
      const row = await superuser(
        app,
        async (c) =>
          (
            await c.query<{ canonical: string; jws: string }>(
              'SELECT canonical, jws FROM ledger_events WHERE seq = 10',
            )
          ).rows[0]!,
      );
      const forged = await signDetached(Buffer.from(row.canonical), privateKey, 'mallorys-key');
      const failure = await tampered(
        [`UPDATE ledger_events SET jws = '${forged}' WHERE seq = 10`],
        [`UPDATE ledger_events SET jws = '${row.jws}' WHERE seq = 10`],
      );
      expect(failure).toMatchObject({ seq: 10, reason: 'unknown key' });
    });

    it('a forged checkpoint: checkpoint root mismatch', async () => {
      const cp = await superuser(
        app,
        async (c) =>
          (
            await c.query<{ tree_size: string; root_hash: string; event_seq: string }>(
              'SELECT * FROM ledger_checkpoints ORDER BY tree_size LIMIT 1',
            )
          ).rows[0]!,
      );
      const failure = await tampered(
        [
          `UPDATE ledger_checkpoints SET root_hash = '${'ab'.repeat(32)}' WHERE tree_size = ${cp.tree_size}`,
        ],
        [
          `UPDATE ledger_checkpoints SET root_hash = '${cp.root_hash}' WHERE tree_size = ${cp.tree_size}`,
        ],
      );
      expect(failure).toMatchObject({
        seq: Number(cp.event_seq),
        reason: 'checkpoint root mismatch',
      });
    });

    it('the CLI exits 1 naming the seq and the reason', async () => {
      await superuser(app, async (c) => {
        await c.query('SET session_replication_role = replica');
        await c.query(
          'UPDATE ledger_events SET canonical = replace(canonical, \'"note":"\', \'"note":"X\') WHERE seq = 5',
        );
      });
      try {
        const result = await runCli(['ledger', 'verify'], {
          DATABASE_URL: app.database.url,
          GATEHOUSE_DATA_DIR: app.config.dataDir,
        });
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/^ledger NOT intact: seq 5: hash mismatch/);
      } finally {
        await superuser(app, async (c) => {
          await c.query('SET session_replication_role = replica');
          await c.query(
            'UPDATE ledger_events SET canonical = replace(canonical, \'"note":"X\', \'"note":"\') WHERE seq = 5',
          );
        });
      }
    });
  });
});
