import { Injectable } from '@nestjs/common';
import { ArmMetricsRepository } from '../arm-metrics/arm-metrics.repository.js';
import { driftPsi, type DriftBaseline } from '../evaluation/metrics/drift.js';
import { FeedbackService } from '../feedback/feedback.service.js';
import { PredictionLog } from '../prediction-log/prediction-log.service.js';
import type { PredictionArm } from '../prediction-log/prediction.js';
import type { CriteriaWindow } from '../promotions/rollout-plan.js';
import { scoresOf, type ScoringSpec } from '../runtime/scoring.js';
import {
  labelledFigures,
  type ArmWindow,
  type LabelledFigures,
} from '../arm-metrics/arm-window.js';
import type { Measurements } from './criteria-judge.js';
import { latencyQuantile } from '../arm-metrics/latency-histogram.js';
import type { RolloutStage } from './rollout-stages.js';

/** A version in a rollout: its number, and how its logged outputs are scored. */
export interface RolloutVersion extends ScoringSpec {
  readonly version: number;
}

/** What measuring a rollout's current stage needs. */
export interface StageScope {
  readonly endpoint: string;
  readonly stage: RolloutStage;
  readonly candidate: RolloutVersion;
  readonly live: RolloutVersion;
  /** The score baseline of the evaluation the promotion was approved on. */
  readonly baseline: DriftBaseline | null;
}

/** The most logged scores one PSI or labelled figure is computed from (the newest ones). */
const MAX_SCORED_ROWS = 50_000;

/** The arm the candidate's requests are counted under in a stage. */
export function candidateArm(stage: RolloutStage): PredictionArm {
  return stage.kind === 'SHADOW' ? 'shadow' : 'candidate';
}

/** When a window of `seconds` ending `now` starts, never before the stage was entered. */
export function windowStart(stage: RolloutStage, now: Date, seconds: number): Date {
  const entered = stage.enteredAt === null ? now.getTime() : Date.parse(stage.enteredAt);
  return new Date(Math.max(entered, now.getTime() - seconds * 1000));
}

/** A summary of an arm for evidence and for `rollout(id)`. */
export interface ArmSummary {
  readonly arm: PredictionArm;
  readonly version: number;
  readonly requests: number;
  readonly errors: number;
  readonly errorRate: number | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly rows: number;
  readonly selectionRate: number | null;
  readonly agreement: number | null;
  readonly compared: number;
  readonly shadowDropped: number;
  readonly groups: ArmWindow['groups'];
}

export function summarize(arm: PredictionArm, version: number, w: ArmWindow): ArmSummary {
  const finite = (x: number | null) => (x === null || !Number.isFinite(x) ? null : x);
  return {
    arm,
    version,
    requests: w.requests,
    errors: w.errors,
    errorRate: w.requests === 0 ? null : w.errors / w.requests,
    p50Ms: finite(latencyQuantile(w.latency, 0.5)),
    p99Ms: finite(latencyQuantile(w.latency, 0.99)),
    rows: w.rows,
    selectionRate: w.rows === 0 ? null : w.selected / w.rows,
    agreement: w.compared === 0 ? null : w.agreed / w.compared,
    compared: w.compared,
    shadowDropped: w.shadowDropped,
    groups: w.groups,
  };
}

/**
 * Gathers what the controller judges a stage by: the arms' counts from the arm metrics (every
 * replica's windows), from the prediction log the scores behind PSI, and from feedback the
 * labelled scores.
 */
@Injectable()
export class RolloutMeasurements {
  constructor(
    private readonly arms: ArmMetricsRepository,
    private readonly predictions: PredictionLog,
    private readonly feedback: FeedbackService,
  ) {}

  /** Candidate requests since the stage was entered. */
  stageRequests(scope: StageScope): Promise<number> {
    const since = new Date(scope.stage.enteredAt ?? Date.now());
    return this.arms.requests(
      {
        endpoint: scope.endpoint,
        version: scope.candidate.version,
        arm: candidateArm(scope.stage),
      },
      since,
    );
  }

  /** Both arms over the whole stage so far. */
  async stageArms(scope: StageScope): Promise<{ candidate: ArmSummary; live: ArmSummary }> {
    const since = new Date(scope.stage.enteredAt ?? Date.now());
    const arm = candidateArm(scope.stage);
    const [c, l] = await Promise.all([
      this.arms.sum({ endpoint: scope.endpoint, version: scope.candidate.version, arm }, since),
      this.arms.sum({ endpoint: scope.endpoint, version: scope.live.version, arm: 'live' }, since),
    ]);
    return {
      candidate: summarize(arm, scope.candidate.version, c),
      live: summarize('live', scope.live.version, l),
    };
  }

  /** Everything one criteria window needs, ending `now`. */
  async measure(scope: StageScope, window: CriteriaWindow, now: Date): Promise<Measurements> {
    const since = windowStart(scope.stage, now, window.seconds);
    const arm = candidateArm(scope.stage);
    const [candidate, live, candidateLabels, liveLabels, psi] = await Promise.all([
      this.arms.sum({ endpoint: scope.endpoint, version: scope.candidate.version, arm }, since),
      this.arms.sum({ endpoint: scope.endpoint, version: scope.live.version, arm: 'live' }, since),
      this.labelled(scope.endpoint, scope.candidate, arm, since),
      this.labelled(scope.endpoint, scope.live, 'live', since),
      this.psi(scope, arm, since),
    ]);
    return { candidate, live, candidateLabels, liveLabels, ...psi };
  }

  private async labelled(
    endpoint: string,
    version: RolloutVersion,
    arm: PredictionArm,
    since: Date,
  ): Promise<LabelledFigures | null> {
    if (version.threshold === null) return null;
    const rows = await this.feedback.labelledScores(
      { endpoint, version: version.version, arm },
      { output: version.scoreOutput, index: version.scoreIndex },
      since,
      MAX_SCORED_ROWS,
    );
    const pairs = rows
      .filter((r): r is { score: number; label: number } => r.score !== null)
      .map((r) => ({ score: r.score, label: r.label }));
    return labelledFigures(pairs, version.threshold);
  }

  private async psi(
    scope: StageScope,
    arm: PredictionArm,
    since: Date,
  ): Promise<{ psi: number | null; psiCount: number }> {
    if (!scope.baseline) return { psi: null, psiCount: 0 };
    const rows = await this.predictions.outputValues(
      {
        endpoint: scope.endpoint,
        version: scope.candidate.version,
        arm,
        output: scope.candidate.scoreOutput,
      },
      since,
      MAX_SCORED_ROWS,
    );
    const scores: number[] = [];
    for (const { data, shape } of rows) {
      const logged = scoresOf(data, shape[0] ?? 1, scope.candidate.scoreIndex) ?? [];
      for (const score of logged) if (Number.isFinite(score)) scores.push(score);
    }
    if (scores.length === 0) return { psi: null, psiCount: 0 };
    return { psi: driftPsi(scope.baseline, scores, 'score'), psiCount: scores.length };
  }
}
