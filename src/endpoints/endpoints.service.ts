import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { ConflictError, NotFoundError } from '../common/errors.js';
import { decodeCursor, keysetPage, pageLimit, pageOf } from '../common/pagination.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { ModelEntity } from '../registry/model.entity.js';
import { checkSlug } from '../registry/registry-rules.js';
import { EndpointEntity } from './endpoint.entity.js';

/** Endpoints are created empty: a version goes live only through a promotion. */
@Injectable()
export class EndpointsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly ledger: LedgerService,
  ) {}

  async create(name: string, model: string, principal: Principal): Promise<EndpointEntity> {
    checkSlug('name', name);
    return this.ledger.transaction(async (tx) => {
      const owner = await tx.manager.findOneBy(ModelEntity, { name: model });
      if (!owner) throw new NotFoundError('model', model);
      if (await tx.manager.existsBy(EndpointEntity, { name }))
        throw new ConflictError(`endpoint ${name} already exists`, { name });
      const id = randomUUID();
      await tx.manager.insert(EndpointEntity, {
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
      const row = await tx.manager.findOneBy(EndpointEntity, { id });
      if (!row) throw new Error(`endpoint ${name} vanished inside its own transaction`);
      return row;
    });
  }

  byName(name: string): Promise<EndpointEntity | null> {
    return this.dataSource.manager.findOneBy(EndpointEntity, { name });
  }

  async list(args: {
    limit?: number;
    cursor?: string | null | undefined;
    model?: string | null | undefined;
  }): Promise<{ items: EndpointEntity[]; nextCursor: string | null }> {
    const limit = pageLimit(args.limit);
    const cursor = decodeCursor(args.cursor);
    const q = keysetPage(
      this.dataSource.manager.createQueryBuilder(EndpointEntity, 'e'),
      'e',
      limit,
      cursor,
    );
    if (args.model)
      q.innerJoin(ModelEntity, 'm', 'm.id = e.model_id').andWhere('m.name = :model', {
        model: args.model,
      });
    return pageOf(await q.getMany(), limit);
  }
}
