import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can } from '../auth/decorators.js';
import { NotFoundError } from '../common/errors.js';
import { WitnessingService } from './witnessing.service.js';

@Controller()
export class WitnessedCheckpointController {
  constructor(private readonly witnessing: WitnessingService) {}

  /**
   * The latest checkpoint as a C2SP tlog-checkpoint signed note, the ledger's signature followed
   * by the witnesses' cosignatures, for transparency-log tools, witnesses and monitors. Mutable,
   * so not to be cached beyond a few seconds (c2sp.org/tlog-tiles).
   */
  @Get('v1/ledger/tlog/checkpoint')
  @Can('read', 'Ledger')
  async checkpointNote(@Res() reply: FastifyReply): Promise<void> {
    const note = await this.witnessing.latestNote();
    if (note === undefined) throw new NotFoundError('checkpoint', '(any)');
    void reply.type('text/plain; charset=utf-8').header('cache-control', 'max-age=5').send(note);
  }
}
