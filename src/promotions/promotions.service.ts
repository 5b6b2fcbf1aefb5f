import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { EvaluationsService } from '../evaluation/evaluations.service.js';
import { actorOf } from '../ledger/actor.js';
import type { JsonObject } from '../ledger/event-catalogue.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import { RegistryService } from '../registry/registry.service.js';
import type { StoredResult } from './gates.js';
import { PromotionForbiddenError } from './promotion.errors.js';
import type { PromotionRequestEntity } from './promotion-request.entity.js';
import { transition } from './promotion-state.js';
import { promotionView } from './promotion-view.js';
import type { PromotionRequestModel } from './promotion.model.js';
import { PromotionsRepository } from './promotions.repository.js';
import { recordingRefusals, refusalOf } from './refusals.js';
import { requestDigest, type RequestContent } from './request-digest.js';
import { checkEvaluation, checkId } from './request-rules.js';
import { checkPromotionPlan, type PlanInput } from './rollout-plan.js';
import { checkStatement } from '../common/statements.js';
import type { PromotionStatus } from './vocabulary.js';

export interface PromotionInput extends PlanInput {
  readonly endpoint: string;
  readonly model: string;
  readonly version: number;
  readonly evaluationId: string;
  readonly justification: string;
}

/**
 * Promotion requests: made with a checked plan and rollback criteria and a digest
 * of their content, withdrawn by their requester, rejected by a compliance officer. Every
 * change is a ledger event in its own transaction; every refused decision is ledgered too.
 */
@Injectable()
export class PromotionsService {
  constructor(
    private readonly repository: PromotionsRepository,
    private readonly endpoints: EndpointsService,
    private readonly registry: RegistryService,
    private readonly evaluations: EvaluationsService,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  async request(input: PromotionInput, principal: Principal): Promise<PromotionRequestModel> {
    const policy = this.policies.promotion;
    const justification = checkStatement(
      'justification',
      input.justification,
      policy.value.text.minJustificationLength,
    );
    checkId('evaluationId', input.evaluationId);
    try {
      const id = await this.ledger.transaction(async (tx) => {
        const m = tx.manager;
        const endpoint = await this.endpoints.byName(input.endpoint, m);
        if (!endpoint) throw new NotFoundError('endpoint', input.endpoint);
        const model = await this.registry.model(input.model, m);
        if (!model) throw new NotFoundError('model', input.model);
        if (endpoint.modelId !== model.id) {
          const served = await this.registry.modelById(endpoint.modelId, m);
          throw new BadInputError(
            'model',
            `endpoint ${endpoint.name} serves model ${served.name}, not ${model.name}`,
          );
        }
        const version = await this.registry.versionOfModel(model.id, input.version, m);
        if (!version) throw new NotFoundError('model version', `${model.name}@${input.version}`);
        if (endpoint.liveVersion === version.version)
          throw new ConflictError(
            `${model.name}@${version.version} is already live on endpoint ${endpoint.name}`,
          );
        const open = await this.repository.openFor(m, endpoint.id);
        if (open) throw openConflict(endpoint.name, open);
        const tier = policy.value.tiers[model.riskTier];
        const evaluation = await this.evaluations.byId(input.evaluationId, m);
        if (!evaluation) throw new NotFoundError('evaluation', input.evaluationId);
        const now = new Date();
        const { resultSha256 } = checkEvaluation(
          evaluation,
          { id: version.id, label: `${model.name}@${version.version}` },
          tier.maxEvaluationAge,
          now,
        );
        const checked = checkPromotionPlan(input, {
          riskTier: model.riskTier,
          tier,
          policy: policy.value,
          endpoint: endpoint.name,
          liveVersion: endpoint.liveVersion,
          protectedAttributes: model.protectedAttributes,
        });
        const id = randomUUID();
        const result = evaluation.result as StoredResult | null;
        const content: RequestContent = {
          id,
          endpoint: endpoint.name,
          model: model.name,
          riskTier: model.riskTier,
          version: version.version,
          artifactSha256: version.artifactSha256,
          liveVersion: endpoint.liveVersion,
          evaluation: {
            id: evaluation.id,
            resultSha256,
            datasetSha256: result?.dataset.sha256 ?? '',
          },
          ...checked,
          justification,
          requestedBy: principal.sub,
          requestedAt: now.toISOString(),
          policySha256: policy.sha256,
        };
        const digest = requestDigest(content);
        await this.repository.insert(
          m,
          {
            id,
            endpointId: endpoint.id,
            modelVersionId: version.id,
            evaluationId: evaluation.id,
            riskTier: model.riskTier,
            strategy: checked.strategy,
            liveVersion: endpoint.liveVersion,
            requestSha256: digest.sha256,
            policySha256: policy.sha256,
            requiredRoles: [...tier.approvers],
            judgedPolicySha256: policy.sha256,
            status: 'PENDING',
            requestedBy: principal.sub,
          },
          digest.canonical,
        );
        tx.record({
          type: 'promotion.requested',
          subject: `promotion:${id}`,
          actor: actorOf(principal),
          payload: {
            promotionId: id,
            requestDigest: digest.sha256,
            // The whole content: the digest can be recomputed from the ledger alone.
            content: JSON.parse(digest.canonical) as JsonObject,
            requiredRoles: [...tier.approvers],
            policySha256: policy.sha256,
          },
        });
        return id;
      });
      return await this.require(id);
    } catch (error) {
      // Two requests for one endpoint at once: the partial unique index lets one through.
      if (isOpenRequestViolation(error)) {
        const endpoint = await this.endpoints.byName(input.endpoint);
        const open =
          endpoint && (await this.repository.openFor(this.repository.manager, endpoint.id));
        if (open) throw openConflict(input.endpoint, open);
      }
      throw error;
    }
  }

  withdraw(id: string, principal: Principal): Promise<PromotionRequestModel> {
    checkId('id', id);
    const policy = this.policies.promotion;
    return recordingRefusals(
      this.ledger,
      (e) => refusalOf('promotion.withdrawal.refused', id, principal, e, policy.sha256),
      async () => {
        await this.ledger.transaction(async (tx) => {
          const request = await this.repository.lock(tx.manager, id);
          if (!request) throw new NotFoundError('promotion request', id);
          if (request.requestedBy !== principal.sub)
            throw new PromotionForbiddenError(
              `only the requester (${request.requestedBy}) may withdraw this request`,
              { requestedBy: request.requestedBy },
            );
          await this.repository.setStatus(
            tx.manager,
            id,
            { from: request.status, event: 'withdraw' },
            { by: principal.sub, reason: null },
          );
          tx.record({
            type: 'promotion.withdrawn',
            subject: `promotion:${id}`,
            actor: actorOf(principal),
            payload: {
              promotionId: id,
              requestDigest: request.requestSha256,
              previousStatus: request.status,
              policySha256: policy.sha256,
            },
          });
        });
        return this.require(id);
      },
    );
  }

  reject(id: string, reason: string, principal: Principal): Promise<PromotionRequestModel> {
    checkId('id', id);
    const policy = this.policies.promotion;
    return recordingRefusals(
      this.ledger,
      (e) => refusalOf('promotion.rejection.refused', id, principal, e, policy.sha256),
      async () => {
        await this.ledger.transaction(async (tx) => {
          const request = await this.repository.lock(tx.manager, id);
          if (!request) throw new NotFoundError('promotion request', id);
          // The status before the reason: a closed request is refused whatever the reason says.
          transition(request.status, 'reject');
          const why = checkStatement('reason', reason, policy.value.text.minReasonLength);
          await this.repository.setStatus(
            tx.manager,
            id,
            { from: request.status, event: 'reject' },
            { by: principal.sub, reason: why },
          );
          tx.record({
            type: 'promotion.rejected',
            subject: `promotion:${id}`,
            actor: actorOf(principal),
            payload: {
              promotionId: id,
              requestDigest: request.requestSha256,
              previousStatus: request.status,
              reason: why,
              policySha256: policy.sha256,
            },
          });
        });
        return this.require(id);
      },
    );
  }

  async get(id: string): Promise<PromotionRequestModel | null> {
    checkId('id', id);
    const row = await this.repository.find(id);
    return row ? this.view(row) : null;
  }

  async require(id: string): Promise<PromotionRequestModel> {
    const view = await this.get(id);
    if (!view) throw new NotFoundError('promotion request', id);
    return view;
  }

  /** The evaluation of the latest request to promote this version on this endpoint. */
  latestEvaluationId(endpointId: string, modelVersionId: string): Promise<string | null> {
    return this.repository.latestEvaluationId(endpointId, modelVersionId);
  }

  async list(args: {
    limit?: number;
    cursor?: string | null | undefined;
    status?: PromotionStatus | null | undefined;
    endpoint?: string | null | undefined;
  }): Promise<{ items: PromotionRequestModel[]; nextCursor: string | null }> {
    const limit = pageLimit(args.limit);
    const cursor = decodeCursor(args.cursor);
    let endpointId: string | undefined;
    if (args.endpoint) {
      const endpoint = await this.endpoints.byName(args.endpoint);
      if (!endpoint) return { items: [], nextCursor: null };
      endpointId = endpoint.id;
    }
    const page = pageOf(
      await this.repository.page(limit, cursor, { status: args.status ?? undefined, endpointId }),
      limit,
    );
    const approvals = await this.repository.approvalsOf(page.items.map((r) => r.id));
    return {
      items: page.items.map((r) => promotionView(r, approvals.get(r.id) ?? [])),
      nextCursor: page.nextCursor,
    };
  }

  async view(row: PromotionRequestEntity): Promise<PromotionRequestModel> {
    const approvals = await this.repository.approvals(this.repository.manager, row.id);
    return promotionView(row, approvals);
  }
}

function openConflict(endpoint: string, open: PromotionRequestEntity): ConflictError {
  return new ConflictError(
    `endpoint ${endpoint} already has an open promotion request ${open.id} (${open.status}): it must be withdrawn, rejected or finished first`,
    { promotionId: open.id, status: open.status },
  );
}

function isOpenRequestViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = error.driverError as { code?: string; constraint?: string } | undefined;
  return driver?.code === '23505' && driver.constraint === 'promotion_requests_one_open';
}
