/** The evidence of one rollout decision (a stage passed or rolled back) as the ledger records it. */
import type { Json, JsonObject, TimelineEntry } from '../report-document.js';
import { verdictsOf } from '../rollout-chart.js';
import {
  compact,
  dateTime,
  duration,
  figure,
  latin,
  number,
  object,
  show,
  text,
} from './pdf-text.js';
import { FAIL, INK, MARGIN, MUTED, PASS, type PdfWriter } from './pdf-writer.js';

export function decision(pdf: PdfWriter, e: TimelineEntry): void {
  const p = e.payload;
  const back = e.type === 'rollout.rolled_back';
  const evidence = object(p['evidence'] ?? null);
  const stage = show(p['stage'] ?? '');
  const title = back
    ? `Stage ${stage}: rolled back${p['manual'] === true ? ` by ${e.actor}` : `, ${show(p['criterion'] ?? 'a criterion')} breached`}`
    : `Stage ${stage}: passed${p['manual'] === true ? ` by hand (${e.actor})` : ''}`;
  pdf.ensure(130);
  pdf.doc
    .font('Helvetica-Bold')
    .fontSize(9.5)
    .fillColor(back ? FAIL : INK)
    .text(latin(title), MARGIN, pdf.doc.y + 4, { width: pdf.width });
  pdf.doc.moveDown(0.2).fillColor(INK);
  const facts: string[] = [`event ${e.seq}, ${dateTime(e.ts)}, ${e.actor}`];
  if (evidence) {
    if (evidence['replica'] !== undefined) facts.push(`replica ${show(evidence['replica'])}`);
    const entered = text(evidence['enteredAt'] ?? null);
    const decided = text(evidence['decidedAt'] ?? null);
    if (entered !== null && decided !== null)
      facts.push(`${duration(Date.parse(decided) - Date.parse(entered))} after the stage began`);
    const min = object(evidence['minimums'] ?? null);
    if (min)
      facts.push(
        `minimums ${Object.entries(min)
          .map(([k, v]) => (k === 'seconds' ? `${show(v)} s` : `${show(v)} ${k}`))
          .join(', ')}`,
      );
    if (evidence['candidateRequests'] !== undefined)
      facts.push(`${show(evidence['candidateRequests'])} candidate requests in the stage`);
    if (evidence['significanceLevel'] !== undefined)
      facts.push(`significance level ${show(evidence['significanceLevel'])}`);
  }
  pdf.paragraph(facts.join(' · '), MUTED);
  if (back && text(p['reason'] ?? null) !== null)
    pdf.paragraph(`Reason: ${show(p['reason'] ?? '')}`);
  const arms = Object.entries(object(evidence?.['arms'] ?? null) ?? {});
  if (arms.length > 0)
    pdf.table(
      [
        { header: 'Arm', width: 95 },
        { header: 'Version', width: 40, align: 'right' },
        { header: 'Requests', width: 48, align: 'right' },
        { header: 'Errors', width: 40, align: 'right' },
        { header: 'Error rate', width: 50, align: 'right' },
        { header: 'p50 ms', width: 44, align: 'right' },
        { header: 'p99 ms', width: 44, align: 'right' },
        { header: 'Agreement', width: 62, align: 'right' },
        { header: 'Selection rate', width: 72, align: 'right' },
      ],
      arms.map(([key, value]) => {
        const a = object(value) ?? {};
        const arm = text(a['arm'] ?? null);
        return [
          { text: arm !== null && arm !== key ? `${key} (${arm})` : key },
          { text: show(a['version'] ?? '-') },
          { text: show(a['requests'] ?? '-') },
          { text: show(a['errors'] ?? '-') },
          { text: figure(a['errorRate']) },
          { text: millis(a['p50Ms']) },
          { text: millis(a['p99Ms']) },
          {
            text:
              a['agreement'] === null || a['agreement'] === undefined
                ? '-'
                : `${figure(a['agreement'])} (${show(a['compared'] ?? '-')})`,
          },
          { text: figure(a['selectionRate']) },
        ];
      }),
      7.5,
    );
  const verdicts = (
    evidence ? verdictsOf(evidence) : Array.isArray(p['breached']) ? p['breached'] : []
  ).map((v) => object(v) ?? {});
  if (verdicts.length > 0)
    pdf.table(
      [
        { header: 'Criterion', width: 92 },
        { header: 'Threshold', width: 46, align: 'right' },
        { header: 'Candidate', width: 48, align: 'right' },
        { header: 'Live', width: 42, align: 'right' },
        { header: 'n (window)', width: 64, align: 'right' },
        { header: 'Test, p-value', width: 138 },
        { header: 'Verdict', width: 65 },
      ],
      verdicts.map((v) => {
        const status = show(v['status'] ?? '-');
        const w = object(v['window'] ?? null);
        const bad = status === 'BREACH' || status === 'NOT_MET';
        return [
          { text: `${show(v['criterion'] ?? '')}${v['kind'] === 'success' ? ' (success)' : ''}` },
          { text: figure(v['threshold']) },
          { text: figure(v['measured']), bold: bad, color: bad ? FAIL : INK },
          { text: figure(v['live']) },
          {
            text: `${show(v['n'] ?? '-')}${w ? ` (${show(w['minRequests'] ?? '-')} in ${show(w['seconds'] ?? '-')} s)` : ''}`,
          },
          { text: testOf(object(v['test'] ?? null), status, v['note'] ?? null) },
          {
            text: status.replace(/_/g, ' '),
            bold: status !== 'PASS',
            color: bad ? FAIL : status === 'PASS' ? PASS : MUTED,
          },
        ];
      }),
      7.5,
    );
}

/** The test behind a verdict; without one, why there is none (the verdict's note). */
function testOf(t: JsonObject | null, status: string, note: Json): string {
  if (!t) {
    if (status === 'PASS') return 'none: within the threshold';
    const why = text(note)?.replace(/^[A-Za-z]+: /, '') ?? '';
    return why === '' ? '-' : compact(why);
  }
  const n = `n ${show(t['n1'] ?? '-')}${t['n2'] === null || t['n2'] === undefined ? '' : ` vs ${show(t['n2'])}`}`;
  return `${show(t['test'] ?? '')} (${show(t['alternative'] ?? '')}), ${n}, p = ${pValue(t['pValue'])}`;
}

function pValue(value: Json | undefined): string {
  const p = number(value);
  if (p === null) return '-';
  return p < 1e-4 ? p.toExponential(2) : p.toFixed(4);
}

function millis(value: Json | undefined): string {
  const v = number(value);
  return v === null ? '-' : v.toFixed(1);
}
