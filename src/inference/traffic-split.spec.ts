import { describe, expect, it } from '@jest/globals';
import {
  answeringArm,
  BASIS_POINTS,
  bucketOfHash,
  isMirrored,
  randomBucket,
  routingKeyHash,
  type TrafficSplit,
} from './traffic-split.js';

const canary = (candidateWeight: number): TrafficSplit => ({
  mode: 'CANARY',
  candidateWeight,
  shadowSample: 0,
  hasCandidate: true,
});

describe('routing-key buckets', () => {
  it('hashes the key with SHA-256 (hex) and scales its first 32 bits to basis points', () => {
    // SHA-256("abc") = ba7816bf…; 0xba7816bf / 2^32 × 10000 = 7283.4…
    expect(routingKeyHash('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(bucketOfHash(routingKeyHash('abc'))).toBe(7283);
    expect(bucketOfHash('00000000')).toBe(0);
    expect(bucketOfHash('ffffffff')).toBe(BASIS_POINTS - 1);
  });

  it('spreads keys evenly: about 50% of 20000 keys fall below 5000', () => {
    let below = 0;
    for (let i = 0; i < 20_000; i++)
      if (bucketOfHash(routingKeyHash(`customer-${i}`)) < 5000) below++;
    expect(below / 20_000).toBeGreaterThan(0.48);
    expect(below / 20_000).toBeLessThan(0.52);
  });

  it('refuses a hash that is not hex', () => {
    expect(() => bucketOfHash('not a hash')).toThrow(/hex/);
  });

  it('draws random buckets within 0..9999', () => {
    expect(randomBucket(() => 0)).toBe(0);
    expect(randomBucket(() => 0.99999999)).toBe(9999);
    expect(randomBucket(() => 0.5)).toBe(5000);
  });
});

describe('answeringArm', () => {
  it('sends buckets below the candidate weight to the candidate in split modes', () => {
    for (const mode of ['CANARY', 'BLUE_GREEN', 'AB_TEST'] as const) {
      const split = { ...canary(2500), mode };
      expect(answeringArm(split, 0)).toBe('candidate');
      expect(answeringArm(split, 2499)).toBe('candidate');
      expect(answeringArm(split, 2500)).toBe('live');
      expect(answeringArm(split, 9999)).toBe('live');
    }
  });

  it('never lets the candidate answer in NONE or SHADOW, nor without a candidate', () => {
    expect(answeringArm({ ...canary(10_000), mode: 'NONE' }, 0)).toBe('live');
    expect(answeringArm({ ...canary(10_000), mode: 'SHADOW' }, 0)).toBe('live');
    expect(answeringArm({ ...canary(10_000), hasCandidate: false }, 0)).toBe('live');
  });

  it('only moves users from live to candidate as the weight grows', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => bucketOfHash(routingKeyHash(`u${i}`)));
    const at5 = keys.map((b) => answeringArm(canary(500), b));
    const at50 = keys.map((b) => answeringArm(canary(5000), b));
    at5.forEach((arm, i) => {
      if (arm === 'candidate') expect(at50[i]).toBe('candidate');
    });
  });
});

describe('isMirrored', () => {
  const shadow: TrafficSplit = {
    mode: 'SHADOW',
    candidateWeight: 0,
    shadowSample: 1000,
    hasCandidate: true,
  };
  it('mirrors buckets below the shadow sample in SHADOW mode only', () => {
    expect(isMirrored(shadow, 999)).toBe(true);
    expect(isMirrored(shadow, 1000)).toBe(false);
    expect(isMirrored({ ...shadow, mode: 'CANARY' }, 0)).toBe(false);
    expect(isMirrored({ ...shadow, hasCandidate: false }, 0)).toBe(false);
  });
});
