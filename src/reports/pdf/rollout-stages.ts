/** A rollout's stages as a table: the plan's stages with what happened to each. */
import type { JsonObject, RolloutSection } from '../report-document.js';
import { verdictsOf } from '../rollout-chart.js';
import { number, object, text } from './pdf-text.js';

export interface StageRow {
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
export function stagesOf(r: RolloutSection): StageRow[] {
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
export function stageTraffic(
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
