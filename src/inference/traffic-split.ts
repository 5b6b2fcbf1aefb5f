import { createHash } from 'node:crypto';
import type { TrafficMode } from '../endpoints/endpoint.entity.js';

/**
 * Which version answers a request. Pure arithmetic, no framework: the router calls it, and an
 * auditor can recompute any logged decision from the routing-key hash in the prediction log.
 */

/** Who produced a prediction: the live version, the candidate answering, or a shadow copy. */
export type Arm = 'live' | 'candidate' | 'shadow';

/** Traffic shares are basis points: 10000 is all of it. */
export const BASIS_POINTS = 10_000;

export interface TrafficSplit {
  readonly mode: TrafficMode;
  /** Basis points of requests the candidate answers (CANARY, BLUE_GREEN, AB_TEST). */
  readonly candidateWeight: number;
  /** Basis points of live requests mirrored to the candidate (SHADOW). */
  readonly shadowSample: number;
  readonly hasCandidate: boolean;
}

/** Lowercase hex SHA-256 of a routing key: what the prediction log keeps instead of the key. */
export function routingKeyHash(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * The bucket (0..9999) of a routing-key hash: its first 32 bits scaled to basis points. The
 * same key always lands in the same bucket, so a user stays on one version for a stage, and
 * raising the weight only moves users from live to candidate, never back.
 */
export function bucketOfHash(hashHex: string): number {
  if (!/^[0-9a-f]{8}/.test(hashHex)) throw new Error('a routing-key hash is lowercase hex');
  const top = Number.parseInt(hashHex.slice(0, 8), 16);
  return Math.floor((top * BASIS_POINTS) / 2 ** 32);
}

/** A uniformly drawn bucket, for requests without a routing key. */
export function randomBucket(random: () => number = Math.random): number {
  return Math.min(BASIS_POINTS - 1, Math.floor(random() * BASIS_POINTS));
}

/**
 * The version that answers: the candidate for buckets below its weight when the mode splits
 * traffic, else live. SHADOW never lets the candidate answer.
 */
export function answeringArm(split: TrafficSplit, bucket: number): 'live' | 'candidate' {
  if (!split.hasCandidate) return 'live';
  switch (split.mode) {
    case 'NONE':
    case 'SHADOW':
      return 'live';
    case 'CANARY':
    case 'BLUE_GREEN':
    case 'AB_TEST':
      return bucket < split.candidateWeight ? 'candidate' : 'live';
  }
}

/** SHADOW: whether this request is also mirrored to the candidate. */
export function isMirrored(split: TrafficSplit, bucket: number): boolean {
  return split.mode === 'SHADOW' && split.hasCandidate && bucket < split.shadowSample;
}
