import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LedgerService } from '../../src/ledger/ledger.service.js';
import { NoteError, parseNote, parseVkey, verifyNote } from '../../src/ledger/signed-note.js';
import { parseCheckpointText } from '../../src/ledger/tlog-checkpoint.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { testEvent } from '../support/test-event.js';

const ORIGIN = 'gatehouse.test.example/v1/ledger/tlog';

describe('the ledger in the transparency-log formats', () => {
  let app: TestApp;
  let auditor: string;
  let admin: string;

  beforeAll(async () => {
    app = await startTestApp({
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      GATEHOUSE_LEDGER_ORIGIN: ORIGIN,
    });
    auditor = await app.token('audrey', 'auditor');
    admin = await app.token('adam', 'admin');
    const ledger = app.running.app.get(LedgerService);
    for (let i = 0; i < 5; i++)
      await ledger.transaction((tx) => {
        tx.record(testEvent('model:credit@1', { sub: 'alice', roles: ['data-scientist'] }, { i }));
      });
  });
  afterAll(async () => {
    await app.close();
  });

  const get = (path: string, token?: string) =>
    fetch(`${app.url}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  async function checkpointNow(): Promise<number> {
    const made = await app.gql<{ createCheckpoint: { treeSize: number } }>(
      'mutation { createCheckpoint { treeSize } }',
      {},
      admin,
    );
    expect(made.errors).toBeUndefined();
    return made.data!.createCheckpoint.treeSize;
  }

  async function vkeys(): Promise<string[]> {
    const r = await get('/v1/ledger/tlog/vkeys');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const text = await r.text();
    expect(text.endsWith('\n')).toBe(true);
    return text.slice(0, -1).split('\n');
  }

  it('serves the latest checkpoint as a signed note: the JSON checkpoint’s tree size and root, under the origin, verified with the served verifier key', async () => {
    const treeSize = await checkpointNow();
    const r = await get('/v1/ledger/tlog/checkpoint', auditor);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('max-age=5');
    const note = parseNote(await r.text());
    const json = (await (await get('/v1/ledger/checkpoint', auditor)).json()) as {
      checkpoint: { treeSize: number; rootHash: string };
    };
    expect(parseCheckpointText(note.text)).toEqual({
      origin: ORIGIN,
      treeSize,
      rootHash: json.checkpoint.rootHash,
      extensions: [],
    });
    expect(json.checkpoint.treeSize).toBe(treeSize);
    const [vkey] = await vkeys();
    const key = parseVkey(vkey ?? '');
    expect(key.name).toBe(ORIGIN);
    expect(verifyNote(note, [key])).toEqual([{ key }]);
  });

  it('after a key rotation, lists both verifier keys and signs with the new one only', async () => {
    const rotated = await app.gql('mutation { rotateSigningKey { kid } }', {}, admin);
    expect(rotated.errors).toBeUndefined();
    await checkpointNow();
    const [oldKey, newKey, ...more] = (await vkeys()).map(parseVkey);
    expect(more).toEqual([]);
    const note = parseNote(await (await get('/v1/ledger/tlog/checkpoint', auditor)).text());
    expect(verifyNote(note, [oldKey!, newKey!]).map((v) => v.key)).toEqual([newKey]);
    expect(() => verifyNote(note, [oldKey!])).toThrow(NoteError);
  });

  it('keeps the checkpoint to those who may read the ledger; the verifier keys are public', async () => {
    expect((await get('/v1/ledger/tlog/checkpoint')).status).toBe(401);
    const scientist = await app.token('dana', 'data-scientist');
    expect((await get('/v1/ledger/tlog/checkpoint', scientist)).status).toBe(403);
    expect((await get('/v1/ledger/tlog/vkeys')).status).toBe(200);
  });
});
