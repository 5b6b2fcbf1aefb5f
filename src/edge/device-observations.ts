/**
 * What a device's uploaded predictions tell the arm metrics: each record counted as the HTTP
 * path counts a request (its version and arm, latency, failure, the score of each row), and
 * each shadow record compared with the live record of the same request. So the rollback
 * criteria judge device traffic as they judge the service's. Pure: the upload service feeds
 * what this returns to the recorder.
 */
import type { ArmKey } from '../arm-metrics/arm-metrics.repository.js';
import type { Observation } from '../arm-metrics/arm-metrics-recorder.service.js';
import type { LoggedTensor } from '../prediction-log/prediction.js';
import type { DeviceLogRecord } from './device-log.js';

/** Where a version's score is, as the endpoint serves it. */
export interface ScoredVersion {
  readonly version: number;
  readonly scoreOutput: string;
  readonly scoreIndex: number;
  readonly threshold: number | null;
}

export interface DeviceObservations {
  readonly observations: Observation[];
  readonly agreements: { readonly key: ArmKey; compared: number; agreed: number }[];
}

export function deviceObservations(
  endpoint: string,
  records: readonly DeviceLogRecord[],
  versions: readonly ScoredVersion[],
): DeviceObservations {
  const scored = new Map(versions.map((v) => [v.version, v]));
  const observations: Observation[] = [];
  const liveScores = new Map<string, { scores: number[]; threshold: number }>();
  const shadows: { record: DeviceLogRecord; scores: number[]; threshold: number }[] = [];
  for (const r of records) {
    const version = scored.get(r.modelVersion);
    const scores = version && r.error === null ? scoresOf(r.outputs, version) : null;
    observations.push({
      endpoint,
      version: r.modelVersion,
      arm: r.arm,
      latencyMs: r.latencyMs,
      failed: r.error !== null,
      scores,
      threshold: version?.threshold ?? null,
      attributes: null,
    });
    if (!scores || version?.threshold == null) continue;
    if (r.arm === 'live') liveScores.set(r.requestId, { scores, threshold: version.threshold });
    if (r.arm === 'shadow') shadows.push({ record: r, scores, threshold: version.threshold });
  }
  const agreements = new Map<string, DeviceObservations['agreements'][number]>();
  for (const s of shadows) {
    const live = liveScores.get(s.record.requestId);
    if (!live || live.scores.length !== s.scores.length) continue;
    let agreed = 0;
    for (let i = 0; i < s.scores.length; i++)
      if ((s.scores[i] ?? NaN) >= s.threshold === (live.scores[i] ?? NaN) >= live.threshold)
        agreed++;
    const id = String(s.record.modelVersion);
    const sum = agreements.get(id) ?? {
      key: { endpoint, version: s.record.modelVersion, arm: 'shadow' as const },
      compared: 0,
      agreed: 0,
    };
    sum.compared += s.scores.length;
    sum.agreed += agreed;
    agreements.set(id, sum);
  }
  return { observations, agreements: [...agreements.values()] };
}

/** Element `scoreIndex` of each row of the score output; null when it is not there. */
function scoresOf(outputs: readonly LoggedTensor[] | null, v: ScoredVersion): number[] | null {
  const out = outputs?.find((o) => o.name === v.scoreOutput);
  if (!out || out.shape.length === 0) return null;
  const rows = out.shape[0] ?? 0;
  const width = out.shape.slice(1).reduce((a, b) => a * b, 1);
  if (v.scoreIndex >= width || rows * width !== out.data.length) return null;
  const scores: number[] = [];
  for (let i = 0; i < rows; i++) {
    const s = out.data[i * width + v.scoreIndex];
    if (typeof s !== 'number') return null;
    scores.push(s);
  }
  return scores;
}
