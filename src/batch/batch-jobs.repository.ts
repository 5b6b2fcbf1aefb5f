import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { BatchJobEntity } from './batch-job.entity.js';

export type NewBatchJob = Pick<
  BatchJobEntity,
  | 'id'
  | 'endpoint'
  | 'modelVersionId'
  | 'datasetId'
  | 'status'
  | 'rowsTotal'
  | 'rowsDone'
  | 'cancelRequested'
  | 'createdBy'
>;

/** All database access of batch jobs (`batch_jobs`). */
@Injectable()
export class BatchJobsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get manager(): EntityManager {
    return this.dataSource.manager;
  }

  find(id: string, manager = this.manager): Promise<BatchJobEntity | null> {
    return manager.findOneBy(BatchJobEntity, { id });
  }

  async queuedIds(): Promise<string[]> {
    const rows = await this.manager.find(BatchJobEntity, {
      where: { status: 'QUEUED' },
      select: { id: true },
    });
    return rows.map((r) => r.id);
  }

  async insert(manager: EntityManager, row: NewBatchJob): Promise<void> {
    await manager.insert(BatchJobEntity, row);
  }

  /** The job under a row lock: a cancellation and the job's end are taken one at a time. */
  lock(manager: EntityManager, id: string): Promise<BatchJobEntity | null> {
    return manager
      .createQueryBuilder(BatchJobEntity, 'j')
      .setLock('pessimistic_write')
      .where('j.id = :id', { id })
      .getOne();
  }

  /** Flags the job for cancellation; `ended` (a queued job) also marks it CANCELLED. */
  async requestCancel(manager: EntityManager, id: string, ended: boolean): Promise<void> {
    await manager.update(
      BatchJobEntity,
      { id },
      ended
        ? { cancelRequested: true, status: 'CANCELLED', finishedAt: new Date() }
        : { cancelRequested: true },
    );
  }

  /** Marks it RUNNING unless it was cancelled or has finished: true when it may run. */
  async claim(id: string): Promise<boolean> {
    const claimed = await this.manager
      .createQueryBuilder()
      .update(BatchJobEntity)
      .set({ status: 'RUNNING', rowsDone: 0, startedAt: () => 'now()' })
      .where(`id = :jobId AND status IN ('QUEUED', 'RUNNING')`, { jobId: id })
      .execute();
    return claimed.affected === 1;
  }

  /** Writes the progress; true when a cancellation was asked for meanwhile. */
  async progress(id: string, rowsDone: number): Promise<boolean> {
    await this.manager.update(BatchJobEntity, { id }, { rowsDone });
    const job = await this.manager.findOne(BatchJobEntity, {
      where: { id },
      select: { id: true, cancelRequested: true },
    });
    return job?.cancelRequested === true;
  }

  async succeed(
    manager: EntityManager,
    id: string,
    done: { rowsDone: number; outputSha256: string; outputSize: number },
  ): Promise<void> {
    await manager.update(
      BatchJobEntity,
      { id },
      { status: 'SUCCEEDED', ...done, finishedAt: new Date() },
    );
  }

  async cancelled(id: string): Promise<void> {
    await this.manager.update(
      BatchJobEntity,
      { id },
      { status: 'CANCELLED', finishedAt: new Date() },
    );
  }

  async fail(manager: EntityManager, id: string, error: string): Promise<void> {
    await manager.update(
      BatchJobEntity,
      { id },
      { status: 'FAILED', error, finishedAt: new Date() },
    );
  }
}
