/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return --
   tampering edits the parsed file freely, wherever a test points */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { canonicalize } from '../ledger/canonical-json.js';
import type { ReportFile } from './report-document.js';
import { verifyReport } from './report-verify.js';
import { syntheticReport, type SyntheticReport } from '../../test/support/synthetic-report.js';

/** The report as JSON text after `change`; the change works on a fresh parsed copy. */
function edited(text: string, change: (file: Record<string, any>) => void): string {
  const file = JSON.parse(text) as Record<string, any>;
  change(file);
  return JSON.stringify(file);
}

async function failuresOf(text: string): Promise<string[]> {
  const sut = await verifyReport(text);
  expect(sut.ok).toBe(false);
  return sut.failures.map((f) => `${f.check}: ${f.detail}`);
}

describe('verifyReport', () => {
  let fixture: SyntheticReport;
  let seqOf: (type: string) => number;

  beforeAll(async () => {
    fixture = await syntheticReport();
    seqOf = (type) => fixture.file.report.events.find((e) => e.event.type === type)!.seq;
  });

  it('accepts an intact report, with its own keys or an auditor JWKS, across a key rotation', async () => {
    const sut = await verifyReport(fixture.text);
    expect(sut.failures).toEqual([]);
    expect(sut).toMatchObject({
      ok: true,
      keysFrom: 'report',
      canonicalFile: true,
      eventsChecked: fixture.file.report.events.length,
      proofsChecked: fixture.file.report.events.length,
      signaturesChecked: fixture.file.report.events.length + 3,
    });
    expect((await verifyReport(fixture.text, { jwks: fixture.jwks })).ok).toBe(true);
    // Pretty-printed, it still verifies (the content is signed), but is no longer the exported bytes.
    const pretty = await verifyReport(JSON.stringify(JSON.parse(fixture.text), null, 2));
    expect(pretty).toMatchObject({ ok: true, canonicalFile: false });
  });

  it('refuses keys the auditor does not trust', async () => {
    const sut = await verifyReport(fixture.text, { jwks: { keys: [fixture.jwks.keys[0]!] } });
    expect(sut.ok).toBe(false);
    expect(sut.failures.map((f) => f.check)).toEqual(
      expect.arrayContaining(['signature', 'checkpoint', `event seq ${seqOf('rollout.started')}`]),
    );
  });

  it('names an event signed by a trusted key that was not current at its seq', async () => {
    const rotated = seqOf('ledger.key.rotated');
    const before = fixture.file.report.events.find((e) => e.seq < rotated && e.seq > 1)!;
    const after = fixture.file.report.events.find((e) => e.seq > rotated)!;
    const text = edited(fixture.text, (f) => {
      const e = f['report'].events.find((x: { seq: number }) => x.seq === after.seq);
      e.jws = before.jws;
    });
    expect(await failuresOf(text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(
            `^event seq ${after.seq}: signed with \\S+, but the key current at this seq is `,
          ),
        ),
      ]),
    );
  });

  it('names a changed event byte: canonical form, hash and signature', async () => {
    const seq = seqOf('rollout.rolled_back');
    const text = edited(fixture.text, (f) => {
      const e = f['report'].events.find((x: { seq: number }) => x.seq === seq);
      e.canonical = e.canonical.replace('0.021', '0.011');
    });
    const failures = await failuresOf(text);
    expect(failures).toEqual(
      expect.arrayContaining([
        `event seq ${seq}: the canonical form is not the JCS of the event`,
        expect.stringMatching(new RegExp(`^event seq ${seq}: hash mismatch`)),
        `event seq ${seq}: bad signature`,
      ]),
    );
  });

  it('names a changed event object, and the figures that no longer match it', async () => {
    const seq = seqOf('promotion.approved');
    const text = edited(fixture.text, (f) => {
      const e = f['report'].events.find((x: { seq: number }) => x.seq === seq);
      e.event.payload.approvals[2].approver = 'mallory';
      e.canonical = canonicalize(e.event);
    });
    expect(await failuresOf(text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^event seq ${seq}: hash mismatch`)),
        `event seq ${seq}: bad signature`,
        expect.stringMatching(
          /^figures: promotions\[0\] \(promotion .*\): the approvals are not those of promotion.approved/,
        ),
      ]),
    );
  });

  it('names a changed proof and a changed checkpoint', async () => {
    const seq = fixture.file.report.events[3]!.seq;
    const proof = edited(fixture.text, (f) => {
      const p: string[] = f['report'].events[3].proof;
      p[p.length - 1] = 'f'.repeat(64);
    });
    expect(await failuresOf(proof)).toContain(
      `event seq ${seq}: the inclusion proof does not lead to the checkpoint root (tree size ${fixture.file.report.checkpoint.checkpoint.treeSize})`,
    );
    const root = edited(fixture.text, (f) => {
      f['report'].checkpoint.checkpoint.rootHash = '0'.repeat(64);
    });
    const failures = await failuresOf(root);
    expect(failures).toContain(
      'checkpoint: the signed checkpoint is not the one shown in the report',
    );
    expect(failures.filter((f) => f.includes('inclusion proof'))).toHaveLength(
      fixture.file.report.events.length,
    );
  });

  it('names changed figures: results, gates, request content, timeline and traffic', async () => {
    const cases: [(f: Record<string, any>) => void, RegExp][] = [
      [
        (f) =>
          (f['report'].evaluations[0].result.classification.fairness[0].groups[0].selectionRate =
            0.7),
        /^figures: evaluations\[0\] \(evaluation .*\): the result does not hash to resultSha256/,
      ],
      [
        (f) => (f['report'].evaluations[0].result.classification.performance.accuracy = 0.99),
        /^figures: evaluations\[0\] .*: headline accuracy differs from the headline of evaluation.completed/,
      ],
      [
        (f) => (f['report'].promotions[0].gateEvaluations[0].gates[1].passed = false),
        /^figures: promotions\[0\]\.gateEvaluations\[0\] .*: the gate results do not hash to evidenceSha256/,
      ],
      [
        (f) => (f['report'].promotions[0].content.rollbackCriteria.maxErrorRate.value = 0.5),
        /^figures: promotions\[0\]\.content\.rollbackCriteria\.maxErrorRate\.value does not match the ledger \(event seq \d+\)$/,
      ],
      [
        (f) =>
          (f['report'].rollouts[0].timeline[2].payload.evidence.rollbackCriteria[0].measured =
            0.001),
        new RegExp(
          `^figures: rollouts\\[0\\]\\.timeline\\[2\\]\\.payload\\.evidence\\.rollbackCriteria\\[0\\]\\.measured does not match the ledger \\(event seq ${seqOf('rollout.stage.passed')}\\)$`,
        ),
      ],
      [
        (f) => f['report'].rollouts[0].traffic.pop(),
        /^figures: rollouts\[0\]\.traffic\[3\] does not match the ledger/,
      ],
      [
        (f) => (f['report'].models[0].modelCard.limitations = 'None at all.'),
        /^figures: models\[0\]\.modelCard\.limitations does not match the ledger \(event seq 2\)$/,
      ],
      [
        (f) => (f['report'].models[0].versions[0].futureMember.kept = false),
        /^figures: models\[0\]\.versions\[0\]\.futureMember\.kept does not match the ledger \(event seq 3\)$/,
      ],
    ];
    for (const [change, expected] of cases) {
      const failures = await failuresOf(edited(fixture.text, change));
      expect(failures).toContain('signature: bad signature on the report');
      expect(failures).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
    }
  });

  it('names a section left out with its events, and an event left out from under its section', async () => {
    const dropped = edited(fixture.text, (f) => {
      f['report'].promotions[0].approvals.splice(1, 1);
    });
    expect(await failuresOf(dropped)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^figures: promotions\[0\]\.approvals\[1\]\.\w+ does not match the ledger/,
        ),
      ]),
    );
    const hidden = edited(fixture.text, (f) => {
      const seq = seqOf('rollout.rolled_back');
      f['report'].events = f['report'].events.filter((e: { seq: number }) => e.seq !== seq);
    });
    expect(await failuresOf(hidden)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^figures: rollouts\[0\]/)]),
    );
  });

  it('names a changed signature, even in the unused bits of its last character', async () => {
    const s = fixture.file.signature;
    const last = s.at(-1)!;
    // Ed25519: 64 bytes in 86 base64url characters, the last carrying 4 bits and 2 unused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    const at = s.indexOf('..') + 10;
    for (const signature of [
      `${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`,
      s.slice(0, -1) + sibling,
    ]) {
      const text = edited(fixture.text, (f) => {
        f['signature'] = signature;
      });
      expect(await failuresOf(text)).toEqual(['signature: bad signature on the report']);
    }
  });

  it('fails on any changed byte of the file that changes what it says', async () => {
    const original = canonicalize(JSON.parse(fixture.text));
    const text = fixture.text;
    // Deterministic sample of positions: every region of the file, ~250 edits.
    const step = Math.max(1, Math.floor(text.length / 250));
    let checked = 0;
    for (let i = 7; i < text.length; i += step) {
      const c = text[i]!;
      const replacement = /[0-9]/.test(c) ? String((Number(c) + 1) % 10) : c === 'a' ? 'b' : 'a';
      const changed = text.slice(0, i) + replacement + text.slice(i + 1);
      let same = false;
      try {
        same = canonicalize(JSON.parse(changed)) === original;
      } catch {
        same = false;
      }
      if (same) continue;
      const sut = await verifyReport(changed);
      if (sut.ok) throw new Error(`a change at ${i} (${c} -> ${replacement}) went unnoticed`);
      checked++;
    }
    expect(checked).toBeGreaterThan(200);
  });

  it('says what is wrong with a file that is not a report, without throwing', async () => {
    expect((await verifyReport('not json')).failures[0]).toMatchObject({ check: 'format' });
    expect((await verifyReport('{"report":{}}')).failures).toEqual([
      { check: 'format', detail: 'signature is missing' },
    ]);
    const sectionless = edited(fixture.text, (f) => {
      f['report'].promotions = [{ nonsense: true }];
    });
    const sut = await verifyReport(sectionless);
    expect(sut.ok).toBe(false);
    expect(sut.failures.map((f) => f.check)).toContain('figures');
  });

  it('keeps the report file type-checked shape', () => {
    const file: ReportFile = fixture.file;
    expect(file.report.rollouts[0]).toMatchObject({ status: 'ROLLED_BACK', version: 2 });
    expect(file.report.promotions[0]).toMatchObject({ status: 'ROLLED_BACK' });
  });
});
