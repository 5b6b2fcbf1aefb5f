import { Module } from '@nestjs/common';
import { BatchController } from './batch.controller.js';
import { BatchJobsService } from './batch-jobs.service.js';
import { BatchQueue } from './batch-queue.js';
import { BatchRunner } from './batch-runner.js';

@Module({
  controllers: [BatchController],
  providers: [BatchQueue, BatchRunner, BatchJobsService],
})
export class BatchModule {}
