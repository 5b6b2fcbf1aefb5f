import { Module } from '@nestjs/common';
import { DatasetsModule } from '../datasets/datasets.module.js';
import { EndpointsModule } from '../endpoints/endpoints.module.js';
import { RegistryModule } from '../registry/registry.module.js';
import { BatchController } from './batch.controller.js';
import { BatchJobsRepository } from './batch-jobs.repository.js';
import { BatchJobsService } from './batch-jobs.service.js';
import { BatchRunner } from './batch-runner.service.js';

/** Batch inference jobs: the only module that reads or writes `batch_jobs`. */
@Module({
  imports: [RegistryModule, EndpointsModule, DatasetsModule],
  controllers: [BatchController],
  providers: [BatchJobsRepository, BatchRunner, BatchJobsService],
})
export class BatchModule {}
