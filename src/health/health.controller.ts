import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators.js';
import { Database } from '../database/database.module.js';

/**
 * Open Inference Protocol health paths, used as the liveness and readiness probes. Ready
 * means: migrations ran and PostgreSQL answers; a replica that lost its database stops
 * receiving traffic.
 */
@Controller('v2/health')
@Public()
export class HealthController {
  constructor(private readonly database: Database) {}

  @Get('live')
  @HttpCode(200)
  live(): { live: boolean } {
    return { live: true };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ ready: boolean }> {
    const ready = await this.database.isReady();
    void reply.status(ready ? 200 : 503);
    return { ready };
  }
}
