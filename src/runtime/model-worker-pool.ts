import { Worker } from 'node:worker_threads';
import { Bulkhead, type Lane } from './bulkhead.js';
import {
  monotonicMs,
  type FromWorker,
  type ToWorker,
  type WireTensor,
  type WorkerSettings,
} from './model-worker-protocol.js';

export interface ModelWorkerPoolOptions {
  readonly threads: number;
  /** The threads' nice value (0–19): above the main thread's, they yield the cores to it. */
  readonly niceness: number;
  /** Whether the threads run under SCHED_IDLE (Linux): only on a core nothing else wants. */
  readonly idlePriority?: boolean;
  /** The most runs one version may have waiting, per lane. */
  readonly limits: Readonly<Record<Lane, number>>;
  /** Sessions one thread keeps; beyond, the least recently used is released. */
  readonly sessionsPerThread: number;
  /** The artifact's bytes, already checked against their digest. */
  readonly readArtifact: (sha256: string) => Promise<Uint8Array>;
  /** A thread ended without being asked to; it has been replaced. */
  readonly onThreadLost?: (error: Error) => void;
  /** The thread's script: model-worker.worker by default (tests give one that fails). */
  readonly workerUrl?: URL;
}

/** A run's outputs and its own time. */
export interface WorkerRun {
  readonly outputs: readonly WireTensor[];
  /** From the submission to the end of the run: its wait in the queue and its run. */
  readonly latencyMs: number;
  readonly runMs: number;
}

export interface WorkerPoolStats {
  readonly threads: number;
  /** Runs waiting, per lane. */
  readonly waiting: Readonly<Record<Lane, number>>;
  /** Runs a thread has now. */
  readonly running: number;
  /** Threads that ended without being asked to, and were replaced. */
  readonly restarts: number;
}

/** A thread ended (crashed, ran out of memory) while running this request's model. */
export class ModelThreadLostError extends Error {
  constructor(cause: string) {
    super(`the model thread stopped during the run: ${cause}`);
  }
}

interface Job {
  readonly id: number;
  readonly sha256: string;
  readonly feeds: readonly WireTensor[];
  readonly submittedAt: number;
  readonly resolve: (run: WorkerRun) => void;
  readonly reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  /** Artifacts loaded (or loading) in the thread, least recently used first. */
  readonly loaded: Set<string>;
  /** The run it has; one at a time, so a crash loses at most one. */
  job: Job | undefined;
}

/** The threads' names in `top -H`, `ps -L` and /proc. */
export const MODEL_THREAD_NAME = 'gh-candidate';

/**
 * Model runs on threads of their own, so that a slow model's runs take those threads' time and
 * not the main thread's (ONNX Runtime's Node binding runs a session synchronously, on the
 * calling thread). Runs wait in a Bulkhead (bounded per lane and version; a full queue refuses
 * at once rather than wait) and a free thread takes the next, one run per thread at a time.
 * Each thread loads the artifacts it is asked to run from bytes the service has checked, and
 * checks them again. A thread that ends unasked fails the run it had and is replaced.
 */
export class ModelWorkerPool {
  private readonly queue: Bulkhead<Job>;
  private readonly threads: Thread[] = [];
  private readonly idle: (() => void)[] = [];
  private nextId = 1;
  private restarts = 0;
  private closing = false;
  private terminated = false;

  constructor(private readonly options: ModelWorkerPoolOptions) {
    if (options.threads < 1) throw new Error('a model worker pool needs at least one thread');
    this.queue = new Bulkhead(options.limits);
    for (let i = 0; i < options.threads; i++) this.threads.push(this.startThread());
  }

  /**
   * Queues a run of the artifact; undefined when that version's queue in the lane is full (the
   * caller sheds the work). The promise rejects if the run fails or its thread is lost.
   */
  submit(lane: Lane, sha256: string, feeds: readonly WireTensor[]): Promise<WorkerRun> | undefined {
    if (this.closing) return undefined;
    let settle: Pick<Job, 'resolve' | 'reject'> | undefined;
    const promise = new Promise<WorkerRun>((resolve, reject) => {
      settle = { resolve, reject };
    });
    const job: Job = {
      id: this.nextId++,
      sha256,
      feeds,
      submittedAt: monotonicMs(),
      ...(settle as Pick<Job, 'resolve' | 'reject'>),
    };
    if (!this.queue.offer(lane, sha256, job)) return undefined;
    this.dispatch();
    return promise;
  }

  /** Whether `submit` would take a run of the artifact in the lane now. */
  hasRoom(lane: Lane, sha256: string): boolean {
    return !this.closing && this.queue.hasRoom(lane, sha256);
  }

  /** Loads an artifact in every thread ahead of its first run. */
  async warm(sha256: string): Promise<void> {
    await Promise.all(
      this.threads.map(async (thread) => {
        if (!thread.loaded.has(sha256)) await this.load(thread, sha256);
      }),
    );
  }

  stats(): WorkerPoolStats {
    return {
      threads: this.threads.length,
      waiting: { candidate: this.queue.waiting('candidate'), shadow: this.queue.waiting('shadow') },
      running: this.threads.filter((t) => t.job !== undefined).length,
      restarts: this.restarts,
    };
  }

  /** Resolves once nothing waits or runs. */
  drained(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /** Takes no more work, lets what was queued finish, then ends the threads. */
  async close(): Promise<void> {
    this.closing = true;
    await this.drained();
    this.terminated = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private pending(): number {
    return this.queue.waiting() + this.threads.filter((t) => t.job !== undefined).length;
  }

  private dispatch(): void {
    for (const thread of this.threads) {
      if (thread.job) continue;
      const next = this.queue.take();
      if (!next) break;
      thread.job = next.item;
      void this.send(thread, next.item);
    }
    if (this.pending() === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  private async send(thread: Thread, job: Job): Promise<void> {
    const worker = thread.worker;
    try {
      if (thread.loaded.has(job.sha256)) {
        thread.loaded.delete(job.sha256);
        thread.loaded.add(job.sha256);
      } else {
        await this.load(thread, job.sha256);
      }
    } catch (error) {
      if (thread.worker !== worker || thread.job !== job) return;
      thread.job = undefined;
      job.reject(error instanceof Error ? error : new Error(String(error)));
      this.dispatch();
      return;
    }
    // The thread may have been lost while the bytes were read; its job has then failed.
    if (thread.worker !== worker || thread.job !== job) return;
    const message: ToWorker = { kind: 'run', id: job.id, sha256: job.sha256, feeds: job.feeds };
    worker.postMessage(message);
  }

  private async load(thread: Thread, sha256: string): Promise<void> {
    const worker = thread.worker;
    const bytes = await this.options.readArtifact(sha256);
    if (thread.worker !== worker || thread.loaded.has(sha256)) return;
    for (const old of thread.loaded) {
      if (thread.loaded.size < this.options.sessionsPerThread) break;
      thread.loaded.delete(old);
      worker.postMessage({ kind: 'release', sha256: old } satisfies ToWorker);
    }
    thread.loaded.add(sha256);
    worker.postMessage({ kind: 'load', sha256, bytes } satisfies ToWorker);
  }

  private startThread(): Thread {
    const thread: Thread = { worker: this.newWorker(), loaded: new Set(), job: undefined };
    this.watch(thread, thread.worker);
    return thread;
  }

  private newWorker(): Worker {
    const settings: WorkerSettings = {
      niceness: this.options.niceness,
      idlePriority: this.options.idlePriority ?? false,
      threadName: MODEL_THREAD_NAME,
    };
    return new Worker(this.options.workerUrl ?? workerUrl(), { workerData: settings });
  }

  private watch(thread: Thread, worker: Worker): void {
    worker.on('message', (message: FromWorker) => {
      const job = thread.job;
      if (thread.worker !== worker || !job || job.id !== message.id) return;
      thread.job = undefined;
      if (message.kind === 'failed') {
        if (message.unloaded) thread.loaded.delete(job.sha256);
        job.reject(new Error(message.error));
      } else {
        const runMs = message.endedAt - message.startedAt;
        job.resolve({
          outputs: message.outputs,
          runMs,
          latencyMs: Math.max(runMs, message.endedAt - job.submittedAt),
        });
      }
      this.dispatch();
    });
    const lost = (cause: string) => {
      if (thread.worker !== worker || this.terminated) return;
      this.restarts++;
      const job = thread.job;
      // A fresh thread takes its place; it loads artifacts again as its runs need them.
      thread.worker = this.newWorker();
      thread.loaded.clear();
      thread.job = undefined;
      this.watch(thread, thread.worker);
      const error = new ModelThreadLostError(cause);
      this.options.onThreadLost?.(error);
      job?.reject(error);
      this.dispatch();
    };
    worker.on('error', (error) => {
      lost(error.message);
    });
    worker.on('exit', (code) => {
      lost(`exit code ${code}`);
    });
  }
}

/** The worker's file: its TypeScript source under the tests, which Node runs with the types stripped. */
function workerUrl(): URL {
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return new URL(`./model-worker.worker.${extension}`, import.meta.url);
}
