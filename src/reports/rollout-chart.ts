/**
 * The series behind the rollout chart of the PDF, derived from a rollout's ledger events
 * alone: the share of traffic the candidate answered (and mirrored, in shadow) from the
 * endpoint's traffic changes and the stages entered, the watched metrics from the verdicts in
 * the evidence of each stage passed or rollback, and the rollbacks. Unknown event types and
 * members are ignored, so an INITIAL go-live (one step to 100 %) and staged rollouts draw the
 * same way.
 *
 * Units as the rollout engine records them: `weightBasisPoints`, `sampleBasisPoints`,
 * `candidateWeight` and `shadowSample` are basis points (10 000 = all requests); the chart is
 * in percent. A `live` stage records weight 0 (the candidate is then the live version, not a
 * weighted candidate): it is drawn at 100 %.
 */
import type { Json, JsonObject, RolloutSection } from './report-document.js';

export interface Point {
  readonly t: number;
  readonly value: number;
}

export interface MetricPoint extends Point {
  /** The live arm's figure over the same window, where the criterion has one. */
  readonly live: number | null;
  /** The verdict: PASS, BREACH, UNCERTAIN, NOT_MET, NOT_ENOUGH_DATA… */
  readonly status: string | null;
  /** false for a breach or an unmet success criterion, true for a pass, null otherwise. */
  readonly passed: boolean | null;
  /** The stage it was judged in. */
  readonly label: string;
}

export interface MetricSeries {
  readonly name: string;
  readonly threshold: number | null;
  readonly points: readonly MetricPoint[];
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
const FAILED = new Set(['BREACH', 'NOT_MET']);

export function rolloutChart(rollout: RolloutSection): RolloutChart {
  const candidate = rollout.version;
  const entries = [...rollout.traffic, ...rollout.timeline].sort((a, b) => a.seq - b.seq);
  const times = entries.map((e) => Date.parse(e.ts));
  const start = times.length > 0 ? Math.min(...times) : 0;
  const end = times.length > 0 ? Math.max(...times) : 0;
  const traffic: Point[] = [{ t: start, value: 0 }];
  const mirrored: Point[] = [{ t: start, value: 0 }];
  const metrics = new Map<string, { threshold: number | null; points: MetricPoint[] }>();
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
  /** Every verdict with a measured figure becomes a point of its criterion's series. */
  const addVerdicts = (t: number, stage: string, verdicts: readonly Json[]): void => {
    for (const v of verdicts) {
      const o = object(v);
      const name = o && text(o['criterion']);
      const measured = o && number(o['measured']);
      if (!o || name === null || measured === null) continue;
      const m = metric(name);
      m.threshold = number(o['threshold']) ?? m.threshold;
      const status = text(o['status']);
      m.points.push({
        t,
        value: measured,
        live: number(o['live']),
        status,
        passed:
          status === null ? null : FAILED.has(status) ? false : status === 'PASS' ? true : null,
        label: stage,
      });
    }
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
      // The endpoint keeps its sample rate when it leaves shadow: it mirrors only in SHADOW.
      mirrored.push({ t, value: isCandidate && mode === 'SHADOW' ? sample / 100 : 0 });
    } else if (e.type === 'rollout.stage.entered') {
      stages.push({ t, label: text(p['stage']) ?? `stage ${JSON.stringify(p['index'] ?? null)}` });
      const weight = number(p['weightBasisPoints']);
      const sample = number(p['sampleBasisPoints']);
      if (p['kind'] === 'LIVE') {
        traffic.push({ t, value: 100 });
        mirrored.push({ t, value: 0 });
      } else {
        if (weight !== null) traffic.push({ t, value: weight / 100 });
        if (sample !== null) mirrored.push({ t, value: sample / 100 });
      }
    } else if (e.type === 'rollout.stage.passed') {
      const evidence = object(p['evidence']);
      addVerdicts(t, text(p['stage']) ?? '', verdictsOf(evidence));
    } else if (e.type === 'rollout.rolled_back') {
      const why = text(p['criterion']) ?? text(p['reason']) ?? 'rollback';
      rollbacks.push({
        t,
        label: p['manual'] === true ? `manual rollback: ${why}` : `rolled back: ${why}`,
      });
      const stage = text(p['stage']) ?? 'rollback';
      const evidence = object(p['evidence']);
      const breached = Array.isArray(p['breached']) ? p['breached'] : [];
      // The evidence holds every criterion at the breach (the breached ones among them).
      addVerdicts(t, stage, evidence ? verdictsOf(evidence) : breached);
      const name = text(p['criterion']);
      const measured = number(p['measured']);
      if (!evidence && breached.length === 0 && name !== null && measured !== null)
        addVerdicts(t, stage, [{ criterion: name, measured, status: 'BREACH' }]);
      if (rollout.traffic.length === 0) {
        traffic.push({ t, value: 0 });
        mirrored.push({ t, value: 0 });
      }
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

/** The rollback and success verdicts of a stage's evidence (`rollbackCriteria`, `successCriteria`). */
export function verdictsOf(evidence: JsonObject | null): Json[] {
  if (!evidence) return [];
  const list = (key: string): Json[] => {
    const v = evidence[key];
    return Array.isArray(v) ? v : [];
  };
  return [...list('rollbackCriteria'), ...list('successCriteria')];
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
