import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Database } from '../database/database.module.js';
import { DatabaseProbe } from './database-probe.js';

/** The answer of `GET /v2/health/ready`: ready, or not and why. */
export type Readiness =
  { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** Ready: migrations ran and PostgreSQL answers a bounded query now. */
@Injectable()
export class ReadinessService implements OnApplicationShutdown {
  private static readonly logger = new Logger('Readiness');
  private readonly probe: DatabaseProbe;

  constructor(private readonly database: Database) {
    this.probe = new DatabaseProbe({
      connectionString: database.url,
      log: (message) => {
        ReadinessService.logger.warn(message);
      },
    });
  }

  async check(): Promise<Readiness> {
    if (!this.database.opened)
      return { ready: false, reason: 'the database is not open or not migrated' };
    const outcome = await this.probe.check();
    return outcome.ok
      ? { ready: true }
      : { ready: false, reason: `PostgreSQL unreachable: ${outcome.reason}` };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.probe.close();
  }
}
