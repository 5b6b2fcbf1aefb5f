import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../config/config.js';
import {
  NOTE_COSIGNATURE_V1,
  NoteError,
  cosignNoteText,
  ed25519VerifierKey,
  formatNote,
  formatSignatureLine,
  formatVkey,
  rawEd25519PublicKey,
  signNoteText,
} from '../ledger/signed-note.js';
import { checkpointText } from '../ledger/tlog-checkpoint.js';
import { addCheckpointBody, cosignatureFrom, parseSizeBody } from './witness-client.js';
import { loadWitnesses, parseWitnessesFile } from './witnesses-file.js';

const ORIGIN = 'log.example/tlog';
const { privateKey: logKey } = generateKeyPairSync('ed25519');
const { privateKey: witnessKey } = generateKeyPairSync('ed25519');
const { privateKey: otherKey } = generateKeyPairSync('ed25519');
const NAME = 'witness.example/w1';
const witness = ed25519VerifierKey(NAME, rawEd25519PublicKey(witnessKey), NOTE_COSIGNATURE_V1);
const text = checkpointText({ origin: ORIGIN, treeSize: 5, rootHash: 'ab'.repeat(32) });
const note = formatNote({ text, signatures: [signNoteText(text, ORIGIN, logKey)] });

describe('the witness’s answers', () => {
  it('takes the cosignature of the witness’s key, with its timestamp, ignoring other lines', () => {
    const line = formatSignatureLine(cosignNoteText(text, NAME, witnessKey, 1_700_000_000));
    const stranger = formatSignatureLine(cosignNoteText(text, 'x.example/w', otherKey, 5));
    expect(cosignatureFrom(note, `${stranger}${line}`, witness)).toEqual({
      line: line.slice(0, -1),
      timestamp: 1_700_000_000,
    });
  });

  it('refuses an answer without its cosignature, with a bad one, or not made of lines', () => {
    const other = formatSignatureLine(cosignNoteText(text, NAME, otherKey, 5));
    expect(() => cosignatureFrom(note, other, witness)).toThrow(NoteError);
    const ofAnotherText = cosignNoteText(text.replace('\n5\n', '\n6\n'), NAME, witnessKey, 5);
    expect(() => cosignatureFrom(note, formatSignatureLine(ofAnotherText), witness)).toThrow(
      /does not verify/,
    );
    expect(() => cosignatureFrom(note, 'ok', witness)).toThrow(NoteError);
    expect(() => cosignatureFrom(note, '\n', witness)).toThrow(NoteError);
  });

  it('reads a 409’s size and nothing else', () => {
    expect(parseSizeBody('42\n')).toBe(42);
    for (const bad of ['42', '042\n', '-1\n', '9007199254740993\n', '<html>'])
      expect(() => parseSizeBody(bad)).toThrow(NoteError);
  });

  it('sends the old size, the proof in base64 and the note', () => {
    expect(addCheckpointBody(3, ['00'.repeat(32)], note)).toBe(
      `old 3\n${Buffer.alloc(32).toString('base64')}\n\n${note}`,
    );
  });
});

describe('the witnesses file', () => {
  const vkey = formatVkey(witness);

  it('names each witness by its vkey', () => {
    const [w] = parseWitnessesFile(
      `witnesses:\n  - vkey: ${vkey}\n    url: http://w.example/w1/\n`,
    );
    expect(w).toMatchObject({ name: NAME, vkey, url: 'http://w.example/w1' });
  });

  it.each([
    ['no list', 'witnesses: 3\n', /a list/],
    [
      'a log key for a witness',
      `witnesses:\n  - vkey: ${formatVkey(ed25519VerifierKey(NAME, rawEd25519PublicKey(witnessKey)))}\n    url: http://w\n`,
      /type 0x04/,
    ],
    [
      'a witness twice',
      `witnesses:\n  - {vkey: "${vkey}", url: "http://a"}\n  - {vkey: "${vkey}", url: "http://b"}\n`,
      /twice/,
    ],
    ['a URL of another scheme', `witnesses:\n  - {vkey: "${vkey}", url: "ftp://a"}\n`, /http/],
  ])('refuses %s', (_, text, reason) => {
    expect(() => parseWitnessesFile(text)).toThrow(reason);
  });

  it('refuses, as configuration, a quorum above the number of witnesses', () => {
    const dir = mkdtempSync(join(tmpdir(), 'witnesses-'));
    const file = join(dir, 'w.yaml');
    writeFileSync(file, `witnesses:\n  - {vkey: "${vkey}", url: "http://a"}\n`);
    const base = { witnessesFile: file, alertAfterSeconds: 1, retryMaxSeconds: 1 };
    expect(loadWitnesses({ ...base, quorum: undefined }).quorum).toBe(1);
    expect(() => loadWitnesses({ ...base, quorum: 2 })).toThrow(ConfigError);
    writeFileSync(file, 'witnesses: [');
    expect(() => loadWitnesses({ ...base, quorum: undefined })).toThrow(/GATEHOUSE_WITNESSES/);
    rmSync(dir, { recursive: true });
  });
});
