/**
 * A promotion request: what was asked and why, its rollout plan and rollback criteria, the
 * approvals with their statements, and every gate evaluation.
 */
import type { PromotionSection } from '../report-document.js';
import { dateTime, listOf, object, short, show } from './pdf-text.js';
import { FAIL, MUTED, PASS, type PdfWriter } from './pdf-writer.js';

export function promotion(pdf: PdfWriter, p: PromotionSection): void {
  pdf.newSection(`Promotion request ${p.id}`);
  const c = p.content ?? {};
  pdf.keyValues([
    ['Status', p.status],
    ['Endpoint', show(c['endpoint'] ?? '')],
    [
      'Version',
      `${show(c['model'] ?? '')}@${show(c['version'] ?? '')} (risk tier ${show(c['riskTier'] ?? '')})`,
    ],
    [
      'Live version replaced',
      c['liveVersion'] === null || c['liveVersion'] === undefined
        ? 'none (first version of the endpoint)'
        : show(c['liveVersion']),
    ],
    ['Strategy', show(c['strategy'] ?? '')],
    [
      'Requested',
      `${dateTime(p.requestedAt)} by ${p.requestedBy ?? ''} (event ${p.requestedSeq ?? '-'})`,
    ],
    ['Request digest', p.requestDigest ?? ''],
    ['Required roles', listOf(p.requiredRoles)],
  ]);
  pdf.heading3('Justification');
  pdf.paragraph(show(c['justification'] ?? ''));
  const plan = object(c['plan'] ?? null);
  if (plan && Object.keys(plan).length > 0) {
    pdf.heading3('Rollout plan');
    for (const [stage, settings] of Object.entries(plan))
      pdf.bullet(
        `${stage}: ${Object.entries(object(settings) ?? {})
          .map(([k, v]) => `${k} ${show(v)}`)
          .join(', ')}`,
      );
  }
  const criteria = object(c['rollbackCriteria'] ?? null) ?? {};
  pdf.heading3('Rollback criteria');
  pdf.table(
    [
      { header: 'Criterion', width: 170 },
      { header: 'Threshold', width: 90, align: 'right' },
      { header: 'Evaluated over', width: 235 },
    ],
    Object.entries(criteria)
      .filter(([k]) => k !== 'rationale')
      .map(([k, v]) => {
        const t = object(v) ?? {};
        const w = object(t['window'] ?? null) ?? {};
        return [
          { text: k },
          { text: show(t['value'] ?? '') },
          {
            text: `at least ${show(w['minRequests'] ?? '-')} requests, ${show(w['seconds'] ?? '-')} s window`,
          },
        ];
      }),
  );
  pdf.paragraph(`Rationale: ${show(criteria['rationale'] ?? '(none)')}`, MUTED);

  pdf.heading3('Approvals');
  pdf.table(
    [
      { header: 'Role', width: 150 },
      { header: 'Approver', width: 70 },
      { header: "Approver's roles", width: 115 },
      { header: 'When', width: 120 },
      { header: 'Event', width: 40, align: 'right' },
    ],
    p.approvals.map((a) => [
      { text: a.role + (a.signOff ? ' (sign-off)' : ''), bold: a.signOff },
      { text: a.approver },
      { text: a.approverRoles.join(', ') },
      { text: dateTime(a.at) },
      { text: String(a.recordedSeq) },
    ]),
  );
  if (p.approvedSeq !== null)
    pdf.paragraph(
      `All required approvals recorded: promotion.approved, event ${p.approvedSeq}. Every approval binds request digest ${short(p.requestDigest)}.`,
      MUTED,
    );
  for (const a of p.approvals.filter((x) => x.statement !== null)) {
    pdf.quote(a.statement ?? '', `${a.approver}, ${a.role}, ${dateTime(a.at)}`);
  }
  if (p.closedSeq !== null) pdf.paragraph(`Closed at event ${p.closedSeq}: ${p.closeReason ?? ''}`);

  for (const g of p.gateEvaluations) {
    pdf.heading3(
      `Gates (${g.purpose === 'ROLLOUT_START' ? 'at rollout start' : 'review'}): ${g.passed ? 'all passed' : 'FAILED'}`,
    );
    pdf.paragraph(
      `${dateTime(g.evaluatedAt)} by ${g.evaluatedBy}, event ${g.evaluatedSeq}. Policy SHA-256 ${g.policySha256}; evidence SHA-256 ${g.evidenceSha256}.`,
      MUTED,
    );
    pdf.table(
      [
        { header: 'Gate', width: 120 },
        { header: 'Result', width: 45 },
        { header: 'Summary', width: 330 },
      ],
      (g.gates ?? []).map((x) => {
        const r = object(x) ?? {};
        const ok = r['passed'] === true;
        return [
          { text: show(r['gate'] ?? '') },
          { text: ok ? 'pass' : 'FAIL', color: ok ? PASS : FAIL, bold: true },
          { text: show(r['summary'] ?? '') },
        ];
      }),
    );
  }
}
