/**
 * Which bundle a device gets while a rollout is in flight: the HTTP path's own arithmetic
 * (traffic-split.ts) with the device id as the routing key. A device is a user that stays on
 * one version for a stage, and raising a canary step only moves devices to the candidate.
 */
import { ForbiddenError } from '../auth/auth.errors.js';
import { BadInputError } from '../common/errors.js';
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

/**
 * The device a bundle is asked for. A device's token speaks for itself only: its `sub` is its
 * id, and naming another device is refused. Anyone else (an operator, a fleet manager acting
 * for devices) names the device with the `device` parameter, or none for the live bundle.
 */
export function requestingDevice(
  principal: { readonly sub: string; readonly roles: readonly string[] },
  asked: string | undefined,
): string | null {
  if (asked !== undefined && !DEVICE_ID.test(asked))
    throw new BadInputError('device', `must be a device id (${DEVICE_ID.source})`);
  if (!principal.roles.includes(DEVICE_ROLE)) return asked ?? null;
  if (!DEVICE_ID.test(principal.sub))
    throw new BadInputError(
      'sub',
      `a device token's sub must be a device id (${DEVICE_ID.source})`,
    );
  if (asked !== undefined && asked !== principal.sub)
    throw new ForbiddenError('read', 'EdgeBundle', {
      reason: `device ${principal.sub} may fetch its own bundle only, not device ${asked}'s`,
    });
  return principal.sub;
}

/** The role of an edge device's token. */
export const DEVICE_ROLE = 'device';
