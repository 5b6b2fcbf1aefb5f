import { Injectable } from '@nestjs/common';
import { DeploymentService } from '../endpoints/deployment.service.js';
import type { JsonObject, PauseDetails, RollbackDetails } from '../ledger/event-catalogue.js';
import type { Actor, LedgerTx } from '../ledger/ledger.service.js';
import { PromotionsRepository } from '../promotions/promotions.repository.js';
import type { PromotionStatus } from '../promotions/vocabulary.js';
import type { AbResult } from './ab-test.js';
import {
  rolloutWith,
  type RolloutEntity,
  type RolloutOutcome,
  type RolloutStatus,
} from './rollout.entity.js';
import { enterStage, failStage, passStage, stageTraffic } from './rollout-stages.js';
import { abTestConcluded, stagedGoLive, stagePassed } from './rollout-events.js';
import { RolloutsRepository } from './rollouts.repository.js';

const STOPPED = { stageObservedMs: 0, stageClockAt: null, stageClockBy: null } as const;

/** Who caused a transition: a person (manual) or the controller. */
export interface Cause {
  readonly actor: Actor;
  readonly manual: boolean;
  /** A person's reason for pausing or advancing, as they wrote it; recorded in the event. */
  readonly reason?: string;
}

/**
 * A rollout's transitions, each inside the caller's unit of work with the rollout row locked:
 * the stage list, the endpoint's traffic (through the deployment service, which records its
 * own `deployment.*` event and notifies every replica), the promotion's status and the
 * `rollout.*` event commit together or not at all. Callers decide; this carries out.
 */
@Injectable()
export class RolloutEngine {
  constructor(
    private readonly rollouts: RolloutsRepository,
    private readonly promotions: PromotionsRepository,
    private readonly deployment: DeploymentService,
  ) {}

  /** Puts stage `index` in progress: its traffic, its state, `rollout.stage.entered`. */
  async enter(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    index: number,
    cause: Cause,
  ): Promise<RolloutEntity> {
    const stage = rollout.stages[index];
    if (!stage) throw new Error(`rollout ${rollout.id} has no stage ${index}`);
    const at = new Date().toISOString();
    const traffic = stageTraffic(stage, rollout.candidateVersion, rollout.previousVersion);
    await this.deployment.applyTraffic(
      tx,
      endpoint,
      traffic,
      cause.actor,
      `rollout ${rollout.id}: stage ${stage.name}`,
    );
    const stages = enterStage(rollout.stages, index, at);
    tx.record({
      type: 'rollout.stage.entered',
      subject: `rollout:${rollout.id}`,
      actor: cause.actor,
      payload: {
        rolloutId: rollout.id,
        endpoint,
        version: rollout.candidateVersion,
        stage: stage.name,
        index,
        kind: stage.kind,
        settings: { ...stage.settings },
        weightBasisPoints: traffic.candidateWeight,
        sampleBasisPoints: traffic.shadowSample ?? 0,
        manual: cause.manual,
      },
    });
    if (stage.kind === 'LIVE') return this.complete(tx, rollout, endpoint, stages, index, cause);
    // A new stage's clock starts at the driver's first tick in it (stage-clock.ts).
    const entered = { currentStage: index, stages, ...STOPPED };
    await this.rollouts.update(tx.manager, rollout.id, entered);
    return rolloutWith(rollout, entered);
  }

  /** Passes the stage in progress with its evidence, then enters the next one. */
  async pass(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    evidence: JsonObject,
    cause: Cause,
  ): Promise<RolloutEntity> {
    const index = rollout.currentStage;
    const stage = rollout.stages[index];
    if (!stage) throw new Error(`rollout ${rollout.id} has no stage ${index}`);
    const stages = passStage(rollout.stages, index, new Date().toISOString());
    tx.record(
      stagePassed(
        rollout,
        endpoint,
        { name: stage.name, index, kind: stage.kind },
        evidence,
        cause,
      ),
    );
    const passed = rolloutWith(rollout, { stages });
    await this.rollouts.update(tx.manager, rollout.id, { stages });
    return this.enter(tx, passed, endpoint, index + 1, cause);
  }

  /**
   * All traffic back to the version that was live: the candidate's traffic state cleared, or,
   * after a completed go-live, the standby version live again.
   */
  async rollBack(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    reason: string,
    details: RollbackDetails,
    cause: Cause,
  ): Promise<RolloutEntity> {
    const afterGoLive = rollout.status === 'COMPLETED';
    const traffic = afterGoLive
      ? {
          liveVersion: rollout.previousVersion,
          standbyVersion: null,
          candidateVersion: null,
          mode: 'NONE' as const,
          candidateWeight: 0,
        }
      : { candidateVersion: null, mode: 'NONE' as const, candidateWeight: 0 };
    await this.deployment.applyTraffic(
      tx,
      endpoint,
      traffic,
      cause.actor,
      `rollout ${rollout.id} rolled back: ${reason}`,
    );
    const index = rollout.currentStage;
    const stage = rollout.stages[index];
    const now = new Date();
    const stages = afterGoLive
      ? rollout.stages
      : failStage(rollout.stages, index, now.toISOString());
    const outcome: RolloutOutcome = {
      rolledBack: true,
      reason,
      manual: cause.manual,
      by: cause.actor.sub,
    };
    tx.record({
      type: 'rollout.rolled_back',
      subject: `rollout:${rollout.id}`,
      actor: cause.actor,
      payload: {
        rolloutId: rollout.id,
        endpoint,
        version: rollout.candidateVersion,
        liveVersion: rollout.previousVersion,
        stage: stage?.name ?? null,
        index,
        afterGoLive,
        manual: cause.manual,
        by: cause.actor.sub,
        reason,
        ...details,
      },
    });
    await this.finish(tx, rollout, 'ROLLED_BACK', stages, outcome, 'roll-back', cause, reason);
    return rolloutWith(rollout, { status: 'ROLLED_BACK', stages, outcome, finishedAt: now });
  }

  /** An A/B test's result recorded; traffic back on live; the rollout completed. */
  async concludeAbTest(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    result: AbResult,
    evidence: JsonObject,
    cause: Cause,
  ): Promise<RolloutEntity> {
    await this.deployment.applyTraffic(
      tx,
      endpoint,
      { candidateVersion: null, mode: 'NONE', candidateWeight: 0 },
      cause.actor,
      `rollout ${rollout.id}: A/B test concluded (winner: ${result.winner})`,
    );
    const index = rollout.currentStage;
    const stages = passStage(rollout.stages, index, new Date().toISOString());
    const stage = { name: rollout.stages[index]?.name ?? 'ab-test', index, kind: 'AB_TEST' };
    tx.record(stagePassed(rollout, endpoint, stage, evidence, cause));
    const outcome: RolloutOutcome = { abTest: result };
    tx.record(abTestConcluded(rollout, endpoint, result, cause.actor));
    await this.finish(tx, rollout, 'COMPLETED', stages, outcome, 'complete-rollout', cause, null);
    return rolloutWith(rollout, { status: 'COMPLETED', stages, outcome, finishedAt: new Date() });
  }

  /** `details`: what the event says besides the stage, e.g. why the controller paused it. */
  pause(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    cause: Cause,
    details?: PauseDetails,
  ): Promise<void> {
    return this.hold(tx, rollout, endpoint, cause, 'PAUSED', details);
  }

  resume(tx: LedgerTx, rollout: RolloutEntity, endpoint: string, cause: Cause): Promise<void> {
    return this.hold(tx, rollout, endpoint, cause, 'RUNNING');
  }

  /** Pauses (`PAUSED`) or resumes (`RUNNING`) the stage it is in; traffic stays as it is. */
  private async hold(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    cause: Cause,
    status: 'PAUSED' | 'RUNNING',
    details?: PauseDetails,
  ): Promise<void> {
    await this.rollouts.update(tx.manager, rollout.id, { status });
    const held = {
      rolloutId: rollout.id,
      endpoint,
      stage: rollout.stages[rollout.currentStage]?.name ?? null,
      index: rollout.currentStage,
      ...(cause.reason === undefined ? {} : { reason: cause.reason }),
    };
    const subject = `rollout:${rollout.id}`;
    tx.record(
      status === 'RUNNING'
        ? { type: 'rollout.resumed', subject, actor: cause.actor, payload: held }
        : {
            type: 'rollout.paused',
            subject,
            actor: cause.actor,
            payload: details === undefined ? held : { ...held, ...details },
          },
    );
  }

  private async complete(
    tx: LedgerTx,
    rollout: RolloutEntity,
    endpoint: string,
    entered: RolloutEntity['stages'],
    index: number,
    cause: Cause,
  ): Promise<RolloutEntity> {
    const stages = passStage(entered, index, new Date().toISOString());
    tx.record(stagedGoLive(rollout, endpoint, cause.actor));
    await this.finish(
      tx,
      rolloutWith(rollout, { currentStage: index }),
      'COMPLETED',
      stages,
      null,
      'complete-rollout',
      cause,
      null,
    );
    return rolloutWith(rollout, {
      status: 'COMPLETED',
      currentStage: index,
      stages,
      finishedAt: new Date(),
    });
  }

  private async finish(
    tx: LedgerTx,
    rollout: RolloutEntity,
    status: RolloutStatus,
    stages: RolloutEntity['stages'],
    outcome: RolloutOutcome | null,
    promotionEvent: 'complete-rollout' | 'roll-back',
    cause: Cause,
    reason: string | null,
  ): Promise<void> {
    // The request is ROLLING_OUT while its rollout runs, and COMPLETED once it went live.
    const promotionStatus: PromotionStatus =
      rollout.status === 'COMPLETED' ? 'COMPLETED' : 'ROLLING_OUT';
    await this.rollouts.update(tx.manager, rollout.id, {
      status,
      currentStage: rollout.currentStage,
      stages,
      outcome,
      leaseOwner: null,
      leaseExpiresAt: null,
      finishedAt: new Date(),
    });
    await this.promotions.setStatus(
      tx.manager,
      rollout.promotionId,
      { from: promotionStatus, event: promotionEvent },
      { by: cause.actor.sub, reason },
    );
  }
}
