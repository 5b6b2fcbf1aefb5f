import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import {
  cosignNoteText,
  ed25519VerifierKey,
  formatNote,
  formatSignatureLine,
  formatVkey,
  NOTE_COSIGNATURE_V1,
  NOTE_ED25519,
  NoteError,
  parseNote,
  parseNoteSignerKey,
  parseVkey,
  parseVkeyAsync,
  rawEd25519PublicKey,
  signNoteText,
  verifyNote,
  verifyNoteAsync,
  withSignatures,
} from './signed-note.js';
import { checkpointText, parseCheckpointText } from './tlog-checkpoint.js';

// The example of c2sp.org/signed-note ("Verifier keys", "Example").
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

// The example of Go's golang.org/x/mod/sumdb/note, the reference implementation: a private key
// whose signature of the text is published, so signing must give the same bytes (Ed25519 is
// deterministic).
const GO_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const GO_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const GO_SIGNATURE_LINE =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

// The example of c2sp.org/tlog-checkpoint.
const SPEC_CHECKPOINT =
  'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

function newKey() {
  return generateKeyPairSync('ed25519').privateKey;
}

describe('signed notes (c2sp.org/signed-note)', () => {
  it("verifies the specification's example note with its verifier key", () => {
    const key = parseVkey(SPEC_VKEY);
    expect(key).toMatchObject({ name: 'example.com/foo', keyId: 0x530d903a, type: NOTE_ED25519 });
    const note = parseNote(SPEC_NOTE);
    expect(note.text).toBe('This is an example message.\n');
    expect(verifyNote(note, [key])).toEqual([{ key }]);
    expect(formatNote(note)).toBe(SPEC_NOTE);
  });

  it('verifies the same with WebCrypto, as the browser and the offline report verifier do', async () => {
    const key = await parseVkeyAsync(SPEC_VKEY);
    expect(key).toEqual(parseVkey(SPEC_VKEY));
    expect(await verifyNoteAsync(parseNote(SPEC_NOTE), [key])).toEqual([{ key }]);
    await expect(parseVkeyAsync(SPEC_VKEY.replace('+530d903a+', '+530d903b+'))).rejects.toThrow(
      /does not match/,
    );
    const go = parseNote(`${GO_TEXT}\n${GO_SIGNATURE_LINE}`);
    await expect(
      verifyNoteAsync({ ...go, text: GO_TEXT.replace('If', 'Of') }, [parseVkey(GO_VKEY)]),
    ).rejects.toThrow(/does not verify/);
  });

  it('signs the Go reference example byte for byte, and derives its verifier key', () => {
    const { key, privateKey } = parseNoteSignerKey(GO_SKEY);
    expect(formatVkey(key)).toBe(GO_VKEY);
    const signature = signNoteText(GO_TEXT, 'PeterNeumann', privateKey);
    expect(formatSignatureLine(signature)).toBe(GO_SIGNATURE_LINE);
    const note = `${GO_TEXT}\n${GO_SIGNATURE_LINE}`;
    expect(verifyNote(parseNote(note), [parseVkey(GO_VKEY)])).toHaveLength(1);
  });

  it('ignores signatures of unknown keys, refuses a bad one of a known key, and a note with none known', () => {
    const stranger = newKey();
    const other = signNoteText(GO_TEXT, 'PeterNeumann', stranger);
    const { privateKey } = parseNoteSignerKey(GO_SKEY);
    const good = signNoteText(GO_TEXT, 'PeterNeumann', privateKey);
    const known = parseVkey(GO_VKEY);
    // Same name, another key ID: not the known key, ignored.
    expect(verifyNote({ text: GO_TEXT, signatures: [other, good] }, [known])).toHaveLength(1);
    // The known key's name and ID with a signature that does not verify: refused.
    const forged = { ...good, signature: other.signature };
    expect(() => verifyNote({ text: GO_TEXT, signatures: [good, forged] }, [known])).toThrow(
      /does not verify/,
    );
    expect(() => verifyNote({ text: GO_TEXT, signatures: [other] }, [known])).toThrow(
      /no signature of a known key/,
    );
  });

  it('refuses every mangling of a verifier key (as the reference implementation tests)', () => {
    const bytes = Buffer.from(GO_VKEY, 'utf8');
    for (let i = 0; i <= bytes.length; i++)
      for (let j = i + 1; j <= bytes.length; j++)
        if (i !== 0 || j !== bytes.length)
          expect(() => parseVkey(bytes.subarray(i, j).toString('utf8'))).toThrow(NoteError);
    for (let i = 0; i < bytes.length; i++) {
      const changed = Buffer.from(bytes);
      changed[i] = (changed[i] ?? 0) + 1;
      expect(() => parseVkey(changed.toString('latin1'))).toThrow(NoteError);
    }
    // Wrong length and unknown type, each with a key ID computed to match.
    expect(() =>
      parseVkey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='),
    ).toThrow(NoteError);
    expect(() =>
      parseVkey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'),
    ).toThrow(NoteError);
  });

  it('refuses malformed notes with a reason', () => {
    const cases: [string, RegExp][] = [
      ['no signatures\n', /no blank line/],
      ['text\n\n', /em dash/],
      ['text\n\n— name\n', /signature line is/],
      ['text\n\n— na+me AAAAAAA=\n', /key name/],
      ['text\n\n— name AAAA\n', /key ID and at least one byte/],
      ['text\n\n— name not base64!\n', /base64/],
      ['te\u0000xt\n\n— name AAAAAAA=\n', /control character/],
      ['te\ud800xt\n\n— name AAAAAAA=\n', /valid UTF-8/],
      [`text\n\n${'— name AAAAAAA=\n'.repeat(65)}`, /at most 64 signatures/],
      ['text\n\n— name AAAAAAA=', /ends with a newline/],
    ];
    for (const [note, reason] of cases) expect(() => parseNote(note)).toThrow(reason);
  });

  it('keeps the text up to the last blank line, so a text may hold blank lines', () => {
    const { privateKey } = parseNoteSignerKey(GO_SKEY);
    const text = 'first\n\nthird\n';
    const note = formatNote({ text, signatures: [signNoteText(text, 'PeterNeumann', privateKey)] });
    expect(parseNote(note).text).toBe(text);
    expect(verifyNote(parseNote(note), [parseVkey(GO_VKEY)])).toHaveLength(1);
  });

  it('verifies what it signs, and refuses any change of the text', () => {
    const privateKey = newKey();
    const key = ed25519VerifierKey('log.example/a', rawEd25519PublicKey(privateKey));
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'grapheme', minLength: 1 }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (lines, at) => {
          const clean = lines.map((l) => l.replace(/[\u0000-\u001f]/g, '') || 'x');
          const text = `${clean.join('\n')}\n`;
          const note = formatNote({ text, signatures: [signNoteText(text, key.name, privateKey)] });
          expect(verifyNote(parseNote(note), [key])).toEqual([{ key }]);
          const bytes = Buffer.from(text, 'utf8');
          const i = at % (bytes.length - 1);
          bytes[i] = bytes[i] === 0x61 ? 0x62 : 0x61;
          const changed = bytes.toString('utf8');
          expect(() =>
            verifyNote({ text: changed, signatures: parseNote(note).signatures }, [key]),
          ).toThrow(NoteError);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('cosignatures (c2sp.org/tlog-cosignature, Ed25519)', () => {
  it('signs "cosignature/v1", the time and the text under a 0x04 key; the time is read back', async () => {
    const witness = newKey();
    const text = checkpointText({
      origin: 'example.com/behind-the-sofa',
      treeSize: 20852163,
      rootHash: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64').toString(
        'hex',
      ),
    });
    expect(text).toBe(SPEC_CHECKPOINT);
    const co = cosignNoteText(text, 'witness.example/w1', witness, 1679315147);
    expect(co.signature).toHaveLength(72);
    const cosigner = ed25519VerifierKey(
      'witness.example/w1',
      rawEd25519PublicKey(witness),
      NOTE_COSIGNATURE_V1,
    );
    expect(co.keyId).toBe(cosigner.keyId);
    // The same key as a plain note signer has another ID: the types are kept apart.
    expect(ed25519VerifierKey('witness.example/w1', rawEd25519PublicKey(witness)).keyId).not.toBe(
      cosigner.keyId,
    );
    const log = newKey();
    const logKey = ed25519VerifierKey('example.com/behind-the-sofa', rawEd25519PublicKey(log));
    const note = withSignatures({ text, signatures: [signNoteText(text, logKey.name, log)] }, [
      co,
      co,
    ]);
    expect(note.signatures).toHaveLength(2);
    const parsed = parseNote(formatNote(note));
    expect(verifyNote(parsed, [logKey, cosigner])).toEqual([
      { key: logKey },
      { key: cosigner, timestamp: 1679315147 },
    ]);
    expect(await verifyNoteAsync(parsed, [logKey, cosigner])).toEqual(
      verifyNote(parsed, [logKey, cosigner]),
    );
    // Another time in the signature's first eight bytes: refused.
    const moved = Uint8Array.from(co.signature);
    moved[7] = (moved[7] ?? 0) ^ 1;
    expect(() =>
      verifyNote({ text, signatures: [{ ...co, signature: moved }] }, [cosigner]),
    ).toThrow(/does not verify/);
  });
});

describe('checkpoint notes (c2sp.org/tlog-checkpoint)', () => {
  it("reads the specification's example and writes it back the same", () => {
    const c = parseCheckpointText(SPEC_CHECKPOINT);
    expect(c).toEqual({
      origin: 'example.com/behind-the-sofa',
      treeSize: 20852163,
      rootHash: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64').toString(
        'hex',
      ),
      extensions: [],
    });
    expect(checkpointText(c)).toBe(SPEC_CHECKPOINT);
  });

  it('refuses a malformed checkpoint with a reason', () => {
    const root = 'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=';
    const cases: [string, RegExp][] = [
      [`o\n01\n${root}\n`, /leading zeroes/],
      [`o\n-1\n${root}\n`, /leading zeroes/],
      [`o\n1\n${root.slice(1)}\n`, /32 bytes/],
      [`o\n1\n`, /origin, a tree size and a root hash/],
      [`o p\n1\n${root}\n`, /origin/],
      [`o\n1\n${root}\n\n`, /extension line/],
      [`o\n1\n${root}`, /newline/],
    ];
    for (const [text, reason] of cases) expect(() => parseCheckpointText(text)).toThrow(reason);
  });
});
