import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EMPTY_ROOT, consistencyProof, leafHash, rootOf } from '../ledger/merkle.js';
import {
  ed25519VerifierKey,
  formatNote,
  rawEd25519PublicKey,
  signNoteText,
} from '../ledger/signed-note.js';
import { checkpointText } from '../ledger/tlog-checkpoint.js';
import {
  MAX_PROOF_LINES,
  WitnessRefusal,
  judgeAddCheckpoint,
  parseAddCheckpoint,
  type CosignedState,
} from './add-checkpoint.js';

const ORIGIN = 'log.example/tlog';
const { privateKey: logKey } = generateKeyPairSync('ed25519');
const { privateKey: otherKey } = generateKeyPairSync('ed25519');
const trusted = [ed25519VerifierKey(ORIGIN, rawEd25519PublicKey(logKey))];

const leaves = (tag: string, n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${tag}-${i}`)));

function rootHex(hashes: readonly Buffer[], size: number): string {
  return (size === 0 ? EMPTY_ROOT : rootOf(hashes.slice(0, size))).toString('hex');
}

function noteOf(size: number, root: string, key = logKey, origin = ORIGIN): string {
  const text = checkpointText({ origin, treeSize: size, rootHash: root });
  return formatNote({ text, signatures: [signNoteText(text, origin, key)] });
}

function body(old: number, proof: readonly Buffer[], note: string): string {
  return `old ${old}\n${proof.map((h) => `${h.toString('base64')}\n`).join('')}\n${note}`;
}

/** A valid submission of the tree `hashes` at `size` to a witness that cosigned `old`. */
function submission(hashes: readonly Buffer[], old: number, size: number): string {
  const proof = old === 0 ? [] : consistencyProof(old, size, hashes);
  return body(old, proof, noteOf(size, rootHex(hashes, size)));
}

function judge(text: string, state: CosignedState | undefined): CosignedState {
  const accepted = judgeAddCheckpoint(parseAddCheckpoint(text), trusted, state);
  return { treeSize: accepted.checkpoint.treeSize, rootHash: accepted.checkpoint.rootHash };
}

function refusal(run: () => unknown): WitnessRefusal {
  try {
    run();
  } catch (error) {
    if (error instanceof WitnessRefusal) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('parseAddCheckpoint', () => {
  it('reads the specification’s example request', () => {
    const example = [
      'old 20852014',
      'PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=',
      'jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=',
      '5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=',
      '/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=',
      '',
      'example.com/behind-the-sofa',
      '20852163',
      'CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=',
      '',
      '— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=',
      '— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=',
      '',
    ].join('\n');
    const request = parseAddCheckpoint(example);
    expect(request.oldSize).toBe(20852014);
    expect(request.proof).toHaveLength(4);
    expect(request.checkpoint.origin).toBe('example.com/behind-the-sofa');
    expect(request.checkpoint.treeSize).toBe(20852163);
    expect(request.note.signatures).toHaveLength(2);
  });

  const note = noteOf(3, rootHex(leaves('a', 3), 3));
  const hash = Buffer.alloc(32, 7).toString('base64');
  it.each([
    ['no blank line', `old 0\n${note.replace(/\n\n/g, '\n')}`, /blank line/],
    ['no old line', `\n${note}`, /"old <size>"/],
    ['a leading zero', `old 01\n\n${note}`, /"old <size>"/],
    ['a negative size', `old -1\n\n${note}`, /"old <size>"/],
    ['a size beyond 2^53', `old 9007199254740993\n\n${note}`, /beyond the sizes/],
    ['64 proof lines', `old 1\n${`${hash}\n`.repeat(MAX_PROOF_LINES + 1)}\n${note}`, /at most 63/],
    ['a short hash', `old 1\n${Buffer.alloc(31).toString('base64')}\n\n${note}`, /proof line 1/],
    ['URL-safe base64', `old 1\n${hash.replace(/B/g, '-')}x\n\n${note}`, /proof line 1/],
    ['a CR line ending', `old 1\r\n\n${note}`, /"old <size>"/],
    ['a note without signatures', `old 0\n\nlog.example/tlog\n3\n${hash}\n`, /the checkpoint: /],
    [
      'a checkpoint size beyond 2^53',
      `old 0\n\nlog.example/tlog\n9007199254740993\n${hash}\n\n— x AAAAAAAA\n`,
      /tree size/,
    ],
    [
      'a checkpoint with two lines',
      `old 0\n\nlog.example/tlog\n3\n\n— x AAAAAAAA\n`,
      /the checkpoint/,
    ],
  ])('refuses %s with 400', (_, text, reason) => {
    const refused = refusal(() => parseAddCheckpoint(text));
    expect(refused.status).toBe(400);
    expect(refused.message).toMatch(reason);
  });

  it('accepts 63 proof lines', () => {
    expect(parseAddCheckpoint(`old 1\n${`${hash}\n`.repeat(63)}\n${note}`).proof).toHaveLength(63);
  });
});

describe('judgeAddCheckpoint', () => {
  const hashes = leaves('a', 40);

  it('cosigns a first checkpoint from old size 0, then one consistent with it', () => {
    const first = judge(submission(hashes, 0, 10), undefined);
    expect(first).toEqual({ treeSize: 10, rootHash: rootHex(hashes, 10) });
    expect(judge(submission(hashes, 10, 25), first)).toEqual({
      treeSize: 25,
      rootHash: rootHex(hashes, 25),
    });
  });

  it('answers 404 for an origin it does not witness, before looking at signatures', () => {
    const request = parseAddCheckpoint(
      body(0, [], noteOf(3, rootHex(hashes, 3), otherKey, 'other.example/log')),
    );
    expect(refusal(() => judgeAddCheckpoint(request, undefined, undefined)).status).toBe(404);
  });

  it('answers 403 without a trusted signature, or with a trusted one that fails', () => {
    const byOther = body(0, [], noteOf(3, rootHex(hashes, 3), otherKey));
    expect(refusal(() => judge(byOther, undefined)).status).toBe(403);
    const tampered = submission(hashes, 0, 3).replace(/\n3\n/, '\n4\n');
    expect(refusal(() => judge(tampered, undefined)).status).toBe(403);
  });

  it('answers 400 when the old size is beyond the checkpoint', () => {
    const state = judge(submission(hashes, 0, 20), undefined);
    const refused = refusal(() => judge(body(20, [], noteOf(5, rootHex(hashes, 5))), state));
    expect(refused.status).toBe(400);
  });

  it('answers 409 with its size when the old size is not the one it cosigned', () => {
    const state = judge(submission(hashes, 0, 20), undefined);
    const refused = refusal(() => judge(submission(hashes, 0, 30), state));
    expect([refused.status, refused.latestSize]).toEqual([409, 20]);
    const behind = refusal(() => judge(submission(hashes, 10, 15), state));
    expect([behind.status, behind.latestSize]).toEqual([409, 20]);
  });

  it('answers 422 for a proof from 0, equal sizes with another root, a bad empty tree', () => {
    const state = judge(submission(hashes, 0, 8), undefined);
    const fromZero = body(0, [Buffer.alloc(32)], noteOf(8, rootHex(hashes, 8)));
    expect(refusal(() => judge(fromZero, undefined)).status).toBe(422);
    const fork = leaves('b', 8);
    expect(refusal(() => judge(submission(fork, 8, 8), state)).status).toBe(422);
    const emptyButNot = body(0, [], noteOf(0, rootHex(hashes, 3)));
    expect(refusal(() => judge(emptyButNot, undefined)).status).toBe(422);
    expect(judge(body(0, [], noteOf(0, EMPTY_ROOT.toString('hex'))), undefined).treeSize).toBe(0);
  });

  it('cosigns any sequence of consistent submissions, the size never decreasing', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }), (sizes) => {
        let state: CosignedState | undefined;
        for (const size of [...sizes].sort((a, b) => a - b)) {
          const next = judge(submission(hashes, state?.treeSize ?? 0, size), state);
          expect(next.treeSize).toBeGreaterThanOrEqual(state?.treeSize ?? 0);
          expect(next).toEqual({ treeSize: size, rootHash: rootHex(hashes, size) });
          state = next;
        }
      }),
    );
  });

  it('refuses any submission of a fork, and never moves its state for a refused one', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 10 }),
        fc.nat(),
        (old, grow, at) => {
          const state = judge(submission(hashes, 0, old), undefined);
          // The same log with one leaf below the cosigned size changed: a fork.
          const fork = [...hashes];
          const changed = at % old;
          fork[changed] = leafHash(Buffer.from(`forged-${changed}`));
          const size = old + grow;
          const refused = refusal(() => judge(submission(fork, old, size), state));
          expect(refused.status).toBe(422);
          // A rollback: a smaller size, however it is presented.
          if (old > 1) {
            const back = refusal(() => judge(submission(hashes, old - 1, old - 1), state));
            expect(back.status).toBe(409);
          }
          expect(judge(submission(hashes, old, size), state).treeSize).toBe(size);
        },
      ),
    );
  });

  it('refuses a proof with any one hash changed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 38 }),
        fc.integer({ min: 1, max: 39 }),
        fc.nat(),
        fc.integer({ min: 0, max: 31 }),
        (old, grow, pick, byte) => {
          const size = Math.min(40, old + grow);
          fc.pre(size > old);
          const state = judge(submission(hashes, 0, old), undefined);
          const proof = consistencyProof(old, size, hashes);
          const i = pick % proof.length;
          const bent = proof.map((h, j) => {
            if (j !== i) return h;
            const copy = Buffer.from(h);
            copy[byte] = (copy[byte] ?? 0) ^ 1;
            return copy;
          });
          const text = body(old, bent, noteOf(size, rootHex(hashes, size)));
          expect(refusal(() => judge(text, state)).status).toBe(422);
        },
      ),
    );
  });
});
