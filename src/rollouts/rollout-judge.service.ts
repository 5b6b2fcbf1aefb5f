import { Inject, Injectable } from '@nestjs/common';
import { REPLICA_ID } from '../common/replica-id.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { EvaluationsService } from '../evaluation/evaluations.service.js';
import type { DriftBaseline } from '../evaluation/metrics/drift.js';
import type { JsonObject } from '../ledger/event-catalogue.js';
import { ModelRuntime } from '../runtime/model-runtime.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { PromotionRequestEntity } from '../promotions/promotion-request.entity.js';
import type { Criteria, RollbackCriteria } from '../promotions/rollout-plan.js';
import type { ModelVersionEntity } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import { decideAbTest, type AbDecision } from './ab-test.js';
import { judgeAll, type Measurements, type Verdict } from './criteria-judge.js';
import type { RolloutEntity } from './rollout.entity.js';
import {
  RolloutMeasurements,
  type StageScope,
  type RolloutVersion,
} from './rollout-measurements.service.js';
import type { RolloutStage } from './rollout-stages.js';
import type { StageTime } from './stage-clock.js';
import { decideStage, stageMinimums, type StageDecision } from './stage-decision.js';

/**
 * The stage's observed time, read once the endpoint is known: the controller advances the
 * clock with the endpoint's metrics heartbeats; a view reads the clock as it stands.
 */
export type StageTimer = (endpoint: string) => Promise<StageTime>;

/** What a rollout's decisions read besides its own row. */
export interface RolloutFacts {
  readonly endpoint: string;
  readonly candidate: RolloutVersion;
  readonly candidateSha256: string;
  /** The version live when it started; null for INITIAL. */
  readonly previous: RolloutVersion | null;
  readonly baseline: DriftBaseline | null;
}

/** A rollout's stage as judged at one moment: the decision and the evidence behind it. */
export interface Judgement {
  readonly facts: RolloutFacts;
  readonly stage: RolloutStage;
  readonly decision: StageDecision;
  /** For an A/B stage, the test's verdict (the decision is `pass` when it concluded). */
  readonly abTest: AbDecision | null;
  readonly evidence: JsonObject;
  readonly rollback: readonly Verdict[];
}

/**
 * Measures a rollout's stage in progress and decides (pure functions over what
 * RolloutMeasurements reads). The controller acts on the decision; `rollout(id)` shows it.
 */
@Injectable()
export class RolloutJudge {
  constructor(
    private readonly measurements: RolloutMeasurements,
    private readonly endpoints: EndpointsService,
    private readonly registry: RegistryService,
    private readonly evaluations: EvaluationsService,
    private readonly runtime: ModelRuntime,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  async judge(
    rollout: RolloutEntity,
    request: PromotionRequestEntity,
    now: Date,
    timer: StageTimer,
  ): Promise<Judgement | null> {
    const stage = rollout.stages[rollout.currentStage];
    if (!stage || stage.kind === 'LIVE') return null;
    const facts = await this.facts(rollout, request.content.evaluation.id);
    if (!facts.previous) return null;
    const scope: StageScope = {
      endpoint: facts.endpoint,
      stage,
      candidate: facts.candidate,
      live: facts.previous,
      baseline: facts.baseline,
    };
    const policy = this.policies.promotion.value;
    const ctx = {
      stageKind: stage.kind,
      alpha: policy.rollouts.significanceLevel,
      minGroupSize: policy.tiers[request.riskTier].fairness.minGroupSize,
    };
    const content = request.content;
    // Each distinct window is measured once; the judging itself is synchronous and pure.
    const resolved = new Map<number, Measurements>();
    const criteria = [
      ...Object.values(withoutRationale(content.rollbackCriteria)),
      ...Object.values(content.successCriteria ?? {}),
    ];
    for (const t of criteria)
      if (!resolved.has(t.window.seconds))
        resolved.set(t.window.seconds, await this.measurements.measure(scope, t.window, now));
    const byWindow = (w: { seconds: number }): Measurements => {
      const m = resolved.get(w.seconds);
      if (!m) throw new Error(`window of ${w.seconds} s was not measured`);
      return m;
    };
    const rollback = judgeAll(
      'rollback',
      withoutRationale(content.rollbackCriteria),
      byWindow,
      ctx,
    );
    const success = judgeAll('success', content.successCriteria ?? {}, byWindow, ctx);
    const [time, candidateRequests, arms, candidateReady] = await Promise.all([
      timer(facts.endpoint),
      this.measurements.stageRequests(scope),
      this.measurements.stageArms(scope),
      stage.kind === 'BLUE_GREEN' ? this.ready(facts.candidateSha256) : Promise.resolve(true),
    ]);
    let decision = decideStage({
      stage,
      observedMs: time.observedMs,
      observing: time.observing,
      candidateRequests,
      rollback,
      success,
      paused: rollout.status === 'PAUSED',
      candidateReady,
    });
    let abTest: AbDecision | null = null;
    if (stage.kind === 'AB_TEST' && content.plan.abTest && decision.action === 'pass') {
      const since = new Date(stage.enteredAt ?? now.getTime());
      const whole = await this.measurements.measure(
        scope,
        { minRequests: 0, seconds: Math.ceil((now.getTime() - since.getTime()) / 1000) + 1 },
        now,
      );
      abTest = decideAbTest(content.plan.abTest, whole);
      if (abTest.action === 'hold') decision = { action: 'hold', waitingFor: [abTest.waitingFor] };
    }
    const evidence = plainJson({
      decidedAt: now.toISOString(),
      // The replica that measured and decided: with the lease, one at a time.
      replica: REPLICA_ID,
      stage: stage.name,
      kind: stage.kind,
      enteredAt: stage.enteredAt,
      minimums: stageMinimums(stage),
      // Time the stage was watched (a takeover's or a metrics gap's time is not in it).
      observedSeconds: time.observedMs / 1000,
      candidateRequests,
      significanceLevel: ctx.alpha,
      arms,
      rollbackCriteria: rollback,
      successCriteria: success,
      ...(abTest?.action === 'conclude' ? { abTest: abTest.result } : {}),
    });
    return { facts, stage, decision, abTest, evidence, rollback };
  }

  private async facts(rollout: RolloutEntity, evaluationId: string): Promise<RolloutFacts> {
    const endpoint = await this.endpoints.byId(rollout.endpointId);
    const versionOf = async (version: number | null) =>
      version === null ? null : this.registry.versionOfModel(endpoint.modelId, version);
    const rolloutVersion = (row: ModelVersionEntity): RolloutVersion => ({
      version: row.version,
      inputName: row.inputName,
      featureColumns: row.featureColumns,
      scoreOutput: row.scoreOutput,
      scoreIndex: row.scoreIndex,
      threshold: row.threshold,
    });
    const candidate = await versionOf(rollout.candidateVersion);
    if (!candidate) throw new Error(`rollout ${rollout.id}: its candidate version is gone`);
    const previous = await versionOf(rollout.previousVersion);
    return {
      endpoint: endpoint.name,
      candidate: rolloutVersion(candidate),
      candidateSha256: candidate.artifactSha256.trim(),
      previous: previous && rolloutVersion(previous),
      baseline: await this.evaluations.scoreBaseline(evaluationId),
    };
  }

  private async ready(sha256: string): Promise<boolean> {
    try {
      await this.runtime.warm(sha256);
      return true;
    } catch {
      return false;
    }
  }
}

function withoutRationale(criteria: RollbackCriteria): Criteria {
  return Object.fromEntries(Object.entries(criteria).filter(([key]) => key !== 'rationale'));
}

/** Plain JSON for the ledger: no undefined members, non-finite numbers as null. */
function plainJson(value: Record<string, unknown>): JsonObject {
  return JSON.parse(JSON.stringify(value)) as JsonObject;
}
