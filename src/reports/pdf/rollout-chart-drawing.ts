/**
 * The rollout chart on the page: the candidate's share of traffic as steps, one panel per
 * watched metric with its threshold, stage and rollback markers, a time axis and a legend.
 */
import type { Point, RolloutChart } from '../rollout-chart.js';
import { dateTime, duration, figure, latin } from './pdf-text.js';
import { ACCENT, FAIL, INK, MARGIN, MUTED, RULE, type PdfWriter } from './pdf-writer.js';

export function drawChart(pdf: PdfWriter, chart: RolloutChart): void {
  const doc = pdf.doc;
  const trafficH = 110;
  const metricH = 70;
  const total = trafficH + chart.metrics.length * (metricH + 18) + 56;
  pdf.ensure(total);
  const left = MARGIN + 38;
  const width = pdf.width - 48;
  let top = doc.y + 6;
  const span = Math.max(chart.end - chart.start, 1);
  // A go-live in one transaction spans milliseconds: pad so that the step is visible.
  const pad = span * 0.08 + (chart.end === chart.start ? 1000 : 0);
  const t0 = chart.start - pad;
  const t1 = chart.end + pad;
  const xOf = (t: number) => left + ((t - t0) / (t1 - t0)) * width;

  const frame = (
    y: number,
    h: number,
    label: string,
    ticks: [number, string][],
    yOf: (v: number) => number,
  ) => {
    doc.save().rect(left, y, width, h).lineWidth(0.6).strokeColor(RULE).stroke().restore();
    doc.font('Helvetica').fontSize(7).fillColor(MUTED);
    for (const [v, text] of ticks) {
      doc
        .save()
        .moveTo(left, yOf(v))
        .lineTo(left + width, yOf(v))
        .lineWidth(0.3)
        .strokeColor('#e4e4e4')
        .stroke()
        .restore();
      doc.text(text, MARGIN - 8, yOf(v) - 3, { width: 42, align: 'right', lineBreak: false });
    }
    doc
      .fillColor(INK)
      .font('Helvetica-Bold')
      .fontSize(8)
      .text(label, left + 4, y + 3, { lineBreak: false });
  };
  const step = (
    points: readonly Point[],
    yOf: (v: number) => number,
    color: string,
    dashed: boolean,
  ) => {
    if (points.length === 0) return;
    doc.save().lineWidth(1.6).strokeColor(color);
    if (dashed) doc.dash(4, { space: 3 });
    const first = points[0] as Point;
    doc.moveTo(xOf(t0), yOf(first.value));
    let last = first.value;
    for (const p of points) {
      doc.lineTo(xOf(p.t), yOf(last)).lineTo(xOf(p.t), yOf(p.value));
      last = p.value;
    }
    doc.lineTo(xOf(t1), yOf(last)).stroke().restore();
  };
  const markers = (y: number, h: number) => {
    for (const s of chart.stages) {
      doc
        .save()
        .moveTo(xOf(s.t), y)
        .lineTo(xOf(s.t), y + h)
        .lineWidth(0.5)
        .dash(2, { space: 2 })
        .strokeColor(MUTED)
        .stroke()
        .restore();
    }
    for (const r of chart.rollbacks) {
      doc
        .save()
        .moveTo(xOf(r.t), y)
        .lineTo(xOf(r.t), y + h)
        .lineWidth(1.5)
        .strokeColor(FAIL)
        .stroke()
        .restore();
    }
  };

  // Traffic panel.
  const yT = (v: number) => top + trafficH - (v / 100) * (trafficH - 16);
  frame(
    top,
    trafficH,
    'Candidate share of traffic (%)',
    [
      [0, '0'],
      [25, '25'],
      [50, '50'],
      [75, '75'],
      [100, '100'],
    ],
    yT,
  );
  markers(top, trafficH);
  step(chart.mirrored, yT, '#8e6bb8', true);
  step(chart.traffic, yT, ACCENT, false);
  // Stage names along the bottom; a name that would run into the previous one goes a line up
  // (the last stages of a fast rollout are milliseconds apart).
  doc.font('Helvetica').fontSize(6.5).fillColor(MUTED);
  let lastEnd = Number.NEGATIVE_INFINITY;
  let row = 0;
  for (const s of chart.stages) {
    const x = xOf(s.t) + 2;
    const label = latin(s.label);
    row = x < lastEnd + 3 ? row + 1 : 0;
    doc.text(label, x, top + trafficH - 10 - row * 9, { lineBreak: false });
    lastEnd = x + doc.widthOfString(label);
  }
  for (const r of chart.rollbacks) {
    // Beside the line, on whichever side has room, half-way up: clear of the 0 and 100 lines.
    const x = xOf(r.t);
    const label = latin(r.label.length > 60 ? `${r.label.slice(0, 57)}...` : r.label);
    doc.font('Helvetica-Bold').fontSize(7);
    const w = Math.min(doc.widthOfString(label), 220);
    const right = x + w + 6 <= left + width;
    const lx = right ? x + 3 : x - w - 3;
    const ly = top + trafficH / 2 - 4;
    doc.rect(lx - 1, ly - 2, w + 2, 11).fill('#ffffff');
    doc.fillColor(FAIL).text(label, lx, ly, { width: w, lineBreak: false });
  }
  top += trafficH + 6;

  // One panel per watched metric, each on its own scale, threshold dashed.
  for (const m of chart.metrics) {
    const values = [
      ...m.points.flatMap((p) => (p.live === null ? [p.value] : [p.value, p.live])),
      ...(m.threshold === null ? [] : [m.threshold]),
    ];
    const lo = Math.min(0, ...values);
    const hi = Math.max(...values, lo + 1e-9) * 1.15;
    const yM = (v: number) => top + metricH - ((v - lo) / (hi - lo)) * (metricH - 14);
    frame(
      top,
      metricH,
      `${m.name}  (filled: candidate at each decision, red when breached; hollow: live)`,
      [
        [lo, figure(lo)],
        [hi / 1.15, figure(hi / 1.15)],
      ],
      yM,
    );
    markers(top, metricH);
    if (m.threshold !== null) {
      doc
        .save()
        .moveTo(left, yM(m.threshold))
        .lineTo(left + width, yM(m.threshold))
        .lineWidth(1)
        .dash(4, { space: 2 })
        .strokeColor(FAIL)
        .stroke()
        .restore();
      doc
        .font('Helvetica')
        .fontSize(6.5)
        .fillColor(FAIL)
        // At the left end: decisions come after a stage has run, and the last one sits at the right.
        .text(`threshold ${figure(m.threshold)}`, left + 4, yM(m.threshold) - 9, {
          width: 78,
          lineBreak: false,
        });
    }
    for (const p of m.points) {
      if (p.live !== null)
        doc
          .save()
          .circle(xOf(p.t), yM(p.live), 2.8)
          .lineWidth(0.9)
          .strokeColor(MUTED)
          .stroke()
          .restore();
      doc
        .circle(xOf(p.t), yM(p.value), 2.8)
        .fill(p.passed === false ? FAIL : p.passed === true ? ACCENT : MUTED);
    }
    top += metricH + 18;
  }

  // Time axis and legend.
  doc.font('Helvetica').fontSize(7).fillColor(MUTED);
  doc.text(dateTime(new Date(chart.start).toISOString()), left, top - 4, { lineBreak: false });
  const endLabel = `+${duration(chart.end - chart.start)}`;
  doc.text(endLabel, left + width - 60, top - 4, { width: 60, align: 'right', lineBreak: false });
  const legendY = top + 8;
  const legend: [string, string, boolean][] = [
    [ACCENT, 'candidate answers', false],
    ['#8e6bb8', 'mirrored (shadow)', true],
    [FAIL, 'rollback / threshold', false],
    [MUTED, 'stage entered', true],
  ];
  let lx = left;
  for (const [color, label, dashed] of legend) {
    doc
      .save()
      .moveTo(lx, legendY + 4)
      .lineTo(lx + 16, legendY + 4)
      .lineWidth(1.6)
      .strokeColor(color);
    if (dashed) doc.dash(3, { space: 2 });
    doc.stroke().restore();
    doc
      .fillColor(INK)
      .fontSize(7)
      .text(label, lx + 20, legendY, { lineBreak: false });
    lx += 105;
  }
  doc.x = MARGIN;
  doc.y = legendY + 16;
  if (chart.metrics.length === 0)
    pdf.paragraph(
      chart.stages.length === 0
        ? 'No watched metrics were measured during this rollout: it had no staged checks (an INITIAL go-live switches at once). The rollback criteria above apply while it serves.'
        : 'No criterion had a measured figure when a stage was decided.',
      MUTED,
    );
}
