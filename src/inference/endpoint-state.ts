import type { PredictionLogPolicy, TrafficMode } from '../endpoints/endpoint.entity.js';
import type { ScoringSpec } from '../runtime/scoring.js';
import type { TensorSpec } from '../runtime/tensor-spec.js';
import type { ModelSignature } from './oip-tensors.js';
import type { TrafficSplit } from './traffic-split.js';

/** A model version as the router serves it. */
export interface ServedVersion extends ScoringSpec {
  readonly version: number;
  readonly artifactSha256: string;
  /** The signature requests are checked against (see `servedSignature`). */
  readonly signature: ModelSignature;
}

/** An endpoint's traffic state as one replica caches it. */
export interface EndpointState {
  readonly name: string;
  readonly model: string;
  readonly revision: number;
  readonly mode: TrafficMode;
  readonly candidateWeight: number;
  readonly shadowSample: number;
  readonly live: ServedVersion | null;
  readonly candidate: ServedVersion | null;
  /** The previous live version after a go-live, kept loaded for an instant rollback. */
  readonly standby: ServedVersion | null;
  readonly split: TrafficSplit;
  /** `required`: a request whose prediction the log cannot take is refused, not answered. */
  readonly predictionLogPolicy: PredictionLogPolicy;
}

/**
 * The artifact's signature with the registered binding applied: a free last dimension of
 * the scoring input is the version's number of feature columns, so a request with the wrong
 * width is refused before the model runs.
 */
export function servedSignature(
  inputs: readonly TensorSpec[],
  outputs: readonly TensorSpec[],
  inputName: string,
  featureCount: number,
): ModelSignature {
  return {
    inputs: inputs.map((spec) => {
      const last = spec.shape.length - 1;
      if (spec.name !== inputName || spec.shape.length < 2 || (spec.shape[last] ?? 0) >= 0)
        return spec;
      return { ...spec, shape: spec.shape.map((d, i) => (i === last ? featureCount : d)) };
    }),
    outputs,
  };
}
