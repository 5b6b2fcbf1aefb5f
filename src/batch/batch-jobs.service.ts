import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError, NotFoundError } from '../common/errors.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { EndpointsService } from '../endpoints/endpoints.service.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { ModelVersionEntity } from '../registry/model-version.entity.js';
import type { ModelEntity } from '../registry/model.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import type { BatchJobEntity } from './batch-job.entity.js';
import { BatchJobsRepository } from './batch-jobs.repository.js';
import { JobQueue } from '../jobs/job-queue.service.js';
import { BatchRunner } from './batch-runner.service.js';

/** What `POST /v1/batch-jobs` accepts: an endpoint (its live version) or a model version. */
export interface BatchRequest {
  readonly endpoint?: string;
  readonly model?: string;
  readonly version?: number;
  readonly datasetId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Batch inference jobs: recorded in `batch_jobs` with their ledger event, queued on pg-boss so
 * any replica may run them, and ended with `batch.completed` carrying the output's digest.
 */
@Injectable()
export class BatchJobsService implements OnApplicationBootstrap {
  private static readonly logger = new Logger('BatchJobs');

  constructor(
    private readonly repository: BatchJobsRepository,
    private readonly registry: RegistryService,
    private readonly endpoints: EndpointsService,
    private readonly datasets: DatasetsService,
    private readonly ledger: LedgerService,
    private readonly queue: JobQueue,
    private readonly runner: BatchRunner,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work('batch-inference', (message, signal) =>
      this.runner.run(message.id, signal),
    );
    // A job whose message was lost between its commit and the send (a crash) is sent again;
    // the job id as singleton key keeps a message that did arrive from running twice.
    const queued = await this.repository.queuedIds();
    for (const id of queued) await this.queue.send('batch-inference', id);
    if (queued.length > 0) BatchJobsService.logger.log(`re-sent ${queued.length} queued jobs`);
  }

  async create(request: BatchRequest, principal: Principal): Promise<BatchJobEntity> {
    const datasetId = checkUuid('datasetId', request.datasetId);
    const job = await this.ledger.transaction(async (tx) => {
      const { version, model, endpoint } = await this.resolveVersion(tx.manager, request);
      const dataset = await this.datasets.get(datasetId, tx.manager);
      const columns = new Map(dataset.columns.map((c) => [c.name, c.type]));
      version.featureColumns.forEach((column, i) => {
        const type = columns.get(column);
        if (type === undefined)
          throw new BadInputError(
            'datasetId',
            `dataset ${dataset.name} has no column ${column} (feature ${i + 1} of ${model.name}@${version.version})`,
          );
        if (type !== 'number')
          throw new BadInputError(
            'datasetId',
            `column ${column} of dataset ${dataset.name} is not numeric`,
          );
      });
      const id = randomUUID();
      await this.repository.insert(tx.manager, {
        id,
        endpoint,
        modelVersionId: version.id,
        datasetId,
        status: 'QUEUED',
        rowsTotal: dataset.rows,
        rowsDone: 0,
        cancelRequested: false,
        createdBy: principal.sub,
      });
      tx.record({
        type: 'batch.requested',
        subject: `batch:${id}`,
        actor: actorOf(principal),
        payload: {
          jobId: id,
          endpoint,
          model: model.name,
          version: version.version,
          artifactSha256: version.artifactSha256,
          datasetId,
          datasetSha256: dataset.sha256,
          rows: dataset.rows,
        },
      });
      return this.require(id, tx.manager);
    });
    await this.queue.send('batch-inference', job.id);
    return job;
  }

  async get(id: string): Promise<BatchJobEntity> {
    return this.require(checkUuid('id', id));
  }

  /** Asks a queued or running job to stop; it stops at its next chunk. */
  async cancel(id: string, principal: Principal): Promise<BatchJobEntity> {
    checkUuid('id', id);
    return this.ledger.transaction(async (tx) => {
      const job = await this.repository.lock(tx.manager, id);
      if (!job) throw new NotFoundError('batch job', id);
      if (job.status !== 'QUEUED' && job.status !== 'RUNNING')
        throw new ConflictError(`batch job ${id} is ${job.status} and cannot be cancelled`);
      if (!job.cancelRequested) {
        // A queued job ends here; a running one sees the flag at its next chunk.
        const ended = job.status === 'QUEUED';
        await this.repository.requestCancel(tx.manager, id, ended);
        tx.record({
          type: 'batch.cancelled',
          subject: `batch:${id}`,
          actor: actorOf(principal),
          payload: { jobId: id, status: job.status, rowsDone: job.rowsDone },
        });
      }
      return this.require(id, tx.manager);
    });
  }

  private async require(id: string, manager?: EntityManager): Promise<BatchJobEntity> {
    const job = await this.repository.find(id, manager);
    if (!job) throw new NotFoundError('batch job', id);
    return job;
  }

  private async resolveVersion(
    manager: EntityManager,
    request: BatchRequest,
  ): Promise<{ version: ModelVersionEntity; model: ModelEntity; endpoint: string | null }> {
    if (request.endpoint !== undefined) {
      if (request.model !== undefined || request.version !== undefined)
        throw new BadInputError('endpoint', 'give an endpoint or a model and version, not both');
      const endpoint = await this.endpoints.byName(request.endpoint, manager);
      if (!endpoint) throw new NotFoundError('endpoint', request.endpoint);
      if (endpoint.liveVersion === null)
        throw new ConflictError(`endpoint ${request.endpoint} has no live version`);
      const model = await this.registry.modelById(endpoint.modelId, manager);
      const version = await this.registry.versionOfModel(model.id, endpoint.liveVersion, manager);
      if (!version) throw new Error(`endpoint ${endpoint.name}: its live version is gone`);
      return { version, model, endpoint: endpoint.name };
    }
    if (request.model === undefined || request.version === undefined)
      throw new BadInputError('endpoint', 'give an endpoint, or a model and a version');
    const model = await this.registry.model(request.model, manager);
    if (!model) throw new NotFoundError('model', request.model);
    const version = await this.registry.versionOfModel(model.id, request.version, manager);
    if (!version) throw new NotFoundError('model version', `${request.model}@${request.version}`);
    return { version, model, endpoint: null };
  }
}

function checkUuid(field: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value))
    throw new BadInputError(field, 'must be a UUID');
  return value;
}
