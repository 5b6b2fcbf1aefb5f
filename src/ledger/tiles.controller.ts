import { Controller, Get, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Can } from '../auth/decorators.js';
import { BadInputError } from '../common/errors.js';
import { TilesService } from './tiles.service.js';
import { parseTilePath } from './tiles.js';

/**
 * The tree as static resources (c2sp.org/tlog-tiles). A path names its content for good (a
 * partial tile's path carries its width), so every answer may be cached for a year, by the
 * client only: both need a token.
 */
@Controller('v1/ledger/tlog/tile')
export class TilesController {
  constructor(private readonly tiles: TilesService) {}

  /**
   * As the checkpoint is: hashes say nothing of the events (each hashes a random UUID among its
   * members), but they give the tree's size and root at every size, which is what the checkpoint
   * states; and tiles are of no use to a client that cannot read a checkpoint.
   */
  @Get('*')
  @Can('read', 'Ledger')
  async hashTile(@Param('*') path: string, @Res() reply: FastifyReply): Promise<void> {
    const tile = parseTilePath(path);
    if (tile.level === 'entries') throw new BadInputError('index', 'is missing after entries/');
    send(reply, await this.tiles.hashTile({ ...tile, level: tile.level }));
  }

  /** The events themselves: readable only as the NDJSON export is. */
  @Get('entries/*')
  @Can('read', 'Ledger')
  async entryBundle(@Param('*') path: string, @Res() reply: FastifyReply): Promise<void> {
    const tile = parseTilePath(`entries/${path}`);
    if (tile.level !== 'entries') throw new Error('an entries path parsed as a hash tile');
    send(reply, await this.tiles.entryBundle({ ...tile, level: tile.level }));
  }
}

function send(reply: FastifyReply, body: Buffer): void {
  void reply
    .type('application/octet-stream')
    .header('cache-control', 'private, max-age=31536000, immutable')
    .send(body);
}
