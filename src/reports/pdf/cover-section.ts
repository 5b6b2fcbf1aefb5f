/** The cover: subject, period, the checkpoint the report is anchored to, contents, how to verify. */
import { kidOf } from '../../ledger/jws-verify.js';
import type { ReportBody } from '../report-document.js';
import { dateTime } from './pdf-text.js';
import { ACCENT, INK, MARGIN, MUTED, type PdfWriter } from './pdf-writer.js';

export function cover(pdf: PdfWriter, report: ReportBody, signature: string): void {
  const doc = pdf.doc;
  const cp = report.checkpoint.checkpoint;
  doc.fillColor(ACCENT).font('Helvetica-Bold').fontSize(11).text('GATEHOUSE', MARGIN, 70);
  doc.fillColor(INK).fontSize(26).text('Audit report', MARGIN, 100);
  doc
    .fontSize(15)
    .font('Helvetica')
    .text(describeSubject(report), MARGIN, 138, { width: pdf.width });
  doc.moveDown(1.2);
  pdf.keyValues([
    ['Subject', report.subject.text],
    ['Period', `${dateTime(report.period.from)} to ${dateTime(report.period.to)}`],
    [
      'Generated',
      `${dateTime(report.generatedAt)} by ${report.generatedBy.sub} (${report.generatedBy.roles.join(', ')})`,
    ],
    ['Report id', report.id],
    ['Ledger events', String(report.events.length)],
  ]);
  pdf.space(10);
  pdf.heading2('Anchored to signed checkpoint');
  pdf.keyValues(
    [
      ['Tree size', String(cp.treeSize)],
      ['Root hash', cp.rootHash],
      ['Checkpoint time', dateTime(cp.ts)],
      ['Signed by key', kidOf(report.checkpoint.jws) ?? ''],
      ['Report signed by', kidOf(signature) ?? ''],
    ],
    true,
  );
  pdf.space(10);
  pdf.heading2('Contents');
  const items = [
    `Model cards (${report.models.length})`,
    `Evaluations with fairness per group (${report.evaluations.length})`,
    `Promotion requests, rollback criteria, approvals and gates (${report.promotions.length})`,
    `Rollouts with chart and timeline (${report.rollouts.length})`,
    `Ledger events (${report.events.length})`,
  ];
  for (const item of items) pdf.bullet(item);
  pdf.space(10);
  pdf.heading2('How to verify this report');
  pdf.paragraph(
    'This PDF is rendered from the signed JSON report of the same id. Every event listed is in ' +
      'the signed ledger: each carries its hash, its signature and a Merkle inclusion proof ' +
      'against the checkpoint above. With only the JSON file and the ledger public keys, run:',
  );
  pdf.code(`npx gatehouse verify-report report-${report.id}.json --jwks jwks.json`);
  pdf.paragraph(
    'It exits 0 when the report signature, every event hash and signature, every inclusion ' +
      'proof and every figure agree with the ledger, and names what fails otherwise. ' +
      'docs/audit-reports.md shows the same checks with openssl, sha256sum and jq.',
    MUTED,
  );
  pdf.paragraph(
    'Add --witnesses witnesses.yaml (or --witness-key for each witness key you trust) to also ' +
      'check that outside witnesses cosigned the checkpoint: proof that the ledger showed ' +
      'them this same history.',
    MUTED,
  );
}

function describeSubject(report: ReportBody): string {
  const s = report.subject;
  switch (s.kind) {
    case 'model':
      return `Model ${s.model}, all versions`;
    case 'modelVersion':
      return `Model ${s.model}, version ${s.version}`;
    case 'promotion':
      return `Promotion request ${s.id}`;
    case 'rollout':
      return `Rollout ${s.id}`;
    case 'period':
      return `Everything recorded from ${dateTime(s.from)} to ${dateTime(s.to)}`;
  }
}
