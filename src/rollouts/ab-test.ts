import type { AbTestPlan } from '../promotions/rollout-plan.js';
import type { ArmWindow, LabelledFigures } from '../arm-metrics/arm-window.js';
import { latencyQuantile } from '../arm-metrics/latency-histogram.js';
import {
  aucDifferenceTest,
  mannWhitneyBinned,
  twoProportionTest,
  type TestResult,
} from './statistics.js';

/**
 * An A/B test's verdict: both arms with at least `minSamples` outcomes, then one
 * two-sided test at the plan's significance level. The winner is recorded; it does not go
 * live by this — a winning candidate still needs its own promotion.
 */
export interface AbResult {
  readonly outcome: AbTestPlan['outcome'];
  readonly winner: 'candidate' | 'live' | 'none';
  readonly candidate: { readonly n: number; readonly value: number | null };
  readonly live: { readonly n: number; readonly value: number | null };
  readonly test: TestResult;
  readonly significanceLevel: number;
}

export type AbDecision =
  | { readonly action: 'hold'; readonly waitingFor: string }
  | { readonly action: 'conclude'; readonly result: AbResult };

interface Arms {
  readonly candidate: ArmWindow;
  readonly live: ArmWindow;
  readonly candidateLabels: LabelledFigures | null;
  readonly liveLabels: LabelledFigures | null;
}

export function decideAbTest(plan: AbTestPlan, arms: Arms): AbDecision {
  const { candidate: c, live: l } = arms;
  const alpha = plan.significanceLevel;
  const wait = (n1: number, n2: number, what: string): AbDecision | null =>
    n1 < plan.minSamples || n2 < plan.minSamples
      ? {
          action: 'hold',
          waitingFor: `${what}: ${n1} on the candidate and ${n2} on live, ${plan.minSamples} needed on each`,
        }
      : null;
  const verdict = (
    test: TestResult,
    candidate: AbResult['candidate'],
    live: AbResult['live'],
    candidateAhead: boolean,
  ): AbDecision => ({
    action: 'conclude',
    result: {
      outcome: plan.outcome,
      winner: test.pValue < alpha ? (candidateAhead ? 'candidate' : 'live') : 'none',
      candidate,
      live,
      test,
      significanceLevel: alpha,
    },
  });
  switch (plan.outcome) {
    case 'ERROR_RATE': {
      const held = wait(c.requests, l.requests, 'requests');
      if (held) return held;
      const cr = c.errors / c.requests;
      const lr = l.errors / l.requests;
      return verdict(
        twoProportionTest(c.errors, c.requests, l.errors, l.requests, 'two-sided'),
        { n: c.requests, value: cr },
        { n: l.requests, value: lr },
        cr < lr,
      );
    }
    case 'P99_LATENCY': {
      const held = wait(c.requests, l.requests, 'requests');
      if (held) return held;
      // The rank test compares whole distributions; p99 is reported beside it. The candidate
      // is faster when its U is below the mean n₁n₂/2.
      const test = mannWhitneyBinned(c.latency, l.latency, 'two-sided');
      return verdict(
        test,
        { n: c.requests, value: latencyQuantile(c.latency, 0.99) },
        { n: l.requests, value: latencyQuantile(l.latency, 0.99) },
        test.statistic < (c.requests * l.requests) / 2,
      );
    }
    case 'ACCURACY': {
      const cl = arms.candidateLabels;
      const ll = arms.liveLabels;
      const held = wait(cl?.n ?? 0, ll?.n ?? 0, 'labelled outcomes');
      if (held || !cl || !ll) return held ?? { action: 'hold', waitingFor: 'labelled outcomes' };
      return verdict(
        twoProportionTest(cl.correct, cl.n, ll.correct, ll.n, 'two-sided'),
        { n: cl.n, value: cl.accuracy },
        { n: ll.n, value: ll.accuracy },
        (cl.accuracy ?? 0) > (ll.accuracy ?? 0),
      );
    }
    case 'AUC': {
      const cl = arms.candidateLabels;
      const ll = arms.liveLabels;
      const held = wait(cl?.n ?? 0, ll?.n ?? 0, 'labelled outcomes');
      if (held || !cl || !ll) return held ?? { action: 'hold', waitingFor: 'labelled outcomes' };
      if (cl.auc === null || ll.auc === null)
        return { action: 'hold', waitingFor: 'labelled outcomes of both classes on each arm' };
      return verdict(
        aucDifferenceTest(
          { auc: cl.auc, positives: cl.positives, negatives: cl.negatives },
          { auc: ll.auc, positives: ll.positives, negatives: ll.negatives },
          'two-sided',
        ),
        { n: cl.n, value: cl.auc },
        { n: ll.n, value: ll.auc },
        cl.auc > ll.auc,
      );
    }
  }
}
