import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BlobStore } from '../blobs/blob-store.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import type { EvaluationEntity } from '../evaluation/evaluation.entity.js';
import { EvaluationsService } from '../evaluation/evaluations.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService, type Actor, type LedgerTx } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import { RegistryService } from '../registry/registry.service.js';
import { GatehouseMetrics } from '../telemetry/metrics.js';
import { withSpan } from '../telemetry/tracing.js';
import type { GateEvaluationEntity, GatePurpose } from './gate-evaluation.entity.js';
import { evaluateGates, type EvaluationFacts, type GateFacts, type StoredResult } from './gates.js';
import type { PromotionRequestEntity } from './promotion-request.entity.js';
import { PromotionsRepository } from './promotions.repository.js';
import { digestOf } from './request-digest.js';
import { RepolicyService } from './repolicy.service.js';
import { checkId } from './request-rules.js';

/**
 * Gathers what the gates judge — the request, its approvals, the evaluation, the live
 * version's baseline, the artifact's bytes re-hashed — evaluates them, and stores and ledgers
 * the outcome with the digest of its evidence and of the policy applied (`gate.evaluated`).
 */
@Injectable()
export class GatesService {
  constructor(
    private readonly repository: PromotionsRepository,
    private readonly endpoints: EndpointsService,
    private readonly registry: RegistryService,
    private readonly evaluations: EvaluationsService,
    private readonly repolicy: RepolicyService,
    private readonly blobs: BlobStore,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
    private readonly metrics: GatehouseMetrics,
  ) {}

  /** `evaluateGates(id)`: a review of an open request's gates. */
  async review(id: string, principal: Principal): Promise<GateEvaluationEntity> {
    checkId('id', id);
    await this.repolicy.refresh(id);
    return this.ledger.transaction(async (tx) => {
      const locked = await this.repository.lock(tx.manager, id);
      if (!locked) throw new NotFoundError('promotion request', id);
      const request = await this.repolicy.judge(tx, locked);
      if (request.status !== 'PENDING' && request.status !== 'APPROVED')
        throw new ConflictError(
          `the request is ${request.status}: its gates are no longer evaluated`,
          { status: request.status },
        );
      return this.evaluateIn(tx, request, actorOf(principal), 'REVIEW');
    });
  }

  /**
   * Inside the caller's unit of work, e.g. the start of a rollout, under its locks; the
   * request as RepolicyService.judge returned it, so that the APPROVALS gate counts the roles
   * the request shows.
   */
  evaluateIn(
    tx: LedgerTx,
    request: PromotionRequestEntity,
    actor: Actor,
    purpose: GatePurpose,
  ): Promise<GateEvaluationEntity> {
    return withSpan(
      'gatehouse.gates.evaluate',
      { 'gatehouse.promotion.id': request.id, 'gatehouse.gates.purpose': purpose },
      async (span) => {
        const row = await this.evaluateTraced(tx, request, actor, purpose);
        span.setAttribute('gatehouse.gates.passed', row.passed);
        return row;
      },
    );
  }

  private async evaluateTraced(
    tx: LedgerTx,
    request: PromotionRequestEntity,
    actor: Actor,
    purpose: GatePurpose,
  ): Promise<GateEvaluationEntity> {
    const policy = this.policies.promotion;
    const gates = evaluateGates(await this.facts(tx.manager, request));
    // Counted when computed: an evaluation whose unit of work rolls back still counts.
    this.metrics.recordGateEvaluation(purpose, gates);
    const evidence = digestOf(gates);
    const id = randomUUID();
    const failed = gates.filter((g) => !g.passed);
    const row = await this.repository.insertGateEvaluation(
      tx.manager,
      {
        id,
        promotionId: request.id,
        passed: failed.length === 0,
        purpose,
        evidenceSha256: evidence.sha256,
        policySha256: policy.sha256,
        requestSha256: request.requestSha256,
        evaluatedBy: actor.sub,
      },
      evidence.canonical,
    );
    tx.record({
      type: 'gate.evaluated',
      subject: `promotion:${request.id}`,
      actor,
      payload: {
        promotionId: request.id,
        gateEvaluationId: id,
        purpose,
        passed: failed.length === 0,
        failedGates: failed.map((g) => g.gate),
        gates: gates.map((g) => ({ gate: g.gate, passed: g.passed, summary: g.summary })),
        evidenceSha256: evidence.sha256,
        requestDigest: request.requestSha256,
        policySha256: policy.sha256,
      },
    });
    return row;
  }

  gateEvaluations(promotionId: string): Promise<GateEvaluationEntity[]> {
    return this.repository.gateEvaluations(promotionId);
  }

  private async facts(m: EntityManager, request: PromotionRequestEntity): Promise<GateFacts> {
    const policy = this.policies.promotion.value;
    const content = request.content;
    const endpoint = await this.endpoints.byId(request.endpointId, m);
    const version = await this.registry.versionById(request.modelVersionId, m);
    const model = await this.registry.modelById(version.modelId, m);
    const approvals = await this.repository.approvals(m, request.id);
    const evaluation = await this.evaluations.byId(request.evaluationId, m);
    if (!evaluation) throw new NotFoundError('evaluation', request.evaluationId);
    const candidate = factsOf(evaluation);
    let live: GateFacts['live'] = null;
    if (endpoint.liveVersion !== null && endpoint.liveVersion !== version.version) {
      const liveVersion = await this.registry.versionOfModel(model.id, endpoint.liveVersion, m);
      const baseline =
        liveVersion &&
        (await this.evaluations.baseline(
          m,
          liveVersion.id,
          candidate.result?.dataset.sha256 ?? null,
        ));
      live = { version: endpoint.liveVersion, evaluation: baseline ? factsOf(baseline) : null };
    }
    return {
      now: new Date(),
      riskTier: request.riskTier,
      tier: policy.tiers[request.riskTier],
      policy,
      request: {
        id: request.id,
        requestDigest: request.requestSha256,
        recomputedDigest: digestOf(content).sha256,
        requestedBy: request.requestedBy,
        requiredRoles: request.requiredRoles,
        strategy: content.strategy,
        plan: content.plan,
        rollbackCriteria: content.rollbackCriteria,
        successCriteria: content.successCriteria,
        evaluationResultSha256: content.evaluation.resultSha256,
      },
      endpoint: { name: endpoint.name, liveVersion: endpoint.liveVersion },
      model: {
        name: model.name,
        owner: model.owner,
        protectedAttributes: model.protectedAttributes,
        modelCard: model.modelCard,
      },
      version: { id: version.id, version: version.version, artifactSha256: version.artifactSha256 },
      approvals: approvals.map((a) => ({
        role: a.role,
        approver: a.approver,
        requestDigest: a.requestSha256,
        statement: a.statement,
        approvedAt: a.createdAt,
      })),
      evaluation: candidate,
      live,
      artifact: await this.rehash(version.artifactSha256),
    };
  }

  private async rehash(sha256: string): Promise<GateFacts['artifact']> {
    try {
      await this.blobs.verify(sha256);
      return { intact: true, problem: null };
    } catch (error) {
      // The message of a missing file names a path of this host: say what it means instead.
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      return {
        intact: false,
        problem: missing
          ? 'the artifact file is missing from the blob store'
          : error instanceof Error
            ? error.message
            : String(error),
      };
    }
  }
}

function factsOf(e: EvaluationEntity): EvaluationFacts {
  return {
    id: e.id,
    modelVersionId: e.modelVersionId,
    status: e.status,
    finishedAt: e.finishedAt,
    resultSha256: e.resultSha256,
    recomputedSha256: e.result === null ? null : digestOf(e.result).sha256,
    result: e.result as StoredResult | null,
  };
}
