import { Module } from '@nestjs/common';
import { WitnessingModule } from '../witnessing/witnessing.module.js';
import { ReportCheckpointService } from './report-checkpoint.service.js';
import { ReportReadModel } from './report-read-model.repository.js';
import { ReportsController } from './reports.controller.js';
import { ReportsRepository } from './reports.repository.js';
import { ReportsResolver } from './reports.resolver.js';
import { ReportsService } from './reports.service.js';

/**
 * Audit reports: signed JSON with ledger proofs, PDF and CSV renderings, and (in the CLI) the
 * offline verifier. Reads the registry, promotions, rollouts, evaluations and ledger events
 * through its one read model (report-read-model.repository.ts) and the Merkle tree and the
 * keys through the ledger module's services (the ledger module is global), and the witnesses'
 * cosignatures of a checkpoint through the witnessing module's.
 */
@Module({
  imports: [WitnessingModule],
  providers: [
    ReportsRepository,
    ReportReadModel,
    ReportCheckpointService,
    ReportsService,
    ReportsResolver,
  ],
  controllers: [ReportsController],
})
export class ReportsModule {}
