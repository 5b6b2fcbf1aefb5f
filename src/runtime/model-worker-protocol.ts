/**
 * The messages between the service and a model thread (model-worker.worker.ts). The worker
 * runs from its TypeScript source under the tests (Node strips the types), so it imports
 * nothing of ours but types.
 */

/** A tensor crossing the thread boundary; `type` is ONNX Runtime's element type. */
export interface WireTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: ArrayBufferView | readonly string[];
}

export interface WorkerSettings {
  /** The thread's nice value (Linux: per thread); 0 leaves it at the service's. */
  readonly niceness: number;
  /** Run under SCHED_IDLE (Linux: per thread), where the system allows it. */
  readonly idlePriority: boolean;
  /** The thread's name in `top -H`, `ps -L` and /proc (15 bytes at most). */
  readonly threadName: string;
}

export type ToWorker =
  /** Bytes already checked against their digest by the service; the thread checks again. */
  | { readonly kind: 'load'; readonly sha256: string; readonly bytes: Uint8Array }
  | { readonly kind: 'release'; readonly sha256: string }
  | {
      readonly kind: 'run';
      readonly id: number;
      readonly sha256: string;
      readonly feeds: readonly WireTensor[];
    };

export type FromWorker =
  | {
      readonly kind: 'ran';
      readonly id: number;
      readonly outputs: readonly WireTensor[];
      /** When the run started and ended, on the clock all threads share (`monotonicMs`). */
      readonly startedAt: number;
      readonly endedAt: number;
    }
  | {
      readonly kind: 'failed';
      readonly id: number;
      readonly error: string;
      /** The artifact's session could not be made: it is no longer held, a retry loads it. */
      readonly unloaded: boolean;
    };

/**
 * Milliseconds on the process's monotonic clock, which every thread reads alike (unlike
 * `performance.now()`, whose origin is each thread's start). Defined in the worker too, which
 * cannot import it.
 */
export function monotonicMs(): number {
  const [seconds, nanoseconds] = process.hrtime();
  return seconds * 1e3 + nanoseconds / 1e6;
}
