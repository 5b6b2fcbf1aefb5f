import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { BlobStore } from '../blobs/blob-store.js';
import { CONFIG } from '../config/config.module.js';
import type { Config } from '../config/config.js';
import type { Lane } from '../runtime/bulkhead.js';
import { ModelWorkerPool, type WorkerPoolStats } from '../runtime/model-worker-pool.js';
import type { WireTensor } from '../runtime/model-worker-protocol.js';
import { datatypeOf, ortTypeOf } from '../runtime/ort.js';
import type { FeedTensor } from './micro-batch.js';
import type { RawTensor, TypedArray } from './oip-tensors.js';

/** A candidate's run: its outputs, and its own time. */
export interface CandidateRun {
  readonly outputs: Map<string, RawTensor>;
  /**
   * A canary answer's: its wait in the queue and its run, as its client waited for it (less
   * the main thread's delay in handing the answer on, which is live's work). A shadow copy's:
   * its run alone; its wait tells how fast copies are made (the sample share), not how the
   * candidate serves, and nobody waits for it.
   */
  readonly latencyMs: number;
}

/**
 * Runs candidate versions (canary answers and shadow copies) on model threads of their own,
 * a bulkhead between them and the live version, which runs on the main thread (ModelExecutor).
 * A slow candidate then spends its threads' time, not the time of every client of the
 * endpoint; when it cannot keep up, its queue fills and its work is shed, not queued on the
 * live path.
 */
@Injectable()
export class CandidateExecutor implements OnApplicationShutdown {
  private static readonly logger = new Logger('CandidateExecutor');
  private readonly pool: ModelWorkerPool;

  constructor(blobs: BlobStore, @Inject(CONFIG) config: Config) {
    const { rollouts } = config;
    this.pool = new ModelWorkerPool({
      threads: rollouts.candidateThreads,
      niceness: rollouts.candidateNiceness,
      idlePriority: rollouts.candidateIdlePriority,
      limits: { candidate: rollouts.candidateQueueLimit, shadow: rollouts.shadowQueueLimit },
      sessionsPerThread: SESSIONS_PER_THREAD,
      readArtifact: (sha256) => blobs.readVerified(sha256),
      onThreadLost: (error) => {
        CandidateExecutor.logger.error(`a candidate model thread was replaced: ${error.message}`);
      },
    });
  }

  /**
   * Queues a run in the version's queue of the lane; undefined when that queue is full. The
   * promise rejects when the run fails, or when its thread is lost during it.
   */
  run(lane: Lane, sha256: string, feeds: readonly FeedTensor[]): Promise<CandidateRun> | undefined {
    const wire: WireTensor[] = [];
    for (const feed of feeds) {
      const type = ortTypeOf(feed.datatype);
      if (type === undefined)
        return Promise.reject(new Error(`datatype ${feed.datatype} cannot be fed`));
      wire.push({ name: feed.name, type, dims: feed.shape, data: feed.data });
    }
    return this.pool.submit(lane, sha256, wire)?.then((ran) => ({
      outputs: new Map(
        ran.outputs.map((t) => [
          t.name,
          { datatype: datatypeOf(t.type), shape: t.dims, data: t.data as TypedArray | string[] },
        ]),
      ),
      latencyMs: lane === 'candidate' ? ran.latencyMs : ran.runMs,
    }));
  }

  /** Whether `run` would take a run of the artifact in the lane now (a cheap check first). */
  hasRoom(lane: Lane, sha256: string): boolean {
    return this.pool.hasRoom(lane, sha256);
  }

  /** Loads a candidate's artifact in the model threads ahead of its first run. */
  warm(sha256: string): Promise<void> {
    return this.pool.warm(sha256);
  }

  stats(): WorkerPoolStats {
    return this.pool.stats();
  }

  /** Lets queued runs finish, then ends the threads. */
  onApplicationShutdown(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Sessions a model thread keeps: the candidates of a few endpoints' rollouts at once. Beyond,
 * the least recently run is released and loaded again when next needed.
 */
const SESSIONS_PER_THREAD = 8;
