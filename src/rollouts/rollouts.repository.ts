import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { EndpointEntity } from '../endpoints/endpoint.entity.js';
import { RolloutEntity } from './rollout.entity.js';

@Injectable()
export class RolloutsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async insert(
    manager: EntityManager,
    row: Omit<RolloutEntity, 'createdAt'>,
  ): Promise<RolloutEntity> {
    await manager.insert(RolloutEntity, row);
    return manager.findOneByOrFail(RolloutEntity, { id: row.id });
  }

  find(id: string): Promise<RolloutEntity | null> {
    return this.dataSource.manager.findOneBy(RolloutEntity, { id });
  }

  ofPromotion(promotionId: string): Promise<RolloutEntity | null> {
    return this.dataSource.manager.findOneBy(RolloutEntity, { promotionId });
  }

  async endpointName(endpointId: string): Promise<string> {
    const endpoint = await this.dataSource.manager.findOneByOrFail(EndpointEntity, {
      id: endpointId,
    });
    return endpoint.name;
  }
}
