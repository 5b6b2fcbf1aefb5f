import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  CHAIN_START,
  parseRecords,
  readRecord,
  recordHash,
  sealRecord,
  verifyChain,
  type DeviceLogRecord,
  unhashed,
  type UnhashedRecord,
} from './device-log.js';

const HEX = '0123456789abcdef';
const hex64 = fc.string({ unit: fc.constantFrom(...HEX.split('')), minLength: 64, maxLength: 64 });

/** A prediction as a device would log it, without its place in the chain. */
const prediction = fc.record({
  arm: fc.constantFrom('live' as const, 'shadow' as const),
  bundleSha256: hex64,
  endpoint: fc.constantFrom('credit', 'fraud-check'),
  requestId: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes('\u0000')),
  model: fc.constantFrom('credit-risk'),
  modelVersion: fc.integer({ min: 1, max: 50 }),
  latencyMs: fc.double({ min: 0, max: 1000, noNaN: true }),
  routingKeyHash: fc.option(hex64, { nil: null }),
  ts: fc
    .date({
      min: new Date('2026-01-01T00:00:00Z'),
      max: new Date('2027-01-01T00:00:00Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString()),
  score: fc.float({ min: 0, max: 1, noNaN: true }).map((x) => x + 0),
  feature: fc.array(
    fc.float({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0),
    {
      minLength: 1,
      maxLength: 4,
    },
  ),
});

type Prediction = typeof prediction extends fc.Arbitrary<infer T> ? T : never;

/** Chains records from seq 1, as the device log does. */
function chain(predictions: readonly Prediction[], deviceId = 'kiosk-7'): DeviceLogRecord[] {
  let head = CHAIN_START;
  return predictions.map((p) => {
    const unhashed: UnhashedRecord = {
      v: 1,
      deviceId,
      endpoint: p.endpoint,
      seq: head.seq + 1,
      ts: p.ts,
      requestId: p.requestId,
      model: p.model,
      modelVersion: p.modelVersion,
      arm: p.arm,
      bundleSha256: p.bundleSha256,
      inputs: [
        { data: p.feature, datatype: 'FP32', name: 'features', shape: [1, p.feature.length] },
      ],
      outputs: [{ data: [p.score], datatype: 'FP32', name: 'score', shape: [1, 1] }],
      error: null,
      latencyMs: p.latencyMs,
      routingKeyHash: p.routingKeyHash,
      prev: head.hash,
    };
    const { record } = sealRecord(unhashed);
    head = { seq: record.seq, hash: record.hash };
    return record;
  });
}

const chains = fc.array(prediction, { minLength: 2, maxLength: 12 }).map((p) => chain(p));

describe('the device log chain', () => {
  it('hashes 0x00 ‖ the JCS of the record without its hash', () => {
    const [record] = chain([
      {
        arm: 'live',
        bundleSha256: 'b'.repeat(64),
        endpoint: 'credit',
        requestId: 'req-1',
        model: 'credit-risk',
        modelVersion: 3,
        latencyMs: 0.25,
        routingKeyHash: null,
        ts: '2026-12-08T03:00:00.000Z',
        score: 0.5,
        feature: [1, 2],
      },
    ]);
    const jcs =
      '{"arm":"live","bundleSha256":"' +
      'b'.repeat(64) +
      '","deviceId":"kiosk-7","endpoint":"credit","error":null,' +
      '"inputs":[{"data":[1,2],"datatype":"FP32","name":"features","shape":[1,2]}],' +
      '"latencyMs":0.25,"model":"credit-risk","modelVersion":3,' +
      '"outputs":[{"data":[0.5],"datatype":"FP32","name":"score","shape":[1,1]}],' +
      `"prev":"${'0'.repeat(64)}","requestId":"req-1","routingKeyHash":null,"seq":1,` +
      '"ts":"2026-12-08T03:00:00.000Z","v":1}';
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from([0]), Buffer.from(jcs, 'utf8')]))
      .digest('hex');
    expect(record?.hash).toBe(expected);
  });

  it('holds for every chain a device writes, and its lines read back as the same records', () => {
    fc.assert(
      fc.property(chains, (records) => {
        expect(verifyChain(records, CHAIN_START)).toEqual({
          ok: true,
          head: { seq: records.length, hash: records[records.length - 1]?.hash },
        });
        const text = records.map((r) => sealRecord(withoutHash(r)).line).join('');
        expect(parseRecords(text)).toEqual(records);
      }),
    );
  });

  it('continues from any accepted point: the rest of a chain verifies from the head before it', () => {
    fc.assert(
      fc.property(chains, fc.nat(), (records, k) => {
        const cut = k % records.length;
        const before = records[cut - 1];
        const from = before ? { seq: before.seq, hash: before.hash } : CHAIN_START;
        expect(verifyChain(records.slice(cut), from).ok).toBe(true);
      }),
    );
  });

  it('fails at the first changed record, whatever member is changed', () => {
    const members = [
      'requestId',
      'latencyMs',
      'modelVersion',
      'ts',
      'arm',
      'deviceId',
      'outputs',
    ] as const;
    fc.assert(
      fc.property(chains, fc.nat(), fc.constantFrom(...members), (records, k, member) => {
        const i = k % records.length;
        const target = records[i] as DeviceLogRecord;
        const changed = { ...target, [member]: mutate(target[member]) } as DeviceLogRecord;
        const tampered = records.map((r, j) => (j === i ? changed : r));
        const verdict = verifyChain(tampered, CHAIN_START);
        expect(verdict).toMatchObject({ ok: false, seq: target.seq, fault: 'hash' });
      }),
    );
  });

  it('fails where a record is dropped, duplicated or moved, and where a re-hashed record breaks the links', () => {
    fc.assert(
      fc.property(chains, fc.nat(), (records, k) => {
        const i = 1 + (k % (records.length - 1));
        const dropped = [...records.slice(0, i), ...records.slice(i + 1)];
        if (i < records.length - 1)
          expect(verifyChain(dropped, CHAIN_START)).toMatchObject({
            ok: false,
            seq: i + 2,
            fault: 'gap',
          });
        const duplicated = [
          ...records.slice(0, i + 1),
          records[i] as DeviceLogRecord,
          ...records.slice(i + 1),
        ];
        expect(verifyChain(duplicated, CHAIN_START)).toMatchObject({ ok: false, fault: 'gap' });
        const swapped = [...records];
        [swapped[i - 1], swapped[i]] = [
          records[i] as DeviceLogRecord,
          records[i - 1] as DeviceLogRecord,
        ];
        expect(verifyChain(swapped, CHAIN_START).ok).toBe(false);
        // Re-hashed after a change: its own hash holds, the next record's link does not.
        const target = records[i] as DeviceLogRecord;
        const forged = sealRecord({
          ...withoutHash(target),
          requestId: `${target.requestId}!`,
        }).record;
        const relinked = records.map((r, j) => (j === i ? forged : r));
        const verdict = verifyChain(relinked, CHAIN_START);
        if (i < records.length - 1)
          expect(verdict).toMatchObject({ ok: false, seq: target.seq + 1, fault: 'link' });
        else expect(verdict.ok).toBe(true);
      }),
    );
  });

  it('refuses lines that are not records, naming the member and the reason', () => {
    const [record] = chain([
      {
        arm: 'live',
        bundleSha256: 'b'.repeat(64),
        endpoint: 'credit',
        requestId: 'req-1',
        model: 'credit-risk',
        modelVersion: 3,
        latencyMs: 0.25,
        routingKeyHash: null,
        ts: '2026-12-08T03:00:00.000Z',
        score: 0.5,
        feature: [1, 2],
      },
    ]);
    const line = JSON.stringify(record);
    const bad = (text: string) => () => parseRecords(text);
    expect(bad('{"__proto__": {}}')).toThrow(
      'line 1: __proto__: a member of this name is not accepted',
    );
    expect(bad(line.replace('"seq":1', '"seq":1.5'))).toThrow(
      'line 1: seq: must be a whole number from 1',
    );
    expect(bad(line.replace('"req-1"', '"req\\u0000"'))).toThrow(
      'seq 1: requestId: contains NUL (U+0000), which no text may hold here',
    );
    expect(bad(line.replace('"error":null', '"error":"boom"'))).toThrow(
      'seq 1: outputs: exactly one of outputs and error must be null',
    );
    expect(bad(line.replace('"shape":[1,2]', '"shape":[1,3]'))).toThrow(
      'seq 1: inputs[0].data: holds 2 values, its shape [1, 3] 3',
    );
    expect(bad(`${line}\n\n`)).toThrow('line 2: is not JSON');
    expect(() => readRecord([], 1)).toThrow('line 1: is not a JSON object');
    expect(recordHash(withoutHash(record as DeviceLogRecord))).toBe(record?.hash);
  });
});

const withoutHash = unhashed;

function mutate(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'string')
    return value === 'live' ? 'shadow' : value === 'shadow' ? 'live' : `${value}x`;
  return [{ data: [2], datatype: 'FP32', name: 'score', shape: [1, 1] }];
}
