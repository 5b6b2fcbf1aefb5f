import { describe, expect, it } from '@jest/globals';
import type { MetricsHeartbeat } from '../arm-metrics/arm-metrics.repository.js';
import { stalledHeartbeat, stallLimits, stallReason } from './metrics-stall.js';

const NOW = new Date('2026-12-08T12:00:00.000Z');
const ago = (ms: number): Date => new Date(NOW.getTime() - ms);
const beat = (b: Partial<MetricsHeartbeat>): MetricsHeartbeat => ({
  replica: 'host:1:aa',
  endpoint: 'credit',
  seenAt: ago(100),
  writtenAt: ago(60_000),
  unwrittenSince: ago(10_000),
  cause: 'unsupported Unicode escape sequence (SQLSTATE 22P05)',
  ...b,
});
const LIMITS = stallLimits(1000, 5, 1000);

describe('metrics stall', () => {
  it('derives its limits from the ticks, and never judges "serving" within less than two flushes', () => {
    expect(stallLimits(1000, 30, 1000)).toEqual({
      staleMs: 30_000,
      servingMs: 30_000,
      arrivalMs: 2000,
    });
    expect(stallLimits(100, 2, 1000)).toEqual({ staleMs: 200, servingMs: 2000, arrivalMs: 2000 });
  });

  it('is stalled when a serving replica has held unwritten counts for the ticks', () => {
    expect(stalledHeartbeat([beat({})], NOW, LIMITS)?.replica).toBe('host:1:aa');
    expect(stalledHeartbeat([beat({ unwrittenSince: ago(5000) })], NOW, LIMITS)).not.toBeNull();
  });

  it('is not stalled before the ticks have passed, nor when everything was written', () => {
    expect(stalledHeartbeat([beat({ unwrittenSince: ago(4999) })], NOW, LIMITS)).toBeNull();
    expect(stalledHeartbeat([beat({ unwrittenSince: null })], NOW, LIMITS)).toBeNull();
    expect(stalledHeartbeat([], NOW, LIMITS)).toBeNull();
  });

  it('is not stalled by a replica that stopped counting requests (idle or gone)', () => {
    expect(stalledHeartbeat([beat({ seenAt: ago(5001) })], NOW, LIMITS)).toBeNull();
    expect(stalledHeartbeat([beat({ seenAt: null })], NOW, LIMITS)).toBeNull();
  });

  it('names the replica stalled longest', () => {
    const beats = [
      beat({ replica: 'b', unwrittenSince: ago(6000) }),
      beat({ replica: 'a', unwrittenSince: ago(9000) }),
      beat({ replica: 'c', unwrittenSince: ago(1000) }),
    ];
    expect(stalledHeartbeat(beats, NOW, LIMITS)?.replica).toBe('a');
  });

  it('says which replica, which endpoint, since when and why', () => {
    expect(stallReason(beat({}))).toBe(
      'arm metrics of replica host:1:aa for endpoint credit have not been written since ' +
        '2026-12-08T11:59:50.000Z, while the replica serves the endpoint (requests counted at ' +
        '2026-12-08T11:59:59.900Z): unsupported Unicode escape sequence (SQLSTATE 22P05)',
    );
    expect(stallReason(beat({ cause: null }))).not.toContain('):');
  });
});
