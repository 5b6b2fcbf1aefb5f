import { parseCopyRow } from './copy-rows.js';
import type { LoggedTensor, PredictionArm, PredictionRecord } from './prediction.js';
import { BatchBuilder, type PreparedBatch } from './prediction-digest.js';
import type { RowBuffers } from './row-buffers.js';

/**
 * A prediction back from its COPY row. Serialized again (`serializePrediction`) it gives the
 * same COPY row and the same canonical line: text was made well-formed when first serialized,
 * the tensors are JSON that parses and prints back to itself, and times and numbers are
 * written in forms that read back exactly (prediction-digest.ts).
 */
export function recordOfCopyRow(row: string): PredictionRecord {
  const f = parseCopyRow(row);
  if (f.length !== 10) throw new Error(`a COPY row of ${f.length} fields, not 10`);
  const [requestId, endpoint, version, arm, inputs, outputs, error, latency, routing, at] = f;
  if (requestId == null || endpoint == null || version == null || arm == null)
    throw new Error('a COPY row without its request, endpoint, version or arm');
  if (inputs == null || latency == null || at == null)
    throw new Error('a COPY row without its inputs, latency or time');
  return {
    requestId,
    endpoint,
    modelVersion: Number(version),
    arm: arm as PredictionArm,
    inputs: JSON.parse(inputs) as LoggedTensor[],
    outputs: outputs == null ? null : (JSON.parse(outputs) as LoggedTensor[]),
    error: error ?? null,
    latencyMs: Number(latency),
    routingKeyHash: routing ?? null,
    createdAt: new Date(at),
  };
}

/** A prepared batch's COPY rows, in its order, without their newlines. */
export function copyRowsOf(batch: PreparedBatch): string[] {
  // Chunks hold whole rows, and no field holds a raw newline (copyField escapes it).
  const rows = Buffer.concat(batch.chunks).toString('utf8').split('\n');
  rows.pop();
  return rows;
}

/**
 * The two halves of a batch of at least two predictions, each sealed with its own digest:
 * how the writer finds the one row PostgreSQL refuses without giving up the others. The
 * batch's chunks are read before the halves take buffers from `buffers`; the caller gives
 * them back.
 */
export function splitBatch(
  batch: PreparedBatch,
  buffers: RowBuffers,
): [PreparedBatch, PreparedBatch] {
  const rows = copyRowsOf(batch);
  if (rows.length !== batch.count || rows.length < 2)
    throw new Error(`a batch of ${batch.count} predictions holds ${rows.length} rows`);
  const middle = Math.ceil(rows.length / 2);
  const half = (part: readonly string[]): PreparedBatch => {
    const builder = new BatchBuilder(batch.endpoint, buffers);
    for (const row of part) builder.add(recordOfCopyRow(row));
    return builder.seal();
  };
  return [half(rows.slice(0, middle)), half(rows.slice(middle))];
}
