import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { Principal } from '../auth/principal.js';
import { BlobStore, type StoredBlob } from '../blobs/blob-store.js';
import { BadInputError, DomainError, NotFoundError } from '../common/errors.js';
import { decodeCursor, pageLimit, pageOf } from '../common/pagination.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { actorOf } from '../ledger/actor.js';
import { LedgerService } from '../ledger/ledger.service.js';
import { columnarFileBytes } from './columnar-file.js';
import { checkCsv, type CsvSummary } from './csv-analysis.js';
import { csvColumnBatches } from './csv-columns.js';
import { CsvUpload } from './csv-upload.js';
import type { DatasetColumn, DatasetEntity, DatasetFormat } from './dataset.entity.js';
import { parquetColumns } from './parquet-threads.js';
import { DatasetsRepository } from './datasets.repository.js';

/** What `PUT /v1/datasets` answers, the same for an upload and its retries. */
export interface DatasetInfo {
  readonly id: string;
  readonly name: string;
  readonly sha256: string;
  readonly format: DatasetFormat;
  readonly columnarSha256: string | null;
  readonly size: number;
  readonly rows: number;
  readonly columns: DatasetColumn[];
}

/**
 * A CSV upload at least this large (or of unknown length) is read on a thread of its own; a
 * smaller one is read faster than a thread starts.
 */
const ONE_PASS_THREAD_BYTES = 4 << 20;

/** The columnar file may be larger than the upload (8 bytes a number), by this much at most. */
const COLUMNAR_GROWTH = 8;

export const PARQUET_MEDIA_TYPE = 'application/vnd.apache.parquet';
/** CSV is the default: `text/csv`, `application/octet-stream` or no type at all. */
export const DATASET_MEDIA_TYPES = ['text/csv', 'application/octet-stream', PARQUET_MEDIA_TYPE];
export const HOW_TO_SEND_DATASETS = `send a CSV as text/csv and a Parquet file as ${PARQUET_MEDIA_TYPE}`;

export function datasetFormatOf(mediaType: string | undefined): DatasetFormat {
  return mediaType === PARQUET_MEDIA_TYPE ? 'parquet' : 'csv';
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
 * Datasets: a CSV checked and summarized while it streams into the blob store, or a Parquet
 * file checked once stored (it needs its footer); either way its columns are then written
 * beside it as an Arrow IPC file (what every later read uses), and the dataset is registered
 * with its `dataset.registered` event in one transaction. A name may hold several files (each
 * upload of new bytes is a new dataset); the same bytes under the same name are one.
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
    format: DatasetFormat,
    body: AsyncIterable<Uint8Array>,
    principal: Principal,
    /** The body's declared length, when it has one. */
    expectedBytes?: number,
  ): Promise<DatasetInfo> {
    const { stored, summary, columnarSha256 } =
      format === 'csv' ? await this.storeCsv(body, expectedBytes) : await this.storeParquet(body);
    const row = await this.ledger.transaction(async (tx) => {
      const id = randomUUID();
      const inserted = await this.repository.insertIfAbsent(tx.manager, {
        id,
        name,
        sha256: stored.sha256,
        format,
        columnarSha256,
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
            format,
            columnarSha256,
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

  /**
   * Checked as it streams in, its columns written on the way when one read can do both (see
   * CsvUpload), else by a second read of the stored file.
   */
  private async storeCsv(
    body: AsyncIterable<Uint8Array>,
    expectedBytes: number | undefined,
  ): Promise<Stored> {
    const upload = new CsvUpload(
      { maxRows: this.maxRows },
      { thread: expectedBytes === undefined || expectedBytes >= ONE_PASS_THREAD_BYTES },
    );
    const written = upload
      .onePass()
      .then((run) => (run === undefined ? undefined : this.storeColumns(run.columns())));
    // Observed here; its failure matters only when the upload was accepted.
    written.catch(() => undefined);
    try {
      let found: Omit<Stored, 'stored'> | undefined;
      const stored = await this.blobs.put(upload.tap(body), {
        maxBytes: this.maxBytes,
        what: 'dataset',
        inspect: async (path, sha256) => {
          const read = await upload.result();
          const { summary, lineEnding } =
            read.kind === 'unsure'
              ? await checkCsv(createReadStream(path), { maxRows: this.maxRows })
              : read;
          const columnarSha256 =
            (read.kind === 'checked' && read.columnsWritten ? await written : undefined) ??
            (await this.knownColumns(sha256, 'csv'))?.columnarSha256 ??
            (await this.storeColumns(
              columnarFileBytes(
                summary.columns.map((c) => ({ name: c.name, kind: c.type })),
                csvColumnBatches(createReadStream(path), summary.columns, summary.rows, lineEnding),
              ),
            ));
          found = { summary, columnarSha256 };
        },
      });
      if (!found) throw new Error('dataset analysis did not run');
      return { stored, ...found };
    } catch (error) {
      // The columnar file refused (too large) stops the read, and is the reason to answer.
      const columns = await written.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      throw columns instanceof DomainError ? columns : error;
    } finally {
      // A refused upload keeps nothing: the columnar file begun for it is given up first.
      await written.catch(() => undefined);
    }
  }

  /** Stored first (Parquet is read from its footer), then checked as its columns are written. */
  private async storeParquet(body: AsyncIterable<Uint8Array>): Promise<Stored> {
    let found: Omit<Stored, 'stored'> | undefined;
    const stored = await this.blobs.put(body, {
      maxBytes: this.maxBytes,
      what: 'dataset',
      inspect: async (path, sha256) => {
        found = await this.knownColumns(sha256, 'parquet');
        if (found) return;
        const columns = parquetColumns(path, { maxRows: this.maxRows });
        const columnarSha256 = await this.storeColumns(columns.bytes);
        found = { summary: columns.summary(), columnarSha256 };
      },
    });
    if (!found) throw new Error('dataset analysis did not run');
    return { stored, ...found };
  }

  /**
   * The columns of bytes uploaded before (a retry, or the same file under another name): the
   * summary and columnar file are facts about the bytes, so they are not made again.
   */
  private async knownColumns(
    sha256: string,
    format: DatasetFormat,
  ): Promise<Omit<Stored, 'stored'> | undefined> {
    const known = await this.repository.findWithColumns(sha256, format);
    const columnarSha256 = known?.columnarSha256;
    if (!known || columnarSha256 == null || !(await this.blobs.exists(columnarSha256)))
      return undefined;
    return { summary: { rows: known.rows, columns: known.columns }, columnarSha256 };
  }

  /** The Arrow IPC file of the columns, stored: its digest. */
  private async storeColumns(bytes: AsyncIterable<Uint8Array>): Promise<string> {
    const stored = await this.blobs.put(bytes, {
      maxBytes: COLUMNAR_GROWTH * this.maxBytes,
      what: 'dataset, decoded into columns,',
    });
    return stored.sha256;
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

interface Stored {
  /** The uploaded file. */
  readonly stored: StoredBlob;
  readonly summary: CsvSummary;
  /** Its columns as an Arrow IPC file. */
  readonly columnarSha256: string;
}

function infoOf(row: DatasetEntity): DatasetInfo {
  return {
    id: row.id,
    name: row.name,
    sha256: row.sha256,
    format: row.format,
    columnarSha256: row.columnarSha256,
    size: row.size,
    rows: row.rows,
    columns: row.columns,
  };
}
