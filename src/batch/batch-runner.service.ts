import { Inject, Injectable, Logger } from '@nestjs/common';
import { BlobStore } from '../blobs/blob-store.js';
import { csvText } from '../common/csv-export.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { DatasetEntity } from '../datasets/dataset.entity.js';
import { DatasetsService } from '../datasets/datasets.service.js';
import { readDatasetChunks } from '../datasets/dataset-reader.js';
import { ModelRuntime } from '../runtime/model-runtime.service.js';
import { LedgerService } from '../ledger/ledger.service.js';
import type { ModelVersionEntity } from '../registry/model-version.entity.js';
import { RegistryService } from '../registry/registry.service.js';
import { withSpan } from '../telemetry/tracing.js';
import type { BatchJobEntity } from './batch-job.entity.js';
import { BatchJobsRepository } from './batch-jobs.repository.js';

const SYSTEM = { sub: 'system:batch' };

/** Thrown inside a run when the job was cancelled: the partial output is discarded. */
class Cancelled extends Error {}

/**
 * Runs one batch job: streams the dataset, scores it chunk by chunk with the version's ONNX
 * Runtime session and streams the scores into a content-addressed CSV, so memory stays
 * bounded by the chunk size whatever the row count. Progress is written after each chunk,
 * where a cancellation is also noticed. The end of the job and its `batch.completed` event
 * (with the output digest) commit together.
 */
@Injectable()
export class BatchRunner {
  private static readonly logger = new Logger('BatchRunner');

  constructor(
    private readonly repository: BatchJobsRepository,
    private readonly registry: RegistryService,
    private readonly datasets: DatasetsService,
    private readonly ledger: LedgerService,
    private readonly blobs: BlobStore,
    private readonly runtime: ModelRuntime,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** A trace of its own (the job runs off any request): `batch.completed` carries its id. */
  run(jobId: string, signal: AbortSignal): Promise<void> {
    return withSpan('gatehouse.batch.run', { 'gatehouse.batch.job_id': jobId }, () =>
      this.runTraced(jobId, signal),
    );
  }

  private async runTraced(jobId: string, signal: AbortSignal): Promise<void> {
    // Claim it. A cancelled or finished job is left alone; a RUNNING one is claimed again, as
    // the queue hands a job out again only when the worker that had it stopped heartbeating.
    if (!(await this.repository.claim(jobId))) return;
    const job = await this.repository.find(jobId);
    if (!job) throw new Error(`batch job ${jobId} vanished after it was claimed`);
    const version = await this.registry.versionById(job.modelVersionId);
    const model = await this.registry.modelById(version.modelId);
    const dataset = await this.datasets.get(job.datasetId);
    try {
      const output = await this.blobs.put(this.scoredCsv(job, version, dataset, signal), {
        maxBytes: Number.MAX_SAFE_INTEGER,
        what: 'batch output',
      });
      await this.ledger.transaction(async (tx) => {
        await this.repository.succeed(tx.manager, jobId, {
          rowsDone: dataset.rows,
          outputSha256: output.sha256,
          outputSize: output.size,
        });
        tx.record({
          type: 'batch.completed',
          subject: `batch:${jobId}`,
          actor: SYSTEM,
          payload: {
            jobId,
            endpoint: job.endpoint,
            model: model.name,
            version: version.version,
            artifactSha256: version.artifactSha256,
            datasetSha256: dataset.sha256,
            rows: dataset.rows,
            outputSha256: output.sha256,
            outputSize: output.size,
          },
        });
      });
    } catch (error) {
      if (error instanceof Cancelled || signal.aborted) {
        await this.repository.cancelled(jobId);
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      BatchRunner.logger.warn(`batch job ${jobId} failed: ${message}`);
      await this.ledger.transaction(async (tx) => {
        await this.repository.fail(tx.manager, jobId, message.slice(0, 2000));
        tx.record({
          type: 'batch.failed',
          subject: `batch:${jobId}`,
          actor: SYSTEM,
          payload: { jobId, error: message.slice(0, 2000) },
        });
      });
    }
  }

  /** The output CSV, produced as it is consumed: `row,score[,decision]`. */
  private async *scoredCsv(
    job: BatchJobEntity,
    version: ModelVersionEntity,
    dataset: DatasetEntity,
    signal: AbortSignal,
  ): AsyncGenerator<Buffer> {
    const classify = version.task === 'BINARY_CLASSIFICATION' && version.threshold !== null;
    yield Buffer.from(csvText([classify ? ['row', 'score', 'decision'] : ['row', 'score']]));
    let done = 0;
    for await (const chunk of readDatasetChunks(this.blobs, dataset, {
      features: version.featureColumns,
      chunkRows: this.config.batch.chunkRows,
    })) {
      const scores = await this.runtime.score(version, chunk.features, chunk.rows);
      const records: (number | string)[][] = [];
      for (let i = 0; i < chunk.rows; i++) {
        const score = scores[i] ?? Number.NaN;
        if (!Number.isFinite(score))
          throw new Error(`the model returned ${String(score)} for data row ${done + i + 1}`);
        records.push(
          classify
            ? [done + i + 1, score, score >= (version.threshold ?? 0.5) ? 1 : 0]
            : [done + i + 1, score],
        );
      }
      yield Buffer.from(csvText(records));
      done += chunk.rows;
      await this.progress(job.id, done, signal);
    }
  }

  private async progress(jobId: string, done: number, signal: AbortSignal): Promise<void> {
    const cancelRequested = await this.repository.progress(jobId, done);
    if (signal.aborted || cancelRequested) throw new Cancelled();
  }
}
