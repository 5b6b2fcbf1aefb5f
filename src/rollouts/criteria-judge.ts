import type { Criteria, CriteriaWindow } from '../promotions/rollout-plan.js';
import { CRITERIA, type Criterion } from '../policy/promotion-vocabulary.js';
import type { ArmWindow, LabelledFigures } from '../arm-metrics/arm-window.js';
import { latencyQuantile } from '../arm-metrics/latency-histogram.js';
import type { StageKind } from './rollout-stages.js';
import {
  mannWhitneyBinned,
  oneProportionTest,
  ratioTest,
  twoProportionTest,
  type TestResult,
} from './statistics.js';

/**
 * Judging a rollout stage against the request's criteria: pure, so the
 * evidence written to the ledger can be recomputed from the figures it carries.
 *
 * A rollback criterion is breached only when the candidate is past its threshold AND the
 * difference is not chance: error rate, labelled accuracy and selection rates by a
 * two-proportion test (against live where live has the figure, else against the threshold),
 * latency by Mann-Whitney U against live, agreement by a one-proportion test against the
 * threshold. PSI and AUC are compared with the threshold as they are (a distance and a rank
 * statistic, with no simple test against a fixed value); both need the window's minimum count.
 */

/** What the controller measured for one criteria window. */
export interface Measurements {
  readonly candidate: ArmWindow;
  readonly live: ArmWindow;
  readonly candidateLabels: LabelledFigures | null;
  readonly liveLabels: LabelledFigures | null;
  /** The candidate's score PSI against its evaluation's baseline, over `psiCount` scores. */
  readonly psi: number | null;
  readonly psiCount: number;
}

export interface JudgeContext {
  readonly stageKind: StageKind;
  /** The significance level of every test (policy `rollouts.significanceLevel`). */
  readonly alpha: number;
  /** Groups with fewer rows are not compared (policy fairness `minGroupSize`). */
  readonly minGroupSize: number;
}

/**
 * UNCERTAIN: past the threshold, but not significantly: the stage neither rolls back nor
 * passes on it, and waits for more data.
 */
export type VerdictStatus =
  'PASS' | 'BREACH' | 'UNCERTAIN' | 'NOT_MET' | 'NOT_ENOUGH_DATA' | 'NOT_APPLICABLE';

export interface Verdict {
  readonly criterion: Criterion;
  readonly kind: 'rollback' | 'success';
  readonly threshold: number;
  readonly window: CriteriaWindow;
  readonly status: VerdictStatus;
  /** The candidate's figure, and live's where it has one, over the window. */
  readonly measured: number | null;
  readonly live: number | null;
  readonly n: number;
  readonly test: TestResult | null;
  readonly note: string;
}

interface Figure {
  readonly measured: number | null;
  readonly live: number | null;
  readonly n: number;
  /** Why there is no figure, when there is none. */
  readonly missing?: string;
  readonly applicable?: false;
  /** The test that the candidate is worse than allowed, run only when the threshold is crossed. */
  readonly test?: () => TestResult;
  /**
   * Whether the test compares the candidate with live: then a crossing that is not
   * significantly worse than live passes (the candidate is no worse than what serves now);
   * a test against the threshold itself leaves it UNCERTAIN until the data decides.
   */
  readonly againstLive?: boolean;
}

const round = (x: number | null): number | null =>
  x === null || !Number.isFinite(x) ? x : Math.round(x * 1e6) / 1e6;

function rate(x: number, n: number): number | null {
  return n === 0 ? null : x / n;
}

/** The value a criterion reads, per stage kind, with its test. */
function figureOf(
  criterion: Criterion,
  threshold: number,
  m: Measurements,
  ctx: JudgeContext,
): Figure {
  const c = m.candidate;
  const l = m.live;
  switch (criterion) {
    case 'maxErrorRate':
      return {
        measured: rate(c.errors, c.requests),
        live: rate(l.errors, l.requests),
        n: c.requests,
        againstLive: l.requests > 0,
        test: () =>
          l.requests > 0
            ? twoProportionTest(c.errors, c.requests, l.errors, l.requests, 'greater')
            : oneProportionTest(c.errors, c.requests, clampP(threshold), 'greater'),
      };
    case 'maxP99LatencyMs': {
      return {
        measured: latencyQuantile(c.latency, 0.99),
        live: latencyQuantile(l.latency, 0.99),
        n: c.requests,
        againstLive: l.requests > 0,
        test: () =>
          l.requests > 0
            ? mannWhitneyBinned(c.latency, l.latency, 'greater')
            : oneSided(c.requests),
      };
    }
    case 'minAgreementWithLive':
      if (ctx.stageKind !== 'SHADOW')
        return {
          measured: null,
          live: null,
          n: 0,
          applicable: false,
          missing: 'agreement is measured on mirrored requests, in the shadow stage only',
        };
      return {
        measured: rate(c.agreed, c.compared),
        live: null,
        n: c.compared,
        test: () => oneProportionTest(c.agreed, c.compared, clampP(threshold), 'less'),
      };
    case 'maxPsiDrift':
      return m.psi === null
        ? { measured: null, live: null, n: m.psiCount, missing: 'no scores to compare yet' }
        : { measured: m.psi, live: null, n: m.psiCount };
    case 'minAccuracy': {
      const cl = m.candidateLabels;
      const ll = m.liveLabels;
      if (!cl || cl.n === 0)
        return { measured: null, live: null, n: 0, missing: 'no labelled feedback yet' };
      return {
        measured: cl.accuracy,
        live: ll?.accuracy ?? null,
        n: cl.n,
        againstLive: ll !== null && ll.n > 0,
        test: () =>
          ll && ll.n > 0
            ? twoProportionTest(cl.correct, cl.n, ll.correct, ll.n, 'less')
            : oneProportionTest(cl.correct, cl.n, clampP(threshold), 'less'),
      };
    }
    case 'minAuc': {
      const cl = m.candidateLabels;
      if (!cl || cl.auc === null)
        return {
          measured: null,
          live: null,
          n: cl?.n ?? 0,
          missing: 'AUC needs labelled feedback of both classes',
        };
      return { measured: cl.auc, live: m.liveLabels?.auc ?? null, n: cl.n };
    }
    case 'minDisparateImpact':
      return disparateImpact(c, l, threshold, ctx);
  }
}

function clampP(p: number): number {
  return Math.min(Math.max(p, 1e-9), 1 - 1e-9);
}

/** Latency with no live traffic to compare with: the threshold alone decides. */
function oneSided(n: number): TestResult {
  return { test: 'Mann-Whitney U', alternative: 'greater', n1: n, n2: 0, statistic: 0, pValue: 0 };
}

interface GroupRates {
  readonly attribute: string;
  readonly ratio: number;
  readonly worst: { readonly group: string; readonly rows: number; readonly selected: number };
  readonly best: { readonly group: string; readonly rows: number; readonly selected: number };
}

/**
 * The four-fifths figure of an arm: over every attribute, the lowest ratio of a group's
 * selection rate to the most-selected group's, among groups with enough rows.
 */
export function lowestSelectionRatio(arm: ArmWindow, minGroupSize: number): GroupRates | null {
  let lowest: GroupRates | null = null;
  for (const [attribute, byGroup] of Object.entries(arm.groups)) {
    const groups = Object.entries(byGroup)
      .filter(([, [rows]]) => rows >= minGroupSize)
      .map(([group, [rows, selected]]) => ({ group, rows, selected, rate: selected / rows }));
    if (groups.length < 2) continue;
    const best = groups.reduce((a, b) => (b.rate > a.rate ? b : a));
    const worst = groups.reduce((a, b) => (b.rate < a.rate ? b : a));
    const ratio = best.rate === 0 ? 1 : worst.rate / best.rate;
    if (lowest === null || ratio < lowest.ratio)
      lowest = {
        attribute,
        ratio,
        worst: { group: worst.group, rows: worst.rows, selected: worst.selected },
        best: { group: best.group, rows: best.rows, selected: best.selected },
      };
  }
  return lowest;
}

function disparateImpact(c: ArmWindow, l: ArmWindow, threshold: number, ctx: JudgeContext): Figure {
  const mine = lowestSelectionRatio(c, ctx.minGroupSize);
  const theirs = lowestSelectionRatio(l, ctx.minGroupSize);
  if (!mine)
    return {
      measured: null,
      live: theirs?.ratio ?? null,
      n: c.rows,
      missing: `no two groups of a protected attribute with at least ${ctx.minGroupSize} rows yet (requests name them in parameters.attributes)`,
    };
  return {
    measured: mine.ratio,
    live: theirs?.ratio ?? null,
    n: mine.worst.rows + mine.best.rows,
    test: () =>
      ratioTest(
        mine.worst.selected,
        mine.worst.rows,
        mine.best.selected,
        mine.best.rows,
        threshold,
        'less',
      ),
  };
}

/** Stages where the candidate answers or shadows no request have nothing to judge. */
function applicable(ctx: JudgeContext): Figure | null {
  return ctx.stageKind === 'SHADOW' || ctx.stageKind === 'CANARY' || ctx.stageKind === 'AB_TEST'
    ? null
    : {
        measured: null,
        live: null,
        n: 0,
        applicable: false,
        missing: `the candidate takes no requests in a ${ctx.stageKind} stage`,
      };
}

const CEILINGS: ReadonlySet<Criterion> = new Set([
  'maxErrorRate',
  'maxP99LatencyMs',
  'maxPsiDrift',
]);

function crosses(criterion: Criterion, value: number, threshold: number): boolean {
  return CEILINGS.has(criterion) ? value > threshold : value < threshold;
}

function describe(criterion: Criterion, f: Figure, threshold: number): string {
  const side = CEILINGS.has(criterion) ? 'at most' : 'at least';
  return `${criterion}: ${String(round(f.measured))} over ${f.n} (${side} ${threshold})`;
}

/** One rollback criterion: BREACH, PASS, or why it cannot be judged yet. */
export function judgeRollback(
  criterion: Criterion,
  threshold: number,
  window: CriteriaWindow,
  m: Measurements,
  ctx: JudgeContext,
): Verdict {
  const f = applicable(ctx) ?? figureOf(criterion, threshold, m, ctx);
  const base = {
    criterion,
    kind: 'rollback' as const,
    threshold,
    window,
    measured: round(f.measured),
    live: round(f.live),
    n: f.n,
  };
  if (f.applicable === false)
    return { ...base, status: 'NOT_APPLICABLE', test: null, note: f.missing ?? '' };
  if (f.measured === null)
    return { ...base, status: 'NOT_ENOUGH_DATA', test: null, note: f.missing ?? 'no data yet' };
  if (!crosses(criterion, f.measured, threshold)) {
    if (f.n < window.minRequests)
      return {
        ...base,
        status: 'NOT_ENOUGH_DATA',
        test: null,
        note: `${f.n} of the ${window.minRequests} needed to judge`,
      };
    return { ...base, status: 'PASS', test: null, note: describe(criterion, f, threshold) };
  }
  if (f.n < window.minRequests)
    return {
      ...base,
      status: 'NOT_ENOUGH_DATA',
      test: null,
      note: `past the threshold on ${f.n} of the ${window.minRequests} needed to judge`,
    };
  const test = f.test ? f.test() : null;
  if (test && test.pValue >= ctx.alpha)
    return {
      ...base,
      status: f.againstLive ? 'PASS' : 'UNCERTAIN',
      test,
      note: `${describe(criterion, f, threshold)}, past the threshold but not significantly (${test.test}, p = ${test.pValue.toPrecision(3)} ≥ ${ctx.alpha})${f.againstLive ? ': no worse than live' : ': waiting for more data'}`,
    };
  return {
    ...base,
    status: 'BREACH',
    test,
    note: test
      ? `${describe(criterion, f, threshold)}: breached (${test.test}, p = ${test.pValue.toPrecision(3)} < ${ctx.alpha})`
      : `${describe(criterion, f, threshold)}: breached`,
  };
}

/** One success criterion: met (PASS), NOT_MET, or why it cannot be judged yet. No tests: the
 * candidate must show the figure, not merely fail to disprove it. */
export function judgeSuccess(
  criterion: Criterion,
  threshold: number,
  window: CriteriaWindow,
  m: Measurements,
  ctx: JudgeContext,
): Verdict {
  const f = applicable(ctx) ?? figureOf(criterion, threshold, m, ctx);
  const base = {
    criterion,
    kind: 'success' as const,
    threshold,
    window,
    measured: round(f.measured),
    live: round(f.live),
    n: f.n,
    test: null,
  };
  if (f.applicable === false) return { ...base, status: 'NOT_APPLICABLE', note: f.missing ?? '' };
  if (f.measured === null || f.n < window.minRequests)
    return {
      ...base,
      status: 'NOT_ENOUGH_DATA',
      note: f.missing ?? `${f.n} of the ${window.minRequests} needed to judge`,
    };
  return crosses(criterion, f.measured, threshold)
    ? { ...base, status: 'NOT_MET', note: describe(criterion, f, threshold) }
    : { ...base, status: 'PASS', note: describe(criterion, f, threshold) };
}

/** Every criterion of a set, in the vocabulary's order, with the window's measurements. */
export function judgeAll(
  kind: 'rollback' | 'success',
  criteria: Criteria,
  measure: (window: CriteriaWindow) => Measurements,
  ctx: JudgeContext,
): Verdict[] {
  const verdicts: Verdict[] = [];
  for (const criterion of CRITERIA) {
    const t = criteria[criterion];
    if (!t) continue;
    const judge = kind === 'rollback' ? judgeRollback : judgeSuccess;
    verdicts.push(judge(criterion, t.value, t.window, measure(t.window), ctx));
  }
  return verdicts;
}
