import { describe, expect, it } from '@jest/globals';
import type { QueuedPrediction } from './batch-assembler.js';
import { packPredictions, unpackPredictions } from './serializer-thread.js';

describe('the serializer thread’s messages', () => {
  it('carry predictions unchanged, every body in one buffer', () => {
    const socketRead = Buffer.from('xx{"inputs":[]}yy{"inputs":[1]}zz');
    const items: QueuedPrediction[] = [
      {
        requestId: 'r1',
        endpoint: 'credit',
        modelVersion: 3,
        arm: 'candidate',
        body: socketRead.subarray(2, 15),
        outputs: '[{"data":[0.5],"datatype":"FP32","name":"score","shape":[1,1]}]',
        error: null,
        latencyMs: 0.125,
        routingKeyHash: 'ab',
        createdAt: new Date('2026-11-29T10:00:00.123Z'),
      },
      {
        requestId: 'r2',
        endpoint: 'credit',
        modelVersion: 3,
        arm: 'shadow',
        body: null,
        outputs: null,
        error: 'no fit',
        latencyMs: 0,
        routingKeyHash: null,
        createdAt: new Date('2026-11-29T10:00:01Z'),
      },
    ];
    const packed = packPredictions(items);
    expect(packed.bodies.buffer.byteLength).toBe(13);
    expect(unpackPredictions(structuredClone(packed))).toEqual(
      items.map((i) => ({ ...i, body: i.body === null ? null : new Uint8Array(i.body) })),
    );
  });
});
