import type * as Ort from 'onnxruntime-node';
import { ort } from '../../src/runtime/ort.js';
import { FEATURES_INPUT, SCORE_OUTPUT } from '../../src/model-builder/scoring-model.js';

/**
 * For the specs of src/model-builder: runs ONNX bytes with ONNX Runtime (CPU). ONNX Runtime is
 * loaded through the service's own loader, which also makes it work under Jest's vm contexts
 * (see src/runtime/ort.ts).
 */
export { ort };
export async function createSession(bytes: Uint8Array): Promise<Ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
}

/** A float32 [rows, columns] tensor of the rows. */
export function featureTensor(X: readonly Float32Array[], columns: number): Ort.Tensor {
  const flat = new Float32Array(X.length * columns);
  X.forEach((row, i) => {
    flat.set(row.subarray(0, columns), i * columns);
  });
  return new ort.Tensor('float32', flat, [X.length, columns]);
}

/** Runs a scoring model on the rows; returns the `score` column. */
export async function runScores(
  session: Ort.InferenceSession,
  X: readonly Float32Array[],
  columns: number,
  inputName = FEATURES_INPUT,
): Promise<number[]> {
  const outputs = await session.run({ [inputName]: featureTensor(X, columns) });
  const score = outputs[SCORE_OUTPUT];
  if (score === undefined) throw new Error(`no ${SCORE_OUTPUT} output`);
  if (score.dims.length !== 2 || score.dims[0] !== X.length || score.dims[1] !== 1) {
    throw new Error(`score has shape [${score.dims.join(', ')}], expected [${X.length}, 1]`);
  }
  return Array.from(score.data as Float32Array);
}

/** Creates a session for the bytes and scores the rows. */
export async function scoreWithOnnxRuntime(
  bytes: Uint8Array,
  X: readonly Float32Array[],
  columns: number,
): Promise<number[]> {
  return runScores(await createSession(bytes), X, columns);
}
