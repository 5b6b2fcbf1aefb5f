import { parentPort, workerData } from 'node:worker_threads';
import {
  computeEvaluation,
  type EvaluationData,
  type EvaluationOptions,
} from './evaluation-compute.js';

/** A worker thread for one evaluation's figures (evaluation-threads.ts). */
const { data, options } = workerData as { data: EvaluationData; options: EvaluationOptions };
try {
  parentPort?.postMessage({ ok: true, computed: computeEvaluation(data, options) });
} catch (error) {
  parentPort?.postMessage({
    ok: false,
    name: error instanceof Error ? error.name : 'Error',
    message: error instanceof Error ? error.message : String(error),
    row: (error as { row?: unknown }).row ?? null,
  });
}
