import { describe, expect, it } from '@jest/globals';
import type { PredictionRecord } from './prediction.js';
import { serializePrediction } from './prediction-digest.js';
import { RecordPacker, unpackRecords } from './record-codec.js';

const record = (n: number, extra: Partial<PredictionRecord> = {}): PredictionRecord => ({
  requestId: `req-${n}`,
  endpoint: 'credit',
  modelVersion: 3,
  arm: 'live',
  inputs: [
    { data: [0.1, 1e-7, -0, 2 ** 53 - 1], datatype: 'FP32', name: 'features', shape: [1, 4] },
  ],
  outputs: [
    { data: [1], datatype: 'INT64', name: 'label', shape: [1] },
    { data: [0.25, 0.75], datatype: 'FP32', name: 'probabilities', shape: [1, 2] },
  ],
  error: null,
  latencyMs: 0.123,
  routingKeyHash: null,
  createdAt: new Date('2025-01-02T03:04:05.678Z'),
  ...extra,
});

function roundTrip(records: readonly PredictionRecord[]): PredictionRecord[] {
  const packer = new RecordPacker();
  for (const r of records) packer.add(r);
  expect(packer.count).toBe(records.length);
  const packed = packer.take();
  expect(packer.count).toBe(0);
  // What the writer thread receives: a structured clone of the message.
  return unpackRecords(
    structuredClone(packed, { transfer: [packed.numbers.buffer as ArrayBuffer] }),
  );
}

describe('predictions packed for the writer thread', () => {
  it('unpack as they were recorded, and serialize to the same line and row', () => {
    const records = [
      record(1),
      record(2, {
        arm: 'shadow',
        outputs: null,
        error: 'the model failed: "NaN" in \\ output\n',
        routingKeyHash: 'ab'.repeat(32),
      }),
      record(3, {
        arm: 'candidate',
        requestId: 'é ☃ 𝄞 tab\there',
        inputs: [
          { data: [true, false], datatype: 'BOOL', name: 'flags', shape: [2] },
          { data: ['a', 'b"c'], datatype: 'BYTES', name: 'text', shape: [2] },
          { data: [], datatype: 'FP64', name: 'empty', shape: [0, 3] },
        ],
      }),
    ];
    const back = roundTrip(records);
    expect(back).toEqual(records);
    back.forEach((r, i) => {
      expect(serializePrediction(r)).toEqual(serializePrediction(records[i] as PredictionRecord));
    });
  });

  it('keeps booleans as booleans and numbers bit for bit', () => {
    const [back] = roundTrip([
      record(1, {
        inputs: [
          { data: [true, false, true], datatype: 'BOOL', name: 'b', shape: [3] },
          {
            data: [Number.MIN_VALUE, -1.5e300, 0.30000000000000004],
            datatype: 'FP64',
            name: 'x',
            shape: [3],
          },
        ],
      }),
    ]);
    expect(back?.inputs[0]?.data).toEqual([true, false, true]);
    expect(back?.inputs[1]?.data).toEqual([Number.MIN_VALUE, -1.5e300, 0.30000000000000004]);
  });

  it('carries any text: long, non-ASCII, lone surrogates as they were', () => {
    const long = 'é'.repeat(20_000) + '\ud800' + '𝄞';
    const [back] = roundTrip([record(1, { error: long, outputs: null, requestId: '\udc00x' })]);
    expect(back?.error).toBe(long);
    expect(back?.requestId).toBe('\udc00x');
  });

  it('grows past its buffer and is empty again after each hand-over', () => {
    const packer = new RecordPacker();
    const wide = record(0, {
      inputs: [
        {
          data: Array.from({ length: 10_000 }, (_, i) => i / 7),
          datatype: 'FP64',
          name: 'x',
          shape: [1, 10_000],
        },
      ],
    });
    for (let i = 0; i < 10; i++) packer.add({ ...wide, requestId: `w-${i}` });
    const first = unpackRecords(packer.take());
    expect(first.map((r) => r.requestId)).toEqual(Array.from({ length: 10 }, (_, i) => `w-${i}`));
    expect(first[9]?.inputs[0]?.data).toEqual(wide.inputs[0]?.data);
    packer.add(record(11));
    expect(unpackRecords(packer.take())).toEqual([record(11)]);
  });

  it('packs on into another buffer after a hand-over, and reuses a buffer given back', () => {
    const packer = new RecordPacker();
    packer.add(record(1));
    const first = packer.take();
    packer.add(record(2));
    const second = packer.take();
    expect(second.numbers.buffer).not.toBe(first.numbers.buffer);
    expect(unpackRecords(first)).toEqual([record(1)]);
    packer.give(first.numbers);
    // The next hand-over's buffer is the one given back.
    packer.add(record(3));
    const third = packer.take();
    packer.add(record(4));
    const fourth = packer.take();
    expect(fourth.numbers.buffer).toBe(first.numbers.buffer);
    expect(unpackRecords(third)).toEqual([record(3)]);
    expect(unpackRecords(fourth)).toEqual([record(4)]);
    expect(unpackRecords(second)).toEqual([record(2)]);
  });

  it('leaves nothing behind of a record it cannot pack', () => {
    const packer = new RecordPacker();
    packer.add(record(1));
    expect(() => {
      packer.add(record(2, { arm: 'sideways' as PredictionRecord['arm'] }));
    }).toThrow(/unknown arm/);
    packer.add(record(3));
    expect(unpackRecords(packer.take())).toEqual([record(1), record(3)]);
  });

  it('refuses a message that does not hold what it says', () => {
    const packer = new RecordPacker();
    packer.add(record(1));
    packer.add(record(2));
    const packed = packer.take();
    expect(() => unpackRecords({ ...packed, count: 3 })).toThrow(/end early/);
    expect(() => unpackRecords({ count: 2, numbers: packed.numbers.subarray(0, 40) })).toThrow(
      /end early/,
    );
    expect(() => unpackRecords({ ...packed, count: 1 })).toThrow(/more than their count/);
  });
});
