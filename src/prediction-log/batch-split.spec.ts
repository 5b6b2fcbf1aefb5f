import { describe, expect, it } from '@jest/globals';
import { copyRowsOf, recordOfCopyRow, splitBatch } from './batch-split.js';
import type { PredictionRecord } from './prediction.js';
import { BatchBuilder, serializePrediction } from './prediction-digest.js';
import { RowBuffers } from './row-buffers.js';

const record = (n: number, over: Partial<PredictionRecord> = {}): PredictionRecord => ({
  requestId: `req-${n}`,
  endpoint: 'credit',
  modelVersion: 3,
  arm: 'candidate',
  inputs: [{ data: [n, 0.1, -0, 1e21, 'a\tb\\c\nd'], datatype: 'BYTES', name: 'x', shape: [1, 5] }],
  outputs: [{ data: [0.3], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  error: null,
  latencyMs: 0.123,
  routingKeyHash: 'ab'.repeat(32),
  createdAt: new Date('2026-12-06T10:00:00.123Z'),
  ...over,
});

const ODD: readonly PredictionRecord[] = [
  record(1),
  record(2, {
    requestId: 'tab\there\\and\u0000nul \ud800',
    outputs: null,
    error: 'failed:\r\n\tbadly',
    routingKeyHash: null,
    latencyMs: Number.NaN,
  }),
  record(3, {
    inputs: [{ data: ['\u0000', '\udc00', '"q"'], datatype: 'BYTES', name: 'x', shape: [1, 3] }],
  }),
  record(4, { arm: 'shadow', latencyMs: 12_345.678 }),
  record(5),
];

describe('splitting a prepared batch', () => {
  it('reads every prediction back from its COPY row, serializing to the same row and line', () => {
    const builder = new BatchBuilder('credit');
    for (const r of ODD) builder.add(r);
    const rows = copyRowsOf(builder.seal());
    expect(rows).toHaveLength(ODD.length);
    rows.forEach((row, i) => {
      const original = serializePrediction(ODD[i]!);
      const again = serializePrediction(recordOfCopyRow(row));
      expect(`${row}\n`).toBe(original.copyRow);
      expect(again).toEqual(original);
    });
  });

  it('gives two halves, in order, each sealed as if built from its own predictions', () => {
    const whole = new BatchBuilder('credit');
    for (const r of ODD) whole.add(r);
    const batch = whole.seal();
    const [first, second] = splitBatch(batch, new RowBuffers(4));
    expect([first.count, second.count]).toEqual([3, 2]);
    const expected = (part: readonly PredictionRecord[]) => {
      const b = new BatchBuilder('credit');
      for (const r of part) b.add(r);
      return b.seal();
    };
    expect(first.sha256).toBe(expected(ODD.slice(0, 3)).sha256);
    expect(second.sha256).toBe(expected(ODD.slice(3)).sha256);
    expect(Buffer.concat([...first.chunks, ...second.chunks])).toEqual(Buffer.concat(batch.chunks));
  });

  it('does not split a single prediction', () => {
    const b = new BatchBuilder('credit');
    b.add(record(1));
    expect(() => splitBatch(b.seal(), new RowBuffers(0))).toThrow(/1 predictions/);
  });
});
