/** Basis points (10000 is all traffic) as a percentage a person reads, e.g. 2500 → "25%". */
export function percentOfBasisPoints(basisPoints: number): string {
  return `${String(Math.round(basisPoints) / 100)}%`;
}

interface TrafficState {
  readonly mode: string;
  readonly liveVersion?: number | null;
  readonly candidateVersion?: number | null;
  readonly candidateWeight: number;
  readonly shadowSample: number;
}

/** Who answers and in what share, in words: "v1 100%", "v1 75%, v2 25%", "v1; v2 shadows 50%". */
export function trafficInWords(traffic: TrafficState): string {
  const live = traffic.liveVersion == null ? 'no live version' : `v${traffic.liveVersion}`;
  const candidate = traffic.candidateVersion == null ? null : `v${traffic.candidateVersion}`;
  if (traffic.mode === 'NONE' || candidate === null) {
    return traffic.liveVersion == null ? live : `${live} answers all`;
  }
  if (traffic.mode === 'SHADOW') {
    return `${live} answers all; ${candidate} shadows ${percentOfBasisPoints(traffic.shadowSample)}`;
  }
  return `${live} ${percentOfBasisPoints(10000 - traffic.candidateWeight)}, ${candidate} ${percentOfBasisPoints(traffic.candidateWeight)}`;
}
