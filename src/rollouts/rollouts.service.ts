import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Principal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { DeploymentService } from '../endpoints/deployment.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { GateEvaluationEntity } from '../promotions/gate-evaluation.entity.js';
import { GatesService } from '../promotions/gates.service.js';
import { GateFailedError } from '../promotions/promotion.errors.js';
import { PromotionsRepository } from '../promotions/promotions.repository.js';
import { recordingRefusals, refusalOf } from '../promotions/refusals.js';
import { checkId } from '../promotions/request-rules.js';
import { missingRoles } from '../promotions/separation-of-duties.js';
import type { RolloutEntity } from './rollout.entity.js';
import { passStage, plannedStages } from './rollout-stages.js';
import { RolloutsRepository } from './rollouts.repository.js';

type StartOutcome = { readonly started: RolloutEntity } | { readonly failed: GateEvaluationEntity };

/**
 * Starts the rollout of an approved promotion. The gates are evaluated again at that moment,
 * under the request's and the endpoint's row locks, in the same transaction that moves
 * traffic: nothing can change between the verdict and the go-live. For now only INITIAL is
 * carried out (the first version of an endpoint goes live at once); the staged strategies
 * need the rollout engine of the next issue, and are refused until it exists.
 */
@Injectable()
export class RolloutsService {
  constructor(
    private readonly promotions: PromotionsRepository,
    private readonly rollouts: RolloutsRepository,
    private readonly gates: GatesService,
    private readonly deployment: DeploymentService,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  start(promotionId: string, principal: Principal): Promise<RolloutEntity> {
    checkId('promotionId', promotionId);
    const policy = this.policies.promotion;
    return recordingRefusals(
      this.ledger,
      (e) => refusalOf('rollout.start.refused', promotionId, principal, e, {}, policy.sha256),
      async () => {
        const outcome = await this.ledger.transaction(async (tx): Promise<StartOutcome> => {
          const m = tx.manager;
          const request = await this.promotions.lock(m, promotionId);
          if (!request) throw new NotFoundError('promotion request', promotionId);
          if (request.status === 'PENDING') {
            const approvals = await this.promotions.approvals(m, request.id);
            const missing = missingRoles(policy.value.tiers[request.riskTier].approvers, approvals);
            throw new ConflictError(
              `the request is not approved yet: missing approval of ${missing.join(', ')}`,
              { status: request.status, missingRoles: missing },
            );
          }
          if (request.status !== 'APPROVED')
            throw new ConflictError(`the request is ${request.status}: there is nothing to start`, {
              status: request.status,
            });
          if (request.strategy !== 'INITIAL')
            throw new ConflictError(
              `a ${request.strategy} rollout needs the staged rollout engine, which is not available yet: only INITIAL go-lives can be started`,
              { strategy: request.strategy },
            );
          const endpoint = await this.promotions.endpointById(m, request.endpointId);
          // Lock the endpoint before the gates read it: the verdict holds until commit.
          await this.promotions.endpoint(m, endpoint.name, true);
          const actor = actorOf(principal);
          const gates = await this.gates.evaluateIn(tx, request, actor, 'ROLLOUT_START');
          if (!gates.passed) return { failed: gates };

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
            startedBy: principal.sub,
            updatedAt: now,
            finishedAt: now,
          });
          const common = {
            rolloutId: id,
            promotionId: request.id,
            endpoint: endpoint.name,
            model: request.content.model,
            version,
            strategy: request.strategy,
            requestDigest: request.requestSha256,
            policySha256: policy.sha256,
          };
          tx.record({
            type: 'rollout.started',
            subject: `rollout:${id}`,
            actor,
            payload: {
              ...common,
              previousVersion: null,
              stages: stages.map((s) => ({ name: s.name, kind: s.kind })),
              gateEvaluationId: gates.id,
              evidenceSha256: gates.evidenceSha256,
            },
          });
          tx.record({
            type: 'rollout.completed',
            subject: `rollout:${id}`,
            actor,
            payload: { ...common, liveVersion: version },
          });
          await this.promotions.setStatus(m, request.id, 'COMPLETED', {
            by: principal.sub,
            reason: null,
          });
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

  async get(id: string): Promise<RolloutEntity | null> {
    checkId('id', id);
    return this.rollouts.find(id);
  }

  ofPromotion(promotionId: string): Promise<RolloutEntity | null> {
    return this.rollouts.ofPromotion(promotionId);
  }

  endpointName(endpointId: string): Promise<string> {
    return this.rollouts.endpointName(endpointId);
  }
}
