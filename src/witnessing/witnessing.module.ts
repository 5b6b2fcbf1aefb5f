import { Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { CosignaturesRepository } from './cosignatures.repository.js';
import { WitnessedCheckpointController } from './witnessed-checkpoint.controller.js';
import { WitnessingResolver } from './witnessing.resolver.js';
import { WITNESSES, WitnessingService } from './witnessing.service.js';
import { loadWitnesses } from './witnesses-file.js';

/**
 * The ledger's checkpoints cosigned by witnesses (owns `ledger_cosignatures`): submission,
 * the cosigned note, the checkpoint's cosignatures in GraphQL.
 */
@Module({
  providers: [
    {
      provide: WITNESSES,
      inject: [CONFIG],
      useFactory: (c: Config) => loadWitnesses(c.witnessing),
    },
    CosignaturesRepository,
    WitnessingService,
    WitnessingResolver,
  ],
  controllers: [WitnessedCheckpointController],
  exports: [WitnessingService, CosignaturesRepository],
})
export class WitnessingModule {}
