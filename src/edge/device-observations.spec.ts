import { describe, expect, it } from '@jest/globals';
import type { DeviceLogRecord } from './device-log.js';
import { deviceObservations, type ScoredVersion } from './device-observations.js';

const LIVE: ScoredVersion = { version: 1, scoreOutput: 'score', scoreIndex: 0, threshold: 0.5 };
const CANDIDATE: ScoredVersion = {
  version: 2,
  scoreOutput: 'score',
  scoreIndex: 0,
  threshold: 0.6,
};

function record(
  requestId: string,
  arm: DeviceLogRecord['arm'],
  version: number,
  scores: number[] | null,
  error: string | null = null,
): DeviceLogRecord {
  return {
    v: 1,
    seq: 1,
    prev: '0'.repeat(64),
    hash: '1'.repeat(64),
    ts: '2026-12-08T00:00:00.000Z',
    deviceId: 'kiosk-1',
    endpoint: 'credit',
    bundleSha256: 'b'.repeat(64),
    requestId,
    arm,
    model: 'credit-risk',
    modelVersion: version,
    inputs: [],
    outputs:
      scores === null
        ? null
        : [{ name: 'score', datatype: 'FP32', shape: [scores.length, 1], data: scores }],
    error,
    latencyMs: 1.5,
    routingKeyHash: null,
  };
}

describe('deviceObservations', () => {
  it('counts each record under its version and arm, with its scores and failure', () => {
    const { observations } = deviceObservations(
      'credit',
      [record('a', 'live', 1, [0.2, 0.7]), record('a', 'shadow', 2, null, 'boom')],
      [LIVE, CANDIDATE],
    );
    expect(observations).toEqual([
      {
        endpoint: 'credit',
        version: 1,
        arm: 'live',
        latencyMs: 1.5,
        failed: false,
        scores: [0.2, 0.7],
        threshold: 0.5,
        attributes: null,
      },
      {
        endpoint: 'credit',
        version: 2,
        arm: 'shadow',
        latencyMs: 1.5,
        failed: true,
        scores: null,
        threshold: 0.6,
        attributes: null,
      },
    ]);
  });

  it('compares a shadow run with the live run of the same request, each at its threshold', () => {
    const { agreements } = deviceObservations(
      'credit',
      [
        record('a', 'live', 1, [0.2, 0.55, 0.9]),
        record('a', 'shadow', 2, [0.3, 0.55, 0.9]),
        record('b', 'live', 1, [0.1]),
        record('b', 'shadow', 2, [0.95]),
        // No live run of this request in the upload: not compared.
        record('c', 'shadow', 2, [0.95]),
      ],
      [LIVE, CANDIDATE],
    );
    // a: no/no, yes/no, yes/yes → 2 of 3; b: no/yes → 0 of 1.
    expect(agreements).toEqual([
      { key: { endpoint: 'credit', version: 2, arm: 'shadow' }, compared: 4, agreed: 2 },
    ]);
  });

  it('counts a version the endpoint no longer serves without scores', () => {
    const { observations, agreements } = deviceObservations(
      'credit',
      [record('a', 'live', 1, [0.2]), record('a', 'shadow', 7, [0.9])],
      [LIVE],
    );
    expect(observations.map((o) => [o.version, o.scores])).toEqual([
      [1, [0.2]],
      [7, null],
    ]);
    expect(agreements).toEqual([]);
  });
});
