import { beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import {
  ed25519VerifierKey,
  hexId,
  parseNote,
  rawEd25519PublicKey,
} from '../ledger/signed-note.js';
import type { ReportBody, ReportFile } from './report-document.js';
import { verifyReport, type ReportVerification } from './report-verify.js';
import {
  syntheticNote,
  syntheticReport,
  syntheticWitness,
  type SyntheticReport,
} from '../../test/support/synthetic-report.js';

const failuresOf = (r: ReportVerification): string[] =>
  r.failures.map((f) => `${f.check}: ${f.detail}`);

describe('verifyReport: the checkpoint note and its witnesses', () => {
  let fixture: SyntheticReport;
  let body: ReportBody;
  /** The report with another note, signed again by the ledger (the operator holds its key). */
  let withNote: (note: string | undefined) => Promise<string>;

  beforeAll(async () => {
    fixture = await syntheticReport();
    body = (JSON.parse(fixture.text) as ReportFile).report;
    withNote = (note) => {
      const report: { -readonly [K in keyof ReportBody]: ReportBody[K] } = { ...body };
      if (note === undefined) delete report.checkpointNote;
      else report.checkpointNote = note;
      return fixture.resign(report);
    };
  });

  const w1 = () => fixture.witnesses[0]!;
  const w2 = () => fixture.witnesses[1]!;

  it('accepts a genuine witnessed report, naming who cosigned and when', async () => {
    const one = await verifyReport(fixture.text, {
      jwks: fixture.jwks,
      witnesses: { keys: [w1().key], quorum: 1 },
    });
    expect(one.failures).toEqual([]);
    expect(one.witnessed).toEqual({
      origin: fixture.origin,
      treeSize: body.checkpoint.checkpoint.treeSize,
      checked: true,
      quorum: 1,
      trusted: 1,
      by: [{ witness: w1().key.name, timestamp: w1().timestamp }],
    });
    const both = await verifyReport(fixture.text, {
      witnesses: { keys: [w1().key, w2().key], quorum: 2 },
    });
    expect(both.ok).toBe(true);
    expect(both.witnessed?.by.map((b) => b.witness).sort()).toEqual(
      [w1().key.name, w2().key.name].sort(),
    );
  });

  it('without witness keys, lists the cosignatures as unchecked', async () => {
    const sut = await verifyReport(fixture.text);
    expect(sut.ok).toBe(true);
    expect(sut.witnessed).toEqual({
      origin: fixture.origin,
      treeSize: body.checkpoint.checkpoint.treeSize,
      checked: false,
      quorum: null,
      trusted: null,
      by: [
        { witness: w1().key.name, timestamp: w1().timestamp },
        { witness: w2().key.name, timestamp: w2().timestamp },
      ],
    });
  });

  it('fails when fewer than the quorum of trusted witnesses cosigned', async () => {
    const stranger = syntheticWitness('witness.example/w3', 1);
    const none = await verifyReport(fixture.text, {
      witnesses: { keys: [stranger.key], quorum: 1 },
    });
    expect(failuresOf(none)).toEqual([
      'witnesses: the checkpoint the report is proved against is cosigned by 0 of the 1 trusted witnesses; 1 needed: a history the witnesses did not see, e.g. a truncated or forked ledger',
    ]);
    expect(none.witnessed).toMatchObject({ checked: true, by: [] });
    const short = await verifyReport(fixture.text, {
      witnesses: { keys: [w1().key, stranger.key], quorum: 2 },
    });
    expect(failuresOf(short)).toEqual([
      expect.stringMatching(/^witnesses: .* cosigned by 1 of the 2 trusted witnesses; 2 needed: /),
    ]);
  });

  it('fails on a cosignature by a trusted witness that does not verify, still counting the others', async () => {
    const cp = body.checkpoint.checkpoint;
    // w1's genuine cosignature of another tree, put under this one.
    const elsewhere = parseNote(
      syntheticNote({ treeSize: cp.treeSize + 1, rootHash: 'ab'.repeat(32) }, fixture.ledgerKey, [
        w1(),
      ]),
    );
    const genuine = parseNote(body.checkpointNote!);
    const note = `${genuine.text}\n${[
      genuine.signatures[0],
      elsewhere.signatures[1],
      genuine.signatures[2],
    ]
      .map(
        (s) =>
          `— ${s!.name} ${Buffer.concat([Buffer.from(hexId(s!.keyId), 'hex'), s!.signature]).toString('base64')}\n`,
      )
      .join('')}`;
    const sut = await verifyReport(await withNote(note), {
      witnesses: { keys: [w1().key, w2().key], quorum: 1 },
    });
    expect(failuresOf(sut)).toEqual([
      `witnesses: the signature of ${w1().key.name} (key ${hexId(w1().key.keyId)}) does not verify: a trusted witness never signed this note`,
    ]);
    expect(sut.witnessed?.by).toEqual([{ witness: w2().key.name, timestamp: w2().timestamp }]);
  });

  it('fails on a note of another tree size or root than the report’s checkpoint', async () => {
    const cp = body.checkpoint.checkpoint;
    for (const other of [
      { treeSize: cp.treeSize - 1, rootHash: cp.rootHash },
      { treeSize: cp.treeSize, rootHash: 'cd'.repeat(32) },
    ]) {
      const note = syntheticNote(other, fixture.ledgerKey, fixture.witnesses);
      const sut = await verifyReport(await withNote(note), {
        witnesses: { keys: [w1().key], quorum: 1 },
      });
      // Witnessed, but another tree: the cosignatures vouch for nothing this report proves.
      expect(failuresOf(sut)).toEqual([
        `checkpoint note: the note states tree size ${other.treeSize} and root ${other.rootHash}, not the report's checkpoint (${cp.treeSize}, ${cp.rootHash})`,
      ]);
    }
  });

  it('fails on a note the ledger did not sign', async () => {
    const { privateKey: stranger } = generateKeyPairSync('ed25519');
    const note = syntheticNote(body.checkpoint.checkpoint, stranger, fixture.witnesses);
    const sut = await verifyReport(await withNote(note), { jwks: fixture.jwks });
    expect(failuresOf(sut)).toEqual([
      `checkpoint note: the note is not signed by a trusted ledger key under its origin ${fixture.origin}: no signature of a known key`,
    ]);
    // Under another origin, the ledger's key is another note key: the same refusal.
    const renamed = syntheticNote(
      body.checkpoint.checkpoint,
      fixture.ledgerKey,
      [],
      'other.example/log',
    ).replace('— other.example/log ', `— ${fixture.origin} `);
    expect(failuresOf(await verifyReport(await withNote(renamed)))).toEqual([
      expect.stringMatching(/^checkpoint note: the note is not signed by a trusted ledger key/),
    ]);
  });

  it('fails on a tampered note: the report signature covers it', async () => {
    const note = body.checkpointNote!;
    const lines = note.split('\n');
    lines[1] = String(Number(lines[1]) + 1);
    const file = JSON.parse(fixture.text) as { report: Record<string, unknown> };
    file.report['checkpointNote'] = lines.join('\n');
    const sut = await verifyReport(JSON.stringify(file));
    expect(failuresOf(sut)).toEqual(
      expect.arrayContaining([
        'signature: bad signature on the report',
        expect.stringMatching(/^checkpoint note: the note states tree size /),
        expect.stringMatching(/^checkpoint note: the note is not signed by a trusted ledger key/),
      ]),
    );
  });

  it('names a report without a note when witnesses are asked for, and accepts it otherwise', async () => {
    const text = await withNote(undefined);
    expect((await verifyReport(text)).ok).toBe(true);
    expect((await verifyReport(text)).witnessed).toBeNull();
    const sut = await verifyReport(text, { witnesses: { keys: [w1().key], quorum: 1 } });
    expect(failuresOf(sut)).toEqual([
      'witnesses: the report carries no checkpoint note, hence no cosignature (it was exported before reports carried one)',
    ]);
  });

  it('takes no ledger key for a witness: only cosignature keys count', async () => {
    // The ledger's own key, handed over as if it were a witness's: its signature is no cosignature.
    const ledgerKey = ed25519VerifierKey(fixture.origin, rawEd25519PublicKey(fixture.ledgerKey));
    const sut = await verifyReport(fixture.text, { witnesses: { keys: [ledgerKey], quorum: 1 } });
    expect(sut.ok).toBe(false);
    expect(sut.witnessed).toMatchObject({ trusted: 0, by: [] });
  });

  /**
   * The note is inside the signed report, so any change to it breaks the report's signature.
   * What the note's own checks add shows only against the party that can sign again — the
   * ledger's operator — so each changed note here is signed again with the ledger key. Then
   * every single-character change is refused, except inside the line of a witness the auditor
   * does not trust (w2): the spec ignores signatures of unknown keys, so such a change may leave
   * the verdict as it was — never better — or break the note's format, which is refused.
   */
  it('refuses any one-character change to the note, save in a line it ignores, even signed again by the ledger', async () => {
    const note = body.checkpointNote!;
    const ignoredFrom = note.indexOf(`— ${w2().key.name} `);
    const ignoredTo = note.indexOf('\n', ignoredFrom);
    expect(ignoredFrom).toBeGreaterThan(0);
    const trust = { jwks: fixture.jwks, witnesses: { keys: [w1().key], quorum: 1 } };
    const original = await verifyReport(fixture.text, trust);
    expect(original.ok).toBe(true);
    const replacement = fc.oneof(
      fc.constantFrom('\n', ' ', '+', '=', '/', '—', 'é', '\u0000'),
      fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: note.length - 1 }), replacement, async (at, char) => {
        fc.pre(note[at] !== char);
        const changed = note.slice(0, at) + char + note.slice(at + 1);
        const sut = await verifyReport(await withNote(changed), trust);
        if (at >= ignoredFrom && at < ignoredTo) {
          if (sut.ok) expect(sut.witnessed).toEqual(original.witnessed);
        } else {
          expect(sut.ok).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
    // The ignored line does admit changes that leave the verdict: a renamed untrusted witness.
    const renamed = note.replace(`— ${w2().key.name} `, '— witness.example/w9 ');
    const sut = await verifyReport(await withNote(renamed), trust);
    expect(sut).toMatchObject({ ok: true, witnessed: original.witnessed });
  });
});
