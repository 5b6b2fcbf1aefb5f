import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { DeploymentService } from '../endpoints/deployment.service.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService, type LedgerTx } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { GateEvaluationEntity } from '../promotions/gate-evaluation.entity.js';
import { GatesService } from '../promotions/gates.service.js';
import { GateFailedError } from '../promotions/promotion.errors.js';
import { transition } from '../promotions/promotion-state.js';
import { PromotionsRepository } from '../promotions/promotions.repository.js';
import { recordingRefusals, refusalOf } from '../promotions/refusals.js';
import { RepolicyService } from '../promotions/repolicy.service.js';
import { checkId } from '../promotions/request-rules.js';
import { missingRoles } from '../promotions/separation-of-duties.js';
import { checkStatement } from '../common/statements.js';
import type { PromotionRequestEntity } from '../promotions/promotion-request.entity.js';
import { rolloutWith, type RolloutEntity, type RolloutStatus } from './rollout.entity.js';
import { RolloutEngine, type Cause } from './rollout-engine.service.js';
import { initialGoLive, rolloutStarted } from './rollout-events.js';
import { RolloutJudge, type Judgement } from './rollout-judge.service.js';
import { passStage, plannedStages } from './rollout-stages.js';
import { RolloutsRepository } from './rollouts.repository.js';

type StartOutcome = { readonly started: RolloutEntity } | { readonly failed: GateEvaluationEntity };

/**
 * Starts, advances, pauses and rolls back rollouts on people's request. A start evaluates the
 * gates again, under the request's and the endpoint's row locks, in the same transaction that
 * moves traffic: nothing can change between the verdict and the first stage. INITIAL goes live
 * at once; a staged rollout enters its first stage and the controller drives it from there.
 */
@Injectable()
export class RolloutsService {
  constructor(
    private readonly promotions: PromotionsRepository,
    private readonly rollouts: RolloutsRepository,
    private readonly gates: GatesService,
    private readonly repolicy: RepolicyService,
    private readonly deployment: DeploymentService,
    private readonly endpoints: EndpointsService,
    private readonly ledger: LedgerService,
    private readonly engine: RolloutEngine,
    private readonly judge: RolloutJudge,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  start(promotionId: string, principal: Principal): Promise<RolloutEntity> {
    checkId('promotionId', promotionId);
    const policy = this.policies.promotion;
    return recordingRefusals(
      this.ledger,
      (e) => refusalOf('rollout.start.refused', promotionId, principal, e, policy.sha256),
      async () => {
        await this.repolicy.refresh(promotionId);
        const outcome = await this.ledger.transaction(async (tx): Promise<StartOutcome> => {
          const m = tx.manager;
          const row = await this.promotions.lock(m, promotionId);
          if (!row) throw new NotFoundError('promotion request', promotionId);
          const request = await this.repolicy.judge(tx, row);
          if (request.status === 'PENDING') {
            const approvals = await this.promotions.approvals(m, request.id);
            // The request's own list: a PENDING request always misses at least one of them.
            const missing = missingRoles(request.requiredRoles, approvals);
            throw new ConflictError(
              `the request is not approved yet: missing approval of ${missing.join(', ')}`,
              { status: request.status, missingRoles: missing },
            );
          }
          const start = request.strategy === 'INITIAL' ? 'start-initial' : 'start-staged';
          transition(request.status, start);
          const endpoint = await this.endpoints.byId(request.endpointId, m);
          // Lock the endpoint before the gates read it: the verdict holds until commit.
          const locked = await this.endpoints.lock(m, endpoint.name);
          const live = locked?.liveVersion ?? null;
          if (live !== request.content.liveVersion)
            throw new ConflictError(
              `endpoint ${endpoint.name} now serves ${live === null ? 'no version' : `version ${live}`}, not the version ${String(request.content.liveVersion)} the request was approved against: request the promotion again`,
              { liveVersion: live, requestedAgainst: request.content.liveVersion },
            );
          const actor = actorOf(principal);
          const gates = await this.gates.evaluateIn(tx, request, actor, 'ROLLOUT_START');
          if (!gates.passed) return { failed: gates };
          if (request.strategy !== 'INITIAL')
            return {
              started: await this.startStaged(
                tx,
                request,
                endpoint.name,
                live,
                gates.id,
                gates.evidenceSha256,
                principal,
              ),
            };

          const version = request.content.version;
          const now = new Date();
          const at = now.toISOString();
          const id = randomUUID();
          await this.deployment.applyTraffic(
            tx,
            endpoint.name,
            { liveVersion: version },
            actor,
            `promotion ${request.id} (INITIAL) after gate evaluation ${gates.id}`,
          );
          const stages = plannedStages(request.strategy, request.content.plan);
          const rollout = await this.rollouts.insert(m, {
            id,
            promotionId: request.id,
            endpointId: endpoint.id,
            strategy: request.strategy,
            candidateVersion: version,
            previousVersion: null,
            status: 'COMPLETED',
            currentStage: stages.length - 1,
            stages: passStage(stages, stages.length - 1, at),
            gateEvaluationId: gates.id,
            leaseOwner: null,
            leaseExpiresAt: null,
            outcome: null,
            startedBy: principal.sub,
            updatedAt: now,
            finishedAt: now,
          });
          tx.record(
            rolloutStarted(
              {
                rolloutId: id,
                request,
                endpoint: endpoint.name,
                previousVersion: null,
                stages,
                gateEvaluationId: gates.id,
                evidenceSha256: gates.evidenceSha256,
                policySha256: policy.sha256,
              },
              actor,
            ),
          );
          tx.record(initialGoLive(id, request, endpoint.name, policy.sha256, actor));
          await this.promotions.setStatus(
            m,
            request.id,
            { from: request.status, event: 'start-initial' },
            { by: principal.sub, reason: null },
          );
          return { started: rollout };
        });
        if ('failed' in outcome)
          throw new GateFailedError(
            outcome.failed.gates
              .filter((g) => !g.passed)
              .map((g) => ({ gate: g.gate, summary: g.summary })),
            outcome.failed.id,
          );
        return outcome.started;
      },
    );
  }

  /** A staged rollout: its row, `rollout.started`, and its first stage entered. */
  private async startStaged(
    tx: LedgerTx,
    request: PromotionRequestEntity,
    endpoint: string,
    liveVersion: number | null,
    gateEvaluationId: string,
    evidenceSha256: string,
    principal: Principal,
  ): Promise<RolloutEntity> {
    const m = tx.manager;
    const id = randomUUID();
    const now = new Date();
    const stages = plannedStages(request.strategy, request.content.plan);
    const rollout = await this.rollouts.insert(m, {
      id,
      promotionId: request.id,
      endpointId: request.endpointId,
      strategy: request.strategy,
      candidateVersion: request.content.version,
      previousVersion: liveVersion,
      status: 'RUNNING',
      currentStage: 0,
      stages,
      gateEvaluationId,
      leaseOwner: null,
      leaseExpiresAt: null,
      outcome: null,
      startedBy: principal.sub,
      updatedAt: now,
      finishedAt: null,
    });
    const actor = actorOf(principal);
    tx.record(
      rolloutStarted(
        {
          rolloutId: id,
          request,
          endpoint,
          previousVersion: liveVersion,
          stages,
          gateEvaluationId,
          evidenceSha256,
          policySha256: this.policies.promotion.sha256,
        },
        actor,
      ),
    );
    await this.promotions.setStatus(m, request.id, { from: request.status, event: 'start-staged' });
    return this.engine.enter(tx, rollout, endpoint, 0, { actor, manual: true });
  }

  /**
   * Passes the stage in progress now, without waiting for its minimums (a person's call,
   * ledgered as manual with what was still awaited), or resumes a paused rollout. Refused
   * while a rollback criterion is breached: that rolls it back instead.
   */
  advance(id: string, principal: Principal, reason?: string | null): Promise<RolloutEntity> {
    const why = reason === null || reason === undefined ? undefined : this.reasonOf(reason);
    return this.act(
      id,
      principal,
      why,
      'rollout.advance.refused',
      async (tx, rollout, judged, cause) => {
        const { endpoint, judgement } = judged;
        if (rollout.status === 'PAUSED') {
          await this.engine.resume(tx, rollout, endpoint, cause);
          return rolloutWith(rollout, { status: 'RUNNING' });
        }
        if (rollout.status !== 'RUNNING' || !judgement)
          throw new ConflictError(`the rollout is ${rollout.status}: there is nothing to advance`, {
            status: rollout.status,
          });
        const { decision, abTest } = judgement;
        if (decision.action === 'rollback')
          throw new ConflictError(
            `a rollback criterion is breached (${decision.breached.map((v) => v.criterion).join(', ')}): the controller rolls this rollout back`,
            { breached: decision.breached.map((v) => v.criterion) },
          );
        const evidence = {
          ...judgement.evidence,
          skipped: decision.action === 'hold' ? decision.waitingFor : [],
        };
        if (judgement.stage.kind === 'AB_TEST') {
          if (abTest?.action !== 'conclude')
            throw new ConflictError(
              `the A/B test cannot conclude yet: ${abTest?.waitingFor ?? (decision.action === 'hold' ? decision.waitingFor.join('; ') : 'no result')}`,
            );
          return this.engine.concludeAbTest(tx, rollout, endpoint, abTest.result, evidence, cause);
        }
        return this.engine.pass(tx, rollout, endpoint, evidence, cause);
      },
    );
  }

  /** Holds the rollout in its stage: no stage passes until it is advanced again. */
  pause(id: string, principal: Principal, reason?: string | null): Promise<RolloutEntity> {
    const why = reason === null || reason === undefined ? undefined : this.reasonOf(reason);
    return this.act(
      id,
      principal,
      why,
      'rollout.pause.refused',
      async (tx, rollout, { endpoint }, cause) => {
        if (rollout.status !== 'RUNNING')
          throw new ConflictError(
            `the rollout is ${rollout.status}: only a running rollout pauses`,
            {
              status: rollout.status,
            },
          );
        await this.engine.pause(tx, rollout, endpoint, cause);
        return rolloutWith(rollout, { status: 'PAUSED' });
      },
    );
  }

  /**
   * All traffic back to the version that was live, at any moment: during the rollout, or
   * after the go-live while the previous version is still the endpoint's standby.
   */
  rollback(id: string, reason: string, principal: Principal): Promise<RolloutEntity> {
    const why = this.reasonOf(reason);
    return this.act(
      id,
      principal,
      undefined,
      'rollout.rollback.refused',
      async (tx, rollout, judged, cause) => {
        if (rollout.status === 'COMPLETED') {
          const endpoint = await this.endpoints.lock(tx.manager, judged.endpoint);
          const wentLive = rollout.stages.some((s) => s.kind === 'LIVE' && s.status === 'PASSED');
          if (
            !wentLive ||
            rollout.previousVersion === null ||
            endpoint?.liveVersion !== rollout.candidateVersion ||
            endpoint.standbyVersion !== rollout.previousVersion ||
            endpoint.candidateVersion !== null
          )
            throw new ConflictError(
              'the endpoint has moved on since this rollout completed (or it never changed the live version): only the latest go-live can be rolled back, while its previous version is the standby',
              {
                liveVersion: endpoint?.liveVersion ?? null,
                standbyVersion: endpoint?.standbyVersion ?? null,
              },
            );
        } else if (rollout.status !== 'RUNNING' && rollout.status !== 'PAUSED')
          throw new ConflictError(
            `the rollout is ${rollout.status}: there is nothing to roll back`,
            {
              status: rollout.status,
            },
          );
        return this.engine.rollBack(
          tx,
          rollout,
          judged.endpoint,
          why,
          { evidence: judged.judgement?.evidence ?? null },
          cause,
        );
      },
    );
  }

  /**
   * A person's reason for an action on a rollout, held to the rule of every text people sign
   * with (the policy's minimum length, three different words). Returns it trimmed.
   */
  private reasonOf(reason: string): string {
    return checkStatement('reason', reason, this.policies.promotion.value.text.minReasonLength);
  }

  /** Rollouts, newest first, optionally of one status or endpoint. */
  async list(args: {
    limit?: number;
    cursor?: string | null | undefined;
    status?: RolloutStatus | null | undefined;
    endpoint?: string | null | undefined;
  }): Promise<{ items: RolloutEntity[]; nextCursor: string | null }> {
    const limit = pageLimit(args.limit);
    const cursor = decodeCursor(args.cursor);
    let endpointId: string | undefined;
    if (args.endpoint) {
      const endpoint = await this.endpoints.byName(args.endpoint);
      if (!endpoint) return { items: [], nextCursor: null };
      endpointId = endpoint.id;
    }
    const rows = await this.rollouts.page(limit, cursor, {
      status: args.status ?? undefined,
      endpointId,
    });
    return pageOf(rows, limit);
  }

  /** The stage in progress as the controller would judge it now; null when none is. */
  async judgement(rollout: RolloutEntity): Promise<Judgement | null> {
    if (rollout.status !== 'RUNNING' && rollout.status !== 'PAUSED') return null;
    const request = await this.promotions.find(rollout.promotionId);
    // The clock as the driver last advanced it: only the driver's ticks move it.
    const time = {
      observedMs: rollout.stageObservedMs,
      observing: rollout.stageClockAt !== null,
    };
    return request
      ? this.judge.judge(rollout, request, new Date(), () => Promise.resolve(time))
      : null;
  }

  /**
   * A person's action on a rollout: judged outside the transaction (measuring reads), then
   * carried out under the row lock if the rollout is still where it was judged. A refusal is
   * ledgered.
   */
  private act(
    id: string,
    principal: Principal,
    reason: string | undefined,
    refusal: 'rollout.advance.refused' | 'rollout.pause.refused' | 'rollout.rollback.refused',
    work: (
      tx: LedgerTx,
      rollout: RolloutEntity,
      judged: { readonly endpoint: string; readonly judgement: Judgement | null },
      cause: Cause,
    ) => Promise<RolloutEntity>,
  ): Promise<RolloutEntity> {
    checkId('id', id);
    return recordingRefusals(
      this.ledger,
      (e) => ({
        type: refusal,
        subject: `rollout:${id}`,
        actor: actorOf(principal),
        payload: {
          rolloutId: id,
          code: e.code,
          reason: e.message,
          policySha256: this.policies.promotion.sha256,
        },
      }),
      async () => {
        const seen = await this.rollouts.find(id);
        if (!seen) throw new NotFoundError('rollout', id);
        const judged = await this.judgement(seen);
        const endpoint = await this.endpointName(seen.endpointId);
        const cause: Cause = {
          actor: actorOf(principal),
          manual: true,
          ...(reason === undefined ? {} : { reason }),
        };
        return this.ledger.transaction(async (tx) => {
          const rollout = await this.rollouts.lock(tx.manager, id);
          if (!rollout) throw new NotFoundError('rollout', id);
          if (rollout.status !== seen.status || rollout.currentStage !== seen.currentStage)
            throw new ConflictError('the rollout moved on while this was decided: try again', {
              status: rollout.status,
              currentStage: rollout.currentStage,
            });
          return work(tx, rollout, { endpoint, judgement: judged }, cause);
        });
      },
    );
  }

  /** The traffic state of the rollout's endpoint now. */
  async traffic(id: string): Promise<{
    mode: string;
    liveVersion: number | null;
    candidateVersion: number | null;
    candidateWeight: number;
    shadowSample: number;
  }> {
    const rollout = await this.rollouts.find(id);
    if (!rollout) throw new NotFoundError('rollout', id);
    const e = await this.endpoints.byId(rollout.endpointId);
    return {
      mode: e.mode,
      liveVersion: e.liveVersion,
      candidateVersion: e.candidateVersion,
      candidateWeight: e.candidateWeight,
      shadowSample: e.shadowSample,
    };
  }

  async get(id: string): Promise<RolloutEntity | null> {
    checkId('id', id);
    return this.rollouts.find(id);
  }

  ofPromotion(promotionId: string): Promise<RolloutEntity | null> {
    return this.rollouts.ofPromotion(promotionId);
  }

  async endpointName(endpointId: string): Promise<string> {
    return (await this.endpoints.byId(endpointId)).name;
  }
}
