import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/decorators.js';
import type { Readiness } from './readiness.js';
import { ReadinessService } from './readiness.service.js';

/**
 * Open Inference Protocol health paths, used as the liveness and readiness probes. Ready
 * means: migrations ran and PostgreSQL answers; a replica that lost its database stops
 * receiving traffic. Readiness answers within about a second whatever the database does, so
 * a probe never times out on its own and the reason reaches whoever looks.
 */
@Controller('v2/health')
@Public()
export class HealthController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('live')
  @HttpCode(200)
  live(): { live: boolean } {
    return { live: true };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness> {
    const readiness = await this.readiness.check();
    void reply.status(readiness.ready ? 200 : 503);
    return readiness;
  }
}
