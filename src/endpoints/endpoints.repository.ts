import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { keysetPage, type Cursor } from '../common/pagination.js';
import { EndpointEntity, type PredictionLogPolicy } from './endpoint.entity.js';
import { ENDPOINTS_CHANNEL } from './endpoint-events.js';

export type NewEndpoint = Omit<EndpointEntity, 'createdAt'>;
export type TrafficColumns = Pick<
  EndpointEntity,
  | 'liveVersion'
  | 'candidateVersion'
  | 'standbyVersion'
  | 'mode'
  | 'candidateWeight'
  | 'shadowSample'
>;

/**
 * All database access of endpoints and their traffic state. Methods that take an EntityManager
 * run inside the caller's unit of work (a ledger transaction, possibly another module's).
 */
@Injectable()
export class EndpointsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get manager(): EntityManager {
    return this.dataSource.manager;
  }

  byName(name: string, manager = this.manager): Promise<EndpointEntity | null> {
    return manager.findOneBy(EndpointEntity, { name });
  }

  byId(id: string, manager = this.manager): Promise<EndpointEntity> {
    return manager.findOneByOrFail(EndpointEntity, { id });
  }

  /** The row under a lock: changes of one endpoint's traffic happen one at a time. */
  lock(manager: EntityManager, name: string): Promise<EndpointEntity | null> {
    return manager
      .createQueryBuilder(EndpointEntity, 'e')
      .setLock('pessimistic_write')
      .where('e.name = :name', { name })
      .getOne();
  }

  exists(name: string, manager = this.manager): Promise<boolean> {
    return manager.existsBy(EndpointEntity, { name });
  }

  async insert(manager: EntityManager, row: NewEndpoint): Promise<void> {
    await manager.insert(EndpointEntity, row);
  }

  /** Writes a new traffic state and tells every replica's router (NOTIFY is sent at commit). */
  async updateTraffic(
    manager: EntityManager,
    endpoint: { id: string; name: string },
    traffic: TrafficColumns,
    revision: number,
  ): Promise<void> {
    await manager.update(
      EndpointEntity,
      { id: endpoint.id },
      { ...traffic, revision, updatedAt: new Date() },
    );
    await manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint.name]);
  }

  /** Writes a new log policy and tells every replica's router, as a traffic change does. */
  async updateLogPolicy(
    manager: EntityManager,
    endpoint: { id: string; name: string },
    predictionLogPolicy: PredictionLogPolicy,
    revision: number,
  ): Promise<void> {
    await manager.update(
      EndpointEntity,
      { id: endpoint.id },
      { predictionLogPolicy, revision, updatedAt: new Date() },
    );
    await manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint.name]);
  }

  /** Up to `limit` + 1 endpoints after the cursor, in (created_at, id) order. */
  page(limit: number, cursor: Cursor | undefined, modelId: string | undefined) {
    const q = keysetPage(this.manager.createQueryBuilder(EndpointEntity, 'e'), 'e', limit, cursor);
    if (modelId !== undefined) q.andWhere('e.model_id = :modelId', { modelId });
    return q.getMany();
  }

  all(): Promise<EndpointEntity[]> {
    return this.manager.find(EndpointEntity);
  }

  /** Endpoints with a live version (one, when named), by name. */
  withLiveVersion(name: string | undefined): Promise<EndpointEntity[]> {
    const q = this.manager
      .createQueryBuilder(EndpointEntity, 'e')
      .where('e.live_version IS NOT NULL')
      .orderBy('e.name');
    if (name !== undefined) q.andWhere('e.name = :name', { name });
    return q.getMany();
  }

  async names(): Promise<string[]> {
    const rows = await this.manager.query<{ name: string }[]>(
      `SELECT name FROM endpoints ORDER BY name`,
    );
    return rows.map((r) => r.name);
  }
}
