import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This process among the service's replicas: host, pid and a random suffix, so a restarted
 * process (same host, maybe the same pid in a container) is never taken for its predecessor.
 * It names the holder of a rollout lease and the replica that measured a metrics window.
 */
export const REPLICA_ID = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
