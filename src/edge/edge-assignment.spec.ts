import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { bucketOfHash, routingKeyHash, type TrafficSplit } from '../inference/traffic-split.js';
import { assignmentMode, deviceBucket, DEVICE_ID, requestingDevice } from './edge-assignment.js';

const canary = (candidateWeight: number): TrafficSplit => ({
  mode: 'CANARY',
  candidateWeight,
  shadowSample: 0,
  hasCandidate: true,
});
const shadow = (shadowSample: number): TrafficSplit => ({
  mode: 'SHADOW',
  candidateWeight: 0,
  shadowSample,
  hasCandidate: true,
});
const deviceId = fc.stringMatching(DEVICE_ID);
const basisPoints = fc.integer({ min: 0, max: 10_000 });

describe('a device’s assignment', () => {
  it('puts a device in the bucket a request routed by its id lands in: the first 32 bits of SHA-256', () => {
    fc.assert(
      fc.property(deviceId, (id) => {
        const top = createHash('sha256').update(id, 'utf8').digest().readUInt32BE(0);
        expect(deviceBucket(id)).toBe(Math.floor((top * 10_000) / 2 ** 32));
        expect(deviceBucket(id)).toBe(bucketOfHash(routingKeyHash(id)));
      }),
    );
  });

  it('only moves devices to the candidate as the canary weight rises', () => {
    fc.assert(
      fc.property(deviceId, basisPoints, basisPoints, (id, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        const bucket = deviceBucket(id);
        if (assignmentMode(canary(low), bucket) === 'canary')
          expect(assignmentMode(canary(high), bucket)).toBe('canary');
      }),
    );
  });

  it('gives the candidate to the devices whose bucket is below the weight, none at 0 and all at 100 %', () => {
    fc.assert(
      fc.property(deviceId, basisPoints, (id, weight) => {
        const bucket = deviceBucket(id);
        expect(assignmentMode(canary(weight), bucket)).toBe(bucket < weight ? 'canary' : 'live');
        expect(assignmentMode(canary(0), bucket)).toBe('live');
        expect(assignmentMode(canary(10_000), bucket)).toBe('canary');
      }),
    );
  });

  it('shadows the devices the sample covers and never lets a shadow candidate answer', () => {
    fc.assert(
      fc.property(deviceId, basisPoints, (id, sample) => {
        const bucket = deviceBucket(id);
        expect(assignmentMode(shadow(sample), bucket)).toBe(bucket < sample ? 'shadow' : 'live');
      }),
    );
  });

  it('leaves devices on live without a candidate, and in blue-green and A/B stages', () => {
    fc.assert(
      fc.property(deviceId, basisPoints, (id, weight) => {
        const bucket = deviceBucket(id);
        expect(assignmentMode({ ...canary(weight), hasCandidate: false }, bucket)).toBe('live');
        expect(assignmentMode({ ...canary(weight), mode: 'BLUE_GREEN' }, bucket)).toBe('live');
        expect(assignmentMode({ ...canary(weight), mode: 'AB_TEST' }, bucket)).toBe('live');
        expect(assignmentMode({ ...shadow(weight), mode: 'NONE' }, bucket)).toBe('live');
      }),
    );
  });

  it('splits a fleet near the weight: about a quarter of 4000 devices at 25 %', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `device-${i}`);
    const share = ids.filter((id) => assignmentMode(canary(2500), deviceBucket(id)) === 'canary');
    expect(share.length / ids.length).toBeGreaterThan(0.22);
    expect(share.length / ids.length).toBeLessThan(0.28);
  });
});

describe('the device a bundle is asked for', () => {
  const device = { sub: 'sensor-7', roles: ['device'] };
  const operator = { sub: 'erin', roles: ['ml-engineer'] };

  it('is a device token’s own id, named or not, and never another device’s', () => {
    expect(requestingDevice(device, undefined)).toBe('sensor-7');
    expect(requestingDevice(device, 'sensor-7')).toBe('sensor-7');
    expect(() => requestingDevice(device, 'sensor-8')).toThrow(
      /device sensor-7 may fetch its own bundle only|not allowed to read EdgeBundle/,
    );
    expect(() => requestingDevice({ sub: 'a/b', roles: ['device'] }, undefined)).toThrow(/sub/);
  });

  it('is the device an operator names, or none', () => {
    expect(requestingDevice(operator, 'sensor-8')).toBe('sensor-8');
    expect(requestingDevice(operator, undefined)).toBe(null);
    expect(() => requestingDevice(operator, '../etc')).toThrow(/device: must be a device id/);
  });
});
