import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BlobStore } from '../blobs/blob-store.js';
import { BadInputError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { CsvAnalysis, type CsvSummary } from './csv-analysis.js';
import type { DatasetColumn, DatasetEntity } from './dataset.entity.js';
import { DatasetsRepository } from './datasets.repository.js';

/** What `PUT /v1/datasets` answers, the same for an upload and its retries. */
export interface DatasetInfo {
  readonly id: string;
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
  readonly rows: number;
  readonly columns: DatasetColumn[];
}

export const DATASET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkDatasetName(name: string | undefined): string {
  if (name === undefined || name === '')
    throw new BadInputError('name', 'is required: PUT /v1/datasets?name=<name>');
  if (!DATASET_NAME.test(name))
    throw new BadInputError(
      'name',
      'must be 1 to 128 letters, digits, dots, underscores or hyphens, starting with a letter or digit',
    );
  return name;
}

/**
 * CSV datasets: checked and summarized while they stream into the blob store, registered
 * with their `dataset.registered` event in one transaction. A name may hold several files
 * (each upload of new bytes is a new dataset); the same bytes under the same name are one.
 */
@Injectable()
export class DatasetsService {
  readonly maxBytes: number;
  private readonly maxRows: number;

  constructor(
    private readonly blobs: BlobStore,
    private readonly repository: DatasetsRepository,
    private readonly ledger: LedgerService,
    @Inject(CONFIG) config: Config,
  ) {
    this.maxBytes = config.limits.datasetMaxBytes;
    this.maxRows = config.limits.datasetMaxRows;
  }

  async upload(
    name: string,
    body: AsyncIterable<Uint8Array>,
    principal: Principal,
  ): Promise<DatasetInfo> {
    const analysis = new CsvAnalysis({ maxRows: this.maxRows });
    const found: { summary?: CsvSummary } = {};
    const stored = await this.blobs.put(analysis.tap(body), {
      maxBytes: this.maxBytes,
      what: 'dataset',
      inspect: async () => {
        found.summary = await analysis.result();
      },
    });
    const summary = found.summary;
    if (!summary) throw new Error('dataset analysis did not run');
    const row = await this.ledger.transaction(async (tx) => {
      const id = randomUUID();
      const inserted = await this.repository.insertIfAbsent(tx.manager, {
        id,
        name,
        sha256: stored.sha256,
        size: stored.size,
        rows: summary.rows,
        columns: summary.columns,
        createdBy: principal.sub,
      });
      if (inserted) {
        tx.record({
          type: 'dataset.registered',
          subject: `dataset:${id}`,
          actor: actorOf(principal),
          payload: {
            id,
            name,
            sha256: stored.sha256,
            size: stored.size,
            rows: summary.rows,
            columns: summary.columns,
          },
        });
      }
      const saved = await this.repository.findByContent(name, stored.sha256, tx.manager);
      if (!saved) throw new Error(`dataset ${name} ${stored.sha256} vanished after insert`);
      return saved;
    });
    return infoOf(row);
  }

  async find(id: string, manager?: EntityManager): Promise<DatasetEntity | null> {
    if (!UUID.test(id)) throw new BadInputError('id', 'must be a dataset id (a UUID)');
    return this.repository.find(id, manager);
  }

  /**
   * For modules that refer to a dataset (evaluations, batch jobs): NotFoundError if unknown;
   * `manager` when the read belongs to the caller's unit of work.
   */
  async get(id: string, manager?: EntityManager): Promise<DatasetEntity> {
    const found = await this.find(id, manager);
    if (!found) throw new NotFoundError('dataset', id);
    return found;
  }

  async page(args: {
    readonly limit?: number;
    readonly cursor?: string | null;
    readonly name?: string | null;
  }): Promise<{ items: DatasetEntity[]; nextCursor: string | null }> {
    const limit = pageLimit(args.limit);
    const cursor = decodeCursor(args.cursor);
    return pageOf(await this.repository.page(limit, cursor, args.name ?? undefined), limit);
  }
}

function infoOf(row: DatasetEntity): DatasetInfo {
  return {
    id: row.id,
    name: row.name,
    sha256: row.sha256,
    size: row.size,
    rows: row.rows,
    columns: row.columns,
  };
}
