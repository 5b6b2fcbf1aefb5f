import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { canonicalize } from '../ledger/canonical-json.js';
import type { PredictionRecord } from './prediction.js';
import { BatchAssembler, loggedInputsOf, type QueuedPrediction } from './batch-assembler.js';
import {
  batchDigest,
  canonicalLine,
  roundLatency,
  serializePrediction,
  wellFormed,
  type LoggedRow,
} from './prediction-digest.js';

const row = (n: number, extra: Partial<LoggedRow> = {}): LoggedRow => ({
  request_id: `req-${n}`,
  endpoint: 'credit',
  model_version: 2,
  arm: 'live',
  inputs: [{ data: [0.1, 1e-7], datatype: 'FP32', name: 'features', shape: [1, 2] }],
  outputs: [{ data: [0.5], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  error: null,
  latency_ms: 0.123,
  routing_key_hash: null,
  created_at: '2025-01-02T03:04:05.678Z',
  ...extra,
});

const record = (r: LoggedRow): PredictionRecord => ({
  requestId: r.request_id,
  endpoint: r.endpoint,
  modelVersion: r.model_version,
  arm: r.arm as PredictionRecord['arm'],
  inputs: r.inputs as PredictionRecord['inputs'],
  outputs: r.outputs as PredictionRecord['outputs'],
  error: r.error,
  latencyMs: r.latency_ms,
  routingKeyHash: r.routing_key_hash,
  createdAt: new Date(r.created_at),
});

describe('the prediction batch digest', () => {
  it('serializes a row as RFC 8785 JSON over its column names', () => {
    expect(canonicalLine(row(7))).toBe(
      '{"arm":"live","created_at":"2025-01-02T03:04:05.678Z","endpoint":"credit","error":null,' +
        '"inputs":[{"data":[0.1,1e-7],"datatype":"FP32","name":"features","shape":[1,2]}],' +
        '"latency_ms":0.123,"model_version":2,' +
        '"outputs":[{"data":[0.5],"datatype":"FP32","name":"score","shape":[1,1]}],' +
        '"request_id":"req-7","routing_key_hash":null}',
    );
  });

  it('is what RFC 8785 canonicalization gives, also for errors and odd numbers', () => {
    for (const r of [
      row(1),
      row(2, { error: 'failed: "quoted" \\ and \u00e9\n', outputs: null }),
      row(3, {
        inputs: [
          {
            data: [1e21, -1.5e-9, 0, 123456789.125, true],
            datatype: 'FP64',
            name: 'x',
            shape: [1, 5],
          },
        ],
        routing_key_hash: 'ab'.repeat(32),
        arm: 'shadow',
      }),
    ])
      expect(canonicalLine(r)).toBe(canonicalize(r));
  });

  it('is the SHA-256 of each line followed by a newline, in order', () => {
    const rows = [row(3), row(4, { error: 'boom', outputs: null }), row(9)];
    const expected = createHash('sha256')
      .update(rows.map((r) => `${canonicalLine(r)}\n`).join(''))
      .digest('hex');
    expect(batchDigest(rows)).toBe(expected);
  });

  it('changes when any value changes', () => {
    const base = batchDigest([row(1), row(2)]);
    expect(batchDigest([row(1), row(2, { latency_ms: 0.124 })])).not.toBe(base);
    expect(batchDigest([row(1), row(2, { arm: 'shadow' })])).not.toBe(base);
    expect(batchDigest([row(2), row(1)])).not.toBe(base);
  });

  it('is what a batch assembler seals, with one COPY row per prediction', () => {
    const rows = [row(1), row(2, { error: 'tab\there', outputs: null })];
    const queued = (r: LoggedRow): QueuedPrediction => {
      const { inputs, outputs, ...rest } = record(r);
      // As a client sends it: nested rows, one of them a number JSON writes differently.
      const body = JSON.stringify({
        id: 'x',
        inputs: [{ ...inputs[0], data: [[0.1, 0.0000001]] }],
      });
      return {
        ...rest,
        body: Buffer.from(body),
        outputs: outputs === null ? null : JSON.stringify(outputs),
      };
    };
    const assembler = new BatchAssembler(2);
    const first = assembler.add([queued(rows[0] as LoggedRow)]);
    expect(first).toEqual({ sealed: [], failed: [] });
    const { sealed } = assembler.add([queued(rows[1] as LoggedRow)]);
    expect(sealed).toHaveLength(1);
    const batch = sealed[0];
    expect(batch?.sha256).toBe(batchDigest(rows));
    expect(batch?.count).toBe(2);
    const text = Buffer.from(batch?.bytes ?? []).toString('utf8');
    expect(text).toBe(rows.map((r) => serializePrediction(record(r)).copyRow).join(''));
    expect(text.slice(batch?.ends[0])).toBe(
      'req-2\tcredit\t2\tlive\t' +
        '[{"data":[0.1,1e-7],"datatype":"FP32","name":"features","shape":[1,2]}]\t' +
        '\\N\ttab\\there\t0.123\t\\N\t2025-01-02T03:04:05.678Z\n',
    );
    expect(assembler.closeAll()).toEqual([]);
  });

  it('seals open batches on request, and reports a prediction it cannot read', () => {
    const assembler = new BatchAssembler(100);
    const r1 = record(row(1));
    const rest = { ...r1, inputs: undefined, outputs: JSON.stringify(r1.outputs) };
    const { failed } = assembler.add([
      { ...rest, body: Buffer.from('{"inputs": [') },
      { ...rest, body: null },
    ]);
    expect(failed).toHaveLength(1);
    const [batch] = assembler.closeAll();
    expect(batch?.count).toBe(1);
    expect(batch?.sha256).toBe(batchDigest([row(1, { inputs: [] })]));
  });

  it('reads the logged inputs back from the body, flat and in order', () => {
    const body = Buffer.from(
      JSON.stringify({
        parameters: { routing_key: 'k' },
        inputs: [
          { name: 'b', datatype: 'BOOL', shape: [2], data: [true, false] },
          {
            name: 'a',
            datatype: 'INT64',
            shape: [2, 2],
            data: [
              [1, 2],
              [3, 4],
            ],
          },
        ],
      }),
    );
    expect(loggedInputsOf(body)).toEqual([
      { data: [true, false], datatype: 'BOOL', name: 'b', shape: [2] },
      { data: [1, 2, 3, 4], datatype: 'INT64', name: 'a', shape: [2, 2] },
    ]);
    expect(loggedInputsOf(null)).toEqual([]);
  });

  it('makes text well-formed for PostgreSQL', () => {
    expect(wellFormed('a\ud800b\u0000c')).toBe('a\ufffdbc');
  });

  it('rounds latencies to the microsecond', () => {
    expect(roundLatency(1.23456789)).toBe(1.235);
    expect(roundLatency(0.0004)).toBe(0);
  });
});
