import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { ENDPOINTS_CHANNEL } from '../endpoints/endpoint-events.js';
import { StreamBindingEntity } from './stream-binding.entity.js';

export type NewStreamBinding = Omit<StreamBindingEntity, 'createdAt'>;

/**
 * All database access of stream bindings. Writes take the caller's unit of work (a ledger
 * transaction), so a binding never changes without its event.
 */
@Injectable()
export class StreamBindingsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get manager(): EntityManager {
    return this.dataSource.manager;
  }

  byEndpoint(endpointId: string, manager = this.manager): Promise<StreamBindingEntity | null> {
    return manager.findOneBy(StreamBindingEntity, { endpointId });
  }

  all(): Promise<StreamBindingEntity[]> {
    return this.manager.find(StreamBindingEntity);
  }

  /** The binding that reads through this durable consumer of this stream, if any. */
  byConsumer(
    manager: EntityManager,
    stream: string,
    consumer: string,
  ): Promise<StreamBindingEntity | null> {
    return manager.findOneBy(StreamBindingEntity, { stream, consumer });
  }

  /**
   * Writes the binding and tells every replica, on the channel their routers already hear
   * endpoint changes on (NOTIFY is sent at commit, so never for a change rolled back).
   */
  async insert(manager: EntityManager, row: NewStreamBinding, endpoint: string): Promise<void> {
    await manager.insert(StreamBindingEntity, row);
    await manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint]);
  }

  /** Removes the endpoint's binding and tells every replica, as `insert` does. */
  async delete(manager: EntityManager, endpointId: string, endpoint: string): Promise<void> {
    await manager.delete(StreamBindingEntity, { endpointId });
    await manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint]);
  }
}
