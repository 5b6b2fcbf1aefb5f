/**
 * The series behind the rollout chart of the PDF, derived from a rollout's ledger events
 * alone: the share of traffic the candidate answered (and mirrored, in shadow) from the
 * endpoint's traffic changes and the stages entered, the watched metrics from the evidence of
 * each stage passed or rollback, and the rollbacks. Unknown event types and members are
 * ignored, so an INITIAL go-live (one step to 100 %) and staged rollouts draw the same way.
 */
import type { Json, JsonObject, RolloutSection } from './report-document.js';

export interface Point {
  readonly t: number;
  readonly value: number;
}

export interface MetricSeries {
  readonly name: string;
  readonly threshold: number | null;
  readonly points: readonly (Point & { readonly passed: boolean | null; readonly label: string })[];
}

export interface RolloutChart {
  readonly start: number;
  readonly end: number;
  /** Percent of requests the candidate answered, as a step function. */
  readonly traffic: readonly Point[];
  /** Percent of live requests mirrored to the candidate (shadow), as a step function. */
  readonly mirrored: readonly Point[];
  readonly metrics: readonly MetricSeries[];
  readonly stages: readonly { readonly t: number; readonly label: string }[];
  readonly rollbacks: readonly { readonly t: number; readonly label: string }[];
}

const SERVING_MODES = new Set(['CANARY', 'BLUE_GREEN', 'AB_TEST']);

export function rolloutChart(rollout: RolloutSection): RolloutChart {
  const candidate = rollout.version;
  const entries = [...rollout.traffic, ...rollout.timeline].sort((a, b) => a.seq - b.seq);
  const times = entries.map((e) => Date.parse(e.ts));
  const start = times.length > 0 ? Math.min(...times) : 0;
  const end = times.length > 0 ? Math.max(...times) : 0;
  const traffic: Point[] = [{ t: start, value: 0 }];
  const mirrored: Point[] = [{ t: start, value: 0 }];
  const metrics = new Map<
    string,
    { threshold: number | null; points: MetricSeries['points'][number][] }
  >();
  const stages: { t: number; label: string }[] = [];
  const rollbacks: { t: number; label: string }[] = [];
  const metric = (name: string) => {
    let m = metrics.get(name);
    if (!m) {
      m = { threshold: null, points: [] };
      metrics.set(name, m);
    }
    return m;
  };

  for (const e of entries) {
    const t = Date.parse(e.ts);
    const p = e.payload;
    if (e.type.startsWith('deployment.')) {
      const to = object(p['to']);
      if (!to) continue;
      const mode = to['mode'];
      const weight = number(to['candidateWeight']) ?? 0;
      const sample = number(to['shadowSample']) ?? 0;
      const isCandidate = candidate !== null && to['candidateVersion'] === candidate;
      traffic.push({
        t,
        value:
          candidate !== null && to['liveVersion'] === candidate
            ? 100
            : isCandidate && typeof mode === 'string' && SERVING_MODES.has(mode)
              ? weight / 100
              : 0,
      });
      mirrored.push({ t, value: isCandidate && mode === 'SHADOW' ? sample / 100 : 0 });
    } else if (e.type === 'rollout.stage.entered') {
      stages.push({ t, label: text(p['stage']) ?? `stage ${JSON.stringify(p['index'] ?? null)}` });
      const weight = number(p['weightBasisPoints']);
      const sample = number(p['sampleBasisPoints']);
      if (weight !== null) traffic.push({ t, value: weight / 100 });
      if (sample !== null) mirrored.push({ t, value: sample / 100 });
    } else if (e.type === 'rollout.stage.passed') {
      const evidence = object(p['evidence']);
      const criteria = evidence?.['criteria'];
      for (const c of Array.isArray(criteria) ? criteria : []) {
        const o = object(c);
        const name = o && text(o['criterion']);
        const measured = o && number(o['measured']);
        if (!o || name === null || measured === null) continue;
        const m = metric(name);
        m.threshold = number(o['threshold']) ?? m.threshold;
        m.points.push({
          t,
          value: measured,
          passed: typeof o['passed'] === 'boolean' ? o['passed'] : null,
          label: text(p['stage']) ?? '',
        });
      }
    } else if (e.type === 'rollout.rolled_back') {
      const why = text(p['criterion']) ?? text(p['reason']) ?? 'rollback';
      rollbacks.push({
        t,
        label: p['manual'] === true ? `manual rollback: ${why}` : `rolled back: ${why}`,
      });
      const name = text(p['criterion']);
      const measured = number(p['measured']);
      if (name !== null && measured !== null)
        metric(name).points.push({ t, value: measured, passed: false, label: 'rollback' });
      if (rollout.traffic.length === 0) traffic.push({ t, value: 0 });
    } else if (e.type === 'rollout.completed' && rollout.traffic.length === 0) {
      traffic.push({ t, value: 100 });
    }
  }
  return {
    start,
    end,
    traffic,
    mirrored,
    metrics: [...metrics].map(([name, m]) => ({ name, threshold: m.threshold, points: m.points })),
    stages,
    rollbacks,
  };
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
