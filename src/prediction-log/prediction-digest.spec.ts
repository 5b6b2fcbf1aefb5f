import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { canonicalize } from '../ledger/canonical-json.js';
import { copyField } from './copy-rows.js';
import type { PredictionRecord } from './prediction.js';
import { RowBuffers } from './row-buffers.js';
import {
  batchDigest,
  BatchBuilder,
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

  it('writes every field of its own row, however endpoints, times and arms alternate', () => {
    const note = [{ data: ['a"b\\c\td\ne'], datatype: 'BYTES', name: 'note', shape: [1] }];
    const rows = [
      row(1, { inputs: note }),
      row(2, { endpoint: 'fraud', arm: 'candidate' }),
      row(3, { created_at: '2025-01-02T03:04:05.679Z', arm: 'shadow' }),
      row(4, { endpoint: 'fraud', inputs: note }),
      row(5),
    ];
    for (const r of rows) {
      const { line, copyRow } = serializePrediction(record(r));
      expect(line).toBe(canonicalize(r));
      expect(copyRow.slice(0, -1).split('\t')).toEqual([
        r.request_id,
        r.endpoint,
        String(r.model_version),
        r.arm,
        copyField(JSON.stringify(r.inputs)),
        copyField(JSON.stringify(r.outputs)),
        '\\N',
        String(r.latency_ms),
        '\\N',
        r.created_at,
      ]);
    }
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

  it('is what a batch builder seals, with one COPY row per prediction', () => {
    const rows = [row(1), row(2, { error: 'tab\there', outputs: null })];
    const builder = new BatchBuilder('credit');
    for (const r of rows) builder.add(record(r));
    const sealed = builder.seal();
    expect(sealed.sha256).toBe(batchDigest(rows));
    expect(sealed.count).toBe(2);
    const copied = Buffer.concat(sealed.chunks).toString('utf8');
    expect(copied).toBe(rows.map((r) => serializePrediction(record(r)).copyRow).join(''));
    expect(copied.split('\n')[1]).toBe(
      'req-2\tcredit\t2\tlive\t' +
        '[{"data":[0.1,1e-7],"datatype":"FP32","name":"features","shape":[1,2]}]\t' +
        '\\N\ttab\\there\t0.123\t\\N\t2025-01-02T03:04:05.678Z',
    );
    expect(() => {
      builder.add(record(row(3, { endpoint: 'other' })));
    }).toThrow(/another endpoint/);
  });

  it('gathers rows into buffers of whole rows, however long or multi-byte a row is', () => {
    const rows = [
      ...Array.from({ length: 300 }, (_, i) => row(i + 1, { error: `é€😀 ${'x'.repeat(900)}` })),
      row(301, { error: 'y'.repeat(200_000) }),
      row(302),
    ];
    const builder = new BatchBuilder('credit');
    for (const r of rows) builder.add(record(r));
    const sealed = builder.seal();
    expect(sealed.count).toBe(rows.length);
    expect(sealed.chunks.length).toBeGreaterThan(3);
    for (const chunk of sealed.chunks) expect(chunk.at(-1)).toBe(0x0a);
    expect(Buffer.concat(sealed.chunks).toString('utf8')).toBe(
      rows.map((r) => serializePrediction(record(r)).copyRow).join(''),
    );
    expect(sealed.sha256).toBe(batchDigest(rows));
  });

  it('writes the rows of the next batch into the buffers of the last, nothing of it left', () => {
    const buffers = new RowBuffers(8);
    const first = new BatchBuilder('credit', buffers);
    for (let i = 1; i <= 400; i++) first.add(record(row(i, { error: 'z'.repeat(800) })));
    const written = first.seal();
    buffers.give(written.chunks);
    expect(buffers.idle).toBe(written.chunks.length);
    const rows = [row(1), row(2)];
    const next = new BatchBuilder('credit', buffers);
    for (const r of rows) next.add(record(r));
    const sealed = next.seal();
    expect(sealed.chunks[0]?.buffer).toBe(written.chunks.at(-1)?.buffer);
    expect(Buffer.concat(sealed.chunks).toString('utf8')).toBe(
      rows.map((r) => serializePrediction(record(r)).copyRow).join(''),
    );
  });

  it('makes text well-formed for PostgreSQL', () => {
    expect(wellFormed('a\ud800b\u0000c')).toBe('a\ufffdbc');
  });

  it('rounds latencies to the microsecond', () => {
    expect(roundLatency(1.23456789)).toBe(1.235);
    expect(roundLatency(0.0004)).toBe(0);
  });
});
