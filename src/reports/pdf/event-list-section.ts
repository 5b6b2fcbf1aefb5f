/** The list of the ledger events a report holds. */
import type { ReportBody } from '../report-document.js';
import { dateTime, shortSubject } from './pdf-text.js';
import { MUTED, type PdfWriter } from './pdf-writer.js';

export function eventList(pdf: PdfWriter, report: ReportBody): void {
  pdf.newSection('Ledger events in this report');
  pdf.paragraph(
    `Each event below is included in the JSON report with its canonical form, its signature and an inclusion proof against checkpoint ${report.checkpoint.checkpoint.treeSize}. The hash column shows the first 16 of 64 hex digits.`,
    MUTED,
  );
  pdf.table(
    [
      { header: 'Seq', width: 38, align: 'right' },
      { header: 'Time (UTC)', width: 92 },
      { header: 'Type', width: 125 },
      { header: 'Subject', width: 90 },
      { header: 'Actor', width: 75 },
      { header: 'Hash', width: 75, mono: true },
    ],
    report.events.map((e) => [
      { text: String(e.seq) },
      { text: dateTime(e.event.ts) },
      { text: e.event.type },
      { text: shortSubject(e.event.subject) },
      { text: e.event.actor.sub },
      { text: e.hash.slice(0, 16) },
    ]),
    7,
  );
}
