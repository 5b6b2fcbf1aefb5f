import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { checkSlug } from '../registry/registry-rules.js';
import { RegistryService } from '../registry/registry.service.js';
import { POLICIES, type Policies } from '../policy/policies.js';
import type { RiskTier } from '../policy/risk-tiers.js';
import { checkStatement } from '../common/statements.js';
import type { EndpointEntity, PredictionLogPolicy } from './endpoint.entity.js';
import { EndpointsRepository } from './endpoints.repository.js';

/**
 * Endpoints are created empty: a version goes live only through a promotion. Other modules
 * read endpoints through the lookups here, passing their transaction's manager when the read
 * belongs to their unit of work; traffic changes go through DeploymentService.
 */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly repository: EndpointsRepository,
    private readonly registry: RegistryService,
    private readonly ledger: LedgerService,
    @Inject(POLICIES) private readonly policies: Policies,
  ) {}

  /**
   * `predictionLogPolicy`: what the endpoint does when the log can take no more; by default
   * `required` for a HIGH-tier model (which may not be served unlogged), else `best-effort`.
   */
  async create(
    name: string,
    model: string,
    principal: Principal,
    predictionLogPolicy?: PredictionLogPolicy,
  ): Promise<EndpointEntity> {
    checkSlug('name', name);
    return this.ledger.transaction(async (tx) => {
      const owner = await this.registry.model(model, tx.manager);
      if (!owner) throw new NotFoundError('model', model);
      const policy = predictionLogPolicy ?? defaultLogPolicy(owner.riskTier);
      checkLogPolicy(policy, owner.riskTier);
      if (await this.repository.exists(name, tx.manager))
        throw new ConflictError(`endpoint ${name} already exists`, { name });
      const id = randomUUID();
      await this.repository.insert(tx.manager, {
        id,
        name,
        modelId: owner.id,
        liveVersion: null,
        candidateVersion: null,
        standbyVersion: null,
        mode: 'NONE',
        candidateWeight: 0,
        shadowSample: 10_000,
        revision: 1,
        predictionLogPolicy: policy,
        createdBy: principal.sub,
        updatedAt: new Date(),
      });
      tx.record({
        type: 'endpoint.created',
        subject: `endpoint:${name}`,
        actor: actorOf(principal),
        payload: { id, name, model, predictionLogPolicy: policy },
      });
      const row = await this.repository.byName(name, tx.manager);
      if (!row) throw new Error(`endpoint ${name} vanished inside its own transaction`);
      return row;
    });
  }

  /**
   * Sets what the endpoint does when the log can take no more, with its reason in the ledger;
   * every replica's router hears of it. A HIGH-tier model's endpoint stays `required`.
   */
  async setPredictionLogPolicy(
    name: string,
    policy: PredictionLogPolicy,
    reason: string,
    principal: Principal,
  ): Promise<EndpointEntity> {
    // Held to the rule of every text people sign with (the policy's minimum, three words).
    const why = checkStatement(
      'reason',
      reason,
      this.policies.promotion.value.text.minReasonLength,
    );
    return this.ledger.transaction(async (tx) => {
      const endpoint = await this.repository.lock(tx.manager, name);
      if (!endpoint) throw new NotFoundError('endpoint', name);
      const model = await this.registry.modelById(endpoint.modelId, tx.manager);
      checkLogPolicy(policy, model.riskTier);
      if (endpoint.predictionLogPolicy === policy) return endpoint;
      await this.repository.updateLogPolicy(tx.manager, endpoint, policy, endpoint.revision + 1);
      tx.record({
        type: 'endpoint.log_policy.changed',
        subject: `endpoint:${name}`,
        actor: actorOf(principal),
        payload: { from: endpoint.predictionLogPolicy, to: policy, reason: why },
      });
      const row = await this.repository.byName(name, tx.manager);
      if (!row) throw new Error(`endpoint ${name} vanished inside its own transaction`);
      return row;
    });
  }

  byName(name: string, manager?: EntityManager): Promise<EndpointEntity | null> {
    return this.repository.byName(name, manager);
  }

  /** The endpoint a stored row refers to (a promotion request, a rollout): it always exists. */
  byId(id: string, manager?: EntityManager): Promise<EndpointEntity> {
    return this.repository.byId(id, manager);
  }

  /** The endpoint under a row lock, inside the caller's unit of work. */
  lock(manager: EntityManager, name: string): Promise<EndpointEntity | null> {
    return this.repository.lock(manager, name);
  }

  /** Every endpoint's name, in order. */
  names(): Promise<string[]> {
    return this.repository.names();
  }

  /** Every endpoint. */
  all(): Promise<EndpointEntity[]> {
    return this.repository.all();
  }

  /** Endpoints with a live version (one, when named), by name. */
  withLiveVersion(name?: string): Promise<EndpointEntity[]> {
    return this.repository.withLiveVersion(name);
  }

  async list(args: {
    limit?: number;
    cursor?: string | null | undefined;
    model?: string | null | undefined;
  }): Promise<{ items: EndpointEntity[]; nextCursor: string | null }> {
    const limit = pageLimit(args.limit);
    const cursor = decodeCursor(args.cursor);
    let modelId: string | undefined;
    if (args.model) {
      const model = await this.registry.model(args.model);
      if (!model) return { items: [], nextCursor: null };
      modelId = model.id;
    }
    return pageOf(await this.repository.page(limit, cursor, modelId), limit);
  }
}

function defaultLogPolicy(tier: RiskTier): PredictionLogPolicy {
  return tier === 'HIGH' ? 'required' : 'best-effort';
}

/** Every prediction of a HIGH-tier model is logged, or not served (automatic record-keeping). */
function checkLogPolicy(policy: PredictionLogPolicy, tier: RiskTier): void {
  if (policy !== 'required' && tier === 'HIGH')
    throw new BadInputError(
      'predictionLogPolicy',
      'a HIGH-tier model may not be served unlogged: its endpoints require the prediction log',
    );
}
