import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { Database } from '../database/database.module.js';
import { DatabaseProbe } from './database-probe.js';
import { readinessBeforeProbe, readinessFromProbe, type Readiness } from './readiness.js';

/** Ready: migrations ran, the embedded server (if any) is up, and PostgreSQL answers now. */
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
    return (
      readinessBeforeProbe(this.database.opened, this.database.supervisorState()) ??
      readinessFromProbe(await this.probe.check())
    );
  }

  async onApplicationShutdown(): Promise<void> {
    await this.probe.close();
  }
}
