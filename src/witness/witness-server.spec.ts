import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { consistencyProof, leafHash, rootOf } from '../ledger/merkle.js';
import {
  NOTE_COSIGNATURE_V1,
  ed25519VerifierKey,
  formatNote,
  parseNote,
  rawEd25519PublicKey,
  signNoteText,
  verifyNote,
} from '../ledger/signed-note.js';
import { checkpointText } from '../ledger/tlog-checkpoint.js';
import { createWitnessServer } from './witness-server.js';
import { WitnessStore, originHash } from './witness-store.js';

const ORIGIN = 'log.example/tlog';
const NAME = 'witness.example/w1';
const { privateKey: logKey } = generateKeyPairSync('ed25519');
const { privateKey: witnessKey } = generateKeyPairSync('ed25519');
const logs = new Map([[ORIGIN, [ed25519VerifierKey(ORIGIN, rawEd25519PublicKey(logKey))]]]);
const leaves = Array.from({ length: 64 }, (_, i) => leafHash(Buffer.from(`e${i}`)));

function submission(old: number, size: number): string {
  const text = checkpointText({
    origin: ORIGIN,
    treeSize: size,
    rootHash: rootOf(leaves.slice(0, size)).toString('hex'),
  });
  const note = formatNote({ text, signatures: [signNoteText(text, ORIGIN, logKey)] });
  const proof = old === 0 ? [] : consistencyProof(old, size, leaves);
  return `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`;
}

describe('the witness server and its state', () => {
  const dir = mkdtempSync(join(tmpdir(), 'witness-state-'));
  const server = createWitnessServer({
    config: { name: NAME, logs },
    store: new WitnessStore(dir),
    privateKey: witnessKey,
    prefix: '/w',
    log: () => undefined,
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/w`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string) => fetch(`${url}/add-checkpoint`, { method: 'POST', body });

  it('cosigns exactly one of many concurrent submissions from the same size, and stores that one', async () => {
    expect((await post(submission(0, 8))).status).toBe(200);
    const sizes = Array.from({ length: 24 }, (_, i) => 9 + i);
    const answers = await Promise.all(sizes.map((size) => post(submission(8, size))));
    const won = sizes.filter((_, i) => answers[i]?.status === 200);
    expect(won).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(sizes.length - 1);
    const monitored = await fetch(`${url}/${originHash(ORIGIN)}/checkpoint`);
    const note = parseNote(await monitored.text());
    expect(note.text.split('\n')[1]).toBe(String(won[0]));
    const cosigner = ed25519VerifierKey(NAME, rawEd25519PublicKey(witnessKey), NOTE_COSIGNATURE_V1);
    expect(verifyNote(note, [cosigner])[0]?.timestamp).toBeGreaterThan(0);
    // The state read back, as after a restart, is the one answered; no temporary file is left.
    expect(new WitnessStore(dir).get(ORIGIN)?.treeSize).toBe(won[0]);
    expect(readdirSync(join(dir, 'checkpoints'))).toEqual([originHash(ORIGIN)]);
  });

  it('answers 404 on other paths and 413 to a body announced too large', async () => {
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${url.slice(0, -2)}/add-checkpoint`, { method: 'POST' })).status).toBe(
      404,
    );
    const big = await post('y'.repeat(1 << 20));
    expect(big.status).toBe(413);
  });
});
