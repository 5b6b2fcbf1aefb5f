import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { checkSlug } from '../registry/registry-rules.js';
import { RegistryService } from '../registry/registry.service.js';
import type { EndpointEntity } from './endpoint.entity.js';
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
  ) {}

  async create(name: string, model: string, principal: Principal): Promise<EndpointEntity> {
    checkSlug('name', name);
    return this.ledger.transaction(async (tx) => {
      const owner = await this.registry.model(model, tx.manager);
      if (!owner) throw new NotFoundError('model', model);
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
        createdBy: principal.sub,
        updatedAt: new Date(),
      });
      tx.record({
        type: 'endpoint.created',
        subject: `endpoint:${name}`,
        actor: actorOf(principal),
        payload: { id, name, model },
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
