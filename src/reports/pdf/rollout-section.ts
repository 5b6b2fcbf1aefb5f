/**
 * A rollout: its outcome, the stages it went through, the chart of traffic and watched
 * metrics, the evidence of each decision and the timeline of its events and traffic changes.
 */
import type { JsonObject, RolloutSection } from '../report-document.js';
import { rolloutChart, verdictsOf } from '../rollout-chart.js';
import { compact, dateTime, duration, number, object, show, text, time } from './pdf-text.js';
import { FAIL, INK, MUTED, PASS, type PdfWriter } from './pdf-writer.js';
import { drawChart } from './rollout-chart-drawing.js';
import { decision } from './rollout-decision.js';
import { stagesOf, stageTraffic } from './rollout-stages.js';

export function rollout(pdf: PdfWriter, r: RolloutSection): void {
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
