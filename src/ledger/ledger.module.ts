import { Global, Module } from '@nestjs/common';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { CheckpointNotes } from './checkpoint-notes.service.js';
import { CheckpointService } from './checkpoint.service.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerKeysService } from './ledger-keys.service.js';
import { LedgerReader } from './ledger-reader.service.js';
import { LedgerVerifierService } from './ledger-verifier.service.js';
import { LedgerRepository } from './ledger.repository.js';
import { LedgerResolver } from './ledger.resolver.js';
import { LedgerSequencer } from './ledger-sequencer.service.js';
import { LedgerService } from './ledger.service.js';
import { KeyRing } from './signing-keys.js';
import { TilesController } from './tiles.controller.js';
import { TilesService } from './tiles.service.js';

/** Global: every module writes its events through LedgerService. */
@Global()
@Module({
  providers: [
    {
      provide: KeyRing,
      inject: [CONFIG],
      useFactory: (config: Config) => KeyRing.load(config.ledger),
    },
    LedgerRepository,
    LedgerSequencer,
    LedgerService,
    LedgerKeysService,
    LedgerReader,
    LedgerVerifierService,
    CheckpointService,
    CheckpointNotes,
    TilesService,
    LedgerResolver,
  ],
  controllers: [LedgerController, TilesController],
  exports: [
    LedgerService,
    LedgerReader,
    LedgerVerifierService,
    CheckpointService,
    CheckpointNotes,
    LedgerKeysService,
    KeyRing,
  ],
})
export class LedgerModule {}

/**
 * Verification alone, for commands that only read: none of the parts that write (the
 * sequencer, whose sweep seals queued events; the checkpoint timer; the key ring, which may
 * generate a key; the start-up key check).
 */
@Module({
  providers: [LedgerRepository, LedgerVerifierService],
  exports: [LedgerVerifierService],
})
export class LedgerVerifyModule {}
