import { Module } from '@nestjs/common';
import { ReportsController } from './reports.controller.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsResolver } from './reports.resolver.js';
import { ReportsService } from './reports.service.js';

/**
 * Audit reports: signed JSON with ledger proofs, PDF and CSV renderings, and (in the CLI) the
 * offline verifier. Reads the registry, promotions and rollouts through its own repository,
 * so it depends on no other module's services; the ledger module is global.
 */
@Module({
  providers: [ReportsRepository, ReportsService, ReportsResolver],
  controllers: [ReportsController],
})
export class ReportsModule {}
