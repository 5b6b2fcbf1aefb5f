import { Injectable } from '@nestjs/common';
import { DataSource, QueryFailedError, type EntityManager } from 'typeorm';
import { ConflictError } from '../common/errors.js';
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
    try {
      await manager.insert(StreamBindingEntity, row);
    } catch (error) {
      // Another endpoint bound the same consumer between the service's check and this insert.
      if (isSharedConsumerViolation(error))
        throw new ConflictError(
          `consumer ${row.consumer} of stream ${row.stream} already reads for another endpoint: two endpoints on one durable consumer would each get part of its messages`,
          { stream: row.stream, consumer: row.consumer },
        );
      throw error;
    }
    await manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint]);
  }

  /** Removes the endpoint's binding and tells every replica, as `insert` does. */
  async delete(manager: EntityManager, endpointId: string, endpoint: string): Promise<void> {
    await manager.delete(StreamBindingEntity, { endpointId });
    await manager.query('SELECT pg_notify($1, $2)', [ENDPOINTS_CHANNEL, endpoint]);
  }
}

/** The unique (stream, consumer) pair of the migration, by PostgreSQL's default name. */
function isSharedConsumerViolation(error: unknown): boolean {
  if (!(error instanceof QueryFailedError)) return false;
  const driver = error.driverError as { code?: string; constraint?: string } | undefined;
  return (
    driver?.code === '23505' &&
    driver.constraint === 'stream_bindings_stream_name_consumer_name_key'
  );
}
