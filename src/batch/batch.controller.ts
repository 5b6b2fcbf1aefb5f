import { Body, Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can, CurrentPrincipal } from '../auth/decorators.js';
import type { Principal } from '../auth/principal.js';
import { BadInputError, ConflictError } from '../common/errors.js';
import { BlobStore } from '../blobs/blob-store.js';
import type { BatchJobEntity } from './batch-job.entity.js';
import { BatchJobsService, type BatchRequest } from './batch-jobs.service.js';

/** A job as clients see it: progress as a fraction, the output link once there is one. */
export interface BatchJobView {
  readonly id: string;
  readonly status: string;
  readonly endpoint: string | null;
  readonly modelVersionId: string;
  readonly datasetId: string;
  readonly rowsTotal: number;
  readonly rowsDone: number;
  readonly progress: number;
  readonly outputSha256: string | null;
  readonly outputSize: number | null;
  readonly output: string | null;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

@Controller('v1/batch-jobs')
export class BatchController {
  constructor(
    private readonly jobs: BatchJobsService,
    private readonly blobs: BlobStore,
  ) {}

  @Post()
  @HttpCode(202)
  @Can('create', 'BatchJob')
  async create(
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BatchJobView> {
    return viewOf(await this.jobs.create(requestOf(body), principal));
  }

  @Get(':id')
  @Can('read', 'BatchJob')
  async get(@Param('id') id: string): Promise<BatchJobView> {
    return viewOf(await this.jobs.get(id));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Can('create', 'BatchJob')
  async cancel(
    @Param('id') id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BatchJobView> {
    return viewOf(await this.jobs.cancel(id, principal));
  }

  /** The scored CSV, checked against its digest before a byte is sent. */
  @Get(':id/output')
  @Can('read', 'BatchJob')
  async output(@Param('id') id: string, @Res() reply: FastifyReply): Promise<void> {
    const job = await this.jobs.get(id);
    if (job.status !== 'SUCCEEDED' || job.outputSha256 === null)
      throw new ConflictError(`batch job ${id} is ${job.status}; its output is not ready`);
    await this.blobs.verify(job.outputSha256);
    void reply
      .type('text/csv; charset=utf-8')
      .header('content-length', String(job.outputSize ?? ''))
      .header('digest', `sha-256=${Buffer.from(job.outputSha256, 'hex').toString('base64')}`)
      .header('content-disposition', `attachment; filename="batch-${id}.csv"`)
      .send(this.blobs.createReadStream(job.outputSha256));
  }
}

function requestOf(body: unknown): BatchRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadInputError('body', 'must be a JSON object');
  const b = body as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const value = b[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value === '')
      throw new BadInputError(field, 'must be a non-empty string');
    return value;
  };
  const version = b['version'];
  if (
    version !== undefined &&
    version !== null &&
    (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
  )
    throw new BadInputError('version', 'must be a positive integer');
  return {
    endpoint: text('endpoint'),
    model: text('model'),
    version: typeof version === 'number' ? version : undefined,
    datasetId: text('datasetId') ?? '',
  };
}

export function viewOf(job: BatchJobEntity): BatchJobView {
  return {
    id: job.id,
    status: job.status,
    endpoint: job.endpoint,
    modelVersionId: job.modelVersionId,
    datasetId: job.datasetId,
    rowsTotal: job.rowsTotal,
    rowsDone: job.rowsDone,
    progress: job.rowsTotal === 0 ? 1 : job.rowsDone / job.rowsTotal,
    outputSha256: job.outputSha256,
    outputSize: job.outputSize,
    output: job.outputSha256 === null ? null : `/v1/batch-jobs/${job.id}/output`,
    error: job.error,
    createdBy: job.createdBy,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
  };
}
