import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Header, Headers, Inject } from '@nestjs/common';
import { Public } from '../auth/decorators.js';
import { UnauthenticatedError } from '../auth/auth.errors.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { MetricsExposition } from './metrics-exposition.js';

/**
 * `GET /metrics` in the Prometheus text format, on the service port. Scrapers carry no user
 * JWT, so this path is outside the JWT guard: open by default (it shows endpoint names,
 * versions and traffic figures, never inputs, users or tokens), or protected by a static
 * bearer token when GATEHOUSE_METRICS_TOKEN is set (Prometheus `authorization.credentials`).
 */
@Controller('metrics')
@Public()
export class MetricsController {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly exposition: MetricsExposition,
    @Inject(CONFIG) config: Config,
  ) {
    const token = config.telemetry.metricsToken;
    this.tokenDigest = token === undefined ? undefined : digest(token);
  }

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('cache-control', 'no-store')
  scrape(@Headers('authorization') authorization: string | undefined): Promise<string> {
    if (this.tokenDigest !== undefined) {
      const presented = /^Bearer (.+)$/i.exec(authorization ?? '')?.[1];
      // Compared as digests: equal length, constant time.
      if (presented === undefined || !timingSafeEqual(digest(presented), this.tokenDigest))
        throw new UnauthenticatedError('GET /metrics needs the metrics token');
    }
    return this.exposition.render();
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
