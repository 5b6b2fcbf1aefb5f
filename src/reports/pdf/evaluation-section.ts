/**
 * An evaluation: its dataset and result digest, performance with bootstrap intervals, and
 * fairness per protected attribute with each group's ratio to the highest selection rate
 * against the four-fifths line.
 */
import type { EvaluationSection, JsonObject } from '../report-document.js';
import { dateTime, figure, interval, number, object, show } from './pdf-text.js';
import { ACCENT, FAIL, INK, MARGIN, MUTED, SHADE, type PdfWriter } from './pdf-writer.js';

const PERFORMANCE: [string, string][] = [
  ['accuracy', 'Accuracy'],
  ['precision', 'Precision'],
  ['recall', 'Recall'],
  ['f1', 'F1'],
  ['rocAuc', 'ROC AUC'],
  ['logLoss', 'Log loss'],
  ['brierScore', 'Brier score'],
];

export function evaluation(pdf: PdfWriter, e: EvaluationSection): void {
  pdf.newSection(`Evaluation of ${e.model}@${e.version ?? '?'}`);
  const result = e.result ?? {};
  const dataset = object(result['dataset']) ?? {};
  pdf.keyValues([
    ['Evaluation', e.id],
    [
      'Dataset',
      `${show(dataset['name'] ?? '')} (${show(e.rows)} rows), SHA-256 ${show(e.datasetSha256)}`,
    ],
    ['Completed', `${dateTime(e.completedAt)} (event ${e.completedSeq})`],
    ['Result SHA-256', e.resultSha256],
  ]);
  const c = object(result['classification']);
  const r = object(result['regression']);
  if (c) {
    const perf = object(c['performance']) ?? {};
    const boot = object(c['bootstrap']);
    const ci = object(boot?.['performance'] ?? null);
    const level = number(boot?.['confidenceLevel']);
    pdf.heading3(`Performance (threshold ${show(perf['threshold'] ?? '-')})`);
    pdf.table(
      [
        { header: 'Figure', width: 160 },
        { header: 'Value', width: 100, align: 'right' },
        {
          header: boot
            ? `${Math.round((level ?? 0.95) * 100)} % interval (bootstrap, ${show(boot['resamples'] ?? null)} resamples)`
            : 'Interval',
          width: 235,
        },
      ],
      PERFORMANCE.map(([key, title]) => [
        { text: title },
        { text: figure(perf[key]) },
        { text: interval(object(ci?.[key] ?? null)) },
      ]),
    );
    const fairness = Array.isArray(c['fairness']) ? c['fairness'] : [];
    const fairnessIntervals = Array.isArray(boot?.['fairness']) ? boot['fairness'] : [];
    for (const f of fairness) {
      const o = object(f) ?? {};
      const ci =
        fairnessIntervals.map((x) => object(x)).find((x) => x?.['attribute'] === o['attribute']) ??
        null;
      fairnessOf(pdf, o, ci);
    }
  } else if (r) {
    pdf.table(
      [
        { header: 'Figure', width: 160 },
        { header: 'Value', width: 100, align: 'right' },
      ],
      ['rmse', 'mae', 'r2'].map((k) => [{ text: k.toUpperCase() }, { text: figure(r[k]) }]),
    );
  }
}

function fairnessOf(pdf: PdfWriter, f: JsonObject, intervals: JsonObject | null): void {
  const threshold = number(f['disparateImpactThreshold']) ?? 0.8;
  const passes = f['passesFourFifths'];
  const ci = (name: string): string => {
    const i = object(intervals?.[name] ?? null);
    return i ? ` (interval ${interval(i)})` : '';
  };
  pdf.heading3(`Fairness by ${show(f['attribute'] ?? '')}`);
  pdf.keyValues([
    [
      'Disparate impact',
      `${figure(f['disparateImpact'])}${ci('disparateImpact')}: ${passes === true ? 'meets' : passes === false ? 'FAILS' : 'cannot be judged against'} the four-fifths rule (at least ${threshold})`,
    ],
    [
      'Demographic parity difference',
      `${figure(f['demographicParityDifference'])}${ci('demographicParityDifference')}`,
    ],
    [
      'Equalized odds difference',
      `${figure(f['equalizedOddsDifference'])}${ci('equalizedOddsDifference')}`,
    ],
    [
      'Equal opportunity difference',
      `${figure(f['equalOpportunityDifference'])}${ci('equalOpportunityDifference')}`,
    ],
    ['Smallest group counted', `${show(f['minGroupSize'] ?? '-')} rows`],
  ]);
  const groups = (Array.isArray(f['groups']) ? f['groups'] : []).map((g) => object(g) ?? {});
  const counted = groups.filter((g) => g['belowMinimumSize'] !== true);
  const top = Math.max(0, ...counted.map((g) => number(g['selectionRate']) ?? 0));
  const ratio = (g: JsonObject): number | null => {
    const rate = number(g['selectionRate']);
    return rate === null || top === 0 ? null : rate / top;
  };
  pdf.table(
    [
      { header: 'Group', width: 95 },
      { header: 'Rows', width: 50, align: 'right' },
      { header: 'Base rate', width: 60, align: 'right' },
      { header: 'Selection rate', width: 72, align: 'right' },
      { header: 'TPR', width: 55, align: 'right' },
      { header: 'FPR', width: 55, align: 'right' },
      { header: 'Ratio to highest', width: 108, align: 'right' },
    ],
    groups.map((g) => {
      const x = ratio(g);
      const small = g['belowMinimumSize'] === true;
      return [
        { text: `${show(g['group'] ?? '')}${small ? ' (too small)' : ''}` },
        { text: show(g['count'] ?? '') },
        { text: figure(g['baseRate']) },
        { text: figure(g['selectionRate']) },
        { text: figure(g['truePositiveRate']) },
        { text: figure(g['falsePositiveRate']) },
        {
          text: x === null || small ? '-' : `${figure(x)} ${x < threshold ? 'below 4/5' : ''}`,
          color: x !== null && !small && x < threshold ? FAIL : INK,
          bold: x !== null && !small && x < threshold,
        },
      ];
    }),
  );
  fourFifthsChart(
    pdf,
    groups.map((g) => ({
      group: show(g['group'] ?? ''),
      ratio: g['belowMinimumSize'] === true ? null : ratio(g),
    })),
    threshold,
  );
}

/** Each group's selection rate relative to the highest, with the four-fifths line marked. */
function fourFifthsChart(
  pdf: PdfWriter,
  groups: { group: string; ratio: number | null }[],
  threshold: number,
): void {
  const doc = pdf.doc;
  const bar = 12;
  const height = groups.length * (bar + 6) + 44;
  pdf.ensure(height);
  const x0 = MARGIN + 100;
  const w = pdf.width - 130;
  doc.font('Helvetica-Oblique').fontSize(8).fillColor(MUTED);
  doc.text(
    'Selection rate of each group relative to the highest (the disparate impact is the lowest bar):',
    MARGIN,
    doc.y + 2,
    { width: pdf.width },
  );
  const top = doc.y + 4;
  doc.font('Helvetica').fontSize(8);
  groups.forEach((g, i) => {
    const y = top + i * (bar + 6);
    doc
      .fillColor(INK)
      .text(g.group, MARGIN, y + 2, { width: 95, align: 'right', lineBreak: false });
    doc.rect(x0, y, w, bar).fill(SHADE);
    if (g.ratio !== null) {
      doc.rect(x0, y, w * Math.min(1, g.ratio), bar).fill(g.ratio < threshold ? FAIL : ACCENT);
      doc.fillColor(INK).text(figure(g.ratio), x0 + w + 4, y + 2, { lineBreak: false });
    } else {
      doc.fillColor(MUTED).text('too small to count', x0 + 4, y + 2, { lineBreak: false });
    }
  });
  const bottom = top + groups.length * (bar + 6);
  const lx = x0 + w * threshold;
  doc
    .save()
    .moveTo(lx, top - 3)
    .lineTo(lx, bottom)
    .lineWidth(1.2)
    .dash(3, { space: 2 })
    .strokeColor(FAIL)
    .stroke()
    .restore();
  doc
    .fillColor(FAIL)
    .fontSize(7.5)
    .text(`four-fifths line (${threshold})`, lx - 60, bottom + 2, {
      width: 120,
      align: 'center',
      lineBreak: false,
    });
  doc.fillColor(MUTED).text('0', x0 - 2, bottom + 2, { lineBreak: false });
  doc.text('1.0', x0 + w - 8, bottom + 2, { lineBreak: false });
  doc.fillColor(INK);
  doc.x = MARGIN;
  doc.y = bottom + 18;
}
