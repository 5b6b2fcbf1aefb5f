import { Module } from '@nestjs/common';
import { DatasetsController } from './datasets.controller.js';
import { DatasetsRepository } from './datasets.repository.js';
import { DatasetsResolver } from './datasets.resolver.js';
import { DatasetsService } from './datasets.service.js';

/**
 * CSV and Parquet uploads: `PUT /v1/datasets`, the `datasets` and `dataset` queries, and
 * DatasetsService for others. Reading a stored dataset needs only the blob store and the
 * dataset's row: `readDatasetChunks`.
 */
@Module({
  providers: [DatasetsRepository, DatasetsService, DatasetsResolver],
  controllers: [DatasetsController],
  exports: [DatasetsService],
})
export class DatasetsModule {}
