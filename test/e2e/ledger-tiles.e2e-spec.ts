import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { compactVerify, importJWK, type JWK } from 'jose';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { testEvent } from '../support/test-event.js';
import {
  rootFromInclusion,
  sha256,
  tileIndex,
  TlogTileClient,
} from '../support/tlog-tile-client.js';

interface SignedCheckpoint {
  checkpoint: { v: number; treeSize: number; rootHash: string; ts: string };
  jws: string;
}

/** Events through the service's own unit of work, a few writers at a time. */
async function append(
  app: TestApp,
  n: number,
  payload: (i: number) => Record<string, string | number> = (i) => ({ i }),
): Promise<void> {
  const ledger = app.running.app.get(LedgerService);
  for (let done = 0; done < n; done += 16) {
    await Promise.all(
      Array.from({ length: Math.min(16, n - done) }, (_, j) =>
        ledger.transaction((tx) => {
          tx.record(
            testEvent(
              'model:tiles@1',
              { sub: 'alice', roles: ['data-scientist'] },
              payload(done + j),
            ),
          );
        }),
      ),
    );
  }
}

describe('the ledger as tlog tiles', () => {
  let app: TestApp;
  let auditor: string;
  let admin: string;
  let prefix: string;
  let first: SignedCheckpoint;
  let second: SignedCheckpoint;

  /** A tile path with a ledger reader's token, or with `token` (none when null). */
  const get = (path: string, token: string | null = auditor): Promise<Response> =>
    fetch(
      `${prefix}/${path}`,
      token === null ? {} : { headers: { authorization: `Bearer ${token}` } },
    );

  async function checkpoint(): Promise<SignedCheckpoint> {
    const made = await app.gql('mutation { createCheckpoint { treeSize } }', {}, admin);
    expect(made.errors).toBeUndefined();
    const response = await fetch(`${app.url}/v1/ledger/checkpoint`, {
      headers: { authorization: `Bearer ${auditor}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as SignedCheckpoint;
  }

  /** The checkpoint's JWS checked with the JWKS, as an outside party would. */
  async function verified(
    signed: SignedCheckpoint,
  ): Promise<{ treeSize: number; rootHash: string }> {
    const jwks = (await (await fetch(`${app.url}/.well-known/jwks.json`)).json()) as {
      keys: (JWK & { kid: string })[];
    };
    const { payload } = await compactVerify(signed.jws, async (header) =>
      importJWK(
        jwks.keys.find((k) => k.kid === header.kid)!,
        'EdDSA',
      ),
    );
    const body = JSON.parse(Buffer.from(payload).toString()) as {
      treeSize: number;
      rootHash: string;
    };
    expect(body).toMatchObject({
      treeSize: signed.checkpoint.treeSize,
      rootHash: signed.checkpoint.rootHash,
    });
    return body;
  }

  beforeAll(async () => {
    app = await startTestApp({ GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0' });
    prefix = `${app.url}/v1/ledger/tlog`;
    auditor = await app.token('audrey', 'auditor');
    admin = await app.token('adam', 'admin');
    await append(app, 130);
    first = await checkpoint();
    await append(app, 250);
    second = await checkpoint();
    // A tree past the latest checkpoint: its size is served, but is no checkpoint's.
    await append(app, 7);
  }, 120_000);
  afterAll(async () => {
    await app.close();
  });

  it('give a client with only tiles the signed root and an inclusion proof the service agrees with', async () => {
    const { treeSize, rootHash } = await verified(
      (await (
        await fetch(`${app.url}/v1/ledger/checkpoint`, {
          headers: { authorization: `Bearer ${auditor}` },
        })
      ).json()) as SignedCheckpoint,
    );
    expect(treeSize).toBe(second.checkpoint.treeSize);
    expect(treeSize).toBeGreaterThan(256);
    const client = new TlogTileClient(prefix, treeSize, { authorization: `Bearer ${auditor}` });
    expect((await client.root()).toString('hex')).toBe(rootHash);
    // The root needs one level-1 hash (leaves 0–255) and the partial level-0 tile, nothing more.
    // The signed note of the same checkpoint, as a tlog-tiles client starts from, states that root.
    const note = await (await get('checkpoint')).text();
    const [, size, root] = note.split('\n');
    expect(Number(size)).toBe(treeSize);
    expect(Buffer.from(root!, 'base64').toString('hex')).toBe(rootHash);
    expect(client.fetched.sort()).toEqual([`tile/0/001.p/${treeSize - 256}`, 'tile/1/000.p/1']);

    for (const seq of [1, 200, 256, 257, treeSize]) {
      const proof = await client.inclusionProof(seq - 1);
      const leaf = await client.leafHash(seq - 1);
      expect(rootFromInclusion(leaf, seq - 1, treeSize, proof).toString('hex')).toBe(rootHash);
      const served = await app.gql<{ inclusionProof: { leafHash: string; proof: string[] } }>(
        'query($seq: Int!, $size: Int) { inclusionProof(seq: $seq, treeSize: $size) { leafHash proof } }',
        { seq, size: treeSize },
        auditor,
      );
      expect(served.data?.inclusionProof).toEqual({
        leafHash: leaf.toString('hex'),
        proof: proof.map((h) => h.toString('hex')),
      });
    }
  });

  it('serve entry bundles whose entries are the events, hashing to the level-0 tiles', async () => {
    const { treeSize } = second.checkpoint;
    const client = new TlogTileClient(prefix, treeSize, { authorization: `Bearer ${auditor}` });
    const entries = [...(await client.entries(0)), ...(await client.entries(1))];
    expect(entries).toHaveLength(treeSize);
    const events = entries.map(
      (e) => JSON.parse(e.toString('utf8')) as { seq: number; prev: string },
    );
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: treeSize }, (_, i) => i + 1));
    // The chain links through the bundle: each event's prev is the hash of the entry before.
    for (let i = 1; i < entries.length; i++)
      expect(events[i]!.prev).toBe(sha256(Buffer.from([0]), entries[i - 1]!).toString('hex'));
  });

  it('keep serving the partial tiles of an earlier checkpoint after the tree has grown past them', async () => {
    const earlier = await verified(first);
    expect(earlier.treeSize).toBeLessThan(256);
    const client = new TlogTileClient(prefix, earlier.treeSize, {
      authorization: `Bearer ${auditor}`,
    });
    expect((await client.root()).toString('hex')).toBe(earlier.rootHash);
    expect(client.fetched).toEqual([`tile/0/000.p/${earlier.treeSize}`]);
    // The partial tile is the start of the full one.
    const partial = Buffer.from(
      await (await get(`tile/0/000.p/${earlier.treeSize}`)).arrayBuffer(),
    );
    const full = Buffer.from(await (await get('tile/0/000')).arrayBuffer());
    expect(full).toHaveLength(8192);
    expect(partial.equals(full.subarray(0, partial.length))).toBe(true);
    const bundle = await get(`tile/entries/000.p/${earlier.treeSize}`, auditor);
    expect(bundle.status).toBe(200);
  });

  it('serve the current tree size, checkpointed or not, and refuse other widths naming why', async () => {
    const head = second.checkpoint.treeSize + 1 + 7;
    const current = await get(`tile/0/001.p/${head - 256}`);
    expect(current.status).toBe(200);
    expect(Buffer.from(await current.arrayBuffer())).toHaveLength((head - 256) * 32);

    const cases: [string, RegExp][] = [
      [
        `tile/0/000.p/${first.checkpoint.treeSize - 1}`,
        /no checkpoint has tree size \d+, the size that gives it width \d+, and the tree has grown past it/,
      ],
      [
        `tile/0/001.p/${head - 256 + 1}`,
        new RegExp(`the tree of ${head} leaves gives it ${head - 256} hashes, fewer than`),
      ],
      [
        'tile/0/001',
        new RegExp(
          `not full yet: the tree of ${head} leaves gives it ${head - 256} hashes \\(0/001.p/${head - 256}\\)`,
        ),
      ],
      ['tile/0/002', /the tree of \d+ leaves does not reach it/],
      ['tile/1/000', /not full yet/],
      ['tile/2/000', /does not reach it/],
      ['tile/0/x999/000', /does not reach it/],
      ['tile/63/000', /does not reach it/],
    ];
    for (const [path, reason] of cases) {
      const response = await get(path);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect([path, response.status, body.error.code]).toEqual([path, 404, 'NOT_FOUND']);
      expect(body.error.message).toMatch(reason);
      expect(response.headers.get('cache-control') ?? '').not.toMatch(/immutable/);
    }
  });

  it('refuse a malformed path with 400 naming the part and the rule', async () => {
    const cases: [string, string, RegExp][] = [
      ['tile/00/000', 'level', /without leading zeros/],
      ['tile/64/000', 'level', /from 0 to 63/],
      ['tile/0/1', 'index', /zero-padded 3-digit/],
      ['tile/0/0001', 'index', /zero-padded 3-digit/],
      ['tile/0/001/002', 'index', /beginning with "x"/],
      ['tile/0/x000/001', 'index', /must not begin with x000/],
      ['tile/0/000.p/0', 'width', /from 1 to 255/],
      ['tile/0/000.p/256', 'width', /from 1 to 255/],
      ['tile/0/000.p/01', 'width', /without leading zeros/],
      ['tile/0/000.p', 'width', /is missing/],
      ['tile/entries', 'index', /is missing/],
      ['tile/entries/1', 'index', /zero-padded 3-digit/],
      ['tile/0/x072/x057/x594/x037/x927/936', 'index', /past leaf 2\^64/],
      [`tile/0/${'x999/'.repeat(200)}999`, 'index', /past leaf 2\^64/],
      ['tile/7/001', 'index', /past leaf 2\^64/],
    ];
    for (const [path, field, reason] of cases) {
      const response = await get(path);
      const body = (await response.json()) as {
        error: { code: string; message: string; details: { field: string } };
      };
      expect([path, response.status, body.error.code]).toEqual([path, 400, 'BAD_USER_INPUT']);
      expect(body.error.details.field).toBe(field);
      expect(body.error.message).toMatch(reason);
    }
  });

  it('answer as static files, cached for a year by the client, to ledger readers only', async () => {
    const scientist = await app.token('dana', 'data-scientist');
    for (const path of ['tile/0/000', 'tile/1/000.p/1', 'tile/entries/000']) {
      const response = await get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/octet-stream');
      expect(response.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect([path, (await get(path, null)).status]).toEqual([path, 401]);
      const refused = await get(path, scientist);
      expect([path, refused.status]).toEqual([path, 403]);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toBe(
        'not allowed to read Ledger',
      );
    }
  });

  it('keep a partial tile above level 0 for every checkpoint whose size gives it that width', async () => {
    await append(app, 520 - second.checkpoint.treeSize);
    const third = await verified(await checkpoint());
    expect(third.treeSize).toBeGreaterThanOrEqual(512);
    const client = new TlogTileClient(prefix, third.treeSize, {
      authorization: `Bearer ${auditor}`,
    });
    expect((await client.root()).toString('hex')).toBe(third.rootHash);
    expect(client.fetched).toContain('tile/1/000.p/2');
    // Width 1 at level 1 is the width of every size from 256 to 511; the second checkpoint is one.
    const earlier = await get('tile/1/000.p/1');
    expect(earlier.status).toBe(200);
    const now = Buffer.from(await (await get('tile/1/000.p/2')).arrayBuffer());
    expect(Buffer.from(await earlier.arrayBuffer())).toEqual(now.subarray(0, 32));
    // Hash 1 of the level-1 tile is the root of level-0 tile 1, now full: its 256 hashes hashed up.
    const full = Buffer.from(await (await get('tile/0/001')).arrayBuffer());
    let level: Buffer[] = Array.from({ length: 256 }, (_, i) =>
      full.subarray(i * 32, (i + 1) * 32),
    );
    while (level.length > 1)
      level = level.flatMap((h, i) =>
        i % 2 === 0 ? [sha256(Buffer.from([1]), h, level[i + 1]!)] : [],
      );
    expect(level[0]).toEqual(now.subarray(32, 64));
  });

  it('bundle an event of 65,535 canonical bytes, and refuse the bundle of one byte more, naming it', async () => {
    const ledger = app.running.app.get(LedgerService);
    /** Appends one event whose canonical text is `target` bytes, adjusting its padding. */
    const appendOfSize = async (target: number): Promise<{ seq: number; canonical: Buffer }> => {
      // Short of the target first (an event over it would spoil the bundle), then exact: the
      // next event's seq has as many digits, so the same padding correction holds.
      let pad = target - 1000;
      for (;;) {
        const { events } = await ledger.transactionWithEvents((tx) => {
          tx.record(
            testEvent(
              'model:tiles@1',
              { sub: 'alice', roles: ['data-scientist'] },
              { pad: 'a'.repeat(pad) },
            ),
          );
        });
        const seq = events[0]!.seq;
        // The export embeds the stored canonical text byte for byte.
        const line = await (
          await fetch(`${app.url}/v1/ledger/events?afterSeq=${seq - 1}&limit=1`, {
            headers: { authorization: `Bearer ${auditor}` },
          })
        ).text();
        const canonical = Buffer.from(
          line.slice('{"event":'.length, line.lastIndexOf(',"hash":"')),
        );
        if (canonical.length === target) return { seq, canonical };
        pad += target - canonical.length;
      }
    };
    const largest = await appendOfSize(0xffff);
    const index = largest.seq - 1;
    const n = Math.floor(index / 256);
    const width = (index % 256) + 1;
    const bundle = await get(`tile/entries/${tileIndex(n)}.p/${width}`, auditor);
    expect(bundle.status).toBe(200);
    const bytes = Buffer.from(await bundle.arrayBuffer());
    expect(bytes.subarray(bytes.length - 0xffff - 2)).toEqual(
      Buffer.concat([Buffer.from([0xff, 0xff]), largest.canonical]),
    );
    const tile = Buffer.from(await (await get(`tile/0/${tileIndex(n)}.p/${width}`)).arrayBuffer());
    expect(tile.subarray(-32)).toEqual(sha256(Buffer.from([0]), largest.canonical));

    const over = await appendOfSize(0x10000);
    const at = { n: Math.floor((over.seq - 1) / 256), width: ((over.seq - 1) % 256) + 1 };
    const path = `${tileIndex(at.n)}.p/${at.width}`;
    const refused = await get(`tile/entries/${path}`, auditor);
    const body = (await refused.json()) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    expect(refused.status).toBe(409);
    expect(body.error.code).toBe('CONFLICT');
    expect(body.error.details).toEqual({ seq: over.seq, bytes: 0x10000, limit: 0xffff });
    expect(body.error.message).toContain(
      `/v1/ledger/events?afterSeq=${at.n * 256}&limit=${at.width}`,
    );
    // Its hash is in the level-0 tile all the same.
    const withIt = Buffer.from(await (await get(`tile/0/${path}`)).arrayBuffer());
    expect(withIt.subarray(-32)).toEqual(sha256(Buffer.from([0]), over.canonical));
  });
});
