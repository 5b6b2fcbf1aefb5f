import { runInThisContext } from 'node:vm';
import type * as Ort from 'onnxruntime-node';
import type { TensorSpec } from './tensor-spec.js';

/**
 * onnxruntime-node, loaded once for the whole service.
 *
 * Under Jest each test file runs in a vm context of its own whose typed-array constructors
 * differ from the main context's; the native binding creates output tensors in the main
 * context and onnxruntime-common then refuses them ("data must be type of function
 * Float32Array()"). When the constructors differ, the context's typed-array globals are
 * pointed at the main context's before the binding loads. Outside Jest nothing changes.
 */
const TYPED_ARRAYS = [
  'Float32Array',
  'Float64Array',
  'Int8Array',
  'Uint8Array',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;
for (const name of TYPED_ARRAYS) {
  const main = runInThisContext(name) as (typeof globalThis)[typeof name];
  if (main !== globalThis[name]) Object.assign(globalThis, { [name]: main });
}

export const ort: typeof Ort = await import('onnxruntime-node');
export type InferenceSession = Ort.InferenceSession;
export type Tensor = Ort.Tensor;

/** ONNX Runtime element types ↔ Open Inference Protocol (KServe v2) datatypes. */
const DATATYPES: Readonly<Record<string, string>> = {
  float32: 'FP32',
  float64: 'FP64',
  float16: 'FP16',
  int8: 'INT8',
  int16: 'INT16',
  int32: 'INT32',
  int64: 'INT64',
  uint8: 'UINT8',
  uint16: 'UINT16',
  uint32: 'UINT32',
  uint64: 'UINT64',
  bool: 'BOOL',
  string: 'BYTES',
};

export function datatypeOf(ortType: string): string {
  return DATATYPES[ortType] ?? ortType.toUpperCase();
}

export function ortTypeOf(datatype: string): string | undefined {
  return Object.entries(DATATYPES).find(([, d]) => d === datatype)?.[0];
}

/** A session's inputs or outputs as Gatehouse describes them; free dimensions are -1. */
export function signatureOf(metadata: readonly Ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return metadata.map((m) =>
    m.isTensor
      ? {
          name: m.name,
          datatype: datatypeOf(m.type),
          shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1)),
        }
      : { name: m.name, datatype: 'NON_TENSOR', shape: [] },
  );
}

/** Session options for serving: one intra-op thread, since requests already run side by side. */
export const SESSION_OPTIONS: Ort.InferenceSession.SessionOptions = {
  logSeverityLevel: 4,
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
};
