import type { MetricsHeartbeat } from '../arm-metrics/arm-metrics.repository.js';

/**
 * Whether a rollout's stage is being judged on metrics that stopped arriving. Every replica's
 * flush says, per endpoint and apart from the counts themselves, whether it counted requests
 * and since when it holds counts it could not write (`arm_metrics_heartbeats`). A replica that
 * still counts requests of the endpoint, and whose counts have been unwritten for `staleMs`,
 * is serving traffic the controller cannot see: the stage must not be judged, and never pass,
 * on what is left. A replica that stopped counting (no traffic, or gone) is not stalled: what
 * it did not write is lost, but nothing more is.
 */
export interface StallLimits {
  /** How long counts may stay unwritten: the controller's ticks × its tick interval. */
  readonly staleMs: number;
  /** How recently a replica must have counted requests to be serving the endpoint. */
  readonly servingMs: number;
  /**
   * How long the counts a replica wrote stand for its traffic: until its next flush, with one
   * flush of slack for a late one (stage-clock.ts counts no time beyond it).
   */
  readonly arrivalMs: number;
}

/** The stall limits of a controller, from its configuration. */
export function stallLimits(tickMs: number, staleTicks: number, flushMs: number): StallLimits {
  const staleMs = tickMs * staleTicks;
  // A replica says it counted requests once per flush: two flushes without is not serving.
  return { staleMs, servingMs: Math.max(staleMs, 2 * flushMs), arrivalMs: 2 * flushMs };
}

/** The stalled heartbeat whose counts have been unwritten longest; null when none is. */
export function stalledHeartbeat(
  beats: readonly MetricsHeartbeat[],
  now: Date,
  limits: StallLimits,
): MetricsHeartbeat | null {
  let stalled: MetricsHeartbeat | null = null;
  for (const b of beats) {
    if (b.unwrittenSince === null || b.seenAt === null) continue;
    if (now.getTime() - b.unwrittenSince.getTime() < limits.staleMs) continue;
    if (now.getTime() - b.seenAt.getTime() > limits.servingMs) continue;
    if (!stalled || b.unwrittenSince < (stalled.unwrittenSince ?? b.unwrittenSince)) stalled = b;
  }
  return stalled;
}

/** The reason ledgered with the pause: which replica, which endpoint, since when, and why. */
export function stallReason(b: MetricsHeartbeat): string {
  const since = (b.unwrittenSince ?? b.seenAt ?? new Date(0)).toISOString();
  const seen = b.seenAt ? b.seenAt.toISOString() : 'unknown';
  return (
    `arm metrics of replica ${b.replica} for endpoint ${b.endpoint} have not been written since ` +
    `${since}, while the replica serves the endpoint (requests counted at ${seen})` +
    (b.cause ? `: ${b.cause}` : '')
  );
}
