import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  ArmMetricsRepository,
  type MetricsHeartbeat,
} from '../arm-metrics/arm-metrics.repository.js';
import { REPLICA_ID } from '../common/replica-id.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { JsonObject } from '../ledger/event-catalogue.js';
import { LedgerService, type Actor } from '../ledger/ledger.service.js';
import { PromotionsRepository } from '../promotions/promotions.repository.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { withSpan } from '../telemetry/tracing.js';
import { stalledHeartbeat, stallLimits, stallReason, type StallLimits } from './metrics-stall.js';
import {
  advanceClock,
  metricsArrivingUntil,
  takeoverClock,
  type StageTime,
} from './stage-clock.js';
import type { RolloutEntity } from './rollout.entity.js';
import { RolloutEngine } from './rollout-engine.service.js';
import { RolloutJudge, type Judgement } from './rollout-judge.service.js';
import type { RolloutStage } from './rollout-stages.js';
import { RolloutsRepository } from './rollouts.repository.js';

/** The controller's own name in the ledger. */
export const CONTROLLER_ACTOR: Actor = { sub: 'system:rollout-controller' };

/**
 * Drives staged rollouts. Every tick it claims the rollouts it may drive (a lease in the
 * rollout row: one replica at a time, and a crashed replica's lease expires so another takes
 * over), judges each stage in progress from what every replica measured, and acts: roll back
 * on a breach, pass the stage once it has shown what it must, or hold. An action re-reads the
 * row under a lock and checks the lease and the stage it judged are still current before it
 * changes anything, so a slow tick never acts on a stale judgement. The state is all in
 * PostgreSQL: a restarted replica resumes exactly where the rollout stood.
 *
 * A stage is never judged on metrics that stopped arriving: when a replica serving the
 * endpoint has held counts it cannot write for `staleMetricsTicks` ticks (metrics-stall.ts),
 * a running rollout pauses itself, with the reason in `rollout.paused`, instead of holding in
 * silence or passing on what is left. A breach still rolls it back, paused or not.
 */
@Injectable()
export class RolloutController implements OnApplicationBootstrap, OnApplicationShutdown {
  private static readonly logger = new Logger('RolloutController');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly stall: StallLimits;
  /**
   * How far apart this driver's ticks may be and still count in full as observed time: one
   * late tick is load, not a gap; beyond that the driver was not demonstrably watching, and
   * only this much of the gap counts.
   */
  private readonly heartbeatMs: number;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly rollouts: RolloutsRepository,
    private readonly promotions: PromotionsRepository,
    private readonly judge: RolloutJudge,
    private readonly engine: RolloutEngine,
    private readonly ledger: LedgerService,
    private readonly dataSource: DataSource,
    private readonly telemetry: GatehouseMetrics,
    private readonly armMetrics: ArmMetricsRepository,
  ) {
    const r = config.rollouts;
    this.stall = stallLimits(r.tickMs, r.staleMetricsTicks, r.metricsFlushMs);
    this.heartbeatMs = 2 * r.tickMs;
  }

  onApplicationBootstrap(): void {
    if (!this.config.rollouts.controller) return;
    this.timer = setInterval(() => void this.tick(), this.config.rollouts.tickMs);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
    await this.rollouts.release(REPLICA_ID).catch((error: unknown) => {
      RolloutController.logger.warn(`releasing rollout leases failed: ${String(error)}`);
    });
  }

  /** One pass over every rollout this replica may drive; passes never overlap. */
  tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<void> {
    let ids: string[];
    try {
      ids = await this.rollouts.claimable(REPLICA_ID);
    } catch (error) {
      RolloutController.logger.error(`listing rollouts failed: ${String(error)}`);
      return;
    }
    // A tick with nothing to drive makes no trace: one per second per replica would be noise.
    if (ids.length === 0) return;
    await withSpan(
      'gatehouse.rollout.tick',
      { 'gatehouse.replica': REPLICA_ID, 'gatehouse.rollouts': ids.length },
      () => this.drives(ids),
    );
  }

  private async drives(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      if (this.stopped) return;
      try {
        await this.drive(id);
      } catch (error) {
        RolloutController.logger.error(`rollout ${id}: ${String(error)}`);
      }
    }
  }

  private async drive(id: string): Promise<void> {
    if (!(await this.claim(id))) return;
    const rollout = await this.rollouts.find(id);
    if (!rollout || (rollout.status !== 'RUNNING' && rollout.status !== 'PAUSED')) return;
    const request = await this.promotions.find(rollout.promotionId);
    if (!request) throw new Error(`its promotion request ${rollout.promotionId} is gone`);
    let heartbeats: Awaited<ReturnType<ArmMetricsRepository['heartbeats']>> | undefined;
    const timer = async (endpoint: string): Promise<StageTime> => {
      heartbeats = await this.armMetrics.heartbeats(endpoint);
      return this.observe(rollout, heartbeats.now, heartbeats.beats);
    };
    const judgement = await this.judge.judge(rollout, request, new Date(), timer);
    if (!judgement) return;
    const { decision, facts, stage, abTest } = judgement;
    this.telemetry.setRolloutState(facts.endpoint, {
      stage: stage.name,
      candidateVersion: rollout.candidateVersion,
      weight: stageWeight(stage),
    });
    // A breach rolls back whatever else is known; anything else waits for the metrics.
    if (rollout.status === 'RUNNING' && decision.action !== 'rollback') {
      const { now, beats } = heartbeats ?? (await this.armMetrics.heartbeats(facts.endpoint));
      const stalled = stalledHeartbeat(beats, now, this.stall);
      if (stalled) {
        await withSpan(
          'gatehouse.rollout.decision',
          {
            'gatehouse.rollout': id,
            'gatehouse.endpoint': facts.endpoint,
            'gatehouse.stage': stage.name,
            'gatehouse.decision': 'pause',
          },
          () => this.pauseStalled(id, rollout, judgement, stalled),
        );
        return;
      }
    }
    if (decision.action === 'hold') return;
    const attributes = {
      'gatehouse.rollout': id,
      'gatehouse.endpoint': facts.endpoint,
      'gatehouse.stage': stage.name,
      'gatehouse.decision': abTest?.action === 'conclude' ? 'conclude' : decision.action,
    };
    await withSpan('gatehouse.rollout.decision', attributes, () =>
      this.act(id, rollout, judgement),
    );
  }

  private async act(id: string, rollout: RolloutEntity, judgement: Judgement): Promise<void> {
    const { decision, facts, stage, evidence, abTest } = judgement;
    await this.ledger.transaction(async (tx) => {
      const locked = await this.rollouts.lock(tx.manager, id);
      if (
        !locked ||
        locked.leaseOwner !== REPLICA_ID ||
        locked.status !== rollout.status ||
        locked.currentStage !== rollout.currentStage
      )
        return;
      const cause = { actor: CONTROLLER_ACTOR, manual: false };
      if (decision.action === 'rollback') {
        const breached = plain(decision.breached);
        const first = decision.breached[0];
        const reason = first
          ? `${first.criterion} breached in stage ${stage.name}: ${first.note}`
          : `a rollback criterion was breached in stage ${stage.name}`;
        await this.engine.rollBack(
          tx,
          locked,
          facts.endpoint,
          reason,
          { criterion: first?.criterion ?? null, breached, evidence },
          cause,
        );
      } else if (abTest?.action === 'conclude') {
        await this.engine.concludeAbTest(
          tx,
          locked,
          facts.endpoint,
          abTest.result,
          evidence,
          cause,
        );
      } else if (locked.status === 'RUNNING') {
        await this.engine.pass(tx, locked, facts.endpoint, evidence, cause);
      }
    });
    const after = await this.rollouts.find(id);
    if (after)
      this.telemetry.setRolloutState(facts.endpoint, {
        stage:
          after.status === 'RUNNING' || after.status === 'PAUSED'
            ? (after.stages[after.currentStage]?.name ?? null)
            : after.status.toLowerCase(),
        candidateVersion: after.candidateVersion,
        weight: after.status === 'RUNNING' ? stageWeight(after.stages[after.currentStage]) : 0,
      });
  }

  /** Pauses a running rollout whose metrics stopped arriving, saying why, and alerts. */
  private async pauseStalled(
    id: string,
    rollout: RolloutEntity,
    judgement: Judgement,
    stalled: MetricsHeartbeat,
  ): Promise<void> {
    const { facts, stage } = judgement;
    const reason = stallReason(stalled);
    const paused = await this.ledger.transaction(async (tx) => {
      const locked = await this.rollouts.lock(tx.manager, id);
      if (
        !locked ||
        locked.leaseOwner !== REPLICA_ID ||
        locked.status !== 'RUNNING' ||
        locked.currentStage !== rollout.currentStage
      )
        return false;
      await this.engine.pause(
        tx,
        locked,
        facts.endpoint,
        { actor: CONTROLLER_ACTOR, manual: false },
        {
          manual: false,
          reason,
          metricsStalled: {
            replica: stalled.replica,
            endpoint: stalled.endpoint,
            unwrittenSince: stalled.unwrittenSince?.toISOString() ?? null,
            lastWrittenAt: stalled.writtenAt?.toISOString() ?? null,
            requestsSeenAt: stalled.seenAt?.toISOString() ?? null,
            cause: stalled.cause,
            staleMetricsTicks: this.config.rollouts.staleMetricsTicks,
            tickMs: this.config.rollouts.tickMs,
          },
        },
      );
      return true;
    });
    if (!paused) return;
    this.telemetry.recordRolloutMetricsStalled(facts.endpoint);
    RolloutController.logger.error(
      `rollout ${id} of ${facts.endpoint} paused in stage ${stage.name}: ${reason}`,
    );
  }

  /**
   * Advances the clock of the stage in progress by this tick and stores it. Nothing of it is
   * ledgered: the stage's pass carries its observed time, a takeover its gap.
   */
  private async observe(
    rollout: RolloutEntity,
    now: Date,
    beats: readonly MetricsHeartbeat[],
  ): Promise<StageTime> {
    const step = advanceClock(
      { observedMs: rollout.stageObservedMs, at: rollout.stageClockAt, by: rollout.stageClockBy },
      {
        now,
        observer: REPLICA_ID,
        heartbeatMs: this.heartbeatMs,
        metricsUntil: metricsArrivingUntil(beats, now, this.stall),
      },
    );
    await this.rollouts.setClock(rollout.id, REPLICA_ID, rollout.currentStage, step.clock);
    return { observedMs: step.clock.observedMs, observing: step.observing };
  }

  /**
   * Takes or renews the lease. A takeover from a replica whose lease expired is ledgered with
   * the claim, so the record shows which replica drove each part of a rollout, and with the
   * stage's clock: what was observed before stays, the time since the previous driver's last
   * tick does not count (stage-clock.ts).
   */
  private async claim(id: string): Promise<boolean> {
    const seconds = this.config.rollouts.leaseSeconds;
    const current = await this.rollouts.find(id);
    const owner = current?.leaseOwner ?? null;
    const takingOver = owner !== null && owner !== REPLICA_ID;
    if (!takingOver) {
      // A renewal or a first claim changes no rollout state: no ledger event, no seal.
      const claimed = await this.dataSource.transaction((m) =>
        this.rollouts.claim(m, id, REPLICA_ID, seconds),
      );
      return claimed !== undefined;
    }
    const claimed = await this.ledger.transaction(async (tx) => {
      const c = await this.rollouts.claim(tx.manager, id, REPLICA_ID, seconds);
      if (c?.previousOwner) {
        const stage = current?.stages[c.currentStage];
        tx.record({
          type: 'rollout.driver.changed',
          subject: `rollout:${id}`,
          actor: CONTROLLER_ACTOR,
          payload: {
            rolloutId: id,
            from: c.previousOwner,
            to: REPLICA_ID,
            leaseSeconds: seconds,
            clock: stage
              ? takeoverClock(c.clock, { name: stage.name, index: c.currentStage }, c.now)
              : null,
          },
        });
      }
      return c;
    });
    return claimed !== undefined;
  }
}

/** The candidate's share of traffic in a stage (0 to 1); shadow copies answer nobody. */
function stageWeight(stage: RolloutStage | undefined): number {
  if (!stage) return 0;
  const percent = stage.settings['percent'] ?? stage.settings['splitPercent'];
  return typeof percent === 'number' ? percent / 100 : stage.kind === 'LIVE' ? 1 : 0;
}

function plain(value: readonly object[]): JsonObject[] {
  return JSON.parse(JSON.stringify(value)) as JsonObject[];
}
