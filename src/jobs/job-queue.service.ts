import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { PgBoss } from 'pg-boss';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import { Database } from '../database/database.module.js';

/** The queues of long-running work; each message names one row of the owning table. */
export type QueueName = 'batch-inference' | 'evaluation';

export interface JobMessage {
  readonly id: string;
}

/**
 * The PostgreSQL-backed job queue (pg-boss) that replicas share: a job is claimed by one
 * worker with SKIP LOCKED, and a worker that stops heartbeating (its process died) loses the
 * job after a minute, so another replica runs it. pg-boss keeps its own tables in the
 * `pgboss` schema, which it creates and migrates itself (docs/decisions.md). Our own tables
 * (`batch_jobs`, `evaluations`) hold the records and the ledger holds their events.
 */
@Injectable()
export class JobQueue implements OnApplicationShutdown {
  private static readonly logger = new Logger('JobQueue');
  private boss: PgBoss | undefined;
  private starting: Promise<PgBoss> | undefined;
  private readonly queues = new Map<QueueName, Promise<void>>();

  constructor(
    private readonly database: Database,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async send(queue: QueueName, id: string): Promise<void> {
    const boss = await this.start(queue);
    // The row id as singleton key: a re-send (after a restart, say) never queues it twice.
    await boss.send(queue, { id } satisfies JobMessage, {
      singletonKey: id,
      retryLimit: 2,
      expireInSeconds: 24 * 3600,
    });
  }

  /** Works a queue: up to `config.batch.concurrency` jobs at once in this process. */
  async work(
    queue: QueueName,
    handler: (message: JobMessage, signal: AbortSignal) => Promise<void>,
  ): Promise<void> {
    const boss = await this.start(queue);
    await boss.work<JobMessage>(
      queue,
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

  private async start(queue: QueueName): Promise<PgBoss> {
    this.starting ??= (async () => {
      const boss = new PgBoss({
        connectionString: this.database.url,
        application_name: 'gatehouse-jobs',
        max: 4,
        // A new job wakes a worker at once (its queue is created with `notify`) rather than
        // at the next poll, up to half a second later. The poll stays on as the floor for a
        // connection where LISTEN is not delivered (PgBouncer in transaction mode).
        useListenNotify: true,
      });
      boss.on('error', (error: Error) => {
        JobQueue.logger.error(`job queue: ${error.message}`);
      });
      boss.on('warning', (warning: { message: string }) => {
        JobQueue.logger.warn(`job queue: ${warning.message}`);
      });
      await boss.start();
      this.boss = boss;
      return boss;
    })();
    const boss = await this.starting;
    let created = this.queues.get(queue);
    if (!created) {
      // Idempotent (created only if missing). A worker heartbeats while it runs a job.
      created = boss.createQueue(queue, { notify: true, heartbeatSeconds: 60 });
      this.queues.set(queue, created);
    }
    await created;
    return boss;
  }
}
