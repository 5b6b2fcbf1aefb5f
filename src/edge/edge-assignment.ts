/**
 * Which bundle a device gets while a rollout is in flight: the HTTP path's own arithmetic
 * (traffic-split.ts) with the device id as the routing key. A device is a user that stays on
 * one version for a stage, and raising a canary step only moves devices to the candidate.
 */
import {
  answeringArm,
  bucketOfHash,
  isMirrored,
  routingKeyHash,
  type TrafficSplit,
} from '../inference/traffic-split.js';
import type { EdgeAssignmentMode } from './edge-bundle-format.js';

/** A device id: what a device token's `sub` or the `device` query parameter names. */
export const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** The device's bucket (0..9999), as a request with the device id as routing key would have. */
export function deviceBucket(deviceId: string): number {
  return bucketOfHash(routingKeyHash(deviceId));
}

/**
 * `canary` where a request in the device's bucket is answered by the candidate, `shadow`
 * where it is mirrored to it, `live` otherwise. Blue-green and A/B stages leave devices on
 * live: a device cannot be switched back within the moment a blue-green switch takes, and an
 * A/B test compares outcomes the service records, which a device does not report.
 */
export function assignmentMode(split: TrafficSplit, bucket: number): 'live' | EdgeAssignmentMode {
  if (split.mode === 'CANARY')
    return answeringArm(split, bucket) === 'candidate' ? 'canary' : 'live';
  return isMirrored(split, bucket) ? 'shadow' : 'live';
}
