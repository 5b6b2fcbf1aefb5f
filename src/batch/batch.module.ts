import { Module } from '@nestjs/common';
import { BatchController } from './batch.controller.js';
import { BatchJobsService } from './batch-jobs.service.js';
import { BatchRunner } from './batch-runner.service.js';

@Module({
  controllers: [BatchController],
  providers: [BatchRunner, BatchJobsService],
})
export class BatchModule {}
