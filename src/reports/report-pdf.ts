/**
 * The PDF of an audit report, for the people who sign: rendered from the signed JSON (never
 * from the database), so the PDF says nothing the verifiable report does not. pdfkit with its
 * standard fonts: nothing to download, no browser.
 *
 * Order: cover (subject, period, the checkpoint it is anchored to, how to verify), model
 * cards, evaluations with fairness per group and the four-fifths line, promotions with their
 * rollback criteria, approvals and statements, gates, rollouts with a chart and timeline, and
 * the list of events.
 */
import type { ReportBody } from './report-document.js';
import { cover } from './pdf/cover-section.js';
import { evaluation } from './pdf/evaluation-section.js';
import { eventList } from './pdf/event-list-section.js';
import { modelCard } from './pdf/model-card-section.js';
import { latin, shortSubject } from './pdf/pdf-text.js';
import { renderPdf } from './pdf/pdf-writer.js';
import { promotion } from './pdf/promotion-section.js';
import { rollout } from './pdf/rollout-section.js';

/** Renders the report; resolves with the PDF bytes. */
export function reportPdf(report: ReportBody, signature: string): Promise<Buffer> {
  const cp = report.checkpoint.checkpoint;
  return renderPdf(
    {
      Title: `Audit report: ${report.subject.text}`,
      Author: 'Gatehouse',
      Subject: `Signed audit report ${report.id}`,
      CreationDate: new Date(report.generatedAt),
    },
    (pdf) => {
      cover(pdf, report, signature);
      for (const m of report.models) modelCard(pdf, m);
      for (const e of report.evaluations) evaluation(pdf, e);
      for (const p of report.promotions) promotion(pdf, p);
      for (const r of report.rollouts) rollout(pdf, r);
      eventList(pdf, report);
      pdf.footers(
        latin(
          `Gatehouse audit report ${report.id} · ${shortSubject(report.subject.text)} · checkpoint ${cp.treeSize}, root ${cp.rootHash.slice(0, 12)}…`,
        ),
      );
    },
  );
}
