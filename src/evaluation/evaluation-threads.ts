import { Worker } from 'node:worker_threads';
import {
  computeEvaluation,
  type ComputedEvaluation,
  type EvaluationData,
  type EvaluationOptions,
} from './evaluation-compute.js';

/** A failure of the metric arithmetic (a NaN score, a label that is not 0 or 1…). */
export class EvaluationComputeError extends Error {
  constructor(
    message: string,
    readonly row: number | null,
  ) {
    super(message);
    this.name = 'EvaluationComputeError';
  }
}

/**
 * Computes an evaluation's figures on a worker thread of its own, so that a bootstrap of many
 * seconds never blocks the service's event loop; the typed arrays are moved, not copied. From
 * TypeScript sources (under Jest) there is no compiled worker file, and the same function runs
 * in the calling thread.
 */
export function computeOffThread(
  data: EvaluationData,
  options: EvaluationOptions,
): Promise<ComputedEvaluation> {
  if (import.meta.url.endsWith('.ts')) {
    try {
      return Promise.resolve(computeEvaluation(data, options));
    } catch (error) {
      return Promise.reject(asComputeError(error));
    }
  }
  const worker = new Worker(new URL('./evaluation-worker.js', import.meta.url), {
    workerData: { data, options },
    transferList: [
      data.scores.buffer as ArrayBuffer,
      data.labels.buffer as ArrayBuffer,
      data.featureSample.buffer as ArrayBuffer,
      ...data.attributes.map((a) => a.groups.codes.buffer as ArrayBuffer),
    ],
  });
  return new Promise((resolve, reject) => {
    worker.once(
      'message',
      (
        message:
          | { ok: true; computed: ComputedEvaluation }
          | { ok: false; message: string; row: number | null },
      ) => {
        if (message.ok) resolve(message.computed);
        else reject(new EvaluationComputeError(message.message, message.row));
        void worker.terminate();
      },
    );
    worker.once('error', (error) => {
      reject(error);
    });
  });
}

function asComputeError(error: unknown): Error {
  if (!(error instanceof Error)) return new EvaluationComputeError(String(error), null);
  const row = (error as { row?: unknown }).row;
  return new EvaluationComputeError(error.message, typeof row === 'number' ? row : null);
}
