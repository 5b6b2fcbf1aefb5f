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
import PDFDocument from 'pdfkit';
import { kidOf } from '../ledger/jws.js';
import type {
  EvaluationSection,
  Json,
  JsonObject,
  ModelSection,
  PromotionSection,
  ReportBody,
  RolloutSection,
  TimelineEntry,
} from './report-document.js';
import { rolloutChart, verdictsOf, type Point, type RolloutChart } from './rollout-chart.js';

const MARGIN = 50;
const FOOTER = 40;
const INK = '#1a1a1a';
const MUTED = '#666666';
const RULE = '#c8c8c8';
const ACCENT = '#1f4e79';
const FAIL = '#b00020';
const PASS = '#1b7f3b';
const SHADE = '#f2f4f7';

type Doc = PDFKit.PDFDocument;

interface Column {
  readonly header: string;
  readonly width: number;
  readonly align?: 'left' | 'right' | 'center';
  readonly mono?: boolean;
}

interface Cell {
  readonly text: string;
  readonly color?: string;
  readonly bold?: boolean;
}

/** Renders the report; resolves with the PDF bytes. */
export function reportPdf(report: ReportBody, signature: string): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: MARGIN, bottom: MARGIN, left: MARGIN, right: MARGIN },
    bufferPages: true,
    info: {
      Title: `Audit report: ${report.subject.text}`,
      Author: 'Gatehouse',
      Subject: `Signed audit report ${report.id}`,
      CreationDate: new Date(report.generatedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => {
      resolve(Buffer.concat(chunks));
    });
    doc.on('error', reject);
  });
  const pdf = new Writer(doc);
  cover(pdf, report, signature);
  for (const m of report.models) modelCard(pdf, m);
  for (const e of report.evaluations) evaluation(pdf, e);
  for (const p of report.promotions) promotion(pdf, p);
  for (const r of report.rollouts) rollout(pdf, r);
  eventList(pdf, report);
  pdf.footers(report);
  doc.end();
  return done;
}

// ---------------------------------------------------------------------------------------------
// Sections
// ---------------------------------------------------------------------------------------------

function cover(pdf: Writer, report: ReportBody, signature: string): void {
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
}

function modelCard(pdf: Writer, m: ModelSection): void {
  pdf.newSection(`Model card: ${m.name}`);
  pdf.keyValues([
    ['Risk tier', m.riskTier ?? 'unknown'],
    ['Owner', m.owner ?? 'unknown'],
    ['Protected attributes', listOf(m.protectedAttributes)],
    [
      'Registered',
      m.registeredSeq === null
        ? 'not in this report'
        : `${dateTime(m.registeredAt)} by ${m.registeredBy ?? ''} (event ${m.registeredSeq})`,
    ],
  ]);
  const card = object(m.modelCard) ?? {};
  const fields: [string, string][] = [
    ['intendedUse', 'Intended use'],
    ['outOfScopeUses', 'Out-of-scope uses'],
    ['limitations', 'Limitations'],
    ['trainingData', 'Training data'],
    ['ethicalConsiderations', 'Ethical considerations'],
  ];
  for (const [key, title] of fields) {
    const value = card[key];
    pdf.heading3(title);
    if (Array.isArray(value)) for (const v of value) pdf.bullet(show(v));
    else pdf.paragraph(value === undefined || value === null ? '(not given)' : show(value));
  }
  for (const [key, value] of Object.entries(card)) {
    if (fields.some(([k]) => k === key)) continue;
    pdf.heading3(key);
    pdf.paragraph(show(value));
  }
  pdf.heading3('Versions');
  pdf.table(
    [
      { header: 'Version', width: 48, align: 'right' },
      { header: 'Artifact SHA-256', width: 190, mono: true },
      { header: 'Task', width: 95 },
      { header: 'Threshold', width: 52, align: 'right' },
      { header: 'Registered', width: 110 },
    ],
    m.versions.map((v) => [
      { text: String(v.version) },
      { text: v.artifactSha256 },
      {
        text: show(v['task'] ?? '')
          .toLowerCase()
          .replace(/_/g, ' '),
      },
      {
        text: v['threshold'] === null || v['threshold'] === undefined ? '-' : show(v['threshold']),
      },
      { text: `${dateTime(v.registeredAt)}\n${v.registeredBy} · event ${v.registeredSeq}` },
    ]),
  );
}

const PERFORMANCE: [string, string][] = [
  ['accuracy', 'Accuracy'],
  ['precision', 'Precision'],
  ['recall', 'Recall'],
  ['f1', 'F1'],
  ['rocAuc', 'ROC AUC'],
  ['logLoss', 'Log loss'],
  ['brierScore', 'Brier score'],
];

function evaluation(pdf: Writer, e: EvaluationSection): void {
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

function fairnessOf(pdf: Writer, f: JsonObject, intervals: JsonObject | null): void {
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
  pdf: Writer,
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

function promotion(pdf: Writer, p: PromotionSection): void {
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

function rollout(pdf: Writer, r: RolloutSection): void {
  pdf.newSection(`Rollout ${r.id}`);
  const entries = [...r.traffic, ...r.timeline].sort((a, b) => a.seq - b.seq);
  pdf.keyValues([
    ['Status', r.status],
    ['Endpoint', r.endpoint ?? ''],
    [
      'Candidate',
      `${show(r.model)}@${r.version ?? '?'} (previous live version: ${r.previousVersion === null ? 'none' : show(r.previousVersion)})`,
    ],
    ['Strategy', show(r.strategy)],
    ['Promotion', show(r.promotionId)],
    ['Outcome', outcomeOf(r)],
  ]);
  const stages = stagesOf(r);
  if (stages.length > 0) {
    pdf.heading3('Stages');
    pdf.table(
      [
        { header: 'Stage', width: 62 },
        { header: 'Traffic to the candidate', width: 118 },
        { header: 'Entered (UTC)', width: 84 },
        { header: 'Ended (UTC)', width: 84 },
        { header: 'Took', width: 40, align: 'right' },
        { header: 'Result', width: 107 },
      ],
      stages.map((s) => [
        {
          text:
            s.kind === '' || s.name === s.kind.toLowerCase()
              ? s.name
              : `${s.name}\n${s.kind.toLowerCase().replace(/_/g, ' ')}`,
        },
        { text: s.traffic },
        { text: s.enteredAt === null ? '-' : `${time(s.enteredAt)}\nevent ${s.enteredSeq}` },
        { text: s.endedAt === null ? '-' : `${time(s.endedAt)}\nevent ${s.endedSeq}` },
        {
          text:
            s.enteredAt === null || s.endedAt === null
              ? '-'
              : duration(Date.parse(s.endedAt) - Date.parse(s.enteredAt)),
        },
        {
          text: s.result,
          bold: s.failed,
          color: s.failed ? FAIL : s.result.startsWith('passed') ? PASS : INK,
        },
      ]),
    );
  }
  const chart = rolloutChart(r);
  pdf.heading3('Traffic and watched metrics over time');
  drawChart(pdf, chart);

  const decisions = r.timeline.filter(
    (e) => e.type === 'rollout.stage.passed' || e.type === 'rollout.rolled_back',
  );
  if (decisions.length > 0) {
    // The heading, its note and the first decision's tables on one page.
    pdf.ensure(260);
    pdf.heading3('Evidence of each decision');
    pdf.paragraph(
      'What the controller measured when it passed a stage or rolled it back, exactly as the ledger event records it. A rollback criterion is breached only when the candidate is past its threshold and a one-sided test at the significance level says the difference is not chance; a test is run only for a figure past its threshold. n is the number of candidate requests in the criterion window.',
      MUTED,
    );
    for (const d of decisions) decision(pdf, d);
  }

  pdf.heading3('Timeline');
  pdf.table(
    [
      { header: 'Event', width: 36, align: 'right' },
      { header: 'Time (UTC)', width: 62 },
      { header: 'What', width: 118 },
      { header: 'Details', width: 279 },
    ],
    entries.map((e) => [
      { text: String(e.seq) },
      { text: time(e.ts) },
      {
        text: `${e.type}\n${e.actor}`,
        bold: e.type === 'rollout.rolled_back',
        color: e.type === 'rollout.rolled_back' ? FAIL : INK,
      },
      { text: timelineDetail(e.type, e.payload) },
    ]),
    7.5,
  );
}

interface StageRow {
  readonly name: string;
  readonly kind: string;
  readonly traffic: string;
  readonly enteredAt: string | null;
  readonly enteredSeq: number | null;
  readonly endedAt: string | null;
  readonly endedSeq: number | null;
  readonly result: string;
  readonly failed: boolean;
}

/** The plan's stages (from rollout.started) with what happened to each, from the timeline. */
function stagesOf(r: RolloutSection): StageRow[] {
  const started = r.timeline.find((e) => e.type === 'rollout.started');
  const planned = Array.isArray(started?.payload['stages']) ? started.payload['stages'] : [];
  const rows = new Map<string, StageRow>();
  for (const s of planned) {
    const o = object(s) ?? {};
    const name = text(o['name']);
    if (name === null) continue;
    const kind = text(o['kind']) ?? '';
    rows.set(name, {
      name,
      kind,
      traffic: stageTraffic(kind, null, null, object(o['settings'] ?? null)),
      enteredAt: null,
      enteredSeq: null,
      endedAt: null,
      endedSeq: null,
      result: 'not reached',
      failed: false,
    });
  }
  const update = (name: string, change: Partial<StageRow>): void => {
    const row = rows.get(name) ?? {
      name,
      kind: '',
      traffic: '-',
      enteredAt: null,
      enteredSeq: null,
      endedAt: null,
      endedSeq: null,
      result: '',
      failed: false,
    };
    rows.set(name, { ...row, ...change });
  };
  for (const e of r.timeline) {
    const p = e.payload;
    const name = text(p['stage']);
    if (name === null) continue;
    if (e.type === 'rollout.stage.entered') {
      const kind = text(p['kind']) ?? rows.get(name)?.kind ?? '';
      update(name, {
        kind,
        traffic: stageTraffic(
          kind,
          number(p['weightBasisPoints']),
          number(p['sampleBasisPoints']),
          object(p['settings'] ?? null),
        ),
        enteredAt: e.ts,
        enteredSeq: e.seq,
        result: kind === 'LIVE' ? 'live' : 'in progress',
      });
    } else if (e.type === 'rollout.stage.passed') {
      const verdicts = verdictsOf(object(p['evidence'] ?? null)).map((v) => object(v) ?? {});
      const judged = verdicts.filter((v) => v['status'] === 'PASS').length;
      update(name, {
        endedAt: e.ts,
        endedSeq: e.seq,
        result:
          p['manual'] === true
            ? `passed by hand (${e.actor})`
            : `passed: ${judged} of ${verdicts.length} criteria PASS`,
      });
    } else if (e.type === 'rollout.rolled_back') {
      const criterion = text(p['criterion']);
      update(name, {
        endedAt: e.ts,
        endedSeq: e.seq,
        failed: true,
        result:
          p['afterGoLive'] === true
            ? `rolled back after go-live${p['manual'] === true ? ` by ${e.actor}` : ''}`
            : p['manual'] === true
              ? `ROLLED BACK by ${e.actor}`
              : `ROLLED BACK: ${criterion ?? 'criterion'} breached`,
      });
    }
  }
  const completed = r.timeline.find((e) => e.type === 'rollout.completed');
  if (completed)
    for (const row of rows.values())
      if (row.kind === 'LIVE')
        // An INITIAL go-live records no stage.entered: its live stage began with the completion.
        update(row.name, {
          result: 'completed: candidate live',
          enteredAt: row.enteredAt ?? completed.ts,
          enteredSeq: row.enteredSeq ?? completed.seq,
        });
  return [...rows.values()];
}

/** A stage's share of traffic in words: basis points (10 000 = all requests) as percent. */
function stageTraffic(
  kind: string,
  weightBasisPoints: number | null,
  sampleBasisPoints: number | null,
  settings: JsonObject | null,
): string {
  const percent = (bp: number) => `${Number((bp / 100).toFixed(2))} %`;
  switch (kind) {
    case 'SHADOW': {
      const sample =
        sampleBasisPoints ??
        (number(settings?.['sampleRate']) === null
          ? null
          : (number(settings?.['sampleRate']) ?? 0) * 10_000);
      return `mirrors ${sample === null ? 'a share' : percent(sample)} of requests; answers none`;
    }
    case 'CANARY':
    case 'AB_TEST': {
      const weight =
        weightBasisPoints ??
        (number(settings?.['percent']) === null
          ? null
          : (number(settings?.['percent']) ?? 0) * 100);
      return `answers ${weight === null ? 'a share' : percent(weight)} of requests`;
    }
    case 'BLUE_GREEN':
      return 'loaded on every replica, then takes all requests at once';
    case 'LIVE':
      return 'live version: answers 100 % of requests';
    default:
      return weightBasisPoints === null ? '-' : `answers ${percent(weightBasisPoints)}`;
  }
}

function outcomeOf(r: RolloutSection): string {
  const last = r.timeline.at(-1);
  const completed = r.timeline.find((e) => e.type === 'rollout.completed');
  const back = r.timeline.find((e) => e.type === 'rollout.rolled_back');
  if (back) {
    const p = back.payload;
    const how = p['manual'] === true ? `by ${back.actor}` : 'automatically by the controller';
    return `Rolled back ${how}${text(p['stage']) === null ? '' : ` in stage ${show(p['stage'] ?? '')}`} at ${dateTime(back.ts)} (event ${back.seq}): ${show(p['reason'] ?? '')}`;
  }
  if (completed) {
    const p = completed.payload;
    if (p['abTest'] !== undefined)
      return `A/B test concluded at ${dateTime(completed.ts)} (event ${completed.seq}): ${compact(p['abTest'] ?? null)}`;
    const standby = p['standbyVersion'];
    return `Completed at ${dateTime(completed.ts)} (event ${completed.seq}): version ${show(p['liveVersion'] ?? r.version)} live${standby === null || standby === undefined ? '' : `, version ${show(standby)} kept loaded as standby`}`;
  }
  return last ? `${r.status} since ${dateTime(last.ts)} (event ${last.seq})` : r.status;
}

/** One decision's evidence: the arms side by side, then every criterion with its test. */
function decision(pdf: Writer, e: TimelineEntry): void {
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

function timelineDetail(type: string, p: JsonObject): string {
  if (type.startsWith('deployment.')) {
    const from = object(p['from'] ?? null) ?? {};
    const to = object(p['to'] ?? null) ?? {};
    return `${traffic(from)} -> ${traffic(to)}\n${show(p['reason'] ?? '')}`;
  }
  const stage = show(p['stage'] ?? '');
  switch (type) {
    case 'rollout.started': {
      const stages = (Array.isArray(p['stages']) ? p['stages'] : [])
        .map((s) => show(object(s)?.['name'] ?? ''))
        .join(', ');
      return `${show(p['strategy'] ?? '')} of ${show(p['model'] ?? '')}@${show(p['version'] ?? '')}${stages === '' ? '' : `; stages ${stages}`}; gates evaluated again (gate evaluation ${show(p['gateEvaluationId'] ?? '-')})`;
    }
    case 'rollout.stage.entered':
      return `stage ${stage} (${show(p['kind'] ?? '').toLowerCase()}): ${stageTraffic(
        show(p['kind'] ?? ''),
        number(p['weightBasisPoints']),
        number(p['sampleBasisPoints']),
        object(p['settings'] ?? null),
      )}${p['manual'] === true ? ' (entered as the rollout was started or advanced by hand)' : ''}`;
    case 'rollout.stage.passed': {
      const verdicts = verdictsOf(object(p['evidence'] ?? null)).map((v) => object(v) ?? {});
      return [
        `stage ${stage} passed${p['manual'] === true ? ' by hand' : ''} (evidence above)`,
        ...verdicts.map(
          (v) => `${show(v['status'] ?? '')}: ${show(v['note'] ?? v['criterion'] ?? '')}`,
        ),
      ].join('\n');
    }
    case 'rollout.rolled_back':
      return `stage ${stage}: ${show(p['reason'] ?? '')}`;
    case 'rollout.completed':
      return p['abTest'] !== undefined
        ? `A/B test result: ${compact(p['abTest'] ?? null)}`
        : `version ${show(p['liveVersion'] ?? '')} live${p['standbyVersion'] === undefined || p['standbyVersion'] === null ? '' : `; version ${show(p['standbyVersion'])} on standby`}`;
    default: {
      const parts: string[] = [];
      for (const [k, v] of Object.entries(p)) {
        if (
          [
            'rolloutId',
            'promotionId',
            'evidence',
            'requestDigest',
            'policySha256',
            'evidenceSha256',
            'endpoint',
          ].includes(k)
        )
          continue;
        parts.push(`${k}: ${compact(v)}`);
      }
      return parts.join('\n');
    }
  }
}

function traffic(t: JsonObject): string {
  const live = t['liveVersion'];
  const candidate = t['candidateVersion'];
  const standby = t['standbyVersion'];
  const mode = show(t['mode'] ?? 'NONE');
  let s = `live ${live === null || live === undefined ? 'none' : `v${show(live)}`}`;
  if (candidate !== null && candidate !== undefined) {
    s += `, candidate v${show(candidate)} ${mode}`;
    if (mode === 'SHADOW') s += ` ${(number(t['shadowSample']) ?? 0) / 100} % mirrored`;
    else s += ` ${(number(t['candidateWeight']) ?? 0) / 100} %`;
  }
  if (standby !== null && standby !== undefined) s += `, standby v${show(standby)}`;
  return s;
}

function drawChart(pdf: Writer, chart: RolloutChart): void {
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

function eventList(pdf: Writer, report: ReportBody): void {
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

// ---------------------------------------------------------------------------------------------
// Layout
// ---------------------------------------------------------------------------------------------

class Writer {
  readonly width: number;
  constructor(readonly doc: Doc) {
    this.width = doc.page.width - 2 * MARGIN;
  }

  private get bottom(): number {
    return this.doc.page.height - MARGIN - FOOTER;
  }

  ensure(height: number): void {
    if (this.doc.y + height > this.bottom) {
      this.doc.addPage();
      this.doc.x = MARGIN;
      this.doc.y = MARGIN;
    }
  }

  space(points: number): void {
    this.doc.y += points;
  }

  newSection(title: string): void {
    this.doc.addPage();
    this.doc.x = MARGIN;
    this.doc.y = MARGIN;
    this.doc
      .font('Helvetica-Bold')
      .fontSize(17)
      .fillColor(ACCENT)
      .text(latin(title), { width: this.width });
    const y = this.doc.y + 2;
    this.doc
      .save()
      .moveTo(MARGIN, y)
      .lineTo(MARGIN + this.width, y)
      .lineWidth(1)
      .strokeColor(ACCENT)
      .stroke()
      .restore();
    this.doc.y = y + 10;
    this.doc.fillColor(INK);
  }

  heading2(title: string): void {
    this.ensure(40);
    this.doc
      .font('Helvetica-Bold')
      .fontSize(12)
      .fillColor(ACCENT)
      .text(latin(title), MARGIN, this.doc.y, { width: this.width });
    this.doc.moveDown(0.3).fillColor(INK);
  }

  heading3(title: string): void {
    this.ensure(50);
    this.doc.moveDown(0.5);
    this.doc
      .font('Helvetica-Bold')
      .fontSize(10.5)
      .fillColor(INK)
      .text(latin(title), MARGIN, this.doc.y, { width: this.width });
    this.doc.moveDown(0.25);
  }

  paragraph(text: string, color = INK): void {
    if (text === '') return;
    this.doc.font('Helvetica').fontSize(9.5);
    this.ensure(this.doc.heightOfString(latin(text), { width: this.width }) + 4);
    this.doc
      .fillColor(color)
      .text(latin(text), MARGIN, this.doc.y, { width: this.width, lineGap: 1.5 });
    this.doc.moveDown(0.4).fillColor(INK);
  }

  bullet(text: string): void {
    this.doc.font('Helvetica').fontSize(9.5);
    this.ensure(this.doc.heightOfString(latin(text), { width: this.width - 14 }) + 2);
    const y = this.doc.y;
    this.doc.fillColor(INK).text('•', MARGIN + 2, y, { lineBreak: false });
    this.doc.text(latin(text), MARGIN + 14, y, { width: this.width - 14, lineGap: 1 });
    this.doc.moveDown(0.15);
  }

  code(text: string): void {
    this.doc.font('Courier').fontSize(8.5);
    const h = this.doc.heightOfString(text, { width: this.width - 16 }) + 10;
    this.ensure(h + 4);
    const y = this.doc.y;
    this.doc.rect(MARGIN, y, this.width, h).fill(SHADE);
    this.doc.fillColor(INK).text(text, MARGIN + 8, y + 5, { width: this.width - 16 });
    this.doc.y = y + h + 6;
  }

  quote(text: string, by: string): void {
    this.doc.font('Helvetica-Oblique').fontSize(9.5);
    const h = this.doc.heightOfString(`“${latin(text)}”`, { width: this.width - 24 }) + 18;
    this.ensure(h + 6);
    const y = this.doc.y + 2;
    this.doc.rect(MARGIN, y, 3, h).fill(ACCENT);
    this.doc
      .fillColor(INK)
      .text(`“${latin(text)}”`, MARGIN + 14, y + 2, { width: this.width - 24, lineGap: 1.5 });
    this.doc
      .font('Helvetica')
      .fontSize(8)
      .fillColor(MUTED)
      .text(`— ${latin(by)}`, MARGIN + 14, this.doc.y + 2, { width: this.width - 24 });
    this.doc.y = Math.max(this.doc.y, y + h) + 6;
    this.doc.fillColor(INK);
  }

  keyValues(rows: [string, string][], mono = false): void {
    const keyWidth = 150;
    for (const [key, value] of rows) {
      this.doc.font(mono ? 'Courier' : 'Helvetica').fontSize(mono ? 8.5 : 9.5);
      const valueHeight = this.doc.heightOfString(latin(value), { width: this.width - keyWidth });
      this.doc.font('Helvetica-Bold').fontSize(9);
      const h = Math.max(valueHeight, this.doc.heightOfString(latin(key), { width: keyWidth - 8 }));
      this.ensure(h + 3);
      const y = this.doc.y;
      this.doc
        .font('Helvetica-Bold')
        .fontSize(9)
        .fillColor(MUTED)
        .text(latin(key), MARGIN, y, { width: keyWidth - 8 });
      this.doc
        .font(mono ? 'Courier' : 'Helvetica')
        .fontSize(mono ? 8.5 : 9.5)
        .fillColor(INK)
        .text(latin(value), MARGIN + keyWidth, y, { width: this.width - keyWidth });
      this.doc.y = Math.max(this.doc.y, y + h) + 3;
    }
  }

  table(columns: readonly Column[], rows: readonly Cell[][], fontSize = 8.5): void {
    const doc = this.doc;
    const pad = 3;
    const header = () => {
      const h = 16;
      this.ensure(h + 14);
      const y = doc.y;
      doc.rect(MARGIN, y, this.width, h).fill(ACCENT);
      let x = MARGIN;
      doc.font('Helvetica-Bold').fontSize(fontSize).fillColor('#ffffff');
      for (const c of columns) {
        doc.text(latin(c.header), x + pad, y + 4, {
          width: c.width - 2 * pad,
          align: c.align ?? 'left',
          lineBreak: false,
          ellipsis: true,
        });
        x += c.width;
      }
      doc.y = y + h;
    };
    header();
    if (rows.length === 0) {
      doc
        .font('Helvetica-Oblique')
        .fontSize(fontSize)
        .fillColor(MUTED)
        .text('none', MARGIN + pad, doc.y + 3);
      doc.moveDown(0.5).fillColor(INK);
      return;
    }
    rows.forEach((row, i) => {
      const heights = row.map((cell, j) => {
        const c = columns[j] as Column;
        doc
          .font(c.mono ? 'Courier' : cell.bold ? 'Helvetica-Bold' : 'Helvetica')
          .fontSize(c.mono ? fontSize - 0.5 : fontSize);
        return doc.heightOfString(latin(cell.text), { width: c.width - 2 * pad });
      });
      const h = Math.max(...heights) + 2 * pad;
      if (doc.y + h > this.bottom) {
        doc.addPage();
        doc.y = MARGIN;
        header();
      }
      const y = doc.y;
      if (i % 2 === 1) doc.rect(MARGIN, y, this.width, h).fill(SHADE);
      let x = MARGIN;
      row.forEach((cell, j) => {
        const c = columns[j] as Column;
        doc
          .font(c.mono ? 'Courier' : cell.bold ? 'Helvetica-Bold' : 'Helvetica')
          .fontSize(c.mono ? fontSize - 0.5 : fontSize);
        doc.fillColor(cell.color ?? INK).text(latin(cell.text), x + pad, y + pad, {
          width: c.width - 2 * pad,
          align: c.align ?? 'left',
        });
        x += c.width;
      });
      doc
        .save()
        .moveTo(MARGIN, y + h)
        .lineTo(MARGIN + this.width, y + h)
        .lineWidth(0.4)
        .strokeColor(RULE)
        .stroke()
        .restore();
      doc.y = y + h;
    });
    doc.x = MARGIN;
    doc.y += 6;
    doc.fillColor(INK);
  }

  footers(report: ReportBody): void {
    const range = this.doc.bufferedPageRange();
    const cp = report.checkpoint.checkpoint;
    const line = latin(
      `Gatehouse audit report ${report.id} · ${shortSubject(report.subject.text)} · checkpoint ${cp.treeSize}, root ${cp.rootHash.slice(0, 12)}…`,
    );
    for (let i = range.start; i < range.start + range.count; i++) {
      this.doc.switchToPage(i);
      // Below the bottom margin: without this pdfkit would start a new page for the footer.
      this.doc.page.margins.bottom = 0;
      const y = this.doc.page.height - MARGIN - 12;
      this.doc
        .save()
        .moveTo(MARGIN, y - 5)
        .lineTo(MARGIN + this.width, y - 5)
        .lineWidth(0.4)
        .strokeColor(RULE)
        .stroke()
        .restore();
      this.doc.font('Helvetica').fontSize(7).fillColor(MUTED);
      this.doc.text(line, MARGIN, y, { lineBreak: false });
      this.doc.text(`page ${i + 1 - range.start} of ${range.count}`, MARGIN + this.width - 60, y, {
        width: 60,
        align: 'right',
        lineBreak: false,
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Text
// ---------------------------------------------------------------------------------------------

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

const WIN_ANSI_EXTRA = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');
const REPLACEMENTS: Record<string, string> = {
  '≥': '>=',
  '≤': '<=',
  '→': '->',
  '‖': '||',
  '−': '-',
  '≠': '!=',
  '×': 'x',
};

/** The standard PDF fonts cover Windows-1252 only: anything else is spelled out or replaced. */
export function latin(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (
      code === 10 ||
      (code >= 32 && code < 127) ||
      (code >= 160 && code <= 255) ||
      WIN_ANSI_EXTRA.has(ch)
    )
      out += ch;
    else out += REPLACEMENTS[ch] ?? (code === 9 ? ' ' : '?');
  }
  return out;
}

function dateTime(ts: string | null): string {
  if (ts === null) return '-';
  return ts
    .replace('T', ' ')
    .replace(/\.\d{3}Z$/, ' UTC')
    .replace(/Z$/, ' UTC');
}

/** Date, then the time to the millisecond on a line of its own: stages may be seconds apart. */
function time(ts: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z$/.exec(ts);
  return m ? `${m[1]}\n${m[2]}` : dateTime(ts);
}

function duration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} days`;
}

function figure(value: Json | undefined): string {
  if (typeof value !== 'number') return value === null || value === undefined ? '-' : show(value);
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 1000 ? value.toFixed(1) : value.toFixed(4);
}

function interval(ci: JsonObject | null): string {
  if (!ci) return '-';
  return `${figure(ci['lower'])} to ${figure(ci['upper'])}`;
}

function show(value: Json): string {
  if (typeof value === 'string') return value;
  if (value === null) return '-';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function compact(value: Json): string {
  const s = show(value);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}

function listOf(value: Json): string {
  return Array.isArray(value) ? value.map(show).join(', ') : show(value);
}

function short(hash: string | null): string {
  return hash === null ? '-' : `${hash.slice(0, 16)}…`;
}

function shortSubject(subject: string): string {
  return subject
    .replace(/^(promotion|rollout|report|dataset):([0-9a-f]{8})[0-9a-f-]{28}$/, '$1:$2…')
    .replace(/^artifact:([0-9a-f]{12})[0-9a-f]{52}$/, 'artifact:$1…');
}

function object(value: Json | undefined): JsonObject | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null;
}

function number(value: Json | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function text(value: Json | undefined): string | null {
  return typeof value === 'string' ? value : null;
}
