import { Controller, Get, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { Can, Public } from '../auth/decorators.js';
import { BadInputError, NotFoundError } from '../common/errors.js';
import { CheckpointNotes } from './checkpoint-notes.service.js';
import { CheckpointService } from './checkpoint.service.js';
import { LedgerKeysService } from './ledger-keys.service.js';
import { LedgerReader, ndjsonLine } from './ledger-reader.service.js';

/** The ledger for outside auditors: NDJSON export, checkpoints and the public keys. */
@Controller()
export class LedgerController {
  constructor(
    private readonly reader: LedgerReader,
    private readonly checkpoints: CheckpointService,
    private readonly keys: LedgerKeysService,
    private readonly notes: CheckpointNotes,
  ) {}

  /** Streamed page by page, so a whole ledger exports in bounded memory. */
  @Get('v1/ledger/events')
  @Can('read', 'Ledger')
  events(
    @Query('afterSeq') afterSeq: string | undefined,
    @Query('limit') limit: string | undefined,
    @Res() reply: FastifyReply,
  ): void {
    const after = optionalInt('afterSeq', afterSeq, 0) ?? 0;
    const max = optionalInt('limit', limit, 1);
    const lines = async function* (reader: LedgerReader): AsyncGenerator<string> {
      for await (const rows of reader.stream(after, max)) yield rows.map(ndjsonLine).join('');
    };
    void reply.type('application/x-ndjson; charset=utf-8').send(Readable.from(lines(this.reader)));
  }

  @Get('v1/ledger/checkpoint')
  @Can('read', 'Ledger')
  async checkpoint(
    @Query('treeSize') treeSize: string | undefined,
  ): Promise<{ checkpoint: object; jws: string }> {
    const size = optionalInt('treeSize', treeSize, 1);
    const found = await this.checkpoints.latest(size);
    if (!found)
      throw new NotFoundError('checkpoint', size === undefined ? '(any)' : `of tree size ${size}`);
    return found;
  }

  /**
   * The ledger's keys as signed-note verifier keys under its origin, one a line, oldest first:
   * what a witness or a note verifier is configured with. Public, as the JWKS is.
   */
  @Get('v1/ledger/tlog/vkeys')
  @Public()
  async vkeys(@Res() reply: FastifyReply): Promise<void> {
    const vkeys = await this.notes.vkeys();
    void reply.type('text/plain; charset=utf-8').send(vkeys.map((v) => `${v}\n`).join(''));
  }

  @Get('.well-known/jwks.json')
  @Public()
  jwks(): Promise<{ keys: object[] }> {
    return this.keys.jwks();
  }
}

function optionalInt(field: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new BadInputError(field, `must be an integer of at least ${min}`);
  }
  return Number(value);
}
