import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { PgBoss } from 'pg-boss';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { Database } from '../database/database.module.js';

export const BATCH_QUEUE = 'batch-inference';

export interface BatchMessage {
  readonly jobId: string;
}

/**
 * The PostgreSQL-backed job queue (pg-boss) that replicas share: a job is claimed by one
 * worker with SKIP LOCKED, and a worker that dies mid-job loses its claim when the job
 * expires, so another replica retries it. pg-boss keeps its own tables in the `pgboss`
 * schema, which it creates and migrates itself (docs/decisions.md).
 */
@Injectable()
export class BatchQueue implements OnApplicationShutdown {
  private static readonly logger = new Logger('BatchQueue');
  private boss: PgBoss | undefined;
  private starting: Promise<PgBoss> | undefined;

  constructor(
    private readonly database: Database,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async send(jobId: string): Promise<void> {
    const boss = await this.start();
    // The job id as singleton key: a re-send (after a restart, say) never queues it twice.
    await boss.send(BATCH_QUEUE, { jobId } satisfies BatchMessage, {
      singletonKey: jobId,
      retryLimit: 2,
      expireInSeconds: 24 * 3600,
    });
  }

  /** Starts working the queue: one job at a time per slot of `config.batch.concurrency`. */
  async work(
    handler: (message: BatchMessage, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const boss = await this.start();
    await boss.work<BatchMessage>(
      BATCH_QUEUE,
      {
        batchSize: 1,
        pollingIntervalSeconds: 0.5,
        localConcurrency: this.config.batch.concurrency,
      },
      async ([job]) => {
        if (job) await handler(job.data, job.signal);
      },
    );
  }

  async onApplicationShutdown(): Promise<void> {
    const boss = this.boss;
    this.boss = undefined;
    await boss?.stop({ graceful: true, timeout: 10_000 });
  }

  private start(): Promise<PgBoss> {
    this.starting ??= (async () => {
      const boss = new PgBoss({
        connectionString: this.database.url,
        application_name: 'gatehouse-jobs',
        max: 4,
      });
      boss.on('error', (error: Error) => {
        BatchQueue.logger.error(`job queue: ${error.message}`);
      });
      await boss.start();
      // Idempotent: pg-boss creates the queue only if it does not exist.
      // A worker heartbeats while it runs a job; one that stops (its process died) loses the
      // job after a minute and another replica takes it.
      await boss.createQueue(BATCH_QUEUE, { notify: true, heartbeatSeconds: 60 });
      this.boss = boss;
      return boss;
    })();
    return this.starting;
  }
}
