import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { JWK } from 'jose';
import { checkChunk, publicKeysOf, type ChunkResult } from './verify-batch.js';

/**
 * Runs batch checks on one worker thread per core. From TypeScript sources (the unit and
 * end-to-end tests run those) there is no compiled worker file to start, and the same checks
 * run in the calling thread instead; the CLI tests exercise the threads.
 */
export class VerifyPool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<
    number,
    { resolve(r: ChunkResult): void; reject(e: unknown): void }
  >();
  private readonly keys;
  private nextId = 0;
  private nextWorker = 0;

  constructor(jwks: readonly JWK[], size = availableParallelism()) {
    this.keys = publicKeysOf(jwks);
    const script = new URL('./verify-worker.js', import.meta.url);
    if (import.meta.url.endsWith('.ts') || size < 1) return;
    for (let i = 0; i < size; i++) {
      const worker = new Worker(script, { workerData: { keys: jwks } });
      worker.on('message', ({ id, result }: { id: number; result: ChunkResult }) => {
        this.pending.get(id)?.resolve(result);
        this.pending.delete(id);
      });
      worker.on('error', (error) => {
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      });
      this.workers.push(worker);
    }
  }

  /** How many batches may usefully be in flight at once. */
  get parallelism(): number {
    return Math.max(1, this.workers.length);
  }

  /** Checks a run of events given as COPY text lines (UTF-8); the bytes move to the worker. */
  check(bytes: Uint8Array, signatures: boolean): Promise<ChunkResult> {
    const worker = this.workers[this.nextWorker++ % Math.max(1, this.workers.length)];
    if (!worker)
      return Promise.resolve(
        checkChunk(Buffer.from(bytes).toString('utf8'), this.keys, signatures),
      );
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, bytes, signatures }, [bytes.buffer as ArrayBuffer]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
